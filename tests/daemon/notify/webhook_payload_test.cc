#include "daemon/notify/webhook_payload.h"

#include <catch2/catch.hpp>

#include "nlohmann/json.hpp"

namespace skydeck::notify {
namespace {

Notification JobFailed() {
  Notification n;
  n.kind = NotifyKind::kJobFailed;
  n.idempotency_key = EventIdempotencyKey("abc123", 42);
  n.event_id = 42;
  n.time_ms = 1'700'000'000'000;
  n.experiment_id = 3;
  n.experiment_name = "flaky";
  n.labels = {{"team", "nlp"}};
  n.job_id = 5;
  n.reason = "FAILED";
  n.message = "job 5: RUNNING -> FAILED (exit 3)";
  return n;
}

TEST_CASE("the generic JSON payload carries the event and its key", "[notify]") {
  nlohmann::json body = nlohmann::json::parse(FormatPayload(PayloadFormat::kJson, JobFailed()));
  CHECK(body["idempotency_key"] == "skydeck-abc123-42");
  CHECK(body["event"] == "job_failed");
  CHECK(body["test"] == false);
  CHECK(body["event_id"] == 42);
  CHECK(body["time"] == "2023-11-14T22:13:20.000Z");
  CHECK(body["experiment"]["id"] == 3);
  CHECK(body["experiment"]["name"] == "flaky");
  CHECK(body["experiment"]["labels"]["team"] == "nlp");
  CHECK(body["job_id"] == 5);
  CHECK(body["reason"] == "FAILED");
  CHECK(body["message"] == "job 5: RUNNING -> FAILED (exit 3)");
  CHECK(body["text"] ==
        "SkyDeck: job failed · experiment flaky (3) · job 5 · FAILED: job 5: RUNNING -> FAILED "
        "(exit 3)");
}

TEST_CASE("the Slack payload is only text, on one line", "[notify]") {
  Notification n = JobFailed();
  n.kind = NotifyKind::kStalled;
  n.reason = "RestartBudgetExhausted";
  n.message = "failed 4 times\nhint: fix the code, then start it again";
  nlohmann::json body = nlohmann::json::parse(FormatPayload(PayloadFormat::kSlack, n));
  CHECK(body.size() == 1);
  CHECK(body["text"] ==
        "SkyDeck: experiment stalled · experiment flaky (3) · job 5 · RestartBudgetExhausted: "
        "failed 4 times hint: fix the code, then start it again");
}

TEST_CASE("backend and test notifications have no experiment", "[notify]") {
  Notification n;
  n.kind = NotifyKind::kBackendUnreachable;
  n.reason = "Unreachable";
  n.message = "the skypilot backend has been unreachable since ...";
  nlohmann::json body = nlohmann::json::parse(FormatPayload(PayloadFormat::kJson, n));
  CHECK(body["experiment"].is_null());
  CHECK(body["event"] == "backend_unreachable");
  Notification test;
  test.message = "hello";
  body = nlohmann::json::parse(FormatPayload(PayloadFormat::kJson, test));
  CHECK(body["event"] == "test");
  CHECK(body["test"] == true);
  CHECK(NotificationText(test) == "SkyDeck: test notification: hello");
}

TEST_CASE("invalid UTF-8 in a message does not break the payload", "[notify]") {
  Notification n = JobFailed();
  n.message = "bad \xff byte";
  nlohmann::json body = nlohmann::json::parse(FormatPayload(PayloadFormat::kJson, n));
  CHECK(body["message"].get<std::string>().find("bad ") == 0);
}

}  // namespace
}  // namespace skydeck::notify
