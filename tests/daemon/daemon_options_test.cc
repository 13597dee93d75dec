// skydeckd's configuration: a flag beats its SKYDECK_* variable, which beats
// the built-in default; a bad value of either is a usage error (exit 2).
#include "daemon/daemon_options.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = getenv(name);
      saved_.push_back({name, old != nullptr, old ? old : ""});
      if (value) {
        setenv(name, value, 1);
      } else {
        unsetenv(name);
      }
    }
  }
  ~ScopedEnv() {
    for (const auto& s : saved_) {
      if (s.was_set) {
        setenv(s.name.c_str(), s.value.c_str(), 1);
      } else {
        unsetenv(s.name.c_str());
      }
    }
  }

 private:
  struct Saved {
    std::string name;
    bool was_set;
    std::string value;
  };
  std::vector<Saved> saved_;
};

ParsedOptions Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "skydeckd");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return ParseDaemonOptions(static_cast<int>(args.size()), argv.data(), "test-version");
}

// Every variable the tests below read, unset, so the caller's environment
// cannot leak in.
ScopedEnv CleanEnv() {
  return ScopedEnv({{"SKYDECK_HOST", nullptr},
                    {"SKYDECK_PORT", nullptr},
                    {"SKYDECK_DATA_DIR", nullptr},
                    {"SKYDECK_DB_PATH", nullptr},
                    {"SKYDECK_POLL_INTERVAL", nullptr},
                    {"SKYDECK_BACKEND", nullptr},
                    {"SKYDECK_GRPC_PORT", nullptr},
                    {"SKYDECK_RECONCILE_INTERVAL", nullptr},
                    {"SKYDECK_BACKEND_CALL_TIMEOUT", nullptr},
                    {"SKYDECK_AUTH_TOKEN", nullptr},
                    {"SKYDECK_MAX_SNAPSHOT_BYTES", nullptr},
                    {"SKYDECK_SNAPSHOT_GRACE", nullptr},
                    {"SKYDECK_SKYPILOT_UPLOAD_CHUNK_BYTES", nullptr}});
}

TEST_CASE("without flags or environment, the embedded defaults apply", "[daemon][options]") {
  auto env = CleanEnv();
  ParsedOptions p = Parse({});
  REQUIRE_FALSE(p.exit_now);
  CHECK(p.options.host == "127.0.0.1");
  CHECK(p.options.port == 8000);  // the dashboard and HTTP API
  CHECK(p.options.grpc_port == 50051);
  CHECK(p.options.backend == "auto");
  CHECK(p.options.poll_interval == absl::ZeroDuration());  // the backend's own default
  CHECK(p.options.reconcile_interval == absl::Seconds(60));
  CHECK(p.options.data_dir == DefaultDataDir());
  CHECK(p.options.db_path == DefaultDataDir() + "/skydeck.db");
  CHECK(p.options.auth_token.empty());
}

TEST_CASE("the environment beats the default and a flag beats the environment",
          "[daemon][options]") {
  auto env = CleanEnv();
  ScopedEnv set({{"SKYDECK_PORT", "6000"},
                 {"SKYDECK_POLL_INTERVAL", "2s"},
                 {"SKYDECK_BACKEND", "local"},
                 {"SKYDECK_DATA_DIR", "/tmp/from-env"}});
  ParsedOptions from_env = Parse({});
  REQUIRE_FALSE(from_env.exit_now);
  CHECK(from_env.options.port == 6000);
  CHECK(from_env.options.poll_interval == absl::Seconds(2));
  CHECK(from_env.options.backend == "local");
  CHECK(from_env.options.db_path == "/tmp/from-env/skydeck.db");

  ParsedOptions from_flags = Parse({"--port", "7000", "--poll-interval", "500ms", "--backend",
                                    "skypilot", "--data-dir", "/tmp/from-flag"});
  REQUIRE_FALSE(from_flags.exit_now);
  CHECK(from_flags.options.port == 7000);
  CHECK(from_flags.options.poll_interval == absl::Milliseconds(500));
  CHECK(from_flags.options.backend == "skypilot");
  CHECK(from_flags.options.db_path == "/tmp/from-flag/skydeck.db");
}

