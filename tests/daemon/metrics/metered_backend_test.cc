// MeteredBackend around the reconciler's fake backend: every operation is
// forwarded unchanged, timed into a histogram and counted by status code.
#include "daemon/metrics/metered_backend.h"

#include <catch2/catch.hpp>

#include "../../common/exposition_checker.h"
#include "../reconcile/fake_backend.h"

namespace skydeck::metrics {
namespace {

struct MeteredFixture {
  BackendCallMetrics metrics;
  reconcile::FakeBackend* fake;  // owned by `backend`
  std::unique_ptr<MeteredBackend> backend;

  MeteredFixture() {
    auto owned = std::make_unique<reconcile::FakeBackend>();
    fake = owned.get();
    backend = std::make_unique<MeteredBackend>(std::move(owned), &metrics);
  }

  double Calls(const std::string& operation, const std::string& code) const {
    return metrics.CallsForTesting().Value({"fake", operation, code});
  }
  uint64_t Timed(const std::string& operation) const {
    return metrics.DurationsForTesting().Snapshot({"fake", operation}).count;
  }
};

backend::JobSpec Spec(const std::string& name) {
  backend::JobSpec spec;
  spec.name = name;
  spec.command = "true";
  return spec;
}

TEST_CASE("every backend operation is forwarded, timed and counted", "[metrics][backend]") {
  MeteredFixture f;
  CHECK(f.backend->name() == "fake");
  CHECK(f.backend->DefaultPollIntervalMs() == 1000);

  auto id = f.backend->Launch(Spec("skydeck-1-1"));
  REQUIRE(id.ok());
  CHECK(f.fake->launched_names == std::vector<std::string>{"skydeck-1-1"});
  auto observed = f.backend->Query({*id, "nope"});
  REQUIRE(observed.ok());
  CHECK(observed->size() == 1);
  auto found = f.backend->Find("skydeck-1-1");
  REQUIRE(found.ok());
  CHECK(found->size() == 1);
  CHECK(f.backend->Cancel(*id).ok());
  CHECK(f.fake->cancelled == std::vector<std::string>{*id});
  CHECK(f.backend->Teardown(*id).ok());
  CHECK(f.fake->torn_down == std::vector<std::string>{*id});
  std::string log;
  auto sink = [&](absl::string_view chunk) {
    log.append(chunk.data(), chunk.size());
    return true;
  };
  CHECK(f.backend->StreamLogs(*id, false, backend::LogTail{}, sink, [] { return false; }).ok());
  CHECK(f.backend->StreamLogs(*id, true, backend::LogTail{}, sink, [] { return false; }).ok());
  CHECK(log == "log of " + *id + "\nlog of " + *id + "\n");
  CHECK(f.backend->Probe().reachable);

  for (const char* op :
       {"launch", "query", "find", "cancel", "teardown", "logs", "logs_follow", "health"}) {
    INFO(op);
    CHECK(f.Calls(op, "OK") == 1);
    CHECK(f.Timed(op) == 1);
  }
}

TEST_CASE("backend errors are counted by code and still timed", "[metrics][backend]") {
  MeteredFixture f;
  f.fake->launch_error = absl::UnavailableError("API server down");
  f.fake->query_error = absl::UnavailableError("API server down");
  f.fake->cancel_error = absl::FailedPreconditionError("no such cluster");
  f.fake->reachable = false;

  auto launched = f.backend->Launch(Spec("skydeck-1-1"));
  CHECK(launched.status().code() == absl::StatusCode::kUnavailable);  // passed through
  CHECK(f.backend->Launch(Spec("skydeck-1-2")).status().code() == absl::StatusCode::kUnavailable);
  CHECK(f.backend->Query({"a"}).status().code() == absl::StatusCode::kUnavailable);
  CHECK(f.backend->Cancel("a").code() == absl::StatusCode::kFailedPrecondition);
  CHECK_FALSE(f.backend->Probe().reachable);

  CHECK(f.Calls("launch", "UNAVAILABLE") == 2);
  CHECK(f.Calls("launch", "OK") == 0);
  CHECK(f.Calls("query", "UNAVAILABLE") == 1);
  CHECK(f.Calls("cancel", "FAILED_PRECONDITION") == 1);
  CHECK(f.Calls("health", "UNAVAILABLE") == 1);  // unreachable: backend.h's UNAVAILABLE
  CHECK(f.Timed("launch") == 2);

  PrometheusText text;
  f.metrics.Render(&text);
  testing::Exposition e = testing::ParseExposition(text.text());
  CHECK(e.problems.empty());
  CHECK(e.Value("skydeck_backend_calls_total",
                {{"backend", "fake"}, {"operation", "launch"}, {"code", "UNAVAILABLE"}}) == 2);
  CHECK(e.Value("skydeck_backend_call_duration_seconds_count",
                {{"backend", "fake"}, {"operation", "launch"}}) == 2);
}

}  // namespace
}  // namespace skydeck::metrics
