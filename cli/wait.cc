// File: cli/wait.cc
#include "cli/wait.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "cli/progress.h"
#include "cli/selection.h"
#include "cli/terminal.h"
#include "cli/views.h"
#include "common/model/conditions.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

const pb::Condition* TrueCondition(const pb::Experiment& e, absl::string_view type) {
  for (const pb::Condition& c : e.conditions()) {
    if (c.type() == type && c.status()) return &c;
  }
  return nullptr;
}

bool Stalled(const pb::Experiment& e) {
  return TrueCondition(e, model::condition::kStalled) != nullptr;
}

}  // namespace

absl::StatusOr<pb::ObservedState> ParseWaitCondition(absl::string_view text) {
  std::string name = absl::AsciiStrToUpper(text);
  if (absl::StartsWith(name, "STATE=")) name = name.substr(6);
  if (name == "RUNNING") return pb::OBSERVED_STATE_RUNNING;
  if (name == "SUCCEEDED") return pb::OBSERVED_STATE_SUCCEEDED;
  if (name == "STOPPED") return pb::OBSERVED_STATE_STOPPED;
  if (name == "TERMINATED") return pb::OBSERVED_STATE_TERMINATED;
  if (name == "FAILED") return pb::OBSERVED_STATE_FAILED;
  return absl::InvalidArgumentError(absl::StrCat(
      "--for \"", text, "\": must be state=RUNNING, SUCCEEDED, STOPPED, TERMINATED or FAILED"));
}

std::vector<std::string> WaitConditionChoices() {
  return {"state=RUNNING", "state=SUCCEEDED", "state=STOPPED", "state=TERMINATED", "state=FAILED"};
}

absl::StatusOr<absl::Duration> ParseWaitTimeout(absl::string_view text) {
  absl::Duration d;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d) || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout \"", text, "\": must be a duration like 90s, 10m, 1h30m"));
  }
  if (d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("--timeout \"", text, "\" is negative"));
  }
  return d;
}

WaitCheck CheckWait(const pb::Experiment& e, pb::ObservedState target) {
  // A job running an older spec is not restarted for the change, so
  // observed_generation stays behind until someone stops and starts it:
  // waiting for RUNNING would only time out.
  if (const pb::Condition* outdated = TrueCondition(e, model::condition::kOutdated);
      outdated != nullptr && target == pb::OBSERVED_STATE_RUNNING) {
    return {WaitVerdict::kFailed, absl::StrCat("Outdated: ", outdated->message())};
  }
  // Only desired RUNNING launches anything: waiting for a job of a stopped
  // experiment would take the whole timeout to say so.
  bool wants_job = target == pb::OBSERVED_STATE_RUNNING || target == pb::OBSERVED_STATE_SUCCEEDED;
  if (wants_job && e.desired_state() != pb::DESIRED_STATE_RUNNING && e.observed_state() != target) {
    return {WaitVerdict::kFailed,
            absl::StrCat("its desired state is ", StateName(e.desired_state()),
                         ", so nothing will start it; start it first: skydeck exp start ",
                         e.name().empty() ? absl::StrCat(e.id()) : e.name())};
  }
  if (e.observed_generation() < e.generation()) return {};
  pb::ObservedState now = e.observed_state();
  if (now == target || (target == pb::OBSERVED_STATE_STOPPED && now == pb::OBSERVED_STATE_IDLE)) {
    return {WaitVerdict::kReached, ""};
  }
  if (target != pb::OBSERVED_STATE_RUNNING && target != pb::OBSERVED_STATE_SUCCEEDED) return {};
  if (Stalled(e)) return {WaitVerdict::kFailed, "stalled: restart budget exhausted"};
  if (now == pb::OBSERVED_STATE_FAILED && e.desired_state() != pb::DESIRED_STATE_RUNNING) {
    return {WaitVerdict::kFailed, "failed"};
  }
  if (now == pb::OBSERVED_STATE_TERMINATED) return {WaitVerdict::kFailed, "terminated"};
  if (target == pb::OBSERVED_STATE_RUNNING && now == pb::OBSERVED_STATE_SUCCEEDED) {
    return {WaitVerdict::kFailed, "already finished (SUCCEEDED)"};
  }
  return {};
}