TEST_CASE("bad flags and bad environment values are usage errors", "[daemon][options]") {
  auto env = CleanEnv();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--no-such-flag"},
                                             {"--port", "70000"},
                                             {"--backend", "kubernetes"},
                                             {"--poll-interval", "soon"},
                                             {"--reconcile-interval", "500ms"},  // below 1 s
                                             {"--log-level", "loud"},
                                             {"--sse-keepalive", "1ms"},
                                             {"--http-header-timeout", "10"},  // no unit
                                             {"--http-max-streams", "0"}}) {
    INFO(args.front());
    ParsedOptions p = Parse(args);
    CHECK(p.exit_now);
    CHECK(p.exit_code == kExitUsage);
  }
  ScopedEnv bad_port({{"SKYDECK_PORT", "not-a-port"}});
  ParsedOptions p = Parse({});
  CHECK(p.exit_now);
  CHECK(p.exit_code == kExitUsage);
}

TEST_CASE("the HTTP limit flags reach the options", "[daemon][options]") {
  ScopedEnv env = CleanEnv();
  ParsedOptions p = Parse({"--http-max-connections", "100", "--http-max-connections-per-client",
                           "8", "--http-max-streams", "5", "--http-header-timeout", "2s",
                           "--http-idle-timeout", "30s"});
  REQUIRE_FALSE(p.exit_now);
  CHECK(p.options.http_limits.max_connections == 100);
  CHECK(p.options.http_limits.max_connections_per_client == 8);
  CHECK(p.options.http_limits.max_streams == 5);
  CHECK(p.options.http_limits.header_timeout == std::chrono::seconds(2));
  CHECK(p.options.http_limits.idle_timeout == std::chrono::seconds(30));
}

TEST_CASE("the gRPC and HTTP ports must differ", "[daemon][options]") {
  auto env = CleanEnv();
  // Two listeners cannot share one port: refused before anything starts.
  ParsedOptions same = Parse({"--port", "9000", "--grpc-port", "9000"});
  CHECK(same.exit_now);
  CHECK(same.exit_code == kExitUsage);
  {
    ScopedEnv from_env({{"SKYDECK_PORT", "9001"}, {"SKYDECK_GRPC_PORT", "9001"}});
    ParsedOptions p = Parse({});
    CHECK(p.exit_now);
    CHECK(p.exit_code == kExitUsage);
  }
  // 0 picks a free port for each; without HTTP there is no second listener.
  CHECK_FALSE(Parse({"--port", "0", "--grpc-port", "0"}).exit_now);
  CHECK_FALSE(Parse({"--port", "9000", "--grpc-port", "9000", "--no-http"}).exit_now);
  CHECK_FALSE(Parse({"--port", "9000", "--grpc-port", "9002"}).exit_now);
}

TEST_CASE("a bad environment value names its variable", "[daemon][options]") {
  auto env = CleanEnv();
  ScopedEnv bad({{"SKYDECK_POLL_INTERVAL", "soon"}});
  std::ostringstream err;
  std::streambuf* old = std::cerr.rdbuf(err.rdbuf());
  ParsedOptions p = Parse({});
  std::cerr.rdbuf(old);
  CHECK(p.exit_code == kExitUsage);
  CHECK(err.str().find("--poll-interval") != std::string::npos);
  CHECK(err.str().find("environment variable SKYDECK_POLL_INTERVAL=\"soon\"") != std::string::npos);
}

TEST_CASE("the seed's command line serves the dashboard on --port", "[daemon][options]") {
  auto env = CleanEnv();
  // skydeck's predecessor documented `--host 0.0.0.0 --port 8000`, with
  // SKYDECK_POLL_INTERVAL in plain seconds.
  ScopedEnv seed({{"SKYDECK_POLL_INTERVAL", "30"}, {"SKYDECK_RECONCILE_INTERVAL", "90"}});
  ParsedOptions p = Parse({"--host", "0.0.0.0", "--port", "8000", "--db-path", "/tmp/x.db"});
  REQUIRE_FALSE(p.exit_now);
  CHECK(p.options.host == "0.0.0.0");
  CHECK(p.options.port == 8000);
  CHECK(p.options.grpc_port == 50051);
  CHECK(p.options.http);
  CHECK(p.options.db_path == "/tmp/x.db");
  CHECK(p.options.poll_interval == absl::Seconds(30));
  CHECK(p.options.reconcile_interval == absl::Seconds(90));
}

