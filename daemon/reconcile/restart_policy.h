// File: daemon/reconcile/restart_policy.h
//
// Which job outcomes count against an experiment's restart budget, and how
// long to wait before the next attempt. Pure functions: the reconciler
// derives everything from the job history, so a restart of the daemon
// cannot forget or double-count a failure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/states.h"

namespace skydeck::reconcile {

// User-code and configuration failures count (FAILED, FAILED_SETUP,
// FAILED_PRECHECKS, and CANCELLED by someone else while desired RUNNING);
// preemptions never reach here (the backend recovers them) and
// infrastructure losses (LOST, FAILED_NO_RESOURCE, FAILED_CONTROLLER) are
// retried without spending the budget.
bool CountsAgainstBudget(JobStatus status);

// Retrying cannot help (the backend refused the job as specified).
bool IsPermanentFailure(JobStatus status);

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
