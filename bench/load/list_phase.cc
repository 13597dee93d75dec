// The list phase: ListExperiments latency from one client at a time, so
// the figures are the cost of a call, not of queueing behind others.
#include <chrono>

#include "absl/strings/str_cat.h"

#include "bench/load/latency_stats.h"
#include "bench/load/phases.h"

namespace skydeck::bench {
namespace {

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json Pages(ApiClient& client, const std::string& selector, int repeats, int64_t* errors) {
  std::vector<double> ms;
  int returned = 0;
  for (int i = 0; i < repeats; ++i) {
    pb::ListExperimentsRequest req;
    req.set_page_size(100);
    req.set_label_selector(selector);
    pb::ListExperimentsResponse resp;
    auto t0 = std::chrono::steady_clock::now();
    absl::Status s = client.ListExperiments(req, &resp);
    ms.push_back(MsSince(t0));
    if (!s.ok()) ++*errors;
    returned = resp.experiments_size();
  }
  return {{"selector", selector},         {"page_size", 100},
          {"returned", returned},         {"repeats", repeats},
          {"p50_ms", Percentile(ms, 50)}, {"p99_ms", Percentile(ms, 99)},
          {"max_ms", Percentile(ms, 100)}};
}

nlohmann::json Walks(ApiClient& client, int page_size, int repeats, int64_t* errors) {
  std::vector<double> ms;
  int pages = 0;
  size_t experiments = 0;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto all = ListAll(client, "", page_size, &pages);
    ms.push_back(MsSince(t0));
    if (!all.ok()) {
      ++*errors;
      continue;
    }
    experiments = all->size();
  }
  return {{"page_size", page_size},       {"pages", pages},
          {"experiments", experiments},   {"repeats", repeats},
          {"p50_ms", Percentile(ms, 50)}, {"min_ms", Percentile(ms, 0)},
          {"max_ms", Percentile(ms, 100)}};
}

}  // namespace

nlohmann::json RunListPhase(const LoadTarget& target, int repeats, int walk_repeats) {
  std::vector<std::unique_ptr<ApiClient>> clients;
  clients.push_back(MakeGrpcClient(target.grpc, target.deadline));
  if (!target.http.empty()) clients.push_back(MakeHttpClient(target.http, target.deadline));
  nlohmann::json out = {{"phase", "list"}};
  int64_t errors = 0;
  for (auto& client : clients) {
    // One call first so connection set-up is not in the figures.
    (void)ListAll(*client, "bench=none-such-bench", 1);
    out[client->transport()] = {
        {"first_page", Pages(*client, "", repeats, &errors)},
        // 1 in 20 experiments: a full page after ~2,000 rows.
        {"label_page_common", Pages(*client, "sweep=s7", repeats, &errors)},
        // 1 in 100: the page needs the whole table.
        {"label_page_rare", Pages(*client, "group=g42", repeats, &errors)},
        {"walk_all_100", Walks(*client, 100, walk_repeats, &errors)},
        {"walk_all_1000", Walks(*client, 1000, walk_repeats, &errors)},
    };
  }
  out["errors"] = errors;
  return out;
}

}  // namespace skydeck::bench
