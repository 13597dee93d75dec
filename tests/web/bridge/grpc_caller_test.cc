// GrpcCaller against a callback-API Echo server: asynchronous unary calls,
// server streams read one message per RequestNext, cancellation, shutdown,
// and a thousand open streams without a thread each.
#include "web/bridge/grpc_caller.h"

#include <dirent.h>

#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "../../common/grpc_callback_queue_pin.h"
#include "absl/synchronization/mutex.h"
#include "echo_callback_service.h"

namespace skydeck::web {
namespace {

using namespace std::chrono_literals;

struct CallerFixture {
  test_support::CallbackEcho service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<GrpcCaller> caller;

  CallerFixture() {
    skydeck::testing::PinGrpcCallbackQueue();
    grpc::ServerBuilder builder;
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    caller = std::make_unique<GrpcCaller>(server->InProcessChannel(grpc::ChannelArguments()));
  }
  ~CallerFixture() {
    caller.reset();  // cancels and waits for its calls
    server->Shutdown();
  }
};

std::string Echo(const std::string& text, int times) {
  bridgetest::EchoRequest req;
  req.set_text(text);
  req.set_times(times);
  return req.SerializeAsString();
}

// Collects what a stream reports; waits for it with deadlines.
class Recorder : public StreamObserver {
 public:
  void OnMessage(std::string bytes) override {
    bridgetest::EchoResponse resp;
    resp.ParseFromString(bytes);
    absl::MutexLock lock(&mu_);
    texts_.push_back(resp.text());
  }
  void OnDone(grpc::Status status) override {
    absl::MutexLock lock(&mu_);
    done_ = std::move(status);
  }
  bool WaitMessages(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() -> bool {
      mu_.AssertReaderHeld();  // Await evaluates it under mu_
      return texts_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
  }
  std::optional<grpc::Status> WaitDone() {
    absl::MutexLock lock(&mu_);
    auto done = [&]() -> bool {
      mu_.AssertReaderHeld();  // Await evaluates it under mu_
      return done_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10));
    return done_;
  }
  std::vector<std::string> texts() {
    absl::MutexLock lock(&mu_);
    return texts_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> texts_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> done_ ABSL_GUARDED_BY(mu_);
};

// Runs a unary call and waits for its completion.
std::pair<grpc::Status, std::string> CallUnary(GrpcCaller& caller, const std::string& request) {
  absl::Mutex mu;
  std::optional<std::pair<grpc::Status, std::string>> result;
  caller.StartUnary("/bridgetest.Echo/Say", request, CallOptions{},
                    [&](grpc::Status s, std::string bytes) {
                      absl::MutexLock lock(&mu);
                      result.emplace(std::move(s), std::move(bytes));
                    });
  absl::MutexLock lock(&mu);
  auto has = [&]() -> bool { return result.has_value(); };
  REQUIRE(mu.AwaitWithTimeout(absl::Condition(&has), absl::Seconds(10)));
  return *result;
}

template <typename Pred>
bool Eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

constexpr char kCount[] = "/bridgetest.Echo/Count";

std::shared_ptr<ServerStreamCall> Started(std::shared_ptr<ServerStreamCall> call) {
  call->Start();
  return call;
}

int ThreadCount() {
  int n = 0;
  DIR* dir = opendir("/proc/self/task");
  while (dirent* e = readdir(dir)) n += e->d_name[0] != '.';
  closedir(dir);
  return n;
}

TEST_CASE("unary calls complete through a callback", "[bridge][grpc]") {
  CallerFixture f;
  auto [ok, bytes] = CallUnary(*f.caller, Echo("ab", 2));
  REQUIRE(ok.ok());
  bridgetest::EchoResponse resp;
  REQUIRE(resp.ParseFromString(bytes));
  CHECK(resp.text() == "abab");
  auto [missing, none] = CallUnary(*f.caller, Echo("missing", 1));
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(missing.error_message() == "no such echo");
}

TEST_CASE("a stream delivers one message per RequestNext", "[bridge][grpc]") {
  CallerFixture f;
  auto recorder = std::make_shared<Recorder>();
  auto call = Started(f.caller->PrepareServerStream(kCount, Echo("n", 3), {}, recorder));
  REQUIRE(recorder->WaitMessages(1));
  // Nothing more is read until asked: a bounded look for a second message.
  std::this_thread::sleep_for(100ms);
  CHECK(recorder->texts() == std::vector<std::string>{"n0"});
  call->RequestNext();
  REQUIRE(recorder->WaitMessages(2));
  call->RequestNext();
  REQUIRE(recorder->WaitMessages(3));
  call->RequestNext();  // reads the end of the stream
  auto done = recorder->WaitDone();
  REQUIRE(done);
  CHECK(done->ok());
  CHECK(recorder->texts() == std::vector<std::string>{"n0", "n1", "n2"});
  f.caller->WaitIdle();
  CHECK(f.caller->running() == 0);
}

TEST_CASE("cancelling a stream ends it on both sides", "[bridge][grpc]") {
  CallerFixture f;
  auto recorder = std::make_shared<Recorder>();
  auto call = Started(f.caller->PrepareServerStream(kCount, Echo("e", 0), {}, recorder));
  REQUIRE(recorder->WaitMessages(1));
  SECTION("with no read outstanding") {}
  SECTION("with a read outstanding") { call->RequestNext(); }
  call->Cancel();
  call->Cancel();  // idempotent
  auto done = recorder->WaitDone();
  REQUIRE(done);
  CHECK(done->error_code() == grpc::StatusCode::CANCELLED);
  f.caller->WaitIdle();
  call->RequestNext();  // after the end: no effect
  CHECK(Eventually([&] { return f.service.open() == 0; }));
}

TEST_CASE("Shutdown cancels running calls and refuses new ones", "[bridge][grpc]") {
  CallerFixture f;
  auto open = std::make_shared<Recorder>();
  Started(f.caller->PrepareServerStream(kCount, Echo("s", 0), {}, open));
  REQUIRE(open->WaitMessages(1));
  f.caller->Shutdown();
  f.caller->WaitIdle();
  auto done = open->WaitDone();
  REQUIRE(done);
  CHECK(done->error_code() == grpc::StatusCode::CANCELLED);
  auto [late, none] = CallUnary(*f.caller, Echo("x", 1));
  CHECK(late.error_code() == grpc::StatusCode::UNAVAILABLE);
  auto refused = std::make_shared<Recorder>();
  auto call = Started(f.caller->PrepareServerStream(kCount, Echo("r", 0), {}, refused));
  auto refused_done = refused->WaitDone();
  REQUIRE(refused_done);
  CHECK(refused_done->error_code() == grpc::StatusCode::UNAVAILABLE);
  call->RequestNext();
  call->Cancel();
  CHECK(f.caller->running() == 0);
}

// The old caller read each stream on a thread of its own until it ended.
TEST_CASE("a thousand open streams hold no thread each", "[bridge][grpc]") {
  CallerFixture f;
  int threads_before = ThreadCount();
  std::vector<std::shared_ptr<Recorder>> recorders;
  std::vector<std::shared_ptr<ServerStreamCall>> calls;
  for (int i = 0; i < 1000; ++i) {
    recorders.push_back(std::make_shared<Recorder>());
    calls.push_back(
        Started(f.caller->PrepareServerStream(kCount, Echo("t", 0), {}, recorders.back())));
  }
  for (auto& r : recorders) REQUIRE(r->WaitMessages(1));
  CHECK(f.caller->running() == 1000);
  INFO("threads before " << threads_before << ", with 1000 streams " << ThreadCount());
  CHECK(ThreadCount() - threads_before < 50);
  for (auto& c : calls) c->Cancel();
  f.caller->WaitIdle();
  CHECK(Eventually([&] { return f.service.cancelled() == 1000; }));
}

}  // namespace
}  // namespace skydeck::web
