#include "daemon/backend/skypilot/failure_mapping.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace skydeck::backend::skypilot {
namespace {

// What a person must do, shown with conditions and events.
constexpr absl::string_view kHintCloudAccess =
    "SkyPilot has no cloud access: set up cloud credentials where the SkyPilot API server "
    "runs and run `sky check` there";
constexpr absl::string_view kHintCredentials =
    "SkyPilot cannot use the cloud credentials where its API server runs: fix them and run "
    "`sky check` there";
constexpr absl::string_view kHintConfig =
    "the SkyPilot API server's configuration (~/.sky/config.yaml where it runs) is invalid: "
    "fix it";
constexpr absl::string_view kHintPermission =
    "the SkyPilot API server refuses SkyDeck's user: grant it access to the workspace";
constexpr absl::string_view kHintApiVersion = "upgrade the SkyPilot API server";
constexpr absl::string_view kHintInfeasible =
    "no cloud SkyPilot can use offers the requested resources: enable one (`sky check` where "
    "the SkyPilot API server runs) or change the experiment's resources";

struct ErrorTypeRule {
  absl::string_view type;  // the exception's class name, without module
  FailureKind kind;
  absl::string_view reason;  // condition reason; empty: the kind's default
  absl::string_view hint;
  // How a non-launch request that failed with this type is reported.
  absl::StatusCode request_code;
};

using K = FailureKind;
using C = absl::StatusCode;

// THE TABLE. Every SkyPilot exception type SkyDeck tells apart; anything
// else is kUserCode when a launch fails with it (counted, retried) and
// INTERNAL for other requests. Keep docs/skypilot.md ("Failures") in step.
constexpr ErrorTypeRule kErrorTypes[] = {
    // The environment: a person must fix something outside SkyDeck. Not
    // counted; retried with backoff for a bounded time, then Stalled.
    {"NoCloudAccessError", K::kEnvironment, "NoCloudAccess", kHintCloudAccess,
     C::kFailedPrecondition},
    {"CloudUserIdentityError", K::kEnvironment, "CloudCredentials", kHintCredentials,
     C::kFailedPrecondition},
    {"InvalidCloudCredentials", K::kEnvironment, "CloudCredentials", kHintCredentials,
     C::kFailedPrecondition},
    {"ClusterOwnerIdentityMismatchError", K::kEnvironment, "CloudCredentials", kHintCredentials,
     C::kFailedPrecondition},
    {"InvalidCloudConfigs", K::kEnvironment, "SkyPilotConfig", kHintConfig, C::kFailedPrecondition},
    {"InvalidSkyPilotConfigError", K::kEnvironment, "SkyPilotConfig", kHintConfig,
     C::kFailedPrecondition},
    {"PermissionDeniedError", K::kEnvironment, "PermissionDenied", kHintPermission,
     C::kPermissionDenied},
    {"PermissionError", K::kEnvironment, "PermissionDenied", kHintPermission, C::kPermissionDenied},
    {"APINotSupportedError", K::kEnvironment, "ApiServerVersion", kHintApiVersion,
     C::kFailedPrecondition},
    {"APIVersionMismatchError", K::kEnvironment, "ApiServerVersion", kHintApiVersion,
     C::kFailedPrecondition},
    // No machines now: not counted, retried with backoff without end.
    {"ResourcesUnavailableError", K::kCapacity, "NoResources", "", C::kUnavailable},
    {"KubeAPIUnreachableError", K::kCapacity, "NoResources", "", C::kUnavailable},
    {"ManagedJobReachedMaxRetriesError", K::kCapacity, "NoResources", "", C::kUnavailable},
    // The task as specified: the same spec fails again. Stalled.
    {"ValueError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"TypeError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"KeyError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"ValidationError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"ResourcesMismatchError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"NotSupportedError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"InvalidClusterNameError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"StorageSpecError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"StorageSourceError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"StorageNameError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"StorageModeError", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    {"UserRequestRejectedByPolicy", K::kInvalidSpec, "LaunchRefused", "", C::kInvalidArgument},
    // Cancelled (counted only when nobody asked for it).
    {"RequestCancelled", K::kCancelled, "", "", C::kUnavailable},
    {"ManagedJobUserCancelledError", K::kCancelled, "", "", C::kUnavailable},
    {"CancelledError", K::kCancelled, "", "", C::kUnavailable},
    {"KeyboardInterrupt", K::kCancelled, "", "", C::kUnavailable},
    // SkyPilot's own machinery had trouble: not counted, retried.
    {"ApiServerConnectionError", K::kBackend, "", "", C::kUnavailable},
    {"ServerTemporarilyUnavailableError", K::kBackend, "", "", C::kUnavailable},
    {"ConcurrentWorkerExhaustedError", K::kBackend, "", "", C::kUnavailable},
    {"ExecutionPoolFullError", K::kBackend, "", "", C::kUnavailable},
    {"RequestInterruptedError", K::kBackend, "", "", C::kUnavailable},
    {"ClusterStatusFetchingError", K::kBackend, "", "", C::kUnavailable},
    {"FetchClusterInfoError", K::kBackend, "", "", C::kUnavailable},
    {"NetworkError", K::kBackend, "", "", C::kUnavailable},
    {"CommandError", K::kBackend, "", "", C::kUnavailable},
    {"ConnectionError", K::kBackend, "", "", C::kUnavailable},
    {"TimeoutError", K::kBackend, "", "", C::kUnavailable},
    {"ClusterNotUpError", K::kBackend, "", "", C::kUnavailable},
    {"ManagedJobStatusError", K::kBackend, "", "", C::kUnavailable},
    {"SkyletInternalError", K::kBackend, "", "", C::kUnavailable},
};

constexpr absl::string_view kLaunchFailedPrefix = "launch failed: ";

// "sky.exceptions.NoCloudAccessError" -> "NoCloudAccessError".
absl::string_view BareType(absl::string_view type) {
  size_t dot = type.rfind('.');
  return dot == absl::string_view::npos ? type : type.substr(dot + 1);
}

const ErrorTypeRule* FindRule(absl::string_view type) {
  absl::string_view bare = BareType(type);
  for (const ErrorTypeRule& rule : kErrorTypes) {
    if (rule.type == bare) return &rule;
  }
  return nullptr;
}

bool LooksLikeTypeName(absl::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  }
  return true;
}

FailureClass FromRule(const ErrorTypeRule& rule) {
  return {rule.kind, std::string(rule.reason), std::string(rule.hint)};
}

}  // namespace

