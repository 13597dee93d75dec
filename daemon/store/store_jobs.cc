// Store methods for jobs. See store.h for the contracts.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/model/event_types.h"
#include "common/model/job_name.h"
#include "common/status_macros.h"
#include "daemon/store/rows.h"
#include "daemon/store/store.h"

namespace skydeck::store {

using internal::FlagsToJson;
using internal::kJobColumns;
using internal::ReadJob;

absl::StatusOr<JobRecord> Store::LoadJob(Connection& db, int64_t id) {
  static const std::string kById = absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE id = ?");
  return internal::ReadById(db, kById, id, ReadJob, "job");
}

absl::Status Store::WriteJob(const JobRecord& j) {
  ASSIGN_OR_RETURN(
      Statement * st,
      db_->Prepare("UPDATE jobs SET backend_job_id = ?2, status = ?3, backend_status = ?4, "
                   "started_at = ?5, ended_at = ?6, exit_code = ?7, failure_reason = ?8, "
                   "recovery_count = ?9, outcome_unknown = ?10, paused_ms = ?11, "
                   "paused_since = ?12, status_since = ?13 WHERE id = ?1"));
  st->Bind(1, j.id);
  st->Bind(2, j.backend_job_id);
  st->Bind(3, Name(j.status));
  st->Bind(4, j.backend_status);
  st->Bind(5, j.started_ms ? std::optional<int64_t>(j.started_ms) : std::nullopt);
  st->Bind(6, j.ended_ms ? std::optional<int64_t>(j.ended_ms) : std::nullopt);
  st->Bind(7, j.exit_code ? std::optional<int64_t>(*j.exit_code) : std::nullopt);
  st->Bind(8, j.failure_reason);
  st->Bind(9, j.recovery_count);
  st->Bind(10, j.outcome_unknown);
  st->Bind(11, j.paused_ms);
  st->Bind(12, j.paused_since_ms ? std::optional<int64_t>(j.paused_since_ms) : std::nullopt);
  st->Bind(13, j.status_since_ms);
  absl::Status status = st->Run();
  if (IsConstraintViolation(status)) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", j.id, ": experiment ", j.experiment_id, " already has a live job"));
  }
  return status;
}

absl::Status Store::SetRenderedTask(int64_t id, const std::string& rendered) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("UPDATE jobs SET rendered_task = ?2 WHERE id = ?1"));
  st->Bind(1, id);
  st->Bind(2, rendered);
  return st->Run();
}

