// File: cli/wait.h
//
// `skydeck wait` and `exp start --wait`: block until experiments reach an
// observed state, following the daemon's Watch stream (no polling). The
// pure rules (what counts as reached, what can no longer get there, how a
// timeout is written) are here so they are unit-tested without a daemon.
//
//   ASSIGN_OR_RETURN(pb::ObservedState target, ParseWaitCondition("state=RUNNING"));
//   ASSIGN_OR_RETURN(absl::Duration timeout, ParseWaitTimeout("10m"));
//   return WaitForExperiments(ctx, experiments, target, timeout);
//   // OK: all reached; WaitTimeoutError (exit 4); FAILED_PRECONDITION (exit
//   // 1) when one is stalled or failed.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "cli/command.h"
#include "skydeck/v1/resources.pb.h"

namespace skydeck::cli {

// "state=RUNNING" (also SUCCEEDED, STOPPED, TERMINATED, FAILED; any case;
// "state=" may be left out). Errors: INVALID_ARGUMENT naming the choices.
absl::StatusOr<pb::ObservedState> ParseWaitCondition(absl::string_view text);

// The conditions ParseWaitCondition accepts, spelled in full for shell
// completion: "state=RUNNING", "state=SUCCEEDED", ...
std::vector<std::string> WaitConditionChoices();

// "10m", "90s", "1h30m", "500ms", or a bare number of seconds; "0" means
// no limit. Errors: INVALID_ARGUMENT for anything else or a negative value.
absl::StatusOr<absl::Duration> ParseWaitTimeout(absl::string_view text);

enum class WaitVerdict { kWaiting, kReached, kFailed };

struct WaitCheck {
  WaitVerdict verdict = WaitVerdict::kWaiting;
  // Why it failed, for kFailed.
  std::string reason;
};

// CheckWait()
//
// Whether `e` is at `target`. Nothing counts before the reconciler has seen
// the latest spec (observed_generation < generation), so a stale SUCCEEDED
// from the previous run is not taken for the new one. STOPPED is reached by
// IDLE too (no live job). Waiting for RUNNING or SUCCEEDED fails when the
// experiment is Stalled (restart budget spent), FAILED with no retry coming
// (desired not RUNNING), TERMINATED, or (for RUNNING) already SUCCEEDED.
WaitCheck CheckWait(const pb::Experiment& e, pb::ObservedState target);

// WaitForExperiments()
//
// Waits until every experiment in `experiments` (as last read) reaches
// `target`, watching for changes; shows progress on stderr (progress.h: a
// line redrawn in place on a terminal, else one line per state change).
// `timeout` zero: no limit. Errors: WaitTimeoutError (exit 4) when
// time runs out; FAILED_PRECONDITION naming the experiment when CheckWait
// says kFailed; the daemon's status otherwise.
absl::Status WaitForExperiments(CommandContext& ctx, std::vector<pb::Experiment> experiments,
                                pb::ObservedState target, absl::Duration timeout);

}  // namespace skydeck::cli