absl::Status WaitForExperiments(CommandContext& ctx, std::vector<pb::Experiment> experiments,
                                pb::ObservedState target, absl::Duration timeout) {
  // Start the stream at the current revision, then re-read: a change between
  // the read and the stream is then seen twice, never missed.
  pb::GetHealthResponse health;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::GetHealth, pb::GetHealthRequest(), &health));
  std::map<int64_t, pb::Experiment> by_id;
  for (const pb::Experiment& e : experiments) {
    pb::GetExperimentRequest req;
    req.set_id(absl::StrCat(e.id()));
    pb::GetExperimentResponse resp;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::GetExperiment, req, &resp));
    by_id[e.id()] = resp.experiment();
  }
  std::string target_name = StateName(target);
  WaitProgress progress(LineRedrawAllowedFor(stderr), stderr, target_name);
  absl::Status failure;
  // True when done (all reached or one failed).
  auto evaluate = [&]() {
    bool all = true;
    for (const auto& [id, e] : by_id) {
      WaitCheck check = CheckWait(e, target);
      progress.Observe(e.name(), StateName(e.observed_state()),
                       check.verdict == WaitVerdict::kReached);
      if (check.verdict == WaitVerdict::kFailed) {
        failure = absl::FailedPreconditionError(
            absl::StrCat(e.name(), " will not reach ", target_name, ": ", check.reason));
        return true;
      }
      all = all && check.verdict == WaitVerdict::kReached;
    }
    return all;
  };
  if (evaluate()) return failure;

  pb::WatchRequest watch;
  watch.set_since_revision(health.health().revision());
  if (by_id.size() == 1) watch.set_experiment_id(by_id.begin()->first);
  auto deadline = timeout == absl::ZeroDuration()
                      ? std::chrono::system_clock::time_point()
                      : std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
  absl::Status status = ctx.client().Watch(watch, deadline, [&](const pb::WatchResponse& r) {
    if (!r.has_experiment()) return true;
    auto it = by_id.find(r.experiment().id());
    if (it == by_id.end()) return true;
    it->second = r.experiment();
    return !evaluate();
  });
  if (status.code() == absl::StatusCode::kDeadlineExceeded && !IsWaitTimeout(status) &&
      deadline != std::chrono::system_clock::time_point()) {
    std::vector<std::string> pending;
    for (const auto& [id, e] : by_id) {
      if (CheckWait(e, target).verdict != WaitVerdict::kReached) pending.push_back(e.name());
    }
    return WaitTimeoutError(absl::StrCat("timed out after ", absl::FormatDuration(timeout),
                                         " waiting for ", target_name, ": ",
                                         absl::StrJoin(pending, ", ")));
  }
  RETURN_IF_ERROR(status);
  return failure;
}

namespace {

struct WaitArgs {
  Selection selection;
  std::string condition = "state=RUNNING", timeout = "10m";
};

absl::Status RunWait(CommandContext& ctx, const WaitArgs& args) {
  ASSIGN_OR_RETURN(pb::ObservedState target, AsUsage(ParseWaitCondition(args.condition)));
  ASSIGN_OR_RETURN(absl::Duration timeout, AsUsage(ParseWaitTimeout(args.timeout)));
  ASSIGN_OR_RETURN(std::vector<std::string> refs, ResolveSelection(ctx, args.selection, "wait"));
  if (refs.empty()) return absl::NotFoundError("no experiment matched");
  std::vector<pb::Experiment> experiments;
  for (const std::string& ref : refs) {
    pb::GetExperimentRequest req;
    req.set_id(ref);
    pb::GetExperimentResponse resp;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::GetExperiment, req, &resp));
    experiments.push_back(resp.experiment());
  }
  return WaitForExperiments(ctx, std::move(experiments), target, timeout);
}

}  // namespace

void AddWaitCommand(CLI::App* app, CommandContext* ctx) {
  auto args = std::make_shared<WaitArgs>();
  CLI::App* cmd = app->add_subcommand(
      "wait", "Wait until experiments reach an observed state (follows the Watch stream)");
  AddSelectionOptions(cmd, &args->selection, /*allow_all=*/false);
  cmd->add_option("--for", args->condition,
                  "state=RUNNING, SUCCEEDED, STOPPED (or IDLE), TERMINATED or FAILED")
      ->capture_default_str();
  cmd->add_option("--timeout", args->timeout, "Give up after this long (90s, 10m, 1h); 0: never")
      ->capture_default_str();
  SetExamples(cmd,
              {
                  "skydeck wait lr-3e-4 --for state=RUNNING --timeout 10m",
                  "skydeck wait -l sweep=lr --for state=SUCCEEDED --timeout 2h && echo all done",
              });
  cmd->footer(std::string(cmd->get_footer()) +
              "\n\nExit codes: 0 all reached the state; 1 one is Stalled or failed (or "
              "terminated) while waiting for RUNNING or SUCCEEDED; 4 timed out; 2 usage; "
              "3 daemon unreachable. Progress lines go to stderr.");
  OnParsed(cmd, ctx, [ctx, args] { return RunWait(*ctx, *args); });
}

}  // namespace skydeck::cli