absl::StatusOr<JobRecord> Store::CreateLaunchIntent(const JobRecord& job, absl::string_view actor,
                                                    const RenderIntent& finish) {
  JobRecord out;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(Statement * next,
                     db_->Prepare("SELECT coalesce(max(attempt), 0) + 1 FROM jobs "
                                  "WHERE experiment_id = ?"));
    next->Bind(1, job.experiment_id);
    ASSIGN_OR_RETURN(std::optional<int64_t> next_attempt, next->ReadFirst(IntColumn(0)));
    int attempt = static_cast<int>(next_attempt.value_or(1));

    ASSIGN_OR_RETURN(
        Statement * st,
        db_->Prepare("INSERT INTO jobs (experiment_id, attempt, backend, backend_name, status, "
                     "command, flags, nodes, gpus, gpu_type, infra, spot, run_name, "
                     "submitted_at, template, template_version, envs, secrets, workdir, "
                     "code_commit, code_dirty, code_snapshot, status_since) "
                     "VALUES (?, ?, ?, ?, 'LAUNCHING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                     "?, ?, ?, ?13)"));
    st->Bind(1, job.experiment_id);
    st->Bind(2, attempt);
    st->Bind(3, job.backend);
    // The name may depend on the attempt (common/model/job_name.h).
    std::string name = model::FillAttempt(job.backend_name, attempt);
    st->Bind(4, name);
    st->Bind(5, job.command);
    st->Bind(6, FlagsToJson(job.flags));
    st->Bind(7, job.nodes);
    st->Bind(8, job.gpus);
    st->Bind(9, job.gpu_type);
    st->Bind(10, job.infra);
    st->Bind(11, job.spot);
    st->Bind(12, job.run_name);
    st->Bind(13, clock_());
    st->Bind(14, job.template_name);
    st->Bind(15, job.template_version);
    st->Bind(16, internal::EnvsToJson(job.envs));
    st->Bind(17, internal::NamesToJson(job.secrets));
    st->Bind(18, job.workdir);
    st->Bind(19, job.code_commit);
    st->Bind(20, job.code_dirty);
    st->Bind(21, job.code_snapshot);
    absl::Status inserted = st->Run();
    if (IsConstraintViolation(inserted)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "experiment ", job.experiment_id, " already has a live job; not launching another"));
    }
    RETURN_IF_ERROR(inserted);
    int64_t id = db_->LastInsertRowId();
    if (finish) {
      // What depends on the job's id and attempt (its name, SKYDECK_JOB).
      ASSIGN_OR_RETURN(JobRecord inserted_job, LoadJob(*db_, id));
      ASSIGN_OR_RETURN(std::string rendered, finish(inserted_job));
      RETURN_IF_ERROR(SetRenderedTask(id, rendered));
    }
    RETURN_IF_ERROR(InsertEvent(NewEvent{
        job.experiment_id, id, model::event::kLaunchIntent, "Launching",
        absl::StrCat("attempt ", attempt, " as ", name, " on ", job.backend), std::string(actor)}));
    ASSIGN_OR_RETURN(out, LoadJob(*db_, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<JobRecord> Store::ReplaceIntentSnapshot(int64_t id, const JobRecord& snapshot,
                                                       absl::string_view actor,
                                                       const RenderIntent& finish) {
  JobRecord out;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(JobRecord before, LoadJob(*db_, id));
    if (before.status != JobStatus::kLaunching || !before.backend_job_id.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", id, " has reached its backend; what it runs is fixed"));
    }
    ASSIGN_OR_RETURN(
        Statement * st,
        db_->Prepare("UPDATE jobs SET command = ?2, flags = ?3, nodes = ?4, gpus = ?5, "
                     "gpu_type = ?6, infra = ?7, spot = ?8, run_name = ?9, "
                     "template = ?10, template_version = ?11, envs = ?12, "
                     "secrets = ?13, workdir = ?14, code_commit = ?15, "
                     "code_dirty = ?16, code_snapshot = ?17, rendered_task = '' "
                     "WHERE id = ?1"));
    st->Bind(1, id);
    st->Bind(2, snapshot.command);
    st->Bind(3, FlagsToJson(snapshot.flags));
    st->Bind(4, snapshot.nodes);
    st->Bind(5, snapshot.gpus);
    st->Bind(6, snapshot.gpu_type);
    st->Bind(7, snapshot.infra);
    st->Bind(8, snapshot.spot);
    st->Bind(9, snapshot.run_name);
    st->Bind(10, snapshot.template_name);
    st->Bind(11, snapshot.template_version);
    st->Bind(12, internal::EnvsToJson(snapshot.envs));
    st->Bind(13, internal::NamesToJson(snapshot.secrets));
    st->Bind(14, snapshot.workdir);
    st->Bind(15, snapshot.code_commit);
    st->Bind(16, snapshot.code_dirty);
    st->Bind(17, snapshot.code_snapshot);
    RETURN_IF_ERROR(st->Run());
    if (finish) {
      ASSIGN_OR_RETURN(JobRecord replaced, LoadJob(*db_, id));
      ASSIGN_OR_RETURN(std::string rendered, finish(replaced));
      RETURN_IF_ERROR(SetRenderedTask(id, rendered));
    }
    RETURN_IF_ERROR(
        InsertEvent(NewEvent{before.experiment_id, id, model::event::kIntentUpdated, "SpecChanged",
                             absl::StrCat("attempt ", before.attempt,
                                          " never reached the backend; it runs the "
                                          "current spec: ",
                                          snapshot.command),
                             std::string(actor)}));
    ASSIGN_OR_RETURN(out, LoadJob(*db_, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<JobRecord> Store::GetJob(int64_t id) {
  return Read([&](Connection& db) -> absl::StatusOr<JobRecord> { return LoadJob(db, id); });
}

absl::StatusOr<std::optional<JobRecord>> Store::LiveJob(int64_t experiment_id) {
  return Read([&](Connection& db) -> absl::StatusOr<std::optional<JobRecord>> {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare(absl::StrCat("SELECT ", kJobColumns,
                                             " FROM jobs WHERE experiment_id = ? AND "
                                             "ended_at IS NULL")));
    st->Bind(1, experiment_id);
    return st->ReadFirst(ReadJob);
  });
}

absl::StatusOr<std::vector<JobRecord>> Store::ListJobs(int64_t experiment_id, int64_t before_id,
                                                       int limit) {
  return Read([&](Connection& db) -> absl::StatusOr<std::vector<JobRecord>> {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare(absl::StrCat("SELECT ", kJobColumns,
                                             " FROM jobs WHERE experiment_id = ?1 AND "
                                             "(?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3")));
    st->Bind(1, experiment_id);
    st->Bind(2, before_id);
    st->Bind(3, limit);
    return st->ReadAll(ReadJob);
  });
}

absl::StatusOr<std::vector<JobRecord>> Store::LatestJobs(
    Connection& db, const std::vector<ExperimentRecord>& experiments) {
  if (experiments.empty()) return std::vector<JobRecord>{};
  // One query for the page: the newest job id per experiment over the page's
  // id range, read from jobs_by_experiment (a max per group on the index),
  // then those rows by primary key. Experiments the page's filter skipped
  // fall inside the range too; their jobs are dropped below.
  ASSIGN_OR_RETURN(Statement * st,
                   db.Prepare(absl::StrCat("SELECT ", kJobColumns,
                                           " FROM jobs WHERE id IN (SELECT max(id) FROM jobs "
                                           "WHERE experiment_id BETWEEN ?1 AND ?2 "
                                           "GROUP BY experiment_id) ORDER BY experiment_id")));
  st->Bind(1, experiments.front().id);
  st->Bind(2, experiments.back().id);
  ASSIGN_OR_RETURN(std::vector<JobRecord> in_range, st->ReadAll(ReadJob));
  std::vector<JobRecord> out;
  auto exp = experiments.begin();
  for (JobRecord& job : in_range) {
    while (exp != experiments.end() && exp->id < job.experiment_id) ++exp;
    if (exp == experiments.end()) break;
    if (exp->id == job.experiment_id) out.push_back(std::move(job));
  }
  return out;
}

absl::StatusOr<std::vector<JobRecord>> Store::ListLiveJobs() {
  return Read([&](Connection& db) -> absl::StatusOr<std::vector<JobRecord>> {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare(absl::StrCat("SELECT ", kJobColumns,
                                             " FROM jobs WHERE ended_at IS NULL ORDER BY id")));
    return st->ReadAll(ReadJob);
  });
}

absl::StatusOr<std::vector<JobRecord>> Store::ListJobsRunningAfter(int64_t after_ms) {
  return Read([&](Connection& db) -> absl::StatusOr<std::vector<JobRecord>> {
    // jobs_by_end: live jobs (ended_at NULL) sort first, then the range.
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare(absl::StrCat("SELECT ", kJobColumns,
                                             " FROM jobs WHERE started_at IS NOT NULL AND "
                                             "(ended_at IS NULL OR ended_at > ?1) ORDER BY id")));
    st->Bind(1, after_ms);
    return st->ReadAll(ReadJob);
  });
}

absl::StatusOr<std::vector<Store::GpuTime>> Store::SumGpuTime(int64_t now_ms) {
  return Read([&](Connection& db) -> absl::StatusOr<std::vector<GpuTime>> {
    // Ended jobs from their running sums (schema v10's gpu_time_ended),
    // live ones (few, on the jobs_live index) up to now: RunningMs
    // (common/model/gpu_usage.cc) in SQL; a test keeps the two equal.
    ASSIGN_OR_RETURN(
        Statement * st,
        db.Prepare("SELECT gpu_type, spot, sum(gpu_ms) FROM ("
                   "SELECT gpu_type, spot, gpu_ms FROM gpu_time_ended UNION ALL "
                   "SELECT upper(gpu_type) AS gpu_type, spot, nodes * gpus * max(0, "
                   "max(?1, started_at) - started_at - paused_ms - "
                   "CASE WHEN paused_since IS NULL THEN 0 ELSE "
                   "max(0, max(?1, started_at) - paused_since) END) AS gpu_ms "
                   "FROM jobs WHERE ended_at IS NULL AND started_at IS NOT NULL AND gpus > 0 "
                   "AND nodes > 0) GROUP BY 1, 2 ORDER BY 1, 2"));
    st->Bind(1, now_ms);
    return st->ReadAll([](const Statement& row) -> absl::StatusOr<GpuTime> {
      return GpuTime{row.ColumnText(0), row.ColumnInt(1) != 0, row.ColumnInt(2)};
    });
  });
}

absl::StatusOr<std::optional<std::string>> Store::NewestJobBackend() {
  return Read([&](Connection& db) -> absl::StatusOr<std::optional<std::string>> {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare("SELECT backend FROM jobs ORDER BY id DESC LIMIT 1"));
    return st->ReadFirst(TextColumn(0));
  });
}

