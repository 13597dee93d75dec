// File: daemon/backend_factory.h
//
// Builds the backend skydeckd runs jobs on, and says why that one.
//
// A database's jobs belong to the backend that launched them: the local
// backend cannot see SkyPilot's managed jobs and SkyPilot cannot see local
// processes, so polling a job with the other backend would report it
// missing (LOST) and a stop would go nowhere. The backend is therefore
// chosen once per database and recorded in its meta table (key "backend"):
//
//   --backend auto (the default): the recorded backend. A database without
//       a record (one from before the record) takes the backend of its
//       live jobs, else that of its most recent job, else probes GET /api/health at the SkyPilot
//       endpoint (bounded by DaemonOptions::backend_probe_timeout): skypilot when a server answers
//       (even one that then refuses SkyDeck, e.g. without a token), else local. Once recorded, a
//       SkyPilot server that is down does not switch the database to local: health shows the
//       backend unreachable (DEGRADED) until it is back.
//   --backend local|skypilot: that backend, recorded for later starts.
//       Refused while the database has live jobs on the other backend:
//       start with their backend (or auto) and stop them first.
//
//   ASSIGN_OR_RETURN(SelectedBackend selected, MakeBackend(options, id, store));
//   LogInfo("backend", {{"backend", selected.backend->name()}, {"why", selected.reason}});
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "daemon/backend/backend.h"
#include "daemon/daemon_options.h"
#include "daemon/store/store.h"

namespace skydeck {

namespace snapshots {
class SnapshotStore;
}

// The meta key holding the backend a database's jobs run on.
inline constexpr char kBackendMetaKey[] = "backend";

// What the choice depends on.
struct BackendFacts {
  // --backend: "auto", "local" or "skypilot".
  std::string requested;
  // The backend recorded in the database, if any.
  std::optional<std::string> recorded;
  // Ids of the live jobs, by the backend they run on.
  std::map<std::string, std::vector<int64_t>> live_jobs;
  // The backend of the database's most recent job, live or ended (a
  // database from before the choice was recorded, whose default was local).
  std::optional<std::string> newest_job_backend;
  // The SkyPilot API server probed by `auto`, for messages.
  std::string skypilot_endpoint;
};

struct BackendChoice {
  // "local" or "skypilot".
  std::string backend;
  // Why, for the start-up log and health.
  std::string reason;
  // Live jobs on another backend that stay untouched (only ever non-empty
  // for databases that had jobs on both before the choice was recorded).
  std::vector<int64_t> unwatched_jobs;
};

// ChooseBackend()
//
// The rules above, without I/O. `probe` asks the SkyPilot API server once
// (called only when the choice depends on it); BackendInfo.reachable means
// it answered.
// Errors: FAILED_PRECONDITION, naming the jobs and the way out, when an
// explicit backend differs from the backend of the database's live jobs.
absl::StatusOr<BackendChoice> ChooseBackend(const BackendFacts& facts,
                                            const std::function<backend::BackendInfo()>& probe);

struct SelectedBackend {
  std::unique_ptr<backend::Backend> backend;
  std::string reason;
};

// MakeBackend()
//
// Reads the facts from `store`, chooses (probing SkyPilot only when needed,
// within options.backend_probe_timeout), records the choice in `store`,
// and builds the backend. `snapshots` (not owned; may be null) is where
// the SkyPilot backend finds the code snapshots it uploads.
// Errors: ChooseBackend's; the backend's construction errors (e.g. an
// unreadable token file); the store's.
absl::StatusOr<SelectedBackend> MakeBackend(const DaemonOptions& options,
                                            const std::string& installation_id, store::Store& store,
                                            snapshots::SnapshotStore* snapshots = nullptr);

}  // namespace skydeck
