// Faults of the API server and its network: outages, 500s, bad JSON,
// slow answers, and the bearer token.
// Shared helpers: skypilot_backend_fixture.h.
#include <catch2/catch.hpp>

#include "daemon/http/httplib_transport.h"

#include "daemon/backend/skypilot_backend_fixture.h"

namespace skydeck::backend::skypilot {
namespace {

TEST_CASE("fault: server down is UNAVAILABLE and converges without duplicates", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  std::string job = LaunchResolved(*backend, "skydeck-d-1-1");
  fake.Down();
  auto polled = backend->Query({job});
  CHECK(absl::IsUnavailable(polled.status()));
  absl::StatusOr<std::string> launched = backend->Launch(Spec("skydeck-d-2-1"));
  CHECK(absl::IsUnavailable(launched.status()));
  CHECK(absl::IsUnavailable(backend->Find("skydeck-d-2-1").status()));
  CHECK(absl::IsUnavailable(backend->Cancel(job)));
  CHECK_FALSE(backend->Probe().reachable);

  fake.Up();
  CHECK(QueryOne(*backend, job).status == JobStatus::kPending);
  // As the reconciler does after a failed launch: resolve by name first.
  auto found = backend->Find("skydeck-d-2-1");
  REQUIRE(found.ok());
  CHECK(found->empty());
  REQUIRE(backend->Launch(Spec("skydeck-d-2-1")).ok());
  CHECK(fake.State()["counters"]["launches_by_name"]["skydeck-d-2-1"] == 1);
}

TEST_CASE("fault: an unreachable server is retried after a jittered backoff", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  SkyPilotOptions options = Options(fake);
  options.unreachable_backoff_initial = absl::Seconds(30);
  auto backend = MakeBackend(options);
  std::string job = LaunchResolved(*backend, "skydeck-b-1-1");
  fake.Down();
  CHECK(absl::IsUnavailable(backend->Query({job}).status()));
  fake.Up();
  int health = fake.Counter("health_calls");
  int queue = fake.Counter("queue_calls");
  // Within the backoff: refused locally, the server is not bothered.
  absl::Status refused = backend->Query({job}).status();
  CHECK(absl::IsUnavailable(refused));
  CHECK_THAT(std::string(refused.message()), Catch::Contains("not retrying"));
  CHECK(fake.Counter("health_calls") == health);
  CHECK(fake.Counter("queue_calls") == queue);
  // A successful health probe re-opens the way at once.
  CHECK(backend->Probe().reachable);
  CHECK(backend->Query({job}).ok());
}

TEST_CASE("fault: HTTP 500s and failed requests map to retryable codes", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  std::string job = LaunchResolved(*backend, "skydeck-e-1-1");

  fake.Fault({{"http500", 1}, {"http500_routes", {"/jobs/launch"}}});
  absl::StatusOr<std::string> launched = backend->Launch(Spec("skydeck-e-2-1"));
  CHECK(absl::IsInternal(launched.status()));
  CHECK(fake.Counter("launch_calls") == 1);
  CHECK(backend->Launch(Spec("skydeck-e-2-1")).ok());  // the fault was one-shot

  fake.Fault({{"http500", -1}, {"http500_routes", {"/jobs/queue"}}});
  CHECK(absl::IsInternal(backend->Query({job}).status()));
  fake.Fault({{"clear", true}});

  fake.Fault({{"queue_error", {{"type", "RuntimeError"}, {"message", "controller crashed"}}}});
  absl::Status failed = backend->Query({job}).status();
  CHECK(absl::IsInternal(failed));
  CHECK_THAT(std::string(failed.message()),
             Catch::Contains("RuntimeError") && Catch::Contains("controller crashed"));
  fake.Fault({{"queue_error", {{"type", "ValueError"}, {"message", "bad"}}}});
  CHECK(absl::IsInvalidArgument(backend->Query({job}).status()));
  fake.Fault({{"clear", true}});
  CHECK(backend->Query({job}).ok());
}

TEST_CASE("fault: malformed or truncated JSON is an error, never a crash", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  std::string job = LaunchResolved(*backend, "skydeck-j-1-1");
  for (const char* kind : {"truncated", "garbage", "return_value"}) {
    INFO(kind);
    fake.Fault({{"malformed", kind}, {"malformed_count", 1}});
    absl::Status s = backend->Query({job}).status();
    CHECK(absl::IsInternal(s));
    CHECK(backend->Query({job}).ok());  // one-shot: the next poll works
  }
  fake.Fault({{"malformed", "truncated"}, {"malformed_count", 1}});
  absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-j-2-1"));
  REQUIRE(id.ok());                                         // launching never reads /api/get
  CHECK(absl::IsInternal(backend->Query({*id}).status()));  // resolving it does
  CHECK_FALSE(QueryOne(*backend, *id).resolved_job_id.empty());
}

TEST_CASE("fault: unknown fields are ignored", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  fake.Fault({{"extra_fields", true}});
  auto backend = MakeBackend(Options(fake));
  CHECK(backend->Probe().error.empty());
  std::string job = LaunchResolved(*backend, "skydeck-u-1-1");
  fake.Tick(2);
  JobObservation obs = QueryOne(*backend, job);
  CHECK(obs.status == JobStatus::kRunning);
  CHECK(obs.name == "skydeck-u-1-1");
  auto found = backend->Find("skydeck-u-1-1");
  REQUIRE(found.ok());
  CHECK(found->size() == 1);
}

TEST_CASE("fault: slow answers time out instead of hanging", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  SkyPilotOptions options = Options(fake);
  options.timeouts.SetCalls(absl::Milliseconds(400));
  auto backend = MakeBackend(options);
  std::string job = LaunchResolved(*backend, "skydeck-s-1-1");

  fake.Fault({{"slow_ms", 5000}});
  auto started = Clock::now();
  absl::Status slow = backend->Query({job}).status();
  CHECK((absl::IsDeadlineExceeded(slow) || absl::IsUnavailable(slow)));
  // It gave up instead of waiting for the (much later) answer.
  CHECK(Clock::now() - started < std::chrono::milliseconds(5000));

  // The server may still act on a launch whose answer timed out.
  fake.Fault({{"slow_ms", 1000}, {"slow_routes", {"/jobs/launch"}}});
  absl::StatusOr<std::string> launched = backend->Launch(Spec("skydeck-s-2-1"));
  CHECK_FALSE(launched.ok());
  fake.Fault({{"clear", true}});
  REQUIRE(fake.WaitFor(
      [](const nlohmann::json& s) { return s["counters"]["launch_calls"].get<int>() == 2; }));
  auto found = backend->Find("skydeck-s-2-1");
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);  // found, so the reconciler will not launch it again
  CHECK(fake.State()["counters"]["launches_by_name"]["skydeck-s-2-1"] == 1);
}

TEST_CASE("the bearer token is sent, required, and never logged", "[skypilot]") {
  const std::string token = "sky_secret_token_value";
  SkyPilotFake fake(FakeArgs(31, "explicit", token));

  // Capture everything the backend logs to stderr meanwhile.
  std::string log_path = "/tmp/skypilot_backend_log_" + std::to_string(getpid());
  std::fflush(stderr);
  int saved = dup(STDERR_FILENO);
  int log_fd = open(log_path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  REQUIRE(log_fd >= 0);
  dup2(log_fd, STDERR_FILENO);

  SkyPilotOptions options = Options(fake);
  options.token = token;
  auto backend = MakeBackend(options);
  absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-t-1-1"));
  auto polled = backend->Query({id.ok() ? *id : ""});

  SkyPilotOptions anonymous = Options(fake);
  auto without = MakeBackend(anonymous);
  absl::Status refused = without->Query({"1"}).status();
  BackendInfo info = without->Probe();

  SkyPilotOptions wrong_options = Options(fake);
  wrong_options.token = "sky_wrong";
  auto wrong = MakeBackend(wrong_options);
  absl::Status wrong_status = wrong->Launch(Spec("skydeck-t-2-1")).status();
  fake.Down();
  absl::Status down = backend->Query({"1"}).status();

  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(log_fd);
  std::string logged;
  {
    FILE* f = std::fopen(log_path.c_str(), "r");
    REQUIRE(f != nullptr);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) logged.append(buf, n);
    std::fclose(f);
  }
  std::remove(log_path.c_str());

  REQUIRE(id.ok());
  REQUIRE(polled.ok());
  CHECK(polled->size() == 1);
  CHECK(absl::IsUnauthenticated(refused));
  CHECK_THAT(std::string(refused.message()), Catch::Contains("token"));
  CHECK(info.reachable);
  CHECK_THAT(info.error, Catch::Contains("authentication"));
  CHECK(absl::IsUnauthenticated(wrong_status));
  CHECK(absl::IsUnavailable(down));
  CHECK_FALSE(logged.empty());  // the backend did log, e.g. the launch
  CHECK_FALSE(absl::StrContains(logged, token));
  for (const absl::Status& s : {refused, wrong_status, down}) {
    CHECK_FALSE(absl::StrContains(s.ToString(), token));
  }
}

TEST_CASE("fault: every transport error names the server that did not answer", "[skypilot]") {
  const absl::Duration timeout = absl::Seconds(5);
  struct Case {
    httplib::Error err;
    absl::Duration elapsed;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {httplib::Error::Connection, absl::ZeroDuration(), absl::StatusCode::kUnavailable},
      {httplib::Error::ConnectionTimeout, timeout, absl::StatusCode::kUnavailable},
      {httplib::Error::Read, absl::Milliseconds(10), absl::StatusCode::kUnavailable},  // dropped
      {httplib::Error::Read, timeout, absl::StatusCode::kDeadlineExceeded},
      {httplib::Error::Canceled, timeout, absl::StatusCode::kDeadlineExceeded},
      {httplib::Error::SSLConnection, absl::ZeroDuration(), absl::StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    absl::Status s = http::TransportError("POST /jobs/queue/v2", "http://127.0.0.1:1",
                                          "the SkyPilot API server", c.err, c.elapsed, timeout);
    INFO(s.ToString());
    CHECK(s.code() == c.code);
    CHECK_THAT(std::string(s.message()),
               Catch::Contains("POST /jobs/queue/v2 at http://127.0.0.1:1"));
    CHECK_THAT(std::string(s.message()), Catch::Contains("the SkyPilot API server"));
  }
}

}  // namespace
}  // namespace skydeck::backend::skypilot
