// Store methods for experiments. See store.h for the contracts.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/model/event_types.h"
#include "common/status_macros.h"
#include "daemon/store/rows.h"
#include "daemon/store/store.h"

namespace skydeck::store {

using internal::ConditionsToJson;
using internal::ExperimentFilterFields;
using internal::FlagsToJson;
using internal::kExperimentColumns;
using internal::LabelsToJson;
using internal::ReadExperiment;
using internal::ReadExperimentFilterFields;

namespace {

// The fields whose values differ, for the "Updated" event's message.
std::vector<std::string> ChangedFields(const ExperimentSpec& a, const ExperimentSpec& b) {
  std::vector<std::string> out;
  if (a.name != b.name) out.push_back("name");
  if (a.description != b.description) out.push_back("description");
  if (a.base_command != b.base_command) out.push_back("base_command");
  if (a.flags != b.flags) out.push_back("flags");
  if (a.run_name != b.run_name) out.push_back("run_name");
  if (a.nodes != b.nodes) out.push_back("nodes");
  if (a.gpus != b.gpus) out.push_back("gpus");
  if (a.gpu_type != b.gpu_type) out.push_back("gpu_type");
  if (a.infra != b.infra) out.push_back("infra");
  if (a.spot != b.spot) out.push_back("spot");
  if (a.labels != b.labels) out.push_back("labels");
  if (a.max_restarts != b.max_restarts) out.push_back("max_restarts");
  if (a.template_name != b.template_name) out.push_back("template");
  if (a.envs != b.envs) out.push_back("envs");
  if (a.secrets != b.secrets) out.push_back("secrets");
  if (a.workdir != b.workdir) out.push_back("workdir");
  if (a.code.id != b.code.id) out.push_back("code_snapshot");
  if (a.link != b.link) out.push_back("link");
  return out;
}

absl::Status NameTaken(absl::string_view name) {
  return absl::AlreadyExistsError(
      absl::StrCat("an experiment named \"", name, "\" already exists"));
}

bool Contains(const auto& values, const auto& value) {
  return values.empty() || std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

absl::StatusOr<ExperimentRecord> Store::LoadExperiment(Connection& db, int64_t id) {
  static const std::string kById =
      absl::StrCat("SELECT ", kExperimentColumns, " FROM experiments e WHERE e.id = ?");
  return internal::ReadById(db, kById, id, ReadExperiment, "experiment");
}

absl::Status Store::WriteExperiment(const ExperimentRecord& r) {
  ASSIGN_OR_RETURN(
      Statement * st,
      db_->Prepare("UPDATE experiments SET name = ?2, description = ?3, base_command = ?4, "
                   "flags = ?5, run_name = ?6, nodes = ?7, gpus = ?8, gpu_type = ?9, "
                   "infra = ?10, spot = ?11, labels = ?12, max_restarts = ?13, "
                   "desired_state = ?14, generation = ?15, observed_generation = ?16, "
                   "observed_state = ?17, conditions = ?18, restart_count = ?19, "
                   "next_retry_at = ?20, updated_at = ?21, deleted_at = ?22, "
                   "run_after_job_id = ?23, template = ?24, envs = ?25, secrets = ?26, "
                   "workdir = ?27, code_snapshot = ?28, link = ?29, state_since = ?30 "
                   "WHERE id = ?1"));
  st->Bind(1, r.id);
  st->Bind(2, r.spec.name);
  st->Bind(3, r.spec.description);
  st->Bind(4, r.spec.base_command);
  st->Bind(5, FlagsToJson(r.spec.flags));
  st->Bind(6, r.spec.run_name);
  st->Bind(7, r.spec.nodes);
  st->Bind(8, r.spec.gpus);
  st->Bind(9, r.spec.gpu_type);
  st->Bind(10, r.spec.infra);
  st->Bind(11, r.spec.spot);
  st->Bind(12, LabelsToJson(r.spec.labels));
  st->Bind(13, r.spec.max_restarts);
  st->Bind(14, Name(r.spec.desired_state));
  st->Bind(15, r.generation);
  st->Bind(16, r.observed_generation);
  st->Bind(17, Name(r.observed_state));
  st->Bind(18, ConditionsToJson(r.conditions));
  st->Bind(19, r.restart_count);
  st->Bind(20, r.next_retry_ms ? std::optional<int64_t>(r.next_retry_ms) : std::nullopt);
  st->Bind(21, r.updated_ms);
  st->Bind(22, r.deleted_ms ? std::optional<int64_t>(r.deleted_ms) : std::nullopt);
  st->Bind(23, r.run_after_job_id);
  st->Bind(24, r.spec.template_name);
  st->Bind(25, internal::EnvsToJson(r.spec.envs));
  st->Bind(26, internal::NamesToJson(r.spec.secrets));
  st->Bind(27, r.spec.workdir);
  st->Bind(28, internal::CodeSnapshotRefToJson(r.spec.code));
  st->Bind(29, r.spec.link);
  st->Bind(30, r.state_since_ms);
  absl::Status status = st->Run();
  if (IsConstraintViolation(status) && absl::StrContains(status.message(), "experiments.name")) {
    return NameTaken(r.spec.name);
  }
  return status;
}

absl::Status Store::WriteObserved(const ExperimentRecord& r) {
  // Only these columns: no flags or labels to serialise, and no index on
  // the others to update.
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("UPDATE experiments SET observed_generation = ?2, "
                                "observed_state = ?3, conditions = ?4, restart_count = ?5, "
                                "next_retry_at = ?6, updated_at = ?7, state_since = ?8 "
                                "WHERE id = ?1"));
  st->Bind(1, r.id);
  st->Bind(2, r.observed_generation);
  st->Bind(3, Name(r.observed_state));
  st->Bind(4, ConditionsToJson(r.conditions));
  st->Bind(5, r.restart_count);
  st->Bind(6, r.next_retry_ms ? std::optional<int64_t>(r.next_retry_ms) : std::nullopt);
  st->Bind(7, r.updated_ms);
  st->Bind(8, r.state_since_ms);
  return st->Run();
}

absl::StatusOr<ExperimentRecord> Store::CreateExperiment(const ExperimentSpec& spec,
                                                         absl::string_view actor, WriteMode mode,
                                                         std::vector<NewEvent> events) {
  ExperimentRecord created;
  RETURN_IF_ERROR(Transaction(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        int64_t now = clock_();
        ASSIGN_OR_RETURN(Statement * st,
                         db_->Prepare("INSERT INTO experiments (name, base_command, desired_state, "
                                      "created_at, updated_at) VALUES (?, ?, ?, ?, ?)"));
        st->Bind(1, spec.name);
        st->Bind(2, spec.base_command);
        st->Bind(3, Name(spec.desired_state));
        st->Bind(4, now);
        st->Bind(5, now);
        absl::Status inserted = st->Run();
        if (IsConstraintViolation(inserted)) return NameTaken(spec.name);
        RETURN_IF_ERROR(inserted);
        ExperimentRecord r;
        r.id = db_->LastInsertRowId();
        r.spec = spec;
        r.generation = 1;
        r.created_ms = r.updated_ms = r.state_since_ms = now;
        RETURN_IF_ERROR(WriteExperiment(r));
        RETURN_IF_ERROR(InsertEvent(
            NewEvent{r.id, 0, model::event::kCreated, "Created",
                     absl::StrCat("created with desired state ", Name(spec.desired_state)),
                     std::string(actor)}));
        RETURN_IF_ERROR(InsertEvents(std::move(events), r.id));
        ASSIGN_OR_RETURN(created, LoadExperiment(*db_, r.id));
        return absl::OkStatus();
      },
      mode));
  if (mode == WriteMode::kDryRun) created.id = 0;  // the id was rolled back
  return created;
}

absl::StatusOr<ExperimentRecord> Store::GetExperiment(int64_t id) {
  return Read([&](Connection& db) { return LoadExperiment(db, id); });
}

absl::StatusOr<ExperimentRecord> Store::FindExperimentByName(absl::string_view name) {
  return Read([&](Connection& db) -> absl::StatusOr<ExperimentRecord> {
    ASSIGN_OR_RETURN(Statement * st, db.Prepare("SELECT id FROM experiments WHERE name = ? AND "
                                                "deleted_at IS NULL"));
    st->Bind(1, name);
    ASSIGN_OR_RETURN(std::optional<int64_t> id, st->ReadFirst(IntColumn(0)));
    if (!id) return absl::NotFoundError(absl::StrCat("experiment \"", name, "\" not found"));
    return LoadExperiment(db, *id);
  });
}

absl::StatusOr<ExperimentPage> Store::ListExperiments(const ExperimentQuery& q) {
  return Read([&](Connection& db) -> absl::StatusOr<ExperimentPage> {
    // Label, state and name filters run here rather than in SQL: labels are a
    // JSON column and selectors have set semantics. The scan stops as soon as
    // the page is full, so a page costs O(rows skipped + limit). A skipped row
    // costs only the read of the filtered columns, not a full decode: a page
    // of a label 1 in 100 experiments carry, out of 10,000, 119 -> 32 ms
    // (bench/README.md).
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare(absl::StrCat("SELECT ", kExperimentColumns,
                                             " FROM experiments e WHERE e.id > ?1 AND "
                                             "(?2 OR e.deleted_at IS NULL) ORDER BY e.id")));
    st->Bind(1, q.after_id);
    st->Bind(2, q.include_deleted);
    ExperimentPage page;
    int64_t now = clock_();
    RETURN_IF_ERROR(st->ForEachRow([&](const Statement& row) -> absl::StatusOr<NextRow> {
      ASSIGN_OR_RETURN(ExperimentFilterFields f, ReadExperimentFilterFields(row));
      if (!Contains(q.desired_states, f.desired_state) ||
          !Contains(q.observed_states, f.observed_state) ||
          !absl::StrContains(f.name, q.name_contains) || !q.selector.Matches(f.labels) ||
          (q.starred_only && !f.starred)) {
        return NextRow::kContinue;
      }
      ASSIGN_OR_RETURN(ExperimentRecord r, ReadExperiment(row));
      if (!q.words.empty() && !MatchesSearch(q.words, internal::Searchable(r, now))) {
        return NextRow::kContinue;
      }
      if (static_cast<int>(page.experiments.size()) == q.limit) {
        page.next_after_id = page.experiments.back().id;
        return NextRow::kStop;
      }
      page.experiments.push_back(std::move(r));
      return NextRow::kContinue;
    }));
    if (q.include_latest_jobs) {
      ASSIGN_OR_RETURN(page.latest_jobs, LatestJobs(db, page.experiments));
    }
    return page;
  });
}

