// File: tests/daemon/backend/skypilot_fake_fixture.h
//
// Runs tests/skypilot_fake/skypilot_fake.py as a subprocess on free loopback
// ports for one test and drives its control endpoint. The script path comes
// from the SKYPILOT_FAKE_PY environment variable, else the SKYPILOT_FAKE_PY
// compile definition.
//
//   SkyPilotFake fake({.api_version = 31});
//   options.endpoint = fake.endpoint();
//   fake.Control("/_fake/script", {{"name_prefix", "skydeck-"}, {"steps", {...}}});
//   fake.Tick();
//
// Every wait is bounded; the destructor stops the process (SIGTERM, then
// SIGKILL) and removes its files. A test process that dies without running
// the destructor (a crash, an abort) takes the fake with it: the child asks
// the kernel for SIGKILL when its parent goes.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <sys/types.h>
#include <sys/wait.h>

#include "httplib.h"
#include "nlohmann/json.hpp"

namespace skydeck::testing {

struct SkyPilotFakeArgs {
  int api_version = 31;
  std::string token;
  // "queue": jobs advance one step per queue call; "explicit": per Tick().
  std::string tick_mode = "queue";
};

class SkyPilotFake {
 public:
  using Args = SkyPilotFakeArgs;

  explicit SkyPilotFake(Args args = {}) {
    char dir_template[] = "/tmp/skypilot_fake_XXXXXX";
    REQUIRE(mkdtemp(dir_template) != nullptr);
    dir_ = dir_template;
    std::string port_file = dir_ + "/port";
    std::string control_file = dir_ + "/control_port";
    std::vector<std::string> argv = {
        "/usr/bin/python3",    ScriptPath(),  "--port-file",   port_file,
        "--control-port-file", control_file,  "--api-version", std::to_string(args.api_version),
        "--tick-mode",         args.tick_mode};
    if (!args.token.empty()) {
      argv.push_back("--token");
      argv.push_back(args.token);
    }
    pid_t parent = getpid();
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // The parent may have died between fork() and prctl().
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
      std::vector<char*> cargv;
      for (std::string& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      FILE* null_out = std::fopen("/dev/null", "w");
      if (null_out != nullptr) dup2(fileno(null_out), STDOUT_FILENO);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      REQUIRE(waitpid(pid_, &status, WNOHANG) == 0);  // still running
      if (std::filesystem::exists(port_file) && std::filesystem::exists(control_file)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(std::filesystem::exists(port_file));
    port_ = ReadPort(port_file);
    control_port_ = ReadPort(control_file);
  }

  ~SkyPilotFake() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      int status = 0;
      while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          kill(pid_, SIGKILL);
          waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  SkyPilotFake(const SkyPilotFake&) = delete;
  SkyPilotFake& operator=(const SkyPilotFake&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // POSTs to the control port; REQUIREs success.
  nlohmann::json Control(const std::string& path,
                         const nlohmann::json& body = nlohmann::json::object()) {
    httplib::Client cli("127.0.0.1", control_port_);
    cli.set_connection_timeout(std::chrono::seconds(5));
    cli.set_read_timeout(std::chrono::seconds(10));
    auto res = cli.Post(path.c_str(), body.dump(), "application/json");
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 200);
    return nlohmann::json::parse(res->body);
  }

  nlohmann::json State() {
    httplib::Client cli("127.0.0.1", control_port_);
    cli.set_connection_timeout(std::chrono::seconds(5));
    cli.set_read_timeout(std::chrono::seconds(10));
    auto res = cli.Get("/_fake/state");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return nlohmann::json::parse(res->body);
  }
  int Counter(const std::string& name) { return State()["counters"][name].get<int>(); }

  void Tick(int n = 1) { Control("/_fake/tick", {{"n", n}}); }
  void Fault(const nlohmann::json& faults) { Control("/_fake/fault", faults); }
  void Configure(const nlohmann::json& config) { Control("/_fake/config", config); }
  void Script(const std::string& prefix, const std::vector<std::string>& steps,
              nlohmann::json extra = nlohmann::json::object()) {
    extra["name_prefix"] = prefix;
    extra["steps"] = steps;
    Control("/_fake/script", extra);
  }
  int ReleaseLaunches() { return Control("/_fake/release_launches")["released"].get<int>(); }
  void SetJobStatus(int64_t job_id, const std::string& status) {
    Control("/_fake/job", {{"job_id", job_id}, {"status", status}});
  }

  // Stops accepting on the main port; returns once connections are refused.
  void Down() {
    Control("/_fake/down");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      httplib::Client cli("127.0.0.1", port_);
      cli.set_connection_timeout(std::chrono::milliseconds(200));
      if (!cli.Get("/api/health")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("the fake kept accepting connections after /_fake/down");
  }
  void Up() { Control("/_fake/up"); }

  // Waits (bounded) until `predicate(State())` holds.
  template <typename Pred>
  bool WaitFor(Pred predicate, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (predicate(State())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  static std::string ScriptPath() {
    if (const char* env = std::getenv("SKYPILOT_FAKE_PY"); env != nullptr && *env != '\0') {
      return env;
    }
#ifdef SKYPILOT_FAKE_PY
    return SKYPILOT_FAKE_PY;
#else
    return "tests/skypilot_fake/skypilot_fake.py";
#endif
  }

  static int ReadPort(const std::string& path) {
    std::ifstream in(path);
    int port = 0;
    in >> port;
    REQUIRE(port > 0);
    return port;
  }

  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int control_port_ = 0;
};

}  // namespace skydeck::testing
