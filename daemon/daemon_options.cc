#include "daemon/daemon_options.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "CLI/CLI.hpp"
#include "common/bearer_token.h"
#include "common/code_manifest.h"
#include "common/duration_flag.h"
#include "common/model/link_template.h"
#include "web/bridge/http_limit_flags.h"
#include "web/bridge/sse_keepalive_flag.h"

namespace skydeck {

std::string DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return absl::StrCat(xdg, "/skydeck");
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return absl::StrCat(home, "/.local/share/skydeck");
  }
  return "./skydeck-data";
}

absl::StatusOr<int64_t> ParseBytesFlag(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  int64_t value = 0;
  std::string unit = text.substr(digits);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  if (unit == "K" || unit == "KB" || unit == "KIB") shift = 10;
  if (unit == "M" || unit == "MB" || unit == "MIB") shift = 20;
  if (unit == "G" || unit == "GB" || unit == "GIB") shift = 30;
  if (digits == 0 || shift < 0 || !absl::SimpleAtoi(text.substr(0, digits), &value) ||
      value > (int64_t{1} << (62 - shift))) {
    return absl::InvalidArgumentError(
        absl::StrCat("size \"", text, "\": use bytes or e.g. 512KiB, 100MiB, 1GiB"));
  }
  return value << shift;
}

namespace {

// CLI11 names the flag ("--port: Value x could not be converted") even when
// the value came from its environment variable: say which variable it was.
std::string NameVariable(const CLI::App& app, int argc, char** argv, std::string message) {
  auto on_command_line = [&](const std::string& flag) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == flag || arg.rfind(flag + "=", 0) == 0) return true;
    }
    return false;
  };
  for (const CLI::Option* opt : app.get_options()) {
    const std::string& var = opt->get_envname();
    const char* value = var.empty() ? nullptr : std::getenv(var.c_str());
    std::string flag = opt->get_name(/*positional=*/false, /*all_options=*/false);
    if (value != nullptr && !flag.empty() && !on_command_line(flag) &&
        message.find(flag) != std::string::npos) {
      return absl::StrCat(message, " (the value comes from environment variable ", var, "=\"",
                          value, "\")");
    }
  }
  return message;
}

}  // namespace