absl::StatusOr<std::vector<int64_t>> Store::ListLiveExperimentIds() {
  return Read([&](Connection& db) -> absl::StatusOr<std::vector<int64_t>> {
    ASSIGN_OR_RETURN(Statement * st, db.Prepare("SELECT id FROM experiments WHERE "
                                                "deleted_at IS NULL ORDER BY id"));
    return st->ReadAll(IntColumn(0));
  });
}

absl::StatusOr<ExperimentRecord> Store::UpdateSpec(int64_t id, const SpecMutation& mutate,
                                                   absl::string_view actor,
                                                   absl::string_view reason, WriteMode mode) {
  return UpdateSpec(
      id, [&](ExperimentSpec& spec, std::vector<NewEvent>*) { return mutate(spec); }, actor, reason,
      mode);
}

absl::StatusOr<ExperimentRecord> Store::UpdateSpec(int64_t id, const SpecMutationWithEvents& mutate,
                                                   absl::string_view actor,
                                                   absl::string_view reason, WriteMode mode) {
  ExperimentRecord out;
  RETURN_IF_ERROR(Transaction(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        ASSIGN_OR_RETURN(ExperimentRecord r, LoadExperiment(*db_, id));
        if (r.deleted()) {
          return absl::NotFoundError(absl::StrCat("experiment ", id, " is deleted"));
        }
        ExperimentSpec before = r.spec;
        std::vector<NewEvent> events;
        RETURN_IF_ERROR(mutate(r.spec, &events));
        if (r.spec == before) {
          out = std::move(r);
          return InsertEvents(std::move(events), id);
        }
        r.generation++;
        r.updated_ms = NextUpdateMs(r.updated_ms);
        if (r.spec.desired_state != before.desired_state) {
          if (r.spec.desired_state == DesiredState::kRunning) {
            ASSIGN_OR_RETURN(r.run_after_job_id, MaxJobId(id));
          }
          std::string message =
              absl::StrCat(Name(before.desired_state), " -> ", Name(r.spec.desired_state));
          if (!reason.empty()) absl::StrAppend(&message, ": ", reason);
          RETURN_IF_ERROR(InsertEvent(NewEvent{id, 0, model::event::kDesiredStateChanged,
                                               std::string(Name(r.spec.desired_state)), message,
                                               std::string(actor)}));
        }
        std::vector<std::string> fields = ChangedFields(before, r.spec);
        if (!fields.empty()) {
          RETURN_IF_ERROR(InsertEvent(
              NewEvent{id, 0, model::event::kUpdated, "SpecChanged",
                       absl::StrCat("changed ", absl::StrJoin(fields, ", ")), std::string(actor)}));
        }
        RETURN_IF_ERROR(InsertEvents(std::move(events), id));
        RETURN_IF_ERROR(WriteExperiment(r));
        // What was just written, without reading it back: the write sets
        // every column but the live job and the job count, which a spec
        // change leaves as they were read above.
        out = std::move(r);
        return absl::OkStatus();
      },
      mode));
  return out;
}

