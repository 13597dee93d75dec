// File: bench/load/phases.h
//
// The phases of the SkyDeck load harness (`skydeck_load`, driven by
// bench/load_test.py). Each runs against a live skydeckd, reads and updates
// the Ledger of acknowledged writes, and returns a JSON summary; "errors"
// in it counts every call the daemon did not acknowledge.
//
//   create   N clients create `count` experiments named PREFIX-<i>
//            (labels bench=PREFIX, sweep=s<i%20>, group=g<i%100>).
//   history  builds job history through the real reconciler: each round
//            sets every bench=PREFIX experiment RUNNING by one selector
//            request (a new run each time) and waits until every one has
//            one more finished job; then sets them all STOPPED.
//   mix      N gRPC + M HTTP clients for a fixed time, each owning a
//            disjoint share of the ledger: gets, lists (first page, a
//            label-filtered page, the next page of a walk), UpdateExperiment,
//            UpdateFlags, SetDesiredState and creates.
//   verify   reads every ledger entry back (GetExperiment) and walks every
//            page of the list; counts lost and mismatched writes.
//   list     ListExperiments latency on an otherwise idle daemon: first
//            page, label-filtered pages, and walking all pages.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

#include "bench/load/api_client.h"
#include "bench/load/ledger.h"

namespace skydeck::bench {

struct LoadTarget {
  std::string grpc;  // host:port of skydeckd's gRPC listener
  std::string http;  // host:port of the bridge; empty: no HTTP clients
  int grpc_clients = 8;
  int http_clients = 8;
  absl::Duration deadline = absl::Seconds(120);
  // Prefix of experiment names and value of the bench= label.
  std::string prefix = "load";
  // mix: SetDesiredState toggles to RUNNING, which launches a job on the
  // daemon's backend; false toggles STOPPED <-> TERMINATED only, so the
  // figures are the API's alone.
  bool launches = true;
};

// One client per concurrent worker: the gRPC ones first, then HTTP.
std::vector<std::unique_ptr<ApiClient>> MakeClients(const LoadTarget& target);

// The deterministic spec of seeded experiment `i`.
pb::Experiment SeedExperiment(const std::string& prefix, int i);

nlohmann::json RunCreatePhase(const LoadTarget& target, int count, Ledger* ledger);
absl::StatusOr<nlohmann::json> RunHistoryPhase(const LoadTarget& target, int rounds,
                                               absl::Duration round_timeout, Ledger* ledger);
nlohmann::json RunMixPhase(const LoadTarget& target, absl::Duration duration, uint64_t seed,
                           Ledger* ledger);
// "ok" in the result is true when nothing was lost or changed.
nlohmann::json RunVerifyPhase(const LoadTarget& target, const Ledger& ledger);
nlohmann::json RunListPhase(const LoadTarget& target, int repeats, int walk_repeats);

// Every experiment matching `selector` (all when empty), walking pages of
// `page_size`. `pages` (optional) receives the number of pages.
absl::StatusOr<std::vector<pb::Experiment>> ListAll(ApiClient& client, const std::string& selector,
                                                    int page_size, int* pages = nullptr);

}  // namespace skydeck::bench