ParsedOptions ParseDaemonOptions(int argc, char** argv, const std::string& version) {
  ParsedOptions parsed;
  DaemonOptions& o = parsed.options;
  CLI::App app{"skydeckd: the SkyDeck daemon (state, reconciliation, backends, API)", "skydeckd"};
  app.set_version_flag("--version", version);
  std::string poll = "auto", reconcile = "60s", level = "info", call_timeout = "0";
  app.add_option("--host", o.host, "Address to listen on (dashboard, HTTP API and gRPC)")
      ->capture_default_str()
      ->envname("SKYDECK_HOST");
  app.add_option("--port", o.port, "Dashboard and HTTP API port (0 picks a free one)")
      ->capture_default_str()
      ->envname("SKYDECK_PORT")
      ->check(CLI::Range(0, 65535));
  app.add_option("--grpc-port", o.grpc_port,
                 "gRPC port, the one `skydeck --server` names (0 picks a free one)")
      ->capture_default_str()
      ->envname("SKYDECK_GRPC_PORT")
      ->check(CLI::Range(0, 65535));
  app.add_option("--data-dir", o.data_dir, "Data directory [default: " + DefaultDataDir() + "]")
      ->envname("SKYDECK_DATA_DIR");
  app.add_option("--db-path", o.db_path, "SQLite database [default: DATA_DIR/skydeck.db]")
      ->envname("SKYDECK_DB_PATH");
  app.add_option("--poll-interval", poll, "How often to poll the backend (e.g. 30s)")
      ->capture_default_str()
      ->envname("SKYDECK_POLL_INTERVAL");
  app.add_option("--reconcile-interval", reconcile, "Periodic full resync (e.g. 60s)")
      ->capture_default_str()
      ->envname("SKYDECK_RECONCILE_INTERVAL");
  app.add_option("--backend-call-timeout", call_timeout,
                 "Longest a backend call of a reconcile or poll may take (e.g. 5m; 0: no limit)")
      ->capture_default_str()
      ->envname("SKYDECK_BACKEND_CALL_TIMEOUT");
  app.add_option("--log-level", level, "debug, info, warn or error")
      ->capture_default_str()
      ->envname("SKYDECK_LOG_LEVEL");
  app.add_option("--ready-file", o.ready_file,
                 "Write host:port here once listening (for scripts and tests)");
  app.add_option("--skypilot-endpoint", o.skypilot_endpoint,
                 "SkyPilot API server URL (env SKYPILOT_API_SERVER_ENDPOINT; default "
                 "http://127.0.0.1:46580)");
  app.add_option("--skypilot-token-file", o.skypilot_token_file,
                 "File with a SkyPilot service-account token (env "
                 "SKYPILOT_SERVICE_ACCOUNT_TOKEN)");
  app.add_option("--skypilot-setup", o.skypilot_setup, "Setup commands run on each node first");
  app.add_option("--skypilot-workdir", o.skypilot_workdir,
                 "Git repository for the task's workdir: URL or URL@REF");
  app.add_option("--backend", o.backend,
                 "Where jobs run: local, skypilot, or auto (the backend this database "
                 "already uses; on a new one skypilot when its API server answers within "
                 "2s, else local)")
      ->capture_default_str()
      ->envname("SKYDECK_BACKEND")
      ->check(CLI::IsMember({"local", "skypilot", "auto"}))
      // The last one wins, so a wrapper's default can be overridden.
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--max-concurrent-launches", o.max_concurrent_launches,
                 "Reconcile workers (launches in flight at once)")
      ->capture_default_str()
      ->envname("SKYDECK_MAX_CONCURRENT_LAUNCHES")
      ->check(CLI::Range(1, 256));
  std::string grace = "10s", settle = "30s", token_file;
  app.add_option("--skypilot-launch-settle", settle,
                 "SkyPilot: how long a launch may still reach the API server after the "
                 "call that sent it failed or the daemon restarted; an unresolved launch is "
                 "retried only after that")
      ->capture_default_str();
  std::vector<std::string> sky_timeouts;
  app.add_option("--skypilot-timeout", sky_timeouts,
                 "SkyPilot: how long one kind of call may take, OP=DURATION (OP: connect, "
                 "health, submit, status, queue, cancel, logs, logs-read, upload; defaults 5s, "
                 "10s, 30s, 30s, 2m, 2m, 60s, 90s, 5m). Repeatable")
      ->allow_extra_args(false);
  std::string env_retry = "30m";
  app.add_option("--environment-retry-limit", env_retry,
                 "How long failures only a person can fix (e.g. SkyPilot without cloud "
                 "access) are retried before the experiment is Stalled")
      ->capture_default_str()
      ->envname("SKYDECK_ENVIRONMENT_RETRY_LIMIT");
  app.add_option("--local-cancel-grace", grace,
                 "Local backend: time between SIGTERM and SIGKILL on cancel")
      ->capture_default_str();
  app.add_flag("!--no-http", o.http, "Do not serve the HTTP API and dashboard");
  app.add_option("--web-root", o.web_root,
                 "Serve the dashboard from this directory instead of the copy embedded "
                 "in skydeckd (for UI development)")
      ->envname("SKYDECK_WEB_ROOT");
  app.add_option("--http-allowed-host", o.http_allowed_hosts,
                 "Host name the HTTP API answers to without a token, besides localhost and "
                 "loopback addresses (e.g. a local reverse proxy's name). Repeatable")
      ->allow_extra_args(false);
  web::AddSseKeepaliveFlag(app, &o.sse_keepalive);
  app.add_option("--default-template", o.default_template,
                 "Task template of experiments created without --template (they record its "
                 "name; an explicit --template '' opts out)")
      ->envname("SKYDECK_DEFAULT_TEMPLATE");
  app.add_option("--secrets-file", o.secrets_file,
                 "KEY=VALUE lines with the values of secrets that experiments list by name "
                 "(mode 0600 or stricter; read at each launch). Without it, secrets come from "
                 "skydeckd's environment")
      ->envname("SKYDECK_SECRETS_FILE");
  app.add_option("--prices", o.price_files,
                 "CSV of GPU prices per hour, to show the cost of GPU-hours: "
                 "\"gpu_type,on_demand,spot\" rows (per GPU), or a SkyPilot catalog file "
                 "(vms.csv). Repeatable; the cheaper price wins")
      ->allow_extra_args(false);
  app.add_option("--link", o.links,
                 "A link shown with experiments and jobs, NAME=URL_TEMPLATE, e.g. "
                 "'W&B=https://wandb.ai/ORG/PROJ/runs/{run_name}'. Placeholders: "
                 "{experiment_name} {experiment_id} {run_name} {job_id} {attempt} "
                 "{backend_job_id} {label.KEY} {flag.KEY}. Repeatable")
      ->allow_extra_args(false)
      ->check([](const std::string& value) -> std::string {
        absl::StatusOr<LinkTemplate> t = LinkTemplate::Parse(value);
        return t.ok() ? "" : std::string(t.status().message());
      });
  app.add_option("--notify", o.notify_file,
                 "YAML list of webhook sinks told when jobs fail, experiments stall or succeed, "
                 "jobs are preempted and recover, or the backend is unreachable (README: "
                 "Notifications)")
      ->envname("SKYDECK_NOTIFY_FILE");
  web::AddHttpLimitFlags(app, &o.http_limits);
  std::string max_snapshot = "100MiB", snapshot_grace = "1h", upload_chunk = "16MiB";
  app.add_option("--max-snapshot-bytes", max_snapshot,
                 "The most a code snapshot of a local workdir or file mount may hold, after "
                 ".gitignore and .skydeckignore (e.g. 100MiB; at most 2GiB)")
      ->capture_default_str()
      ->envname("SKYDECK_MAX_SNAPSHOT_BYTES");
  app.add_option("--snapshot-grace", snapshot_grace,
                 "How long a code snapshot no experiment, job or template references is kept "
                 "after it was last used (collected at start-up and hourly)")
      ->capture_default_str()
      ->envname("SKYDECK_SNAPSHOT_GRACE");
  app.add_option("--skypilot-upload-chunk-bytes", upload_chunk,
                 "SkyPilot: code snapshots go to the API server in chunks of this size "
                 "(keep it below a reverse proxy's request body limit)")
      ->capture_default_str()
      ->envname("SKYDECK_SKYPILOT_UPLOAD_CHUNK_BYTES");
  app.add_option("--auth-token-file", token_file,
                 "File holding the bearer token required on gRPC and HTTP "
                 "(or env SKYDECK_AUTH_TOKEN)");
  std::string db_check = "10s";
  app.add_option("--db-check-timeout", db_check,
                 "Time for the start-up integrity check (PRAGMA quick_check) of the database, "
                 "table by table; tables left unchecked are logged; 0 skips it")
      ->capture_default_str();
  app.add_option("--restore-from", o.restore_from,
                 "Replace the database with this backup (made by `skydeck backup`) before "
                 "starting; the old database is kept beside it. Use once, not in a unit file")
      ->check(CLI::ExistingFile);
  try {
    app.parse(argc, argv);
    if (poll != "auto") {
      auto d = ParseDurationFlag(poll);
      if (!d.ok()) throw CLI::ValidationError("--poll-interval", std::string(d.status().message()));
      o.poll_interval = *d;
    }
    auto r = ParseDurationFlag(reconcile);
    if (!r.ok() || *r < absl::Seconds(1)) {
      throw CLI::ValidationError("--reconcile-interval", "must be a duration of at least 1s");
    }
    o.reconcile_interval = *r;
    if (call_timeout != "0") {
      auto t = ParseDurationFlag(call_timeout);
      if (!t.ok() || *t < absl::Seconds(1)) {
        throw CLI::ValidationError("--backend-call-timeout",
                                   "must be 0 (no limit) or a duration of at least 1s");
      }
      o.backend_call_timeout = *t;
    }
    auto g = ParseDurationFlag(grace);
    if (!g.ok())
      throw CLI::ValidationError("--local-cancel-grace", std::string(g.status().message()));
    o.local_cancel_grace = *g;
    auto s = ParseDurationFlag(settle);
    if (!s.ok()) {
      throw CLI::ValidationError("--skypilot-launch-settle", std::string(s.status().message()));
    }
    o.skypilot_launch_settle = *s;
    for (const std::string& entry : sky_timeouts) {
      size_t eq = entry.find('=');
      auto d = eq == std::string::npos ? absl::StatusOr<absl::Duration>(absl::InvalidArgumentError(
                                             "use OP=DURATION, e.g. queue=2m"))
                                       : ParseDurationFlag(entry.substr(eq + 1));
      if (!d.ok() || *d <= absl::ZeroDuration()) {
        throw CLI::ValidationError(
            "--skypilot-timeout",
            absl::StrCat(entry, ": ", d.ok() ? "must be longer than 0" : d.status().message()));
      }
      o.skypilot_timeouts.emplace_back(entry.substr(0, eq), *d);
    }
    auto e = ParseDurationFlag(env_retry);
    if (!e.ok()) {
      throw CLI::ValidationError("--environment-retry-limit", std::string(e.status().message()));
    }
    o.environment_retry_limit = *e;
    auto token = LoadBearerToken(token_file, std::getenv("SKYDECK_AUTH_TOKEN"));
    if (!token.ok()) {
      throw CLI::ValidationError("--auth-token-file", std::string(token.status().message()));
    }
    o.auth_token = *std::move(token);
    auto max_bytes = ParseBytesFlag(max_snapshot);
    if (!max_bytes.ok() || *max_bytes < 1024 || *max_bytes > kMaxSnapshotBytesLimit) {
      throw CLI::ValidationError("--max-snapshot-bytes",
                                 "must be a size from 1KiB to 2GiB (e.g. 100MiB)");
    }
    o.max_snapshot_bytes = *max_bytes;
    auto sg = ParseDurationFlag(snapshot_grace);
    if (!sg.ok()) {
      throw CLI::ValidationError("--snapshot-grace", std::string(sg.status().message()));
    }
    o.snapshot_grace = *sg;
    auto chunk = ParseBytesFlag(upload_chunk);
    if (!chunk.ok() || *chunk < 1024) {
      throw CLI::ValidationError("--skypilot-upload-chunk-bytes",
                                 "must be a size of at least 1KiB (e.g. 16MiB)");
    }
    o.skypilot_upload_chunk_bytes = *chunk;
    auto l = ParseLogLevel(level);
    if (!l.ok()) throw CLI::ValidationError("--log-level", std::string(l.status().message()));
    o.log_level = *l;
    auto c = ParseDurationFlag(db_check);
    if (!c.ok())
      throw CLI::ValidationError("--db-check-timeout", std::string(c.status().message()));
    o.db_check_timeout = *c;
    // Two listeners on one port: the second bind fails, or with port
    // sharing the two would split the requests between them.
    if (o.http && o.port != 0 && o.port == o.grpc_port) {
      throw CLI::ValidationError("--grpc-port",
                                 absl::StrCat("must differ from --port (both are ", o.port, ")"));
    }
  } catch (const CLI::ParseError& e) {
    parsed.exit_now = true;
    // --help and --version exit 0; any other parse error is a usage error
    // (exit 2, as for the skydeck CLI), whatever code CLI11 would pick.
    int cli11_code =
        e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)
            ? app.exit(e)
            : app.exit(CLI::ParseError(NameVariable(app, argc, argv, e.what()), e.get_exit_code()));
    parsed.exit_code = cli11_code == static_cast<int>(CLI::ExitCodes::Success) ? 0 : kExitUsage;
    return parsed;
  }
  if (o.data_dir.empty()) o.data_dir = DefaultDataDir();
  if (o.db_path.empty()) o.db_path = o.data_dir + "/skydeck.db";
  return parsed;
}

}  // namespace skydeck
