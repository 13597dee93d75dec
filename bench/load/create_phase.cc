// The create phase and what every phase shares: clients, seeded specs,
// listing every page.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"

#include "bench/load/latency_stats.h"
#include "bench/load/phases.h"

namespace skydeck::bench {

std::vector<std::unique_ptr<ApiClient>> MakeClients(const LoadTarget& target) {
  std::vector<std::unique_ptr<ApiClient>> clients;
  for (int i = 0; i < target.grpc_clients; ++i) {
    clients.push_back(MakeGrpcClient(target.grpc, target.deadline));
  }
  if (!target.http.empty()) {
    for (int i = 0; i < target.http_clients; ++i) {
      clients.push_back(MakeHttpClient(target.http, target.deadline));
    }
  }
  return clients;
}

pb::Experiment SeedExperiment(const std::string& prefix, int i) {
  pb::Experiment e;
  e.set_name(absl::StrCat(prefix, "-", i));
  e.set_description(absl::StrCat("seeded experiment ", i));
  // One in ten fails at once, so the history holds failures as well; with
  // no restart budget a failure ends the run instead of backing off.
  e.set_base_command(i % 10 == 0 ? "false" : "true");
  e.set_max_restarts(0);
  auto& flags = *e.mutable_flags();
  flags["trainer.lr"].set_double_value(1e-4 * (1 + i % 7));
  flags["model.layers"].set_int_value(1 + i % 64);
  flags["optimizer"].set_string_value(i % 2 ? "adam" : "sgd");
  flags["use_amp"].set_bool_value(i % 3 == 0);
  auto& labels = *e.mutable_labels();
  labels["bench"] = prefix;
  labels["sweep"] = absl::StrCat("s", i % 20);
  labels["group"] = absl::StrCat("g", i % 100);
  e.set_desired_state(pb::DESIRED_STATE_STOPPED);
  return e;
}

absl::StatusOr<std::vector<pb::Experiment>> ListAll(ApiClient& client, const std::string& selector,
                                                    int page_size, int* pages) {
  std::vector<pb::Experiment> out;
  pb::ListExperimentsRequest req;
  req.set_page_size(page_size);
  req.set_label_selector(selector);
  int n = 0;
  while (true) {
    pb::ListExperimentsResponse resp;
    if (absl::Status s = client.ListExperiments(req, &resp); !s.ok()) return s;
    ++n;
    out.insert(out.end(), resp.experiments().begin(), resp.experiments().end());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  if (pages != nullptr) *pages = n;
  return out;
}

nlohmann::json RunCreatePhase(const LoadTarget& target, int count, Ledger* ledger) {
  std::vector<std::unique_ptr<ApiClient>> clients = MakeClients(target);
  std::atomic<int> next{0};
  std::mutex mu;  // guards ledger
  std::vector<LatencyStats> stats(clients.size());
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (size_t t = 0; t < clients.size(); ++t) {
    threads.emplace_back([&, t] {
      ApiClient& c = *clients[t];
      const std::string op = absl::StrCat(c.transport(), " CreateExperiment");
      for (int i = next++; i < count; i = next++) {
        pb::CreateExperimentRequest req;
        *req.mutable_experiment() = SeedExperiment(target.prefix, i);
        pb::CreateExperimentResponse resp;
        auto t0 = std::chrono::steady_clock::now();
        absl::Status s = c.CreateExperiment(req, &resp);
        stats[t].Add(
            op,
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count(),
            s);
        if (s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          ledger->Put(resp.experiment());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LatencyStats all;
  for (const auto& s : stats) all.Merge(s);
  nlohmann::json out = all.Summary(seconds);
  out["phase"] = "create";
  out["clients"] = {{"grpc", target.grpc_clients},
                    {"http", target.http.empty() ? 0 : target.http_clients}};
  return out;
}

}  // namespace skydeck::bench
