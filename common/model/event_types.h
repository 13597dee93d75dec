// File: common/model/event_types.h
//
// The types of the events SkyDeck records (Event.type in
// proto/skydeck/v1/resources.proto), named once for every writer (store,
// reconciler, poller, service) and reader. The proto's Event.type comment
// lists the same words (tests/common/model/event_types_test.cc checks it).
// An event's reason is CamelCase too; where it is a condition's reason it
// comes from conditions.h.
#pragma once

#include <array>
#include <string_view>

namespace skydeck::model::event {

// Experiments (daemon/store).
inline constexpr char kCreated[] = "Created";
inline constexpr char kUpdated[] = "Updated";
inline constexpr char kDesiredStateChanged[] = "DesiredStateChanged";
inline constexpr char kDeleted[] = "Deleted";
inline constexpr char kUndeleted[] = "Undeleted";
inline constexpr char kPurged[] = "Purged";
// The user's marks, outside the spec (daemon/store/store_marks.cc).
inline constexpr char kStarred[] = "Starred";
inline constexpr char kUnstarred[] = "Unstarred";
inline constexpr char kMoved[] = "Moved";
// A flag value the experiment's schema warns about (daemon/service).
inline constexpr char kFlagWarning[] = "FlagWarning";
// Daemon-wide definitions (daemon/store).
inline constexpr char kTaskTemplateApplied[] = "TaskTemplateApplied";
inline constexpr char kTaskTemplateDeleted[] = "TaskTemplateDeleted";
inline constexpr char kFlagSchemaApplied[] = "FlagSchemaApplied";
inline constexpr char kFlagSchemaDeleted[] = "FlagSchemaDeleted";
// Launches (daemon/store, daemon/reconcile).
inline constexpr char kLaunchIntent[] = "LaunchIntent";
inline constexpr char kIntentUpdated[] = "IntentUpdated";
inline constexpr char kIntentResolved[] = "IntentResolved";
inline constexpr char kLaunched[] = "Launched";
inline constexpr char kLaunchFailed[] = "LaunchFailed";
inline constexpr char kLaunchRequestForgotten[] = "LaunchRequestForgotten";
// Jobs (daemon/reconcile: reconciler and poller).
inline constexpr char kJobStatusChanged[] = "JobStatusChanged";
inline constexpr char kPreempted[] = "Preempted";
inline constexpr char kCancelling[] = "Cancelling";
// The experiment's observed state and conditions (daemon/reconcile).
inline constexpr char kObservedStateChanged[] = "ObservedStateChanged";
inline constexpr char kReconciled[] = "Reconciled";
inline constexpr char kRetryScheduled[] = "RetryScheduled";
inline constexpr char kStalled[] = "Stalled";
inline constexpr char kDegraded[] = "Degraded";
inline constexpr char kOutdated[] = "Outdated";
// A preempted job runs again (daemon/reconcile: the poller).
inline constexpr char kRecovered[] = "Recovered";
// The backend unreachable for longer than the notifier's threshold, and
// back (daemon/notify; daemon-wide).
inline constexpr char kBackendUnreachable[] = "BackendUnreachable";
inline constexpr char kBackendReachable[] = "BackendReachable";

// Every type above, in the order the proto documents them.
inline constexpr std::array<std::string_view, 32> kAll = {kCreated,
                                                          kUpdated,
                                                          kDesiredStateChanged,
                                                          kDeleted,
                                                          kUndeleted,
                                                          kPurged,
                                                          kStarred,
                                                          kUnstarred,
                                                          kMoved,
                                                          kFlagWarning,
                                                          kTaskTemplateApplied,
                                                          kTaskTemplateDeleted,
                                                          kFlagSchemaApplied,
                                                          kFlagSchemaDeleted,
                                                          kLaunchIntent,
                                                          kIntentUpdated,
                                                          kIntentResolved,
                                                          kLaunched,
                                                          kLaunchFailed,
                                                          kLaunchRequestForgotten,
                                                          kJobStatusChanged,
                                                          kPreempted,
                                                          kCancelling,
                                                          kObservedStateChanged,
                                                          kReconciled,
                                                          kRetryScheduled,
                                                          kStalled,
                                                          kDegraded,
                                                          kOutdated,
                                                          kRecovered,
                                                          kBackendUnreachable,
                                                          kBackendReachable};

}  // namespace skydeck::model::event
