// File: tests/fuzz/shell_quoting_test.cc
//
// Property: no flag value, flag name or run name can escape shell quoting.
// Commands are rendered and run the way jobs really run:
// - through the daemon's own path: an experiment in the store, the
//   Reconciler rendering and launching it, the local backend running
//   `/bin/sh -c COMMAND` under its monitor;
// - the renderer straight into the local backend, for bytes that are not
//   UTF-8 (the API refuses those, the renderer must not care);
// - the SkyPilot task YAML, whose `run:` SkyPilot hands to bash.
// The base command is argv_dump, which prints exactly the argv and
// $SKYDECK_RUN_NAME it received. Each case asserts the arguments are exactly
// the intended `key=value` strings, in key order, and that no canary file
// (the payloads try to `touch` one) exists afterwards.
#include <fcntl.h>
#include <spawn.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#include "common/model/command_line.h"
#include "daemon/backend/local/local_backend.h"
#include "daemon/backend/skypilot/task_yaml.h"
#include "daemon/reconcile/reconciler.h"
#include "daemon/store/store.h"

namespace skydeck {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// What argv_dump printed: its arguments and the run name it saw.
struct Received {
  std::vector<std::string> args;
  std::string run_name;
  bool ok = false;
};

Received ParseDump(const std::string& out) {
  Received r;
  size_t i = 0;
  while (i < out.size()) {
    size_t end = out.find('\0', i);
    if (end == std::string::npos) return r;  // truncated: not ok
    std::string item = out.substr(i, end - i);
    i = end + 1;
    if (!item.empty() && item[0] == 'A') {
      r.args.push_back(item.substr(1));
    } else if (!item.empty() && item[0] == 'R') {
      r.run_name = item.substr(1);
      r.ok = i == out.size();
    } else {
      return r;
    }
  }
  return r;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Expected(const FlagMap& flags) {
  std::vector<std::string> out;
  for (const auto& [key, value] : flags)
    out.push_back(absl::StrCat(key, "=", FormatFlagValue(value)));
  return out;
}

// A temp dir with the backend's data and a directory the canaries aim at.
class QuotingFixture {
 public:
  QuotingFixture() {
    std::string tmpl = (fs::temp_directory_path() / "skydeck-quoting-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    root_ = tmpl;
    fs::create_directories(canary_dir());
    backend_ = std::make_unique<backend::LocalBackend>(
        backend::LocalBackendOptions{.data_dir = (root_ / "data").string(),
                                     .cancel_grace = absl::Seconds(10),
                                     .monitor_path = SKYDECK_MONITOR});
  }
  ~QuotingFixture() {
    backend_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  fs::path canary_dir() const { return root_ / "canaries"; }
  backend::LocalBackend& backend() { return *backend_; }
  fs::path LogOf(const std::string& job) const { return root_ / "data" / "jobs" / job / "run.log"; }

  // Payloads that try to run `touch <canary>` or to split, glob or expand
  // the argument, with {C} replaced by a canary path of their own.
  std::vector<std::string> Payloads() const {
    static const char* kTemplates[] = {"$(touch {C})",
                                       "`touch {C}`",
                                       "; touch {C}",
                                       "&& touch {C}",
                                       "|| touch {C}",
                                       "| touch {C}",
                                       "\ntouch {C}\n",
                                       "'; touch {C}; '",
                                       "\"; touch {C}; \"",
                                       "'\"$(touch {C})\"'",
                                       "\\'$(touch {C})",
                                       "'\\''$(touch {C})'\\''",
                                       "$(touch {C}",
                                       "${IFS}touch${IFS}{C}",
                                       "& touch {C} &",
                                       "> {C}",
                                       ">> {C}",
                                       "< /dev/null > {C}",
                                       "\r\ntouch {C}",
                                       "'\n touch {C} \n'",
                                       "'''''; touch {C}",
                                       "*",
                                       "~",
                                       "~root",
                                       "$HOME",
                                       "${HOME}",
                                       "$0",
                                       "$$",
                                       "$1",
                                       "$@",
                                       "!!",
                                       "#",
                                       "-",
                                       "--",
                                       "-rf",
                                       "--help",
                                       "-c",
                                       "a b  c",
                                       "\ttab",
                                       "  leading and trailing  ",
                                       "'",
                                       "''",
                                       "\"",
                                       "\"\"",
                                       "\\",
                                       "\\\\",
                                       "\\n",
                                       "=",
                                       "==",
                                       "a=b",
                                       "%s%n",
                                       "{}",
                                       "[a-z]*",
                                       "?",
                                       "ünïcødé ✓ 日本語 🚀",
                                       "\xe2\x80\xae right-to-left",
                                       "\x01\x02\x1b[31m\x7f",
                                       ""};
    std::vector<std::string> out;
    int n = 0;
    for (const char* t : kTemplates) {
      out.push_back(
          absl::StrReplaceAll(t, {{"{C}", (canary_dir() / absl::StrCat("c", n++)).string()}}));
    }
    return out;
  }

  // Waits until every job ended; returns what each one printed.
  std::vector<Received> Results(const std::vector<std::string>& jobs) {
    Clock::time_point deadline = Clock::now() + std::chrono::seconds(60);
    for (const std::string& job : jobs) {
      while (true) {
        auto seen = backend_->Query({job});
        REQUIRE(seen.ok());
        REQUIRE(seen->size() == 1);
        if (IsTerminal((*seen)[0].status)) {
          INFO(job << " ended " << Name((*seen)[0].status) << ": " << (*seen)[0].failure_reason
                   << "\n"
                   << ReadAll(LogOf(job)));
          REQUIRE((*seen)[0].exit_code == std::optional<int>(0));
          break;
        }
        REQUIRE(Clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    std::vector<Received> out;
    for (const std::string& job : jobs) out.push_back(ParseDump(ReadAll(LogOf(job))));
    return out;
  }

  std::vector<std::string> Canaries() const {
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(canary_dir())) found.push_back(e.path().string());
    return found;
  }

 private:
  fs::path root_;
  std::unique_ptr<backend::LocalBackend> backend_;
};

std::string BaseCommand() { return ShellQuote(ARGV_DUMP); }

// One experiment through the store and the real Reconciler, which renders
// the command and launches it on the local backend.
struct DaemonPath {
  QuotingFixture& f;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<reconcile::Reconciler> reconciler;

  explicit DaemonPath(QuotingFixture& fixture) : f(fixture) {
    auto opened = store::Store::Open(":memory:");
    REQUIRE(opened.ok());
    store = std::move(*opened);
    reconciler = std::make_unique<reconcile::Reconciler>(store.get(), &f.backend(), "quoting",
                                                         [] { return int64_t{1'700'000'000'000}; });
  }

  // Returns the backend job name.
  std::string Launch(const std::string& name, const FlagMap& flags, const std::string& run_name) {
    ExperimentSpec spec;
    spec.name = name;
    spec.base_command = BaseCommand();
    spec.flags = flags;
    spec.run_name = run_name;
    spec.desired_state = DesiredState::kRunning;
    auto created = store->CreateExperiment(spec, "test");
    REQUIRE(created.ok());
    auto reconciled = reconciler->Reconcile(created->id);
    REQUIRE(reconciled.ok());
    auto live = store->LiveJob(created->id);
    REQUIRE(live.ok());
    REQUIRE(live->has_value());
    return (*live)->backend_job_id;
  }
};

// Random text: NUL-free bytes, or (utf8) code points from every plane
// including controls, plus fragments of shell syntax.
std::string RandomText(std::mt19937_64& rng, bool utf8) {
  static const char* kFragments[] = {"'", "\"", "\\",    "$(", ")", "`",     ";",  "&&", "|", "\n",
                                     "*", "~",  "$HOME", "-",  " ", "'\\''", "${", "}",  "#", "!"};
  std::string out;
  int parts = 1 + static_cast<int>(rng() % 12);
  for (int i = 0; i < parts; ++i) {
    switch (rng() % 3) {
      case 0:
        out += kFragments[rng() % (sizeof(kFragments) / sizeof(kFragments[0]))];
        break;
      case 1:
        if (!utf8) {
          out += static_cast<char>(1 + rng() % 255);
          break;
        }
        [[fallthrough]];
      default: {
        static const uint32_t kRanges[][2] = {
            {0x01, 0x7f}, {0x80, 0x7ff}, {0x800, 0xd7ff}, {0xe000, 0xffff}, {0x10000, 0x10ffff}};
        const auto& range = kRanges[rng() % 5];
        uint32_t cp = range[0] + static_cast<uint32_t>(rng() % (range[1] - range[0] + 1));
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xc0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
          out += static_cast<char>(0xe0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
          out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
          out += static_cast<char>(0xf0 | (cp >> 18));
          out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
          out += static_cast<char>(0x80 | (cp & 0x3f));
        }
      }
    }
  }
  return out;
}

TEST_CASE("canary payloads in flag values, flag names and run names stay one argument",
          "[fuzz][quoting]") {
  QuotingFixture f;
  DaemonPath daemon(f);
  std::vector<std::string> payloads = f.Payloads();

  struct Case {
    FlagMap flags;
    std::string run_name;
  };
  std::vector<Case> cases;
  Case values, names, typed;
  for (size_t i = 0; i < payloads.size(); ++i) {
    values.flags[absl::StrCat("v", 100 + i)] = payloads[i];
    if (!payloads[i].empty()) names.flags[payloads[i]] = absl::StrCat("n", i);
  }
  typed.flags = {{"lr", 3e-4}, {"layers", int64_t{-4}}, {"on", true}, {"big", 1e300}};
  values.run_name = "plain";
  cases = {values, names, typed};
  for (const std::string& p : payloads) cases.push_back(Case{{{"x", p}}, p});

  std::vector<std::string> jobs;
  for (size_t i = 0; i < cases.size(); ++i) {
    jobs.push_back(daemon.Launch(absl::StrCat("quote-", i), cases[i].flags, cases[i].run_name));
  }
  std::vector<Received> got = f.Results(jobs);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i << ", rendered: " << RenderCommand(BaseCommand(), cases[i].flags));
    REQUIRE(got[i].ok);
    CHECK(got[i].args == Expected(cases[i].flags));
    // The reconciler falls back to the experiment name for an empty run name.
    CHECK(got[i].run_name ==
          (cases[i].run_name.empty() ? absl::StrCat("quote-", i) : cases[i].run_name));
  }
  CHECK(f.Canaries().empty());
}

TEST_CASE("random keys, values and run names stay exact arguments (seeded)", "[fuzz][quoting]") {
  QuotingFixture f;
  DaemonPath daemon(f);
  std::mt19937_64 rng(20240601);
  std::vector<std::string> payloads = f.Payloads();

  std::vector<std::pair<FlagMap, std::string>> cases;
  for (int job = 0; job < 24; ++job) {
    FlagMap flags;
    for (int i = 0; i < 16; ++i) {
      std::string key = RandomText(rng, /*utf8=*/true);
      std::string value = RandomText(rng, /*utf8=*/true);
      if (rng() % 4 == 0) value += payloads[rng() % payloads.size()];
      flags[key] = value;
    }
    cases.emplace_back(flags, RandomText(rng, /*utf8=*/true));
  }
  std::vector<std::string> jobs;
  for (size_t i = 0; i < cases.size(); ++i) {
    jobs.push_back(daemon.Launch(absl::StrCat("random-", i), cases[i].first, cases[i].second));
  }
  std::vector<Received> got = f.Results(jobs);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i << ", rendered: " << RenderCommand(BaseCommand(), cases[i].first));
    REQUIRE(got[i].ok);
    CHECK(got[i].args == Expected(cases[i].first));
    CHECK(got[i].run_name == cases[i].second);
  }
  CHECK(f.Canaries().empty());
}

TEST_CASE("bytes that are not UTF-8 stay exact arguments too (seeded)", "[fuzz][quoting]") {
  QuotingFixture f;
  std::mt19937_64 rng(77);
  std::vector<FlagMap> cases;
  std::vector<std::string> jobs;
  for (int job = 0; job < 12; ++job) {
    FlagMap flags;
    for (int i = 0; i < 16; ++i) flags[RandomText(rng, false)] = RandomText(rng, false);
    backend::JobSpec spec;
    spec.name = absl::StrCat("bytes-", job);
    spec.command = RenderCommand(BaseCommand(), flags);
    spec.env = {{"SKYDECK_RUN_NAME", RandomText(rng, false)}};
    auto launched = f.backend().Launch(spec);
    REQUIRE(launched.ok());
    jobs.push_back(*launched);
    cases.push_back(flags);
  }
  std::vector<Received> got = f.Results(jobs);
  for (size_t i = 0; i < cases.size(); ++i) {
    REQUIRE(got[i].ok);
    CHECK(got[i].args == Expected(cases[i]));
  }
  CHECK(f.Canaries().empty());
}

// SkyPilot runs the task's `run:` with bash on the cluster: the YAML must
// carry the rendered command byte for byte, and bash must read it as sh does.
TEST_CASE("the SkyPilot task YAML carries the command and run name exactly", "[fuzz][quoting]") {
  QuotingFixture f;
  std::mt19937_64 rng(5);
  std::vector<std::string> payloads = f.Payloads();
  FlagMap flags;
  for (size_t i = 0; i < payloads.size(); ++i) flags[absl::StrCat("p", 100 + i)] = payloads[i];
  for (int i = 0; i < 32; ++i) flags[RandomText(rng, true)] = RandomText(rng, true);
  std::string run_name = payloads[0] + RandomText(rng, true);

  backend::JobSpec spec;
  spec.name = "skydeck-quoting-1-1";
  spec.command = RenderCommand(BaseCommand(), flags);
  spec.env = {{"SKYDECK_RUN_NAME", run_name}};
  auto yaml = backend::skypilot::RenderTaskYaml(spec, {});
  REQUIRE(yaml.ok());
  std::vector<YAML::Node> docs = YAML::LoadAll(*yaml);
  REQUIRE(docs.size() == 2);
  std::string run = docs[1]["run"].as<std::string>();
  CHECK(run == spec.command);
  CHECK(docs[1]["envs"]["SKYDECK_RUN_NAME"].as<std::string>() == run_name);

  // bash, like SkyPilot: the run as a script file, the run name in the
  // environment, stdout to a file.
  fs::path dir = f.canary_dir().parent_path();
  fs::path script_file = dir / "run.sh";
  fs::path out = dir / "bash.out";
  std::ofstream(script_file, std::ios::binary) << run << "\n";
  std::string bash = "/bin/bash", script_arg = script_file.string();
  std::string env_entry = "SKYDECK_RUN_NAME=" + run_name;
  char* argv[] = {bash.data(), script_arg.data(), nullptr};
  char* envp[] = {env_entry.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, bash.c_str(), &actions, nullptr, argv, envp) == 0);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  Received got = ParseDump(ReadAll(out));
  REQUIRE(got.ok);
  CHECK(got.args == Expected(flags));
  CHECK(got.run_name == run_name);
  CHECK(f.Canaries().empty());
}

}  // namespace
}  // namespace skydeck
