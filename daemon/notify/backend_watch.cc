#include "daemon/notify/backend_watch.h"

#include "absl/strings/str_cat.h"

#include "common/model/event_types.h"
#include "common/time_util.h"

namespace skydeck::notify {
namespace {

constexpr char kActor[] = "notifier";

std::string Where(const reconcile::BackendHealth& h) {
  return absl::StrCat("the ", h.backend, " backend", h.endpoint.empty() ? "" : " at ", h.endpoint);
}

}  // namespace

std::optional<NewEvent> BackendWatch::Observe(const reconcile::BackendHealth& health,
                                              int64_t now_ms) {
  if (health.reachable) {
    unreachable_since_ms_ = 0;
    if (!announced_) return std::nullopt;
    announced_ = false;
    return NewEvent{0,
                    0,
                    model::event::kBackendReachable,
                    "Reachable",
                    absl::StrCat(Where(health), " answers again"),
                    kActor};
  }
  if (unreachable_since_ms_ == 0) unreachable_since_ms_ = now_ms;
  if (announced_ ||
      now_ms - unreachable_since_ms_ < absl::ToInt64Milliseconds(unreachable_after_)) {
    return std::nullopt;
  }
  announced_ = true;
  std::string message = absl::StrCat(Where(health), " has been unreachable since ",
                                     FormatRfc3339(unreachable_since_ms_));
  if (!health.last_poll_error.empty()) absl::StrAppend(&message, ": ", health.last_poll_error);
  return NewEvent{0, 0, model::event::kBackendUnreachable, "Unreachable", message, kActor};
}

}  // namespace skydeck::notify
