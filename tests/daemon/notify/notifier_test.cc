#include "daemon/notify/notifier.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

#include "common/model/event_types.h"
#include "tests/daemon/store/store_fixture.h"

namespace skydeck::notify {
namespace {

// A receiver that records what it was sent and fails while told to.
class FakeReceiver {
 public:
  absl::Status Post(const SinkConfig& sink, const std::string& body, const std::string& key) {
    absl::MutexLock lock(&mu_);
    if (failures_left_ > 0) {
      --failures_left_;
      ++failed_;
      return absl::UnavailableError("HTTP 500");
    }
    received_.push_back({sink.name, key, nlohmann::json::parse(body)});
    return absl::OkStatus();
  }
  void FailNext(int n) {
    absl::MutexLock lock(&mu_);
    failures_left_ = n;
  }
  struct Delivery {
    std::string sink;
    std::string key;
    nlohmann::json body;
  };
  // Waits (bounded) until `n` deliveries arrived, then returns them all.
  std::vector<Delivery> WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return received_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    return received_;
  }
  int failed() {
    absl::MutexLock lock(&mu_);
    return failed_;
  }

 private:
  absl::Mutex mu_;
  int failures_left_ ABSL_GUARDED_BY(mu_) = 0;
  int failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Delivery> received_ ABSL_GUARDED_BY(mu_);
};

struct NotifierFixture : store::StoreFixture {
  FakeReceiver receiver;

  SinkConfig Sink(const std::string& name, std::set<NotifyKind> events = {}) {
    SinkConfig s;
    s.name = name;
    s.url = "http://127.0.0.1:9/" + name + "/SECRET";
    s.events = events.empty() ? std::set<NotifyKind>(kAllNotifyKinds.begin(), kAllNotifyKinds.end())
                              : events;
    return s;
  }

  std::unique_ptr<Notifier> Make(std::vector<SinkConfig> sinks) {
    NotifierOptions o;
    o.config.sinks = std::move(sinks);
    o.installation_id = "inst";
    o.backoff = BackoffPolicy{absl::Milliseconds(5), absl::Milliseconds(20)};
    o.idle_check = absl::Milliseconds(5);
    o.post = [this](const SinkConfig& s, const std::string& b, const std::string& k) {
      return receiver.Post(s, b, k);
    };
    auto n = std::make_unique<Notifier>(store.get(), std::move(o));
    REQUIRE(n->Start().ok());
    return n;
  }

  void Append(int64_t experiment_id, const char* type, const std::string& reason) {
    REQUIRE(store->AppendEvent(NewEvent{experiment_id, 0, type, reason, "msg", "test"}).ok());
  }
};

TEST_CASE_METHOD(NotifierFixture, "wanted events are delivered in order, others skipped",
                 "[notify]") {
  ExperimentRecord e = Create("exp-a");
  auto notifier = Make({Sink("all")});
  Append(e.id, model::event::kJobStatusChanged, "RUNNING");  // not a notification
  Append(e.id, model::event::kJobStatusChanged, "FAILED");
  Append(e.id, model::event::kStalled, "RestartBudgetExhausted");
  Append(e.id, model::event::kObservedStateChanged, "SUCCEEDED");
  auto got = receiver.WaitFor(3);
  REQUIRE(got.size() == 3);
  CHECK(got[0].body["event"] == "job_failed");
  CHECK(got[0].body["experiment"]["name"] == "exp-a");
  CHECK(got[1].body["event"] == "stalled");
  CHECK(got[2].body["event"] == "succeeded");
  CHECK(got[0].key == got[0].body["idempotency_key"]);
  notifier->Stop();
  // The cursor is durable: the newest event is dealt with.
  CHECK(store->GetNotifyCursor("all")->value() == *store->LatestRevision());
  CHECK(notifier->Status()[0].delivered == 3);
}

TEST_CASE_METHOD(NotifierFixture, "a new sink does not get the history before it", "[notify]") {
  ExperimentRecord e = Create("exp-a");
  Append(e.id, model::event::kJobStatusChanged, "FAILED");
  auto notifier = Make({Sink("late")});
  Append(e.id, model::event::kStalled, "X");
  auto got = receiver.WaitFor(1);
  notifier->Stop();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body["event"] == "stalled");
}

