#include "daemon/daemon_options.h"

#include <cstdlib>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

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

absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& text) {
  double seconds;
  if (absl::SimpleAtod(text, &seconds) && seconds >= 0) return absl::Seconds(seconds);
  absl::Duration d;
  if (absl::ParseDuration(text, &d) && d >= absl::ZeroDuration()) return d;
  return absl::InvalidArgumentError(
      absl::StrCat("duration \"", text, "\": use e.g. 30s, 500ms, 2m or 1h"));
}

ParsedOptions ParseDaemonOptions(int argc, char** argv, const std::string& version) {
  ParsedOptions parsed;
  DaemonOptions& o = parsed.options;
  CLI::App app{"skydeckd: the SkyDeck daemon (state, reconciliation, backends, API)", "skydeckd"};
  app.set_version_flag("--version", version);
  std::string poll = "auto", reconcile = "60s", level = "info";
  app.add_option("--host", o.host, "Address to listen on for gRPC")
      ->capture_default_str()->envname("SKYDECK_HOST");
  app.add_option("--port", o.port, "gRPC port (0 picks a free one)")
      ->capture_default_str()->envname("SKYDECK_PORT")->check(CLI::Range(0, 65535));
  app.add_option("--data-dir", o.data_dir, "Data directory [default: " + DefaultDataDir() + "]")
      ->envname("SKYDECK_DATA_DIR");
  app.add_option("--db-path", o.db_path, "SQLite database [default: DATA_DIR/skydeck.db]")
      ->envname("SKYDECK_DB_PATH");
  app.add_option("--poll-interval", poll, "How often to poll the backend (e.g. 30s)")
      ->capture_default_str()->envname("SKYDECK_POLL_INTERVAL");
  app.add_option("--reconcile-interval", reconcile, "Periodic full resync (e.g. 60s)")
      ->capture_default_str()->envname("SKYDECK_RECONCILE_INTERVAL");
  app.add_option("--log-level", level, "debug, info, warn or error")
      ->capture_default_str()->envname("SKYDECK_LOG_LEVEL");
  app.add_option("--ready-file", o.ready_file,
                 "Write host:port here once listening (for scripts and tests)");
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
    auto l = ParseLogLevel(level);
    if (!l.ok()) throw CLI::ValidationError("--log-level", std::string(l.status().message()));
    o.log_level = *l;
  } catch (const CLI::ParseError& e) {
    parsed.exit_now = true;
    parsed.exit_code = app.exit(e);
    return parsed;
  }
  if (o.data_dir.empty()) o.data_dir = DefaultDataDir();
  if (o.db_path.empty()) o.db_path = o.data_dir + "/skydeck.db";
  return parsed;
}

}  // namespace skydeck
