// File: common/model/conditions.h
//
// The condition types an experiment carries (Experiment.conditions in
// proto/skydeck/v1/resources.proto) and the reasons SkyDeck itself writes
// into them. Conditions follow Kubernetes: a named aspect with a boolean
// status, a CamelCase reason and a message. Writers and readers (the
// reconciler, `skydeck wait`, the CLI's views) name them here so that a
// type cannot drift between them; the proto's Condition comment documents
// the same list (tests/common/model/conditions_test.cc checks it).
//
// A backend may add reasons of its own (backend::FailureClass.reason, e.g.
// "NoCloudAccess"): a reason is open-ended, a type is not.
#pragma once

#include <array>
#include <string_view>

namespace skydeck::model {

namespace condition {
// True while SkyDeck is working towards the desired state: a launch, a
// pending job, a stop in progress or a scheduled retry.
inline constexpr char kReconciling[] = "Reconciling";
// True while a job of the experiment runs.
inline constexpr char kRunning[] = "Running";
// True when SkyDeck will not act until someone changes something (the spec,
// the environment); the reason says what.
inline constexpr char kStalled[] = "Stalled";
// True while the backend cannot be reached or observed, or a failure of its
// environment is being retried; SkyDeck keeps trying.
inline constexpr char kDegraded[] = "Degraded";
// True while the live job runs an older spec than the experiment's. Only
// experiments that ever had an outdated job carry it.
inline constexpr char kOutdated[] = "Outdated";

// Every type above, in the order the proto documents them.
inline constexpr std::array<std::string_view, 5> kAll = {kReconciling, kRunning, kStalled,
                                                         kDegraded, kOutdated};
}  // namespace condition

// Reasons the reconciler writes, by the condition they explain.
namespace condition_reason {
// Reconciling
inline constexpr char kInProgress[] = "InProgress";
inline constexpr char kSettled[] = "Settled";
// Running
inline constexpr char kJobRunning[] = "JobRunning";
inline constexpr char kNoRunningJob[] = "NoRunningJob";
// Stalled (false)
inline constexpr char kNotStalled[] = "NotStalled";
// Stalled (true): the last job cannot or will not be retried.
inline constexpr char kJobOutcomeUnknown[] = "JobOutcomeUnknown";
inline constexpr char kCommandNotFound[] = "CommandNotFound";
inline constexpr char kRestartBudgetExhausted[] = "RestartBudgetExhausted";
inline constexpr char kJobOnOtherBackend[] = "JobOnOtherBackend";
// Stalled (true): the launch cannot start (daemon/reconcile/launch_planner.h).
inline constexpr char kTemplateNotFound[] = "TemplateNotFound";
inline constexpr char kSecretMissing[] = "SecretMissing";
inline constexpr char kWorkdirMissing[] = "WorkdirMissing";
inline constexpr char kCodeSnapshotMissing[] = "CodeSnapshotMissing";
inline constexpr char kEnvMissing[] = "EnvMissing";
inline constexpr char kLaunchRefused[] = "LaunchRefused";
// Stalled or Degraded (true): a failure of the backend's environment, when
// the backend names no reason of its own.
inline constexpr char kEnvironmentNotReady[] = "EnvironmentNotReady";
// Degraded
inline constexpr char kPollFailing[] = "PollFailing";
inline constexpr char kBackendUnavailable[] = "BackendUnavailable";
inline constexpr char kBackendReachable[] = "BackendReachable";
// Outdated
inline constexpr char kSpecChangedWhileRunning[] = "SpecChangedWhileRunning";
inline constexpr char kUpToDate[] = "UpToDate";
}  // namespace condition_reason

}  // namespace skydeck::model
