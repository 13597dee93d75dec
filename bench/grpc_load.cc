// bench/grpc_load: drives one unary RPC of skydeckd over gRPC from N client
// threads for a fixed time and reports requests/s and latency percentiles,
// the gRPC counterpart of `wrk` against the HTTP bridge.
//
//   grpc_load --server 127.0.0.1:50051 --rpc list --page-size 100 --threads 16 --seconds 10
//   grpc_load --server 127.0.0.1:50051 --rpc get --id 42 --threads 16 --seconds 10
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "CLI/CLI.hpp"
#include "skydeck/v1/service.grpc.pb.h"

namespace pb = ::skydeck::v1;

int main(int argc, char** argv) {
  CLI::App app{"gRPC load generator for skydeckd"};
  std::string server = "127.0.0.1:50051", rpc = "list", id = "1";
  int threads = 16, page_size = 100;
  double seconds = 10;
  app.add_option("--server", server);
  app.add_option("--rpc", rpc, "list, get or health")
      ->check(CLI::IsMember({"list", "get", "health"}));
  app.add_option("--id", id, "experiment for --rpc get");
  app.add_option("--threads", threads);
  app.add_option("--page-size", page_size);
  app.add_option("--seconds", seconds);
  CLI11_PARSE(app, argc, argv);

  auto channel = grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  auto stub = pb::SkyDeck::NewStub(channel);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> errors{0};
  std::vector<std::vector<double>> latencies(threads);
  std::vector<std::thread> workers;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      while (!stop.load()) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        auto t0 = std::chrono::steady_clock::now();
        grpc::Status status;
        if (rpc == "list") {
          pb::ListExperimentsRequest req;
          req.set_page_size(page_size);
          pb::ListExperimentsResponse resp;
          status = stub->ListExperiments(&ctx, req, &resp);
        } else if (rpc == "get") {
          pb::GetExperimentRequest req;
          req.set_id(id);
          pb::GetExperimentResponse resp;
          status = stub->GetExperiment(&ctx, req, &resp);
        } else {
          pb::GetHealthResponse resp;
          status = stub->GetHealth(&ctx, pb::GetHealthRequest(), &resp);
        }
        auto t1 = std::chrono::steady_clock::now();
        if (!status.ok()) errors++;
        latencies[t].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1, static_cast<size_t>(p / 100 * all.size()))];
  };
  std::printf("requests %zu errors %lld req/s %.1f p50_ms %.3f p99_ms %.3f\n", all.size(),
              static_cast<long long>(errors.load()), all.size() / elapsed, pct(50), pct(99));
  return errors.load() == 0 ? 0 : 1;
}
