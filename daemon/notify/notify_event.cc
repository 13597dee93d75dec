#include "daemon/notify/notify_event.h"

#include "absl/strings/match.h"

#include "common/model/event_types.h"
#include "common/model/states.h"

namespace skydeck::notify {

std::string_view KindName(NotifyKind kind) {
  switch (kind) {
    case NotifyKind::kJobFailed:
      return "job_failed";
    case NotifyKind::kStalled:
      return "stalled";
    case NotifyKind::kSucceeded:
      return "succeeded";
    case NotifyKind::kPreempted:
      return "preempted";
    case NotifyKind::kRecovered:
      return "recovered";
    case NotifyKind::kBackendUnreachable:
      return "backend_unreachable";
    case NotifyKind::kBackendReachable:
      return "backend_reachable";
  }
  return "unknown";
}

std::optional<NotifyKind> KindNamed(std::string_view name) {
  for (NotifyKind kind : kAllNotifyKinds) {
    if (KindName(kind) == name) return kind;
  }
  return std::nullopt;
}

std::optional<NotifyKind> ClassifyEvent(const EventRecord& event) {
  namespace ev = model::event;
  const std::string& type = event.type;
  if (type == ev::kJobStatusChanged) {
    // The reason is the new status (job_observation.cc).
    if (absl::StartsWith(event.reason, Name(JobStatus::kFailed)) ||
        event.reason == Name(JobStatus::kLost)) {
      return NotifyKind::kJobFailed;
    }
    return std::nullopt;
  }
  if (type == ev::kStalled) return NotifyKind::kStalled;
  if (type == ev::kObservedStateChanged && event.reason == Name(ObservedState::kSucceeded)) {
    return NotifyKind::kSucceeded;
  }
  if (type == ev::kPreempted) return NotifyKind::kPreempted;
  if (type == ev::kRecovered) return NotifyKind::kRecovered;
  if (type == ev::kBackendUnreachable) return NotifyKind::kBackendUnreachable;
  if (type == ev::kBackendReachable) return NotifyKind::kBackendReachable;
  return std::nullopt;
}

}  // namespace skydeck::notify