TEST_CASE("the start-up check's time limit and a restore are options", "[daemon][options]") {
  auto env = CleanEnv();
  CHECK(Parse({}).options.db_check_timeout == absl::Seconds(10));
  CHECK(Parse({}).options.restore_from.empty());
  CHECK(Parse({"--db-check-timeout", "0"}).options.db_check_timeout == absl::ZeroDuration());
  CHECK(Parse({"--db-check-timeout", "5m"}).options.db_check_timeout == absl::Minutes(5));
  CHECK(Parse({"--db-check-timeout", "never"}).exit_code == kExitUsage);
  // A backup that is not there is a typo, caught before anything is locked.
  ParsedOptions missing = Parse({"--restore-from", "/nonexistent/backup.db"});
  CHECK(missing.exit_now);
  CHECK(missing.exit_code == kExitUsage);
}

TEST_CASE("a backend call's time limit is off unless given", "[daemon][options]") {
  auto env = CleanEnv();
  CHECK(Parse({}).options.backend_call_timeout == absl::ZeroDuration());
  CHECK(Parse({"--backend-call-timeout", "5m"}).options.backend_call_timeout == absl::Minutes(5));
  CHECK(Parse({"--backend-call-timeout", "0"}).options.backend_call_timeout ==
        absl::ZeroDuration());
  CHECK(Parse({"--backend-call-timeout", "100ms"}).exit_code == kExitUsage);  // below 1 s
  CHECK(Parse({"--backend-call-timeout", "soon"}).exit_code == kExitUsage);
  ScopedEnv from_env({{"SKYDECK_BACKEND_CALL_TIMEOUT", "90s"}});
  CHECK(Parse({}).options.backend_call_timeout == absl::Seconds(90));
}

TEST_CASE("code snapshot limits are sizes in bytes or binary units", "[daemon][options]") {
  CHECK(ParseBytesFlag("1048576").value() == 1048576);
  CHECK(ParseBytesFlag("512KiB").value() == 512 * 1024);
  CHECK(ParseBytesFlag("100MiB").value() == int64_t{100} << 20);
  CHECK(ParseBytesFlag("2g").value() == int64_t{2} << 30);
  for (const char* bad : {"", "MiB", "1.5MiB", "10 MiB", "-1", "1TiB", "99999999999999999999"}) {
    INFO(bad);
    CHECK(absl::IsInvalidArgument(ParseBytesFlag(bad).status()));
  }

  auto env = CleanEnv();
  ParsedOptions defaults = Parse({});
  REQUIRE_FALSE(defaults.exit_now);
  CHECK(defaults.options.max_snapshot_bytes == int64_t{100} << 20);
  CHECK(defaults.options.snapshot_grace == absl::Hours(1));
  CHECK(defaults.options.skypilot_upload_chunk_bytes == int64_t{16} << 20);
  ScopedEnv set({{"SKYDECK_MAX_SNAPSHOT_BYTES", "4KiB"}});
  ParsedOptions p = Parse({"--snapshot-grace", "0s", "--skypilot-upload-chunk-bytes", "1KiB"});
  REQUIRE_FALSE(p.exit_now);
  CHECK(p.options.max_snapshot_bytes == 4096);
  CHECK(p.options.snapshot_grace == absl::ZeroDuration());
  CHECK(p.options.skypilot_upload_chunk_bytes == 1024);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--max-snapshot-bytes", "3GiB"},  // over the zip's 2 GiB bound
           {"--max-snapshot-bytes", "100"},   // under 1 KiB
           {"--skypilot-upload-chunk-bytes", "10"},
           {"--snapshot-grace", "later"}}) {
    INFO(args.front() << " " << args.back());
    ParsedOptions refused = Parse(args);
    CHECK(refused.exit_now);
    CHECK(refused.exit_code == kExitUsage);
  }
}

TEST_CASE("--help and --version exit 0", "[daemon][options]") {
  auto env = CleanEnv();
  for (const char* flag : {"--help", "--version"}) {
    INFO(flag);
    ParsedOptions p = Parse({flag});
    CHECK(p.exit_now);
    CHECK(p.exit_code == 0);
  }
}

TEST_CASE("an empty token file is refused, a token file is read", "[daemon][options]") {
  auto env = CleanEnv();
  auto dir =
      std::filesystem::temp_directory_path() / ("skydeck-options-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "empty").close();
  std::ofstream(dir / "token") << "s3cret-token\n";

  ParsedOptions empty = Parse({"--auth-token-file", (dir / "empty").string()});
  CHECK(empty.exit_now);
  CHECK(empty.exit_code == kExitUsage);

  ParsedOptions read = Parse({"--auth-token-file", (dir / "token").string()});
  REQUIRE_FALSE(read.exit_now);
  CHECK(read.options.auth_token == "s3cret-token");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace skydeck
