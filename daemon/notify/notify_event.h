// File: daemon/notify/notify_event.h
//
// Which recorded events are worth a notification, by kind. The events
// table (common/model/event_types.h) is the outbox: a notification is an
// event of one of these kinds, classified here from its type and reason.
//
//   ClassifyEvent({.type = "JobStatusChanged", .reason = "FAILED"}) == NotifyKind::kJobFailed
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "common/model/records.h"

namespace skydeck::notify {

enum class NotifyKind {
  kJobFailed,           // a job ended FAILED* or LOST
  kStalled,             // the experiment is Stalled (reason, message with the hint)
  kSucceeded,           // the experiment's observed state became SUCCEEDED
  kPreempted,           // a job was preempted; the backend recovers it
  kRecovered,           // a preempted job runs again
  kBackendUnreachable,  // unreachable for longer than unreachable_after
  kBackendReachable,    // answers again after kBackendUnreachable
};

inline constexpr std::array<NotifyKind, 7> kAllNotifyKinds = {
    NotifyKind::kJobFailed,       NotifyKind::kStalled,   NotifyKind::kSucceeded,
    NotifyKind::kPreempted,       NotifyKind::kRecovered, NotifyKind::kBackendUnreachable,
    NotifyKind::kBackendReachable};

// The name used in the notify file and payloads, e.g. "job_failed".
std::string_view KindName(NotifyKind kind);
// The kind named `name`; nullopt when none is.
std::optional<NotifyKind> KindNamed(std::string_view name);

// The kind of notification `event` is; nullopt when it is none.
std::optional<NotifyKind> ClassifyEvent(const EventRecord& event);

}  // namespace skydeck::notify
