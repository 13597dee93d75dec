#include "daemon/backend_factory.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/log.h"
#include "common/status_macros.h"
#include "daemon/backend/local/local_backend.h"
#include "daemon/backend/skypilot/skypilot_backend.h"
#include "daemon/backend/skypilot/skypilot_options.h"

namespace skydeck {
namespace {

std::unique_ptr<backend::Backend> MakeLocal(const DaemonOptions& o) {
  backend::LocalBackendOptions local;
  local.data_dir = o.data_dir;
  local.cancel_grace = o.local_cancel_grace;
  return std::make_unique<backend::LocalBackend>(local);
}

// `probe_timeout`: a backend only for the start-up probe, every call
// bounded by it and no unreachable backoff.
absl::StatusOr<std::unique_ptr<backend::Backend>> MakeSkyPilot(
    const DaemonOptions& o, const std::string& installation_id,
    std::optional<absl::Duration> probe_timeout = std::nullopt,
    snapshots::SnapshotStore* snapshots = nullptr) {
  namespace sky = backend::skypilot;
  sky::SkyPilotOptions options;
  options.endpoint = sky::ResolveEndpoint(o.skypilot_endpoint);
  for (const auto& [operation, timeout] : o.skypilot_timeouts) {
    RETURN_IF_ERROR(sky::SetTimeout(options.timeouts, operation, timeout));
  }
  if (probe_timeout) {
    options.timeouts.SetCalls(*probe_timeout);
    options.timeouts.connect = std::min(options.timeouts.connect, *probe_timeout);
    options.unreachable_backoff_initial = absl::ZeroDuration();
  }
  ASSIGN_OR_RETURN(options.token, sky::LoadToken(o.skypilot_token_file));
  options.user_id = sky::StableUserId(installation_id);
  options.max_concurrent_launches = o.max_concurrent_launches;
  options.client_version = absl::StrCat("skydeck-", SKYDECK_VERSION);
  options.setup = o.skypilot_setup;
  options.launch_settle = o.skypilot_launch_settle;
  options.snapshots = snapshots;
  options.upload_chunk_bytes = o.skypilot_upload_chunk_bytes;
  if (!o.skypilot_workdir.empty()) {
    sky::WorkdirSource workdir;
    size_t at = o.skypilot_workdir.rfind('@');
    bool has_ref = at != std::string::npos && at > o.skypilot_workdir.find("://") + 3 &&
                   o.skypilot_workdir.find('/', at) == std::string::npos;
    workdir.url = has_ref ? o.skypilot_workdir.substr(0, at) : o.skypilot_workdir;
    workdir.ref = has_ref ? o.skypilot_workdir.substr(at + 1) : "";
    options.workdir = workdir;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<sky::SkyPilotBackend> b, sky::SkyPilotBackend::Create(options));
  return std::unique_ptr<backend::Backend>(std::move(b));
}

std::string JobList(const std::vector<int64_t>& ids) {
  constexpr size_t kShown = 5;
  std::vector<int64_t> shown(ids.begin(), ids.begin() + std::min(ids.size(), kShown));
  return absl::StrCat(ids.size() == 1 ? "job " : "jobs ", absl::StrJoin(shown, ", "),
                      ids.size() > kShown ? ", ..." : "");
}

// Live jobs on backends other than `backend`, oldest first.
std::vector<int64_t> JobsElsewhere(const BackendFacts& facts, const std::string& backend) {
  std::vector<int64_t> out;
  for (const auto& [name, ids] : facts.live_jobs) {
    if (name != backend) out.insert(out.end(), ids.begin(), ids.end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The backend most live jobs run on; "" when there are none.
std::string BackendOfLiveJobs(const BackendFacts& facts) {
  std::string best;
  size_t most = 0;
  for (const auto& [name, ids] : facts.live_jobs) {
    if (ids.size() > most) {
      best = name;
      most = ids.size();
    }
  }
  return best;
}

BackendChoice Choose(std::string backend, std::string reason, const BackendFacts& facts) {
  BackendChoice choice{std::move(backend), std::move(reason), {}};
  choice.unwatched_jobs = JobsElsewhere(facts, choice.backend);
  return choice;
}

}  // namespace

absl::StatusOr<BackendChoice> ChooseBackend(const BackendFacts& facts,
                                            const std::function<backend::BackendInfo()>& probe) {
  const std::string& wanted = facts.requested;
  if (wanted != "auto") {
    std::vector<int64_t> elsewhere = JobsElsewhere(facts, wanted);
    // Live jobs on both (only before the choice was recorded): refusing
    // would leave no way to start at all.
    bool mixed = facts.live_jobs.count(wanted) != 0;
    if (!elsewhere.empty() && !mixed) {
      std::string theirs = BackendOfLiveJobs(facts);
      return absl::FailedPreconditionError(absl::StrCat(
          "this database has ", elsewhere.size(), " live ", elsewhere.size() == 1 ? "job" : "jobs",
          " on the ", theirs, " backend (", JobList(elsewhere), "), which --backend ", wanted,
          " cannot see: they would be reported lost and relaunched. Start skydeckd with "
          "--backend ",
          theirs, " (or auto) and stop them first, or keep using ", theirs));
    }
    std::string reason = absl::StrCat("--backend ", wanted);
    if (facts.recorded && *facts.recorded != wanted) {
      absl::StrAppend(&reason, " (this database used ", *facts.recorded,
                      " before and has no live jobs there)");
    }
    return Choose(wanted, reason, facts);
  }
  if (facts.recorded) {
    return Choose(*facts.recorded,
                  absl::StrCat("auto: this database runs its jobs on ", *facts.recorded,
                               " (recorded at its first start; --backend changes it)"),
                  facts);
  }
  if (std::string theirs = BackendOfLiveJobs(facts); !theirs.empty()) {
    return Choose(theirs, absl::StrCat("auto: this database has live jobs on ", theirs), facts);
  }
  // A database with history but no record predates `auto`: keep it where
  // its jobs ran, so their logs stay readable and a restart does not move
  // the next run to another backend.
  if (facts.newest_job_backend) {
    return Choose(*facts.newest_job_backend,
                  absl::StrCat("auto: this database's jobs ran on ", *facts.newest_job_backend),
                  facts);
  }
  backend::BackendInfo info = probe();
  if (info.reachable) {
    std::string details =
        info.api_version.empty() ? std::string() : absl::StrCat(" (API ", info.api_version, ")");
    return Choose(
        "skypilot",
        absl::StrCat("auto: a SkyPilot API server answered at ", facts.skypilot_endpoint, details),
        facts);
  }
  return Choose("local",
                absl::StrCat("auto: no SkyPilot API server answered at ", facts.skypilot_endpoint,
                             " (", info.error.empty() ? "no answer" : info.error, ")"),
                facts);
}

absl::StatusOr<SelectedBackend> MakeBackend(const DaemonOptions& o,
                                            const std::string& installation_id, store::Store& store,
                                            snapshots::SnapshotStore* snapshots) {
  BackendFacts facts;
  facts.requested = o.backend;
  ASSIGN_OR_RETURN(facts.recorded, store.GetMeta(kBackendMetaKey));
  ASSIGN_OR_RETURN(std::vector<JobRecord> live, store.ListLiveJobs());
  for (const JobRecord& job : live) facts.live_jobs[job.backend].push_back(job.id);
  ASSIGN_OR_RETURN(facts.newest_job_backend, store.NewestJobBackend());
  facts.skypilot_endpoint = backend::skypilot::ResolveEndpoint(o.skypilot_endpoint);
  absl::Status probe_error;
  ASSIGN_OR_RETURN(BackendChoice choice, ChooseBackend(facts, [&] {
                     absl::StatusOr<std::unique_ptr<backend::Backend>> prober =
                         MakeSkyPilot(o, installation_id, o.backend_probe_timeout);
                     if (!prober.ok()) {
                       probe_error = prober.status();  // e.g. an unreadable token file
                       backend::BackendInfo unreachable;
                       unreachable.name = "skypilot";
                       unreachable.error = std::string(probe_error.message());
                       unreachable.endpoint = facts.skypilot_endpoint;
                       return unreachable;
                     }
                     return (*prober)->Probe();
                   }));
  RETURN_IF_ERROR(probe_error);
  if (!choice.unwatched_jobs.empty()) {
    LogWarn("live jobs of another backend are left untouched",
            {{"backend", choice.backend}, {"jobs", JobList(choice.unwatched_jobs)}});
  }
  SelectedBackend selected;
  selected.reason = choice.reason;
  if (choice.backend == "local") {
    selected.backend = MakeLocal(o);
  } else {
    ASSIGN_OR_RETURN(selected.backend, MakeSkyPilot(o, installation_id, std::nullopt, snapshots));
  }
  // Recorded only once the backend exists, so a start that failed (e.g. an
  // unreadable token file) does not tie the database to it.
  if (facts.recorded != choice.backend) {
    RETURN_IF_ERROR(store.SetMeta(kBackendMetaKey, choice.backend));
  }
  return selected;
}

}  // namespace skydeck
