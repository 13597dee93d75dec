// File: daemon/notify/backend_watch.h
//
// Turns the backend's health, sampled now and then, into at most two
// events per outage: BackendUnreachable once it has been unreachable for
// longer than `unreachable_after`, BackendReachable when it answers again
// after that. Shorter blips make no event: an outage is worth a message,
// a slow poll is not.
//
//   BackendWatch watch(absl::Minutes(5), /*announced=*/false);
//   if (auto e = watch.Observe(controller->Health(), NowMillis())) store->AppendEvent(*e);
//
// Thread-safety: not thread-safe; one owner.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/time/time.h"

#include "common/model/records.h"
#include "daemon/reconcile/control_plane.h"

namespace skydeck::notify {

class BackendWatch {
 public:
  // `announced`: an outage was announced and not yet its end (kept across
  // restarts by the caller), so the next reachable sample ends it.
  BackendWatch(absl::Duration unreachable_after, bool announced)
      : unreachable_after_(unreachable_after), announced_(announced) {}

  // The event to record for this sample, if any.
  std::optional<NewEvent> Observe(const reconcile::BackendHealth& health, int64_t now_ms);

  bool announced() const { return announced_; }

 private:
  const absl::Duration unreachable_after_;
  bool announced_;
  int64_t unreachable_since_ms_ = 0;  // 0: reachable at the last sample
};

}  // namespace skydeck::notify
