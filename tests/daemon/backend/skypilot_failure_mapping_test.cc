// The one table from SkyPilot's failures to SkyDeck's handling
// (daemon/backend/skypilot/failure_mapping.h), and the batching of cancels.
#include <atomic>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/synchronization/notification.h"

#include "daemon/backend/skypilot/cancel_batcher.h"
#include "daemon/backend/skypilot/failure_mapping.h"

namespace skydeck::backend::skypilot {
namespace {

// Verbatim from a real API server (1.0.0-dev0, API 31), consolidation mode,
// no cloud: `sky jobs queue` of a job the controller could not start.
constexpr char kRealPrecheckReason[] =
    "[sky.exceptions.NoCloudAccessError] Cloud access is not set up. Run: \x1b[1msky check\x1b[0m";

TEST_CASE("failure reasons name their SkyPilot exception types", "[skypilot]") {
  CHECK(ErrorTypesIn(kRealPrecheckReason) == std::vector<std::string>{"NoCloudAccessError"});
  CHECK(ErrorTypesIn(LaunchFailureReason("NoCloudAccessError", "Cloud access is not set up.")) ==
        std::vector<std::string>{"NoCloudAccessError"});
  CHECK(ErrorTypesIn("[sky.exceptions.ResourcesMismatchError] a; "
                     "[sky.exceptions.NoCloudAccessError] b") ==
        std::vector<std::string>{"ResourcesMismatchError", "NoCloudAccessError"});
  CHECK(ErrorTypesIn("sky.exceptions.ManagedJobReachedMaxRetriesError: gave up") ==
        std::vector<std::string>{"ManagedJobReachedMaxRetriesError"});
  CHECK(ErrorTypesIn("exit code 1").empty());
  CHECK(ErrorTypesIn("Traceback [most recent call last]: x.y").empty());
}

TEST_CASE("one cause, one handling: NoCloudAccessError from a launch or from the controller",
          "[skypilot]") {
  // Default mode: the launch request itself fails.
  JobStatus from_launch = LaunchFailureStatus("NoCloudAccessError");
  CHECK(from_launch == JobStatus::kFailedPrechecks);  // what SkyPilot's controller says
  FailureClass launch = ClassifySkyPilotFailure(
      from_launch, LaunchFailureReason("NoCloudAccessError", "Cloud access is not set up."));
  // Consolidation mode: the managed job ends FAILED_PRECHECKS.
  FailureClass controller =
      ClassifySkyPilotFailure(JobStatus::kFailedPrechecks, kRealPrecheckReason);
  for (const FailureClass& c : {launch, controller}) {
    CHECK(c.kind == FailureKind::kEnvironment);
    CHECK(c.reason == "NoCloudAccess");
    CHECK(c.hint.find("sky check") != std::string::npos);
  }
}

TEST_CASE("the failure table: each kind of cause", "[skypilot]") {
  struct Row {
    JobStatus status;
    std::string reason;
    FailureKind kind;
    std::string word;
  };
  const std::vector<Row> rows = {
      {JobStatus::kFailed, "exit code 1", FailureKind::kUserCode, ""},
      {JobStatus::kFailedSetup, "pip failed", FailureKind::kUserCode, ""},
      {JobStatus::kFailedPrechecks, "[sky.exceptions.ResourcesMismatchError] no",
       FailureKind::kInvalidSpec, "LaunchRefused"},
      {JobStatus::kFailedPrechecks, "something SkyPilot did not explain", FailureKind::kInvalidSpec,
       "LaunchRefused"},
      {JobStatus::kFailedPrechecks, "[sky.exceptions.ResourcesUnavailableError] no H100 anywhere",
       FailureKind::kEnvironment, "NoFeasibleResources"},
      {JobStatus::kFailedPrechecks, "[sky.exceptions.CloudUserIdentityError] expired",
       FailureKind::kEnvironment, "CloudCredentials"},
      {JobStatus::kFailedNoResource, "sky.exceptions.ManagedJobReachedMaxRetriesError: x",
       FailureKind::kCapacity, "NoResources"},
      {JobStatus::kFailedController, "controller died", FailureKind::kBackend, ""},
      {JobStatus::kCancelled, "", FailureKind::kCancelled, ""},
      {JobStatus::kSucceeded, "", FailureKind::kNone, ""},
      {JobStatus::kFailedNoResource,
       LaunchFailureReason("ResourcesUnavailableError", "no capacity"), FailureKind::kCapacity,
       "NoResources"},
      {JobStatus::kFailedPrechecks, LaunchFailureReason("ValueError", "bad task"),
       FailureKind::kInvalidSpec, "LaunchRefused"},
      {JobStatus::kFailedPrechecks, LaunchFailureReason("PermissionDeniedError", "no"),
       FailureKind::kEnvironment, "PermissionDenied"},
      {JobStatus::kFailed, LaunchFailureReason("ConnectionError", "catalog"), FailureKind::kBackend,
       ""},
      {JobStatus::kFailed, LaunchFailureReason("WeirdNewError", "?"), FailureKind::kUserCode, ""},
  };
  for (const Row& row : rows) {
    INFO(Name(row.status) << " / " << row.reason);
    FailureClass c = ClassifySkyPilotFailure(row.status, row.reason);
    CHECK(c.kind == row.kind);
    CHECK(c.reason == row.word);
  }
  CHECK(LaunchFailureStatus("ResourcesUnavailableError") == JobStatus::kFailedNoResource);
  CHECK(LaunchFailureStatus("InvalidSkyPilotConfigError") == JobStatus::kFailedPrechecks);
  CHECK(LaunchFailureStatus("RequestCancelled") == JobStatus::kCancelled);
  CHECK(LaunchFailureStatus("SomethingElse") == JobStatus::kFailed);
}

TEST_CASE("failed non-launch requests map to codes callers act on", "[skypilot]") {
  CHECK(absl::IsInvalidArgument(StatusFromRequestError("q", "ValueError", "bad")));
  CHECK(absl::IsPermissionDenied(StatusFromRequestError("q", "PermissionDeniedError", "no")));
  CHECK(absl::IsUnavailable(StatusFromRequestError("q", "ServerTemporarilyUnavailableError", "")));
  CHECK(absl::IsFailedPrecondition(StatusFromRequestError("q", "NoCloudAccessError", "")));
  CHECK(absl::IsInternal(StatusFromRequestError("q", "WeirdNewError", "")));
  CHECK(StatusFromRequestError("listing", "ValueError", "bad").message() ==
        "listing: ValueError: bad");
}

TEST_CASE("concurrent cancels go out together", "[skypilot]") {
  std::mutex mu;
  std::vector<std::vector<int64_t>> sent;
  absl::Notification first_out, release_first;
  std::atomic<int> calls{0};
  CancelBatcher batcher(
      [&](const std::vector<int64_t>& ids) {
        int n = ++calls;
        {
          std::lock_guard<std::mutex> lock(mu);
          sent.push_back(ids);
        }
        if (n == 1) {
          first_out.Notify();
          release_first.WaitForNotification();  // a slow /jobs/cancel
        }
        return absl::OkStatus();
      },
      absl::ZeroDuration());
  auto first = std::async(std::launch::async, [&] { return batcher.Cancel(1); });
  first_out.WaitForNotification();
  // While the first request is out, three more arrive: they wait and share
  // the next request.
  std::vector<std::future<absl::Status>> rest;
  for (int64_t id : {2, 3, 4}) {
    rest.push_back(std::async(std::launch::async, [&, id] { return batcher.Cancel(id); }));
  }
  // Give them time to queue up (they cannot finish before the release).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(calls.load() == 1);
  release_first.Notify();
  CHECK(first.get().ok());
  for (auto& f : rest) CHECK(f.get().ok());
  REQUIRE(sent.size() == 2);
  CHECK(sent[0] == std::vector<int64_t>{1});
  CHECK(std::set<int64_t>(sent[1].begin(), sent[1].end()) == std::set<int64_t>{2, 3, 4});
}

TEST_CASE("a cancel alone goes out alone, and shares its request's error", "[skypilot]") {
  int calls = 0;
  CancelBatcher batcher(
      [&](const std::vector<int64_t>& ids) {
        ++calls;
        return ids.size() == 1 && ids[0] == 9 ? absl::UnavailableError("down") : absl::OkStatus();
      },
      absl::Milliseconds(1));
  CHECK(absl::IsUnavailable(batcher.Cancel(9)));
  CHECK(batcher.Cancel(10).ok());
  CHECK(calls == 2);
}

}  // namespace
}  // namespace skydeck::backend::skypilot
