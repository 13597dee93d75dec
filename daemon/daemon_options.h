// File: daemon/daemon_options.h
//
// skydeckd's configuration: command-line flags, then SKYDECK_* environment
// variables, then built-in defaults (a flag beats the environment, which
// beats the default).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "common/log.h"
#include "web/bridge/http_limits.h"

namespace skydeck {

struct DaemonOptions {
  // The seed's meaning of --host/--port: where the dashboard and the
  // HTTP API answer. gRPC (the CLI's API) listens on the same host, on
  // grpc_port.
  std::string host = "127.0.0.1";
  int port = 8000;
  int grpc_port = 50051;
  // Holds the database (unless db_path says otherwise) and job working
  // directories and logs of the local backend.
  std::string data_dir;
  std::string db_path;
  // How often the backend is polled. Zero: the backend's default.
  absl::Duration poll_interval = absl::ZeroDuration();
  absl::Duration reconcile_interval = absl::Seconds(60);
  // The longest one backend call made by a reconcile or a poll may take
  // (SkyPilot's HTTP waits end there with DEADLINE_EXCEEDED). Zero: none.
  absl::Duration backend_call_timeout = absl::ZeroDuration();
  LogLevel log_level = LogLevel::kInfo;
  // When set, the gRPC "host:port" is written here once the server listens
  // (useful with --grpc-port 0, which picks a free port). With HTTP on, a
  // second line holds the HTTP address.
  std::string ready_file;

  // "local", "skypilot" or "auto": the backend recorded in the database,
  // else skypilot when its API server answers, else local (see
  // backend_factory.h).
  std::string backend = "auto";
  // How long `auto` waits for SkyPilot's GET /api/health on a new database.
  absl::Duration backend_probe_timeout = absl::Seconds(2);
  int max_concurrent_launches = 4;
  // How long a cancelled local job gets between SIGTERM and SIGKILL.
  absl::Duration local_cancel_grace = absl::Seconds(10);

  // SkyPilot API server (flag, else SKYPILOT_API_SERVER_ENDPOINT, else
  // http://127.0.0.1:46580) and service-account token file (else
  // SKYPILOT_SERVICE_ACCOUNT_TOKEN).
  std::string skypilot_endpoint;
  std::string skypilot_token_file;
  // Optional task setup commands and git workdir ("URL" or "URL@REF").
  std::string skypilot_setup;
  std::string skypilot_workdir;
  // An unresolved launch intent is launched again only once a request for
  // it can no longer reach the API server (SkyPilotOptions::launch_settle).
  absl::Duration skypilot_launch_settle = absl::Seconds(30);
  // Per-operation timeouts of calls to the API server, in the order given
  // ("queue" -> 2m); names are checked when the backend is made
  // (backend/skypilot/skypilot_options.h SetTimeout).
  std::vector<std::pair<std::string, absl::Duration>> skypilot_timeouts;
  // How long failures only a person can fix (e.g. SkyPilot without cloud
  // access) are retried before the experiment is Stalled.
  absl::Duration environment_retry_limit = absl::Minutes(30);

  // The HTTP/JSON bridge and dashboard (on host:port).
  bool http = true;
  std::string web_root;
  // Host names served without a token besides localhost/loopback
  // (DNS rebinding protection; web/bridge/request_origin.h).
  std::vector<std::string> http_allowed_hosts;
  absl::Duration sse_keepalive = absl::Seconds(15);
  // Connections, slow headers, idle connections, open streams.
  web::HttpLimits http_limits;

  // Bearer token required on gRPC and HTTP when non-empty (never logged).
  std::string auth_token;

  // Price files (common/model/price_table.h) and link templates
  // ("NAME=TEMPLATE", common/model/link_template.h), both repeatable.
  std::vector<std::string> price_files;
  std::vector<std::string> links;

  // The task template of experiments created without one; "" for none.
  std::string default_template;
  // KEY=VALUE lines holding secret values (mode 0600 or stricter); empty:
  // secrets come from skydeckd's own environment.
  std::string secrets_file;
  // YAML list of notification sinks (daemon/notify/notify_config.h);
  // empty: no notifications.
  std::string notify_file;
  // How long the start-up integrity check of an existing database may take
  // (store/integrity.h); zero: no check. Tables it could not check in time
  // are logged and start-up goes on: a daemon on a large database or a
  // slow disk must still start.
  absl::Duration db_check_timeout = absl::Seconds(10);
  // A backup (`skydeck backup`) to put in place of the database before
  // starting (store/restore.h); "" for none.
  std::string restore_from;

  // Code snapshots (DATA_DIR/snapshots): the most one may hold, how long
  // one nothing references is kept after its last use, and the size of
  // the chunks it is uploaded to SkyPilot's API server in.
  int64_t max_snapshot_bytes = int64_t{100} << 20;
  absl::Duration snapshot_grace = absl::Hours(1);
  int64_t skypilot_upload_chunk_bytes = int64_t{16} << 20;
};

// skydeckd's exit status for a bad command line (flag or environment).
inline constexpr int kExitUsage = 2;

// Parses argv (and SKYDECK_* variables). When `exit_now` is set, CLI11 has
// printed help or version (exit_code 0) or the usage error (kExitUsage) and
// the caller should exit with `exit_code`. Besides each value's own rules,
// `--port` and `--grpc-port` must differ (unless 0, or HTTP is off): the
// two listeners cannot share a port.
struct ParsedOptions {
  DaemonOptions options;
  bool exit_now = false;
  int exit_code = 0;
};
ParsedOptions ParseDaemonOptions(int argc, char** argv, const std::string& version);

// "$XDG_DATA_HOME/skydeck", else "$HOME/.local/share/skydeck", else
// "./skydeck-data".
std::string DefaultDataDir();

// Accepts plain bytes ("1048576") and binary units: "512KiB", "100MiB",
// "1GiB" (also K, M, G, KB, MB, GB, all powers of 1024).
absl::StatusOr<int64_t> ParseBytesFlag(const std::string& text);

}  // namespace skydeck