absl::StatusOr<int64_t> Store::MaxJobId(int64_t experiment_id) {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT coalesce(max(id), 0) FROM jobs "
                                                "WHERE experiment_id = ?"));
  st->Bind(1, experiment_id);
  ASSIGN_OR_RETURN(std::optional<int64_t> max_id, st->ReadFirst(IntColumn(0)));
  return max_id.value_or(0);
}

absl::StatusOr<ExperimentRecord> Store::RequestRun(int64_t id, absl::string_view actor,
                                                   absl::string_view reason) {
  ExperimentRecord out;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(ExperimentRecord r, LoadExperiment(*db_, id));
    if (r.deleted()) return absl::NotFoundError(absl::StrCat("experiment ", id, " is deleted"));
    if (r.current_job_id != 0) {
      out = std::move(r);  // already running: nothing to restart
      return absl::OkStatus();
    }
    DesiredState before = r.spec.desired_state;
    r.spec.desired_state = DesiredState::kRunning;
    ASSIGN_OR_RETURN(r.run_after_job_id, MaxJobId(id));
    r.generation++;
    r.updated_ms = NextUpdateMs(r.updated_ms);
    std::string message = absl::StrCat(Name(before), " -> RUNNING (new run)");
    if (!reason.empty()) absl::StrAppend(&message, ": ", reason);
    RETURN_IF_ERROR(WriteExperiment(r));
    RETURN_IF_ERROR(InsertEvent(NewEvent{id, 0, model::event::kDesiredStateChanged, "RunRequested",
                                         message, std::string(actor)}));
    ASSIGN_OR_RETURN(out, LoadExperiment(*db_, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<ExperimentRecord> Store::UpdateObserved(int64_t id, const StatusMutation& mutate) {
  ExperimentRecord out;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(ExperimentRecord r, LoadExperiment(*db_, id));
    ExperimentRecord changed = r;
    std::vector<NewEvent> events;
    RETURN_IF_ERROR(mutate(changed, &events));
    if (changed.SameObserved(r) && events.empty()) {
      out = std::move(r);
      return absl::OkStatus();
    }
    // Only the observed fields are the reconciler's; the spec and the
    // rest stay as read (the spec belongs to the user).
    bool state_changed = changed.observed_state != r.observed_state;
    r.observed_generation = changed.observed_generation;
    r.observed_state = changed.observed_state;
    r.conditions = std::move(changed.conditions);
    r.restart_count = changed.restart_count;
    r.next_retry_ms = changed.next_retry_ms;
    r.updated_ms = NextUpdateMs(r.updated_ms);
    if (state_changed) r.state_since_ms = r.updated_ms;
    RETURN_IF_ERROR(WriteObserved(r));
    RETURN_IF_ERROR(InsertEvents(std::move(events), id));
    out = std::move(r);  // what was written, without reading it back
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<ExperimentRecord> Store::SoftDelete(int64_t id, absl::string_view actor) {
  ExperimentRecord out;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(ExperimentRecord r, LoadExperiment(*db_, id));
    if (r.deleted()) return absl::NotFoundError(absl::StrCat("experiment ", id, " is deleted"));
    if (r.current_job_id != 0) {
      return absl::FailedPreconditionError(absl::StrCat("experiment ", id, " has a live job (",
                                                        r.current_job_id,
                                                        "); stop it first or delete with force"));
    }
    r.deleted_ms = clock_();
    r.updated_ms = NextUpdateMs(r.updated_ms);
    RETURN_IF_ERROR(WriteExperiment(r));
    RETURN_IF_ERROR(
        InsertEvent(NewEvent{id, 0, model::event::kDeleted, "Archived",
                             "archived; jobs and events are kept", std::string(actor)}));
    ASSIGN_OR_RETURN(out, LoadExperiment(*db_, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<ExperimentRecord> Store::Undelete(int64_t id, absl::string_view actor) {
  ExperimentRecord out;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(ExperimentRecord r, LoadExperiment(*db_, id));
    if (!r.deleted()) {
      return absl::FailedPreconditionError(absl::StrCat("experiment ", id, " is not deleted"));
    }
    r.deleted_ms = 0;
    r.updated_ms = NextUpdateMs(r.updated_ms);
    RETURN_IF_ERROR(WriteExperiment(r));
    RETURN_IF_ERROR(InsertEvent(
        NewEvent{id, 0, model::event::kUndeleted, "Restored", "restored", std::string(actor)}));
    ASSIGN_OR_RETURN(out, LoadExperiment(*db_, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status Store::Purge(int64_t id, absl::string_view actor) {
  return Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(ExperimentRecord r, LoadExperiment(*db_, id));
    if (r.current_job_id != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("experiment ", id, " has a live job; stop it before purging"));
    }
    ASSIGN_OR_RETURN(Statement * st, db_->Prepare("DELETE FROM experiments WHERE id = ?"));
    st->Bind(1, id);
    RETURN_IF_ERROR(st->Run());
    // A daemon-wide event so watchers learn the experiment is gone.
    return InsertEvent(NewEvent{
        0, 0, model::event::kPurged, "Purged",
        absl::StrCat("experiment ", id, " (", r.spec.name, ") and its history were removed"),
        std::string(actor)});
  });
}

absl::StatusOr<LiveStateCounts> Store::CountStates() {
  return Read([&](Connection& db) -> absl::StatusOr<LiveStateCounts> {
    LiveStateCounts out;
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare("SELECT observed_state, count(*) FROM experiments WHERE "
                                "deleted_at IS NULL GROUP BY observed_state"));
    ASSIGN_OR_RETURN(out.experiments_by_state,
                     internal::ReadCounts<ObservedState>(*st, ParseObservedState));
    ASSIGN_OR_RETURN(st, db.Prepare("SELECT status, count(*) FROM jobs WHERE ended_at IS NULL "
                                    "GROUP BY status"));
    ASSIGN_OR_RETURN(out.live_jobs_by_status, internal::ReadCounts<JobStatus>(*st, ParseJobStatus));
    return out;
  });
}

}  // namespace skydeck::store