TEST_CASE_METHOD(NotifierFixture, "a failed delivery is retried with the same key", "[notify]") {
  ExperimentRecord e = Create("exp-a");
  receiver.FailNext(4);
  auto notifier = Make({Sink("flaky")});
  Append(e.id, model::event::kJobStatusChanged, "FAILED");
  Append(e.id, model::event::kObservedStateChanged, "SUCCEEDED");
  auto got = receiver.WaitFor(2);
  notifier->Stop();
  REQUIRE(got.size() == 2);
  CHECK(receiver.failed() == 4);
  CHECK(got[0].body["event"] == "job_failed");  // order kept through the retries
  CHECK(got[1].body["event"] == "succeeded");
  SinkStatus s = notifier->Status()[0];
  CHECK(s.failed == 4);
  CHECK(s.delivered == 2);
  CHECK(s.consecutive_failures == 0);
  CHECK_FALSE(s.failing);
}

TEST_CASE_METHOD(NotifierFixture, "a sink failing again and again is shown failing", "[notify]") {
  ExperimentRecord e = Create("exp-a");
  receiver.FailNext(1000000);
  auto notifier = Make({Sink("down")});
  Append(e.id, model::event::kJobStatusChanged, "FAILED");
  int64_t before = *store->LatestRevision() - 1;
  for (int i = 0; i < 1000 && !notifier->Status()[0].failing; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  SinkStatus s = notifier->Status()[0];
  notifier->Stop();
  CHECK(s.failing);
  CHECK(s.last_error == "HTTP 500");
  CHECK(s.url == "http://127.0.0.1:9/…");
  CHECK(s.cursor == before);  // not skipped
  CHECK(store->GetNotifyCursor("down")->value() == before);
}

TEST_CASE_METHOD(NotifierFixture, "kinds and label selectors filter per sink", "[notify]") {
  ExperimentRecord nlp = Create("exp-nlp");  // labels sweep=lr
  SinkConfig only_stalled = Sink("stalled-only", {NotifyKind::kStalled});
  SinkConfig other_sweep = Sink("other-sweep");
  other_sweep.selector = *LabelSelector::Parse("sweep=other");
  auto notifier = Make({only_stalled, other_sweep});
  Append(nlp.id, model::event::kJobStatusChanged, "FAILED");
  Append(nlp.id, model::event::kStalled, "X");
  Append(0, model::event::kBackendUnreachable, "Unreachable");  // passes any selector
  auto got = receiver.WaitFor(2);
  notifier->Stop();
  REQUIRE(got.size() == 2);
  std::multiset<std::string> seen;
  for (const auto& d : got) seen.insert(d.sink + ":" + d.body["event"].get<std::string>());
  CHECK(seen ==
        std::multiset<std::string>{"stalled-only:stalled", "other-sweep:backend_unreachable"});
}

TEST_CASE_METHOD(NotifierFixture, "a restarted notifier resumes at its cursor", "[notify]") {
  ExperimentRecord e = Create("exp-a");
  {
    auto first = Make({Sink("s")});
    Append(e.id, model::event::kJobStatusChanged, "FAILED");
    REQUIRE(receiver.WaitFor(1).size() == 1);
    first->Stop();
  }
  Append(e.id, model::event::kObservedStateChanged, "SUCCEEDED");  // while stopped
  auto second = Make({Sink("s")});
  auto got = receiver.WaitFor(2);
  second->Stop();
  REQUIRE(got.size() == 2);
  CHECK(got[1].body["event"] == "succeeded");
  CHECK(got[0].key != got[1].key);
}

TEST_CASE_METHOD(NotifierFixture, "a test message reaches each sink and is reported", "[notify]") {
  auto notifier = Make({Sink("a"), Sink("b")});
  auto results = notifier->SendTest("");
  REQUIRE(results.ok());
  REQUIRE(results->size() == 2);
  CHECK((*results)[0].status.ok());
  CHECK((*results)[1].url == "http://127.0.0.1:9/…");
  auto got = receiver.WaitFor(2);
  CHECK(got[0].body["test"] == true);
  CHECK(notifier->SendTest("b")->size() == 1);
  CHECK(notifier->SendTest("nope").status().code() == absl::StatusCode::kNotFound);
  CHECK(notifier->Status()[0].delivered == 0);  // tests are not counted
  notifier->Stop();
}

TEST_CASE_METHOD(NotifierFixture, "metrics list every sink", "[notify]") {
  auto notifier = Make({Sink("a")});
  PrometheusText text;
  notifier->RenderMetrics(&text);
  notifier->Stop();
  CHECK(text.text().find("skydeck_notify_deliveries_total{sink=\"a\"} 0") != std::string::npos);
  CHECK(text.text().find("skydeck_notify_delivery_failures_total{sink=\"a\"} 0") !=
        std::string::npos);
  CHECK(text.text().find("skydeck_notify_sink_failing{sink=\"a\"} 0") != std::string::npos);
}

}  // namespace
}  // namespace skydeck::notify