std::string LaunchFailureReason(absl::string_view error_type, absl::string_view message) {
  return absl::StrCat(kLaunchFailedPrefix, error_type.empty() ? "UnknownError" : error_type, ": ",
                      message);
}

JobStatus LaunchFailureStatus(absl::string_view error_type) {
  const ErrorTypeRule* rule = FindRule(error_type);
  if (rule == nullptr) return JobStatus::kFailed;
  switch (rule->kind) {
    case K::kEnvironment:
    case K::kInvalidSpec:
      return JobStatus::kFailedPrechecks;
    case K::kCapacity:
      return JobStatus::kFailedNoResource;
    case K::kCancelled:
      return JobStatus::kCancelled;
    default:
      return JobStatus::kFailed;
  }
}

std::vector<std::string> ErrorTypesIn(absl::string_view reason) {
  std::vector<std::string> types;
  absl::string_view rest = reason;
  if (absl::ConsumePrefix(&rest, kLaunchFailedPrefix)) {
    size_t colon = rest.find(':');
    if (colon != absl::string_view::npos && LooksLikeTypeName(rest.substr(0, colon))) {
      types.emplace_back(BareType(rest.substr(0, colon)));
    }
    return types;
  }
  // SkyPilot's format_exception: "[module.Type] message" (joined by "; "
  // when there are several), or "module.Type: message".
  for (size_t open = reason.find('['); open != absl::string_view::npos;
       open = reason.find('[', open + 1)) {
    size_t close = reason.find(']', open);
    if (close == absl::string_view::npos) break;
    absl::string_view inside = reason.substr(open + 1, close - open - 1);
    if (absl::StrContains(inside, '.') && LooksLikeTypeName(inside)) {
      types.emplace_back(BareType(inside));
    }
  }
  if (types.empty()) {
    size_t colon = reason.find(':');
    absl::string_view head = reason.substr(0, colon);
    if (colon != absl::string_view::npos && absl::StrContains(head, '.') &&
        LooksLikeTypeName(head)) {
      types.emplace_back(BareType(head));
    }
  }
  return types;
}

FailureClass ClassifySkyPilotFailure(JobStatus status, absl::string_view failure_reason) {
  FailureClass by_status = DefaultFailureClass(status);
  if (by_status.kind == K::kNone || by_status.kind == K::kLost) return by_status;
  std::vector<std::string> types = ErrorTypesIn(failure_reason);
  if (status == JobStatus::kFailedPrechecks) {
    // The controller's prechecks failed; of several reasons, the one a
    // person can act on outside the spec comes first.
    const ErrorTypeRule* found = nullptr;
    for (const std::string& t : types) {
      const ErrorTypeRule* rule = FindRule(t);
      if (rule == nullptr) continue;
      if (rule->kind == K::kEnvironment) return FromRule(*rule);
      if (found == nullptr) found = rule;
    }
    // Unavailable resources before any failover: nothing SkyPilot can use
    // offers them, so waiting for capacity would loop forever.
    if (found != nullptr && found->kind == K::kCapacity) {
      return {K::kEnvironment, "NoFeasibleResources", std::string(kHintInfeasible)};
    }
    if (found != nullptr && found->kind == K::kInvalidSpec) return FromRule(*found);
    return {K::kInvalidSpec, "LaunchRefused", ""};
  }
  const ErrorTypeRule* rule = types.empty() ? nullptr : FindRule(types.front());
  if (rule == nullptr) return by_status;
  // A launch request's own exception decides; in a job's failure reason a
  // type only adds its words to what the status already says.
  if (absl::StartsWith(failure_reason, kLaunchFailedPrefix) || rule->kind == by_status.kind) {
    return FromRule(*rule);
  }
  return by_status;
}

absl::Status StatusFromRequestError(absl::string_view what, absl::string_view error_type,
                                    absl::string_view message) {
  std::string text =
      absl::StrCat(what, ": ", error_type.empty() ? "error" : error_type, ": ", message);
  const ErrorTypeRule* rule = FindRule(error_type);
  return absl::Status(rule != nullptr ? rule->request_code : C::kInternal, text);
}

}  // namespace skydeck::backend::skypilot
