// bench/grpc_load: drives one unary RPC of skydeckd over gRPC from N client
// threads for a fixed time and reports requests/s and latency percentiles,
// the gRPC counterpart of `wrk` against the HTTP bridge.
//
//   grpc_load --server 127.0.0.1:50051 --rpc list --page-size 100 --threads 16 --seconds 10
//   grpc_load --server 127.0.0.1:50051 --rpc get --id 42 --threads 16 --seconds 10
//
// Write modes (every call changes something, so none is a no-op):
//   --rpc create   creates experiments named PREFIX-THREAD-N (--name-prefix)
//   --rpc desired  SetDesiredState on experiments --first-id .. +--count-1:
//                  thread t takes every THREADS-th of them in turn, setting
//                  TERMINATED on its first pass, STOPPED on the next, ...
//                  (no launches: start them STOPPED)
//   --rpc flags    UpdateFlags setting `load.step` to the call's number, on
//                  the experiments shared out as for `desired`
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "CLI/CLI.hpp"
#include "skydeck/v1/service.grpc.pb.h"

namespace pb = ::skydeck::v1;

namespace {

struct Options {
  std::string rpc = "list";
  std::string id = "1";
  std::string name_prefix;
  int page_size = 100;
  int threads = 16;
  int64_t first_id = 1;
  int64_t count = 0;
};

// The experiments thread `t` writes to: every threads-th id of the range.
std::vector<int64_t> ShareOf(const Options& o, int t) {
  std::vector<int64_t> ids;
  for (int64_t i = t; i < o.count; i += o.threads) ids.push_back(o.first_id + i);
  return ids;
}

// One call number `n` of thread `t`.
grpc::Status Call(pb::SkyDeck::Stub& stub, const Options& o, int t, int64_t n,
                  const std::vector<int64_t>& share) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (o.rpc == "list") {
    pb::ListExperimentsRequest req;
    req.set_page_size(o.page_size);
    pb::ListExperimentsResponse resp;
    return stub.ListExperiments(&ctx, req, &resp);
  }
  if (o.rpc == "get") {
    pb::GetExperimentRequest req;
    req.set_id(o.id);
    pb::GetExperimentResponse resp;
    return stub.GetExperiment(&ctx, req, &resp);
  }
  if (o.rpc == "create") {
    pb::CreateExperimentRequest req;
    pb::Experiment* e = req.mutable_experiment();
    e->set_name(o.name_prefix + "-" + std::to_string(t) + "-" + std::to_string(n));
    e->set_base_command("python train.py");
    (*e->mutable_flags())["trainer.lr"].set_double_value(1e-4 * static_cast<double>(1 + n % 7));
    (*e->mutable_labels())["bench"] = "writes";
    pb::CreateExperimentResponse resp;
    return stub.CreateExperiment(&ctx, req, &resp);
  }
  if (o.rpc == "health") {
    pb::GetHealthResponse resp;
    return stub.GetHealth(&ctx, pb::GetHealthRequest(), &resp);
  }
  const auto size = static_cast<int64_t>(share.size());
  std::string target = std::to_string(share[n % size]);
  if (o.rpc == "desired") {
    pb::SetDesiredStateRequest req;
    req.set_id(target);
    req.set_desired_state((n / size) % 2 == 0 ? pb::DESIRED_STATE_TERMINATED
                                               : pb::DESIRED_STATE_STOPPED);
    pb::SetDesiredStateResponse resp;
    return stub.SetDesiredState(&ctx, req, &resp);
  }
  if (o.rpc == "flags") {
    pb::UpdateFlagsRequest req;
    req.set_id(target);
    (*req.mutable_set())["load.step"].set_int_value(n);
    pb::UpdateFlagsResponse resp;
    return stub.UpdateFlags(&ctx, req, &resp);
  }
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, o.rpc);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gRPC load generator for skydeckd"};
  std::string server = "127.0.0.1:50051";
  Options o;
  double seconds = 10;
  int channels = 1;
  app.add_option("--server", server);
  app.add_option("--rpc", o.rpc, "list, get, health, create, desired or flags")
      ->check(CLI::IsMember({"list", "get", "health", "create", "desired", "flags"}));
  app.add_option("--id", o.id, "experiment for --rpc get");
  app.add_option("--threads", o.threads);
  app.add_option("--channels", channels,
                 "connections the threads share round-robin (default 1: one HTTP/2 connection)");
  app.add_option("--page-size", o.page_size);
  app.add_option("--seconds", seconds);
  app.add_option("--name-prefix", o.name_prefix, "names of created experiments (unique per run)");
  app.add_option("--first-id", o.first_id, "first experiment for desired / flags");
  app.add_option("--count", o.count, "experiments for desired / flags (at least 2 per thread)");
  CLI11_PARSE(app, argc, argv);
  if (o.rpc == "create" && o.name_prefix.empty()) {
    std::fprintf(stderr, "--rpc create needs --name-prefix\n");
    return 2;
  }
  if ((o.rpc == "desired" || o.rpc == "flags") && o.count < 2 * o.threads) {
    std::fprintf(stderr, "--rpc %s needs --count >= 2 * --threads\n", o.rpc.c_str());
    return 2;
  }

  std::vector<std::unique_ptr<pb::SkyDeck::Stub>> stubs;
  for (int c = 0; c < std::max(1, channels); ++c) {
    grpc::ChannelArguments args;
    // Distinct arguments: a connection of its own, not a shared subchannel.
    args.SetInt("skydeck.bench.channel", c);
    stubs.push_back(pb::SkyDeck::NewStub(
        grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args)));
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> errors{0};
  std::vector<std::vector<double>> latencies(o.threads);
  std::vector<std::thread> workers;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < o.threads; ++t) {
    workers.emplace_back([&, t] {
      pb::SkyDeck::Stub& stub = *stubs[t % stubs.size()];
      const std::vector<int64_t> share = ShareOf(o, t);
      for (int64_t n = 0; !stop.load(); ++n) {
        auto t0 = std::chrono::steady_clock::now();
        grpc::Status status = Call(stub, o, t, n, share);
        auto t1 = std::chrono::steady_clock::now();
        if (!status.ok() && errors++ == 0) {
          std::fprintf(stderr, "first error: %s\n", status.error_message().c_str());
        }
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
