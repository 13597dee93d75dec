#include "daemon/notify/webhook_payload.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"

#include "common/time_util.h"

namespace skydeck::notify {
namespace {

std::string Headline(const Notification& n) {
  if (!n.kind) return "test notification";
  switch (*n.kind) {
    case NotifyKind::kJobFailed:
      return "job failed";
    case NotifyKind::kStalled:
      return "experiment stalled";
    case NotifyKind::kSucceeded:
      return "experiment succeeded";
    case NotifyKind::kPreempted:
      return "job preempted";
    case NotifyKind::kRecovered:
      return "job recovered";
    case NotifyKind::kBackendUnreachable:
      return "backend unreachable";
    case NotifyKind::kBackendReachable:
      return "backend reachable again";
  }
  return "notification";
}

}  // namespace

std::string EventIdempotencyKey(const std::string& installation_id, int64_t event_id) {
  return absl::StrCat("skydeck-", installation_id, "-", event_id);
}

std::string NotificationText(const Notification& n) {
  std::string text = absl::StrCat("SkyDeck: ", Headline(n));
  if (n.experiment_id != 0) {
    absl::StrAppend(&text, " · experiment ",
                    n.experiment_name.empty() ? "#" : absl::StrCat(n.experiment_name, " ("),
                    n.experiment_id, n.experiment_name.empty() ? "" : ")");
  }
  if (n.job_id != 0) absl::StrAppend(&text, " · job ", n.job_id);
  if (!n.reason.empty()) absl::StrAppend(&text, " · ", n.reason);
  if (!n.message.empty()) absl::StrAppend(&text, ": ", n.message);
  // One line: messages may quote a command's output.
  return absl::StrReplaceAll(text, {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
}

std::string FormatPayload(PayloadFormat format, const Notification& n) {
  nlohmann::json body;
  std::string text = NotificationText(n);
  if (format == PayloadFormat::kSlack) {
    body["text"] = text;
  } else {
    body["idempotency_key"] = n.idempotency_key;
    body["event"] = n.kind ? std::string(KindName(*n.kind)) : std::string("test");
    body["test"] = !n.kind.has_value();
    body["event_id"] = n.event_id;
    body["time"] = FormatRfc3339(n.time_ms);
    if (n.experiment_id != 0) {
      body["experiment"] = {{"id", n.experiment_id},
                            {"name", n.experiment_name},
                            {"labels", nlohmann::json(n.labels)}};
    } else {
      body["experiment"] = nullptr;
    }
    body["job_id"] = n.job_id;
    body["reason"] = n.reason;
    body["message"] = n.message;
    body["text"] = text;
  }
  // Invalid UTF-8 in a message (a command's output) is replaced, not fatal.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace skydeck::notify
