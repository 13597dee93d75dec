// store_bulk: the store's cost of one desired-state change over N
// experiments, without the network, the reconciler or other clients.
//
//   store_bulk [--experiments 10000] [--repeats 3] [--dir /tmp]
//
// On a fresh database file (WAL, as skydeckd opens it) with N experiments
// labelled bench=bulk (plus 100 others), times per repeat:
//   - select:  the filter's scan alone (SelectExperiments), no write;
//   - bulk:    SetDesiredStates by the filter, one transaction (TERMINATED,
//              then STOPPED);
//   - loop:    what SetDesiredState did before: one UpdateSpec transaction
//              per matched experiment (only up to --loop-limit experiments,
//              then scaled: it is linear).
// Prints one line per measure with the median, in milliseconds.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "CLI/CLI.hpp"
#include "daemon/store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using skydeck::DesiredState;
using skydeck::ExperimentSpec;
using namespace skydeck::store;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("store_bulk: the store's cost of one bulk desired-state change");
  int experiments = 10000, repeats = 3, loop_limit = 2000;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("--experiments", experiments, "experiments the change addresses");
  app.add_option("--repeats", repeats, "times each measure is taken");
  app.add_option("--loop-limit", loop_limit, "experiments the old per-experiment loop changes");
  app.add_option("--dir", dir, "where the temporary database goes");
  CLI11_PARSE(app, argc, argv);

  std::string path = absl::StrCat(dir, "/store-bulk-", getpid(), ".db");
  auto opened = Store::Open(path);
  Check(opened.status(), "open");
  Store& store = **opened;
  for (int i = 0; i < experiments + 100; ++i) {
    ExperimentSpec spec;
    spec.name = absl::StrCat(i < experiments ? "bulk-" : "other-", i);
    spec.base_command = "python train.py";
    spec.flags = {{"trainer.lr", 3e-4}, {"model.layers", int64_t{4}}};
    spec.labels = {{"bench", i < experiments ? "bulk" : "other"}, {"sweep", absl::StrCat(i % 20)}};
    Check(store.CreateExperiment(spec, "bench").status(), "create");
  }
  ExperimentFilter filter;
  filter.selector = *skydeck::LabelSelector::Parse("bench=bulk");
  ExperimentSelection selection{{}, filter};

  std::vector<double> select_ms, bulk_ms, loop_ms;
  for (int r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    auto selected = store.SelectExperiments(selection);
    select_ms.push_back(Ms(Clock::now() - start));
    Check(selected.status(), "select");
    for (DesiredState d : {DesiredState::kTerminated, DesiredState::kStopped}) {
      start = Clock::now();
      auto result = store.SetDesiredStates(selection, d, "bench", "");
      bulk_ms.push_back(Ms(Clock::now() - start));
      Check(result.status(), "bulk");
      if (static_cast<int>(result->changed_ids.size()) != experiments) {
        std::fprintf(stderr, "bulk changed %zu of %d\n", result->changed_ids.size(), experiments);
        return 1;
      }
    }
    // The old path: one transaction per experiment, on a prefix.
    int n = std::min(loop_limit, experiments);
    for (DesiredState d : {DesiredState::kTerminated, DesiredState::kStopped}) {
      start = Clock::now();
      for (int i = 0; i < n; ++i) {
        Check(store
                  .UpdateSpec(
                      selected->ids[i],
                      [d](ExperimentSpec& s) {
                        s.desired_state = d;
                        return absl::OkStatus();
                      },
                      "bench")
                  .status(),
              "loop");
      }
      loop_ms.push_back(Ms(Clock::now() - start) * experiments / n);
    }
  }
  std::printf("experiments %d (+100 others), %d repeats, file %s\n", experiments, repeats,
              path.c_str());
  std::printf("select (filter scan only)        median %9.1f ms\n", Median(select_ms));
  std::printf("bulk change, one transaction     median %9.1f ms\n", Median(bulk_ms));
  std::printf("loop, one transaction each       median %9.1f ms (%d changed, scaled to %d)\n",
              Median(loop_ms), std::min(loop_limit, experiments), experiments);
  std::printf("loop / bulk                      %9.1fx\n", Median(loop_ms) / Median(bulk_ms));
  opened->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return 0;
}
