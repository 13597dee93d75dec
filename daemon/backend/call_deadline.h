// File: daemon/backend/call_deadline.h
//
// The deadline of the backend calls a thread makes. A caller that must not
// hang on a backend (the reconciler, the poller) opens a CallDeadlineScope;
// every Backend call the thread makes inside it returns by that time, with
// DEADLINE_EXCEEDED when the backend has not answered. A backend that waits
// on the network bounds each wait by RemainingCallTime() (SkyPilot: every
// HTTP exchange); one that never blocks for long may ignore it (local).
//
//   {
//     backend::CallDeadlineScope scope(absl::Now() + absl::Minutes(5));
//     ASSIGN_OR_RETURN(auto jobs, backend->Query(ids));  // returns by then
//   }
//
// The deadline travels with the thread, like a gRPC context's, rather than
// as a parameter of every Backend method: only the implementations that
// wait read it, and decorators (BackendWrapper, MeteredBackend) pass it on
// without knowing. It is on the real clock (it bounds real waits), not a
// reconciler's injected one.
//
// Thread-safety: a scope belongs to the thread that opened it.
#pragma once

#include <algorithm>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace skydeck::backend {

namespace call_deadline_internal {
inline thread_local absl::Time current = absl::InfiniteFuture();
}  // namespace call_deadline_internal

// The deadline of this thread's backend calls; InfiniteFuture outside any
// scope.
inline absl::Time CallDeadline() { return call_deadline_internal::current; }

// `timeout`, shortened to what is left before CallDeadline() (never below
// zero): how long one wait inside a backend call may last.
inline absl::Duration RemainingCallTime(absl::Duration timeout) {
  absl::Duration left = CallDeadline() - absl::Now();
  return std::max(absl::ZeroDuration(), std::min(timeout, left));
}

// Sets this thread's call deadline for its lifetime. Scopes nest: an inner
// scope can shorten the deadline, never extend it.
class CallDeadlineScope {
 public:
  explicit CallDeadlineScope(absl::Time deadline) : previous_(call_deadline_internal::current) {
    call_deadline_internal::current = std::min(previous_, deadline);
  }
  ~CallDeadlineScope() { call_deadline_internal::current = previous_; }
  CallDeadlineScope(const CallDeadlineScope&) = delete;
  CallDeadlineScope& operator=(const CallDeadlineScope&) = delete;

 private:
  absl::Time previous_;
};

}  // namespace skydeck::backend
