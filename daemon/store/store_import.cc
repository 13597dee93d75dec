// Store::ImportExperiment: experiments and job history brought over from
// another system (`skydeck import --seed-db`). See store.h for the contract.
#include "absl/strings/str_cat.h"

#include "common/model/event_types.h"
#include "common/status_macros.h"
#include "daemon/store/rows.h"
#include "daemon/store/store.h"

namespace skydeck::store {

using internal::FlagsToJson;

namespace {

// The backend recorded on imported jobs: no backend answers for it, and
// no live job ever has it.
constexpr char kImportBackend[] = "import";

}  // namespace

absl::StatusOr<ExperimentRecord> Store::ImportExperiment(const ExperimentSpec& spec,
                                                         int64_t created_ms,
                                                         const std::vector<JobRecord>& history,
                                                         absl::string_view actor,
                                                         absl::string_view source) {
  for (const JobRecord& job : history) {
    if (job.live()) {
      return absl::InvalidArgumentError(
          absl::StrCat("experiment \"", spec.name, "\": an imported job must have ended"));
    }
  }
  ExperimentRecord imported;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    int64_t now = clock_();
    int64_t created = created_ms > 0 ? created_ms : now;
    ASSIGN_OR_RETURN(Statement * st,
                     db_->Prepare("INSERT INTO experiments (name, base_command, desired_state, "
                                  "created_at, updated_at) VALUES (?, ?, ?, ?, ?)"));
    st->Bind(1, spec.name);
    st->Bind(2, spec.base_command);
    st->Bind(3, Name(spec.desired_state));
    st->Bind(4, created);
    st->Bind(5, now);
    absl::Status inserted = st->Run();
    if (IsConstraintViolation(inserted)) {
      return absl::AlreadyExistsError(
          absl::StrCat("an experiment named \"", spec.name, "\" already exists"));
    }
    RETURN_IF_ERROR(inserted);
    ExperimentRecord r;
    r.id = db_->LastInsertRowId();
    r.spec = spec;
    r.generation = 1;
    r.created_ms = created;
    r.updated_ms = r.state_since_ms = now;
    RETURN_IF_ERROR(WriteExperiment(r));
    RETURN_IF_ERROR(InsertEvent(
        NewEvent{r.id, 0, model::event::kCreated, "Imported",
                 absl::StrCat("imported from ", source, " with desired state ",
                              Name(spec.desired_state), " and ", history.size(), " past jobs"),
                 std::string(actor)}));
    int attempt = 0;
    for (const JobRecord& job : history) {
      ASSIGN_OR_RETURN(
          Statement * ins,
          db_->Prepare("INSERT INTO jobs (experiment_id, attempt, backend, backend_name, "
                       "status, command, flags, nodes, gpus, gpu_type, infra, spot, run_name, "
                       "submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      ins->Bind(1, r.id);
      ins->Bind(2, ++attempt);
      ins->Bind(3, kImportBackend);
      ins->Bind(4, job.backend_name);
      ins->Bind(5, Name(job.status));
      ins->Bind(6, job.command);
      ins->Bind(7, FlagsToJson(job.flags));
      ins->Bind(8, job.nodes);
      ins->Bind(9, job.gpus);
      ins->Bind(10, job.gpu_type);
      ins->Bind(11, job.infra);
      ins->Bind(12, job.spot);
      ins->Bind(13, job.run_name);
      ins->Bind(14, job.submitted_ms > 0 ? job.submitted_ms : created);
      RETURN_IF_ERROR(ins->Run());
      JobRecord written = job;
      written.id = db_->LastInsertRowId();
      written.experiment_id = r.id;
      // An imported job has ended: its status dates from its end.
      written.status_since_ms = job.ended_ms ? job.ended_ms
                                : job.started_ms ? job.started_ms
                                                 : (job.submitted_ms > 0 ? job.submitted_ms : created);
      RETURN_IF_ERROR(WriteJob(written));  // status, times, exit code, reason
    }
    ASSIGN_OR_RETURN(imported, LoadExperiment(*db_, r.id));
    return absl::OkStatus();
  }));
  return imported;
}

}  // namespace skydeck::store
