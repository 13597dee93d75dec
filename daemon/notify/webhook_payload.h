// File: daemon/notify/webhook_payload.h
//
// What a sink receives: one notification as the body of a POST, in the
// sink's format.
//
// json (generic):
//   {"idempotency_key": "skydeck-<installation>-<event id>", "event": "job_failed",
//    "event_id": 42, "time": "2026-12-07T16:00:00.000Z", "test": false,
//    "experiment": {"id": 3, "name": "flaky", "labels": {"team": "nlp"}},
//    "job_id": 5, "reason": "FAILED", "message": "job 5: RUNNING -> FAILED (exit 3)",
//    "text": "<the one-line summary below>"}
//   (experiment is null for backend events; job_id 0 when not about a job.)
// slack:
//   {"text": "SkyDeck: job failed · experiment flaky (3) · job 5 · FAILED: job 5: ..."}
//
// The idempotency key is also sent as the `Idempotency-Key` header: the
// same event always has the same key, whichever attempt or daemon run
// delivers it, so a receiver drops repeats by it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "daemon/notify/notify_config.h"
#include "daemon/notify/notify_event.h"

namespace skydeck::notify {

struct Notification {
  // nullopt for a test message (`skydeck notify test`).
  std::optional<NotifyKind> kind;
  std::string idempotency_key;
  int64_t event_id = 0;
  int64_t time_ms = 0;
  // 0 and empty for backend events (and for an experiment purged since).
  int64_t experiment_id = 0;
  std::string experiment_name;
  std::map<std::string, std::string> labels;
  int64_t job_id = 0;
  std::string reason;
  std::string message;
};

// The idempotency key of event `event_id` of the database `installation_id`.
std::string EventIdempotencyKey(const std::string& installation_id, int64_t event_id);

// One line a person reads (Slack's text, and `text` in json).
std::string NotificationText(const Notification& n);

// The request body for a sink of `format`.
std::string FormatPayload(PayloadFormat format, const Notification& n);

}  // namespace skydeck::notify
