// The metrics interceptor on a real gRPC server (the Echo test service on a
// loopback port): every call is counted by method and code whichever
// channel it comes from, unary calls are timed, streams are counted open
// while they run.
#include "daemon/metrics/grpc_metrics_interceptor.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include <catch2/catch.hpp>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "../../common/exposition_checker.h"

#include "web/bridge/testdata/echo.grpc.pb.h"

namespace skydeck::metrics {
namespace {

constexpr char kSay[] = "bridgetest.Echo/Say";
constexpr char kCount[] = "bridgetest.Echo/Count";

class EchoService final : public bridgetest::Echo::Service {
 public:
  grpc::Status Say(grpc::ServerContext*, const bridgetest::EchoRequest* req,
                   bridgetest::EchoResponse* resp) override {
    if (req->text() == "missing") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such echo");
    resp->set_text(req->text());
    return grpc::Status::OK;
  }
  // `times` messages; times == 0: one message, then open until cancelled,
  // then CANCELLED, or OK for text "ok-on-cancel" (as a handler may).
  grpc::Status Count(grpc::ServerContext* ctx, const bridgetest::EchoRequest* req,
                     grpc::ServerWriter<bridgetest::EchoResponse>* writer) override {
    bridgetest::EchoResponse resp;
    for (int i = 0; i < std::max(1, req->times()); ++i) {
      resp.set_text(std::to_string(i));
      if (!writer->Write(resp)) return grpc::Status::CANCELLED;
    }
    if (req->times() > 0) return grpc::Status::OK;
    while (!ctx->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return req->text() == "ok-on-cancel" ? grpc::Status::OK : grpc::Status::CANCELLED;
  }
};

struct InterceptedServer {
  GrpcServerMetrics metrics;
  EchoService service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  // With `health`, gRPC's default health service too: a callback service,
  // which changes how the server routes calls to unknown methods.
  explicit InterceptedServer(bool health = false) {
    grpc::EnableDefaultHealthCheckService(health);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    ServedMethods served =
        MethodsOf(*bridgetest::EchoRequest::descriptor()->file()->FindServiceByName("Echo"));
    served.merge(GrpcInfrastructureMethods());
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> f;
    f.push_back(NewMetricsInterceptorFactory(&metrics, std::move(served)));
    builder.experimental().SetInterceptorCreators(std::move(f));
    server = builder.BuildAndStart();
    REQUIRE(server);
    REQUIRE(port > 0);
  }
  ~InterceptedServer() { server->Shutdown(std::chrono::system_clock::now()); }

  // A channel like the CLI's: TCP to the loopback port.
  std::shared_ptr<grpc::Channel> TcpChannel() {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                               grpc::InsecureChannelCredentials());
  }

  grpc::Status Say(grpc::Channel* channel, const std::string& text) {
    auto stub = bridgetest::Echo::NewStub(
        std::shared_ptr<grpc::Channel>(channel, [](grpc::Channel*) {}));  // borrowed
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    bridgetest::EchoRequest req;
    req.set_text(text);
    bridgetest::EchoResponse resp;
    return stub->Say(&ctx, req, &resp);
  }

