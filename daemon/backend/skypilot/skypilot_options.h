// File: daemon/backend/skypilot/skypilot_options.h
//
// How SkyDeck reaches a SkyPilot API server and what it sends with every
// job: endpoint, optional service-account token, timeouts, launch bounds,
// optional setup and git workdir, and the stable SkyPilot user identity.
// The helpers resolve the endpoint and token the way SkyPilot's own client
// does, so a host already set up for `sky` works unchanged:
//
//   SkyPilotOptions options;
//   options.endpoint = ResolveEndpoint(flags.skypilot_endpoint);
//   ASSIGN_OR_RETURN(options.token, LoadToken(flags.skypilot_token_file));
//   options.user_id = StableUserId(installation_id);
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace skydeck::snapshots {
class SnapshotStore;
}

namespace skydeck::backend::skypilot {

inline constexpr char kDefaultEndpoint[] = "http://127.0.0.1:46580";
inline constexpr char kEndpointEnv[] = "SKYPILOT_API_SERVER_ENDPOINT";
inline constexpr char kTokenEnv[] = "SKYPILOT_SERVICE_ACCOUNT_TOKEN";

// A git checkout used as the task's working directory.
struct WorkdirSource {
  std::string url;  // e.g. https://github.com/org/repo.git
  std::string ref;  // branch, tag or commit; empty = the default branch
};

// How long each kind of exchange with the API server may take. They differ
// because the server's answers do: a health check is instant, while the
// first queue request after a server restart took 24-38 s on a real one
// (its workers warm up). A request the server accepted but did not finish
// in time fails DEADLINE_EXCEEDED ("slow"), never as the server being
// unreachable. Overridden with --skypilot-timeout OP=DURATION.
struct SkyPilotTimeouts {
  absl::Duration connect = absl::Seconds(5);  // opening a connection
  absl::Duration health = absl::Seconds(10);  // GET /api/health
  // A POST until the server answers with its request id (launches too:
  // their outcome is followed by polling, never awaited).
  absl::Duration submit = absl::Seconds(30);
  // GET /api/status, and GET /api/get of a request already finished.
  absl::Duration status = absl::Seconds(30);
  // A queue request until its answer (/api/get blocks until it is done).
  absl::Duration queue = absl::Minutes(2);
  // /jobs/cancel or /api/cancel until done.
  absl::Duration cancel = absl::Minutes(2);
  // Reading logs without following, the whole answer.
  absl::Duration logs = absl::Seconds(60);
  // Following logs: the longest wait for a byte (the server sends a
  // heartbeat line every 30 s while a followed job is quiet).
  absl::Duration logs_read = absl::Seconds(90);
  // Sending one chunk of a code snapshot (POST /upload) and reading the
  // answer.
  absl::Duration upload = absl::Minutes(5);

  // Every timeout except connect and logs_read set to `d` (for tests).
  void SetCalls(absl::Duration d) { health = submit = status = queue = cancel = logs = d; }
};

// SetTimeout(timeouts, "queue", d)
//
// Sets the timeout named `operation` (connect, health, submit, status,
// queue, cancel, logs, logs-read). Errors: INVALID_ARGUMENT naming the
// operations for an unknown name or a duration that is not positive.
absl::Status SetTimeout(SkyPilotTimeouts& timeouts, absl::string_view operation, absl::Duration d);

struct SkyPilotOptions {
  // Base URL of the API server: scheme, host, optional port and path prefix.
  std::string endpoint = kDefaultEndpoint;
  // Service-account bearer token; empty sends none. Never logged.
  std::string token;
  SkyPilotTimeouts timeouts;
  // Logs read without `follow` and without a tail are bounded anyway: the
  // server sends at most the last `default_log_tail_lines` lines (it tails
  // by lines), of which at most the last `default_log_tail_bytes` bytes are
  // passed on. A full log of a long job can be gigabytes.
  int64_t default_log_tail_lines = 10000;
  int64_t default_log_tail_bytes = 1 << 20;
  // A cancel waits this long for concurrent ones to share its request.
  absl::Duration cancel_batch_linger = absl::Milliseconds(100);
  // Launch requests allowed in flight at once: each holds one of the
  // server's few long-request workers for minutes.
  int max_concurrent_launches = 4;
  // A launch request older than this is no longer counted as in flight
  // even if nobody saw it finish (the id was lost by the caller).
  absl::Duration launch_in_flight_ttl = absl::Hours(2);
  // A launch request can reach the server after its sender gave up on it
  // or died, so an empty Find(name) is trusted only this long after a
  // launch of `name` that got no answer (timeout, dropped connection,
  // gateway error; not "connection refused"), and, for names
  // this process never sent, this long after it started (its crashed
  // predecessor may have sent one). Until then Find says UNAVAILABLE.
  absl::Duration launch_settle = absl::Seconds(30);
  // After the server is unreachable, calls fail fast for an exponentially
  // growing, jittered delay starting here; zero disables the backoff.
  absl::Duration unreachable_backoff_initial = absl::Seconds(1);
  absl::Duration unreachable_backoff_max = absl::Seconds(30);
  // Optional task `setup` commands, run once per node before `run`.
  std::string setup;
  std::optional<WorkdirSource> workdir;
  // SkyPilot's recovery strategy for preemptions; user-code failures are
  // never retried by SkyPilot (SkyDeck owns the restart budget).
  std::string job_recovery_strategy = "EAGER_NEXT_REGION";
  // SKYPILOT_USER_ID and SKYPILOT_USER sent with every request: the server
  // files requests and jobs under this user. Keep it stable across restarts.
  std::string user_id;
  std::string user_name = "skydeck";
  // Sent as X-SkyPilot-Version.
  std::string client_version = "skydeck";
  // Where code snapshots are (not owned; outlives the backend). Null:
  // local workdirs are passed as paths, which only a server on this
  // machine can read, and local file mounts are refused.
  snapshots::SnapshotStore* snapshots = nullptr;
  // Code snapshots go to the server as a zip in chunks of this many bytes
  // (SkyPilot's client sends 100 MiB chunks; reverse proxies in front of a
  // server often cap request bodies lower), each within timeouts.upload.
  int64_t upload_chunk_bytes = int64_t{16} << 20;
};

// ResolveEndpoint(flag_value, env_value)
//
// The --skypilot-endpoint flag when set, else `env_value` (the value of
// SKYPILOT_API_SERVER_ENDPOINT, may be null), else kDefaultEndpoint.
// Surrounding whitespace and trailing slashes are removed.
std::string ResolveEndpoint(absl::string_view flag_value, const char* env_value);
// Same, reading SKYPILOT_API_SERVER_ENDPOINT from the environment.
std::string ResolveEndpoint(absl::string_view flag_value);

// LoadToken(token_file, env_value)
//
// The token in `token_file` (whitespace trimmed) when a file is named, else
// `env_value` (SKYPILOT_SERVICE_ACCOUNT_TOKEN, may be null), else "".
// Errors: NOT_FOUND or PERMISSION_DENIED when the file cannot be read,
// INVALID_ARGUMENT when it is empty.
absl::StatusOr<std::string> LoadToken(absl::string_view token_file, const char* env_value);
absl::StatusOr<std::string> LoadToken(absl::string_view token_file);

// StableUserId(seed)
//
// An 8-hex-digit SkyPilot user hash derived from `seed` (e.g. the
// installation id): the same seed always gives the same id.
//   StableUserId("abc") == StableUserId("abc")
std::string StableUserId(absl::string_view seed);

}  // namespace skydeck::backend::skypilot
