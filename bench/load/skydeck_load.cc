// skydeck_load: the client side of the SkyDeck load harness. Each
// subcommand runs one phase (see phases.h) against a running skydeckd,
// reads and writes the ledger file of acknowledged writes, and prints one
// JSON document on stdout. Exit 0 only when the phase had no errors (and,
// for verify, nothing was lost or changed). bench/load_test.py runs the
// phases in order around daemon restarts.
//
//   skydeck_load --grpc 127.0.0.1:50051 --http 127.0.0.1:8000 --ledger L create --count 10000
//   skydeck_load ... history --rounds 10
//   skydeck_load ... mix --seconds 60
//   skydeck_load ... verify
//   skydeck_load ... list
#include <cstdio>
#include <iostream>

#include "CLI/CLI.hpp"
#include "bench/load/phases.h"

namespace {

using skydeck::bench::Ledger;

int Finish(const nlohmann::json& result, const Ledger* ledger, const std::string& path) {
  std::cout << result.dump(2) << std::endl;
  if (ledger != nullptr) {
    if (absl::Status s = ledger->Save(path); !s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
  }
  bool ok = result.value("errors", 0) == 0 && result.value("ok", true);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SkyDeck load harness client (see bench/README.md)"};
  app.require_subcommand(1);
  skydeck::bench::LoadTarget target;
  std::string ledger_path;
  double deadline_s = 120;
  app.add_option("--grpc", target.grpc, "skydeckd gRPC host:port")->required();
  app.add_option("--http", target.http, "bridge host:port (HTTP clients); empty: none");
  app.add_option("--grpc-clients", target.grpc_clients, "concurrent gRPC clients")
      ->capture_default_str();
  app.add_option("--http-clients", target.http_clients, "concurrent HTTP clients")
      ->capture_default_str();
  app.add_option("--prefix", target.prefix, "experiment name prefix and bench= label")
      ->capture_default_str();
  app.add_option("--ledger", ledger_path, "file of acknowledged writes")->required();
  app.add_option("--deadline", deadline_s, "per-call deadline, seconds")->capture_default_str();

  int count = 10000, rounds = 10, repeats = 50, walk_repeats = 5;
  double seconds = 60, round_timeout_s = 1800;
  uint64_t seed = 1;
  CLI::App* create = app.add_subcommand("create", "create --count experiments");
  create->add_option("--count", count)->capture_default_str();
  CLI::App* history = app.add_subcommand("history", "build job history, --rounds jobs each");
  history->add_option("--rounds", rounds)->capture_default_str();
  history->add_option("--round-timeout", round_timeout_s, "seconds")->capture_default_str();
  CLI::App* mix = app.add_subcommand("mix", "mixed reads and writes for --seconds");
  mix->add_option("--seconds", seconds)->capture_default_str();
  mix->add_option("--seed", seed)->capture_default_str();
  bool no_launches = false;
  mix->add_flag("--no-launches", no_launches,
                "toggle desired state between STOPPED and TERMINATED only (no jobs)");
  CLI::App* verify = app.add_subcommand("verify", "read back every acknowledged write");
  CLI::App* list = app.add_subcommand("list", "ListExperiments latency");
  list->add_option("--repeats", repeats, "calls per single-page figure")->capture_default_str();
  list->add_option("--walk-repeats", walk_repeats, "walks of all pages")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  target.deadline = absl::Seconds(deadline_s);
  target.launches = !no_launches;

  // A new ledger for create; every other phase needs the one create wrote.
  Ledger ledger;
  if (!create->parsed()) {
    auto loaded = Ledger::Load(ledger_path);
    if (!loaded.ok()) {
      std::cerr << loaded.status() << "\n";
      return 2;
    }
    ledger = std::move(*loaded);
  }
  if (create->parsed()) {
    return Finish(RunCreatePhase(target, count, &ledger), &ledger, ledger_path);
  }
  if (history->parsed()) {
    auto result = RunHistoryPhase(target, rounds, absl::Seconds(round_timeout_s), &ledger);
    if (!result.ok()) {
      std::cerr << "history: " << result.status() << "\n";
      (void)ledger.Save(ledger_path);  // desired states already acknowledged
      return 1;
    }
    return Finish(*result, &ledger, ledger_path);
  }
  if (mix->parsed()) {
    return Finish(RunMixPhase(target, absl::Seconds(seconds), seed, &ledger), &ledger, ledger_path);
  }
  if (verify->parsed()) return Finish(RunVerifyPhase(target, ledger), nullptr, "");
  if (list->parsed()) return Finish(RunListPhase(target, repeats, walk_repeats), nullptr, "");
  return 2;
}
