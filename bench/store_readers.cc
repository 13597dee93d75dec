// store_readers: how long GetExperiment waits while another client loops
// the slowest read, with reads on the writer connection under the store's
// lock (before: OpenOptions::reader_connections = 0, what every read did)
// and on the pool of read-only connections (after), in one process.
//
//   store_readers --db SEEDED.db [--seconds 10] [--rounds 2] [--readers 4]
//
// The database (e.g. seed_dashboard's) is copied next to itself first and
// the copy is used, so the seeded file is never changed. Per round and
// configuration: one thread loops ListExperiments with a name filter that
// matches nothing (a scan of every experiment: the slowest read), another
// loops GetExperiment of random ids, back to back (calls/s) and paced one
// per --interval-ms (p50/p99 from when each call was due); idle and with
// the slow read looping. Configurations take turns per round.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

#include "CLI/CLI.hpp"
#include "daemon/store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace skydeck::store;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

struct Figures {
  double calls_per_s, p50_ms, p99_ms, max_ms;
  int64_t slow_reads;
  double slow_read_ms;
};

// One measurement: `seconds` of GetExperiment, with the slow read looping
// alongside when `with_slow_read`.
//
// `interval_ms` 0: back to back (calls/s); else one call per interval,
// each timed from when it was due, so time spent waiting behind a slow
// read counts for every call due meanwhile (a closed loop would count it
// once and hide it in the percentiles).
Figures Measure(Store& store, int64_t max_id, double seconds, bool with_slow_read,
                double interval_ms) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> slow_reads{0};
  std::vector<double> slow_ms;
  std::thread slow([&] {
    if (!with_slow_read) return;
    ExperimentQuery q;
    q.name_contains = "no-such-name";
    while (!stop) {
      auto t0 = Clock::now();
      Check(store.ListExperiments(q).status(), "ListExperiments");
      slow_ms.push_back(Ms(Clock::now() - t0));
      slow_reads++;
    }
  });
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> pick(1, max_id);
  std::vector<double> lat;
  auto start = Clock::now();
  auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(interval_ms));
  auto due = start;
  while (Clock::now() < end) {
    auto t0 = Clock::now();
    if (interval_ms > 0) {
      if (t0 < due) std::this_thread::sleep_until(due);  // pacing, not a wait for a condition
      t0 = due;
      due += interval;
    }
    auto r = store.GetExperiment(pick(rng));
    if (!r.ok() && !absl::IsNotFound(r.status())) Check(r.status(), "GetExperiment");
    lat.push_back(Ms(Clock::now() - t0));
  }
  double took = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  slow.join();
  return {lat.size() / took,    Percentile(lat, 0.5), Percentile(lat, 0.99),
          Percentile(lat, 1.0), slow_reads.load(),    Percentile(slow_ms, 0.5)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("store_readers: GetExperiment latency while a slow read loops");
  std::string seeded;
  double seconds = 10;
  int rounds = 2, readers = 4;
  double interval_ms = 1;
  app.add_option("--db", seeded, "a seeded database (copied, never changed)")->required();
  app.add_option("--seconds", seconds, "length of each measurement");
  app.add_option("--rounds", rounds, "rounds; the configurations take turns in each");
  app.add_option("--interval-ms", interval_ms, "pace of the paced measurements");
  app.add_option("--readers", readers, "read connections of the 'after' configuration");
  CLI11_PARSE(app, argc, argv);

  std::string copy = absl::StrCat(seeded, ".store-readers-", getpid());
  std::filesystem::copy_file(seeded, copy);
  double start_load[1] = {0};
  getloadavg(start_load, 1);
  std::printf("database %s (copy %s), %u cores, load %.1f\n", seeded.c_str(), copy.c_str(),
              std::thread::hardware_concurrency(), start_load[0]);
  for (int round = 1; round <= rounds; ++round) {
    for (int pool : {0, readers}) {
      OpenOptions options;
      options.reader_connections = pool;
      auto store = Store::Open(copy, options);
      Check(store.status(), "Store::Open");
      auto ids = (*store)->ListLiveExperimentIds();
      Check(ids.status(), "ListLiveExperimentIds");
      int64_t max_id = ids->empty() ? 1 : ids->back();
      struct Mode {
        const char* name;
        bool slow;
        double interval_ms;
      };
      for (Mode m :
           {Mode{"idle", false, 0}, Mode{"slow-read", true, 0},
            Mode{"idle-paced", false, interval_ms}, Mode{"slow-paced", true, interval_ms}}) {
        Figures f = Measure(**store, max_id, seconds, m.slow, m.interval_ms);
        double load[1] = {0};
        getloadavg(load, 1);
        std::printf(
            "round %d readers=%d %-11s GetExperiment %9.0f/s p50 %7.3f ms p99 %8.3f ms max %8.1f "
            "ms | slow reads %lld (median %.0f ms) | load %.1f\n",
            round, pool, m.name, f.calls_per_s, f.p50_ms, f.p99_ms, f.max_ms,
            static_cast<long long>(f.slow_reads), f.slow_read_ms, load[0]);
        std::fflush(stdout);
      }
    }
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(copy + suffix);
  return 0;
}