absl::StatusOr<JobRecord> Store::MutateJobLocked(int64_t id, const JobMutation& mutate) {
  ASSIGN_OR_RETURN(JobRecord job, LoadJob(*db_, id));
  JobRecord before = job;
  std::vector<NewEvent> events;
  RETURN_IF_ERROR(mutate(job, &events));
  job.id = id;
  job.experiment_id = before.experiment_id;
  job.status_since_ms = job.status != before.status ? clock_() : before.status_since_ms;
  if (job == before && events.empty()) return before;
  RETURN_IF_ERROR(WriteJob(job));
  for (NewEvent& e : events) {
    if (e.experiment_id == 0) e.experiment_id = job.experiment_id;
    if (e.job_id == 0) e.job_id = id;
    RETURN_IF_ERROR(InsertEvent(e));
  }
  return job;
}

absl::StatusOr<JobRecord> Store::UpdateJob(int64_t id, const JobMutation& mutate) {
  JobRecord out;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(out, MutateJobLocked(id, mutate));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<JobRecord>>> Store::UpdateJobs(
    const std::vector<int64_t>& ids, const JobMutation& mutate) {
  std::vector<absl::StatusOr<JobRecord>> out;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    out.clear();
    for (int64_t id : ids) {
      // A savepoint per job: one refused change must not undo the others.
      int64_t revision_before = pending_revision_;
      RETURN_IF_ERROR(db_->Exec("SAVEPOINT update_job"));
      absl::StatusOr<JobRecord> updated = MutateJobLocked(id, mutate);
      if (!updated.ok()) {
        RETURN_IF_ERROR(db_->Exec("ROLLBACK TO update_job"));
        pending_revision_ = revision_before;  // its events are gone too
      }
      RETURN_IF_ERROR(db_->Exec("RELEASE update_job"));
      out.push_back(std::move(updated));
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace skydeck::store
