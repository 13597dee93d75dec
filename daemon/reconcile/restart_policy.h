// File: daemon/reconcile/restart_policy.h
//
// What SkyDeck does about a job that ended without succeeding, by the kind
// of failure its backend reports (backend::FailureKind), and how long to
// wait before the next attempt. Pure functions: the reconciler derives
// everything from the job history, so a restart of the daemon cannot forget
// or double-count a failure.
//
//   kind          counted  retried                      shown as
//   kUserCode     yes      after backoff, within budget RestartBudgetExhausted when spent
//   kInvalidSpec  yes      no                           Stalled LaunchRefused ("fix the
//   experiment") kEnvironment  no       after backoff, for a bounded Degraded <reason> + hint, then
//                          time (ReconcilerOptions)     Stalled <reason> + hint
//   kCapacity     no       after backoff, no end        -
//   kBackend      no       after backoff, no end        -
//   kCancelled    yes (when nobody asked for it)
//   kLost         no       after backoff (a job the backend reports lost did not finish)
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

#include "common/model/states.h"
#include "daemon/backend/backend.h"

namespace skydeck::reconcile {

// User-code failures, refusals of the spec and a cancel nobody asked for
// count; preemptions never reach here (the backend recovers them) and
// causes outside the user's code and spec (environment, capacity, the
// backend's machinery, a lost job) are retried without spending the budget.
bool CountsAgainstBudget(backend::FailureKind kind);

// CommandNotRunnable()
//
// The shell's verdict on a job's command: exit 127 "command not found: lt",
// 126 "command not executable: ./run.sh" (the command's first word); ""
// for any other exit. Relaunching cannot make a missing program appear, so
// such a failure is not retried.
std::string CommandNotRunnable(const std::string& command, std::optional<int> exit_code);

// 10 s, 20 s, 40 s, ... capped at 10 min, for the n-th consecutive failure
// (n >= 1), jittered by up to +-20% with a jitter that depends only on
// `seed`, so the same failure always yields the same retry time.
absl::Duration RestartBackoff(int consecutive_failures, uint64_t seed);

}  // namespace skydeck::reconcile