  double Requests(const std::string& method, const std::string& code) const {
    return metrics.RequestsForTesting().Value({method, code});
  }
};

// Waits (bounded) for `done`; the server records some ends on its own threads.
bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

TEST_CASE("unary calls are counted by method and code and timed", "[metrics][grpc]") {
  InterceptedServer s;
  auto channel = s.TcpChannel();
  CHECK(s.Say(channel.get(), "a").ok());
  CHECK(s.Say(channel.get(), "b").ok());
  CHECK(s.Say(channel.get(), "missing").error_code() == grpc::StatusCode::NOT_FOUND);

  // The status is recorded before it is sent, so no waiting is needed.
  CHECK(s.Requests(kSay, "OK") == 2);
  CHECK(s.Requests(kSay, "NOT_FOUND") == 1);
  HistogramSnapshot durations = s.metrics.DurationsForTesting().Snapshot({kSay});
  CHECK(durations.count == 3);
  CHECK(durations.sum > 0);
  CHECK(s.metrics.StreamsStartedForTesting().Value({kSay}) == 0);

  PrometheusText text;
  s.metrics.Render(&text);
  testing::Exposition e = testing::ParseExposition(text.text());
  CHECK(e.problems.empty());
  CHECK(e.Value("skydeck_grpc_requests_total", {{"method", kSay}, {"code", "NOT_FOUND"}}) == 1);
  CHECK(e.Value("skydeck_grpc_request_duration_seconds_count", {{"method", kSay}}) == 3);
  CHECK(e.Value("skydeck_grpc_request_duration_seconds_bucket",
                {{"method", kSay}, {"le", "+Inf"}}) == 3);
}

TEST_CASE("calls over the server's in-process channel are counted too", "[metrics][grpc]") {
  InterceptedServer s;
  auto channel = s.server->InProcessChannel(grpc::ChannelArguments());
  CHECK(s.Say(channel.get(), "x").ok());
  CHECK(s.Requests(kSay, "OK") == 1);
}

TEST_CASE("a finished stream is counted once by code and not timed", "[metrics][grpc]") {
  InterceptedServer s;
  auto stub = bridgetest::Echo::NewStub(s.TcpChannel());
  grpc::ClientContext ctx;
  bridgetest::EchoRequest req;
  req.set_times(3);
  auto reader = stub->Count(&ctx, req);
  bridgetest::EchoResponse resp;
  int n = 0;
  while (reader->Read(&resp)) n++;
  CHECK(reader->Finish().ok());
  CHECK(n == 3);
  CHECK(s.Requests(kCount, "OK") == 1);
  CHECK(s.metrics.StreamsStartedForTesting().Value({kCount}) == 1);
  CHECK(s.metrics.StreamsOpenForTesting().Value({kCount}) == 0);
  CHECK(s.metrics.DurationsForTesting().Snapshot({kCount}).count == 0);
}

TEST_CASE("an open stream is counted open until its client cancels it", "[metrics][grpc]") {
  InterceptedServer s;
  auto stub = bridgetest::Echo::NewStub(s.TcpChannel());
  grpc::ClientContext ctx;
  bridgetest::EchoRequest req;  // times 0: stays open
  // Either way the client sees CANCELLED, and that is what is counted.
  req.set_text(GENERATE("cancelled", "ok-on-cancel"));
  auto reader = stub->Count(&ctx, req);
  bridgetest::EchoResponse resp;
  REQUIRE(reader->Read(&resp));  // the handler runs: the call has started
  CHECK(s.metrics.StreamsOpenForTesting().Value({kCount}) == 1);
  CHECK(s.metrics.StreamsStartedForTesting().Value({kCount}) == 1);
  CHECK(s.Requests(kCount, "CANCELLED") == 0);

  ctx.TryCancel();
  while (reader->Read(&resp)) {
  }
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
  CHECK(Eventually([&] { return s.metrics.StreamsOpenForTesting().Value({kCount}) == 0; }));
  CHECK(Eventually([&] { return s.Requests(kCount, "CANCELLED") == 1; }));
  CHECK(s.metrics.StreamsStartedForTesting().Value({kCount}) == 1);
}

// Made-up method names share one series, so clients cannot grow /metrics;
// also on a server with a callback service (skydeckd has the default health
// service), where gRPC hands the interceptor the client's own path, bytes
// that are not UTF-8 included.
TEST_CASE("calls to unknown methods share one UNIMPLEMENTED series", "[metrics][grpc]") {
  bool health = GENERATE(false, true);
  INFO("default health service: " << health);
  InterceptedServer s(health);
  grpc::GenericStub stub(s.TcpChannel());
  for (const char* method :
       {"/no.such.Service/Nope", "/bridgetest.Echo/Missing", "/evil.Svc/b\"2\xff\xfe"}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice payload(std::string("x"));
    grpc::ByteBuffer request(&payload, 1), response;
    grpc::Status status;
    std::atomic<bool> done{false};
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response, [&](grpc::Status st) {
      status = st;
      done = true;
    });
    REQUIRE(Eventually([&] { return done.load(); }));
    CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  }
  CHECK(s.Requests("unknown", "UNIMPLEMENTED") == 3);
  CHECK(s.metrics.StreamsStartedForTesting().Value({"unknown"}) == 0);
  CHECK(s.metrics.StreamsOpenForTesting().Value({"unknown"}) == 0);
  PrometheusText text;
  s.metrics.Render(&text);
  CHECK(text.text().find("Nope") == std::string::npos);
  CHECK(text.text().find("Missing") == std::string::npos);
  CHECK(text.text().find("evil") == std::string::npos);
  if (health) {  // the health service itself is a served method
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice empty(std::string(""));
    grpc::ByteBuffer request(&empty, 1), response;
    std::atomic<bool> done{false};
    stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                   [&](grpc::Status) { done = true; });
    REQUIRE(Eventually([&] { return done.load(); }));
    CHECK(Eventually([&] { return s.Requests("grpc.health.v1.Health/Check", "OK") == 1; }));
  }
  CHECK(testing::ParseExposition(text.text()).problems.empty());
}

}  // namespace
}  // namespace skydeck::metrics
