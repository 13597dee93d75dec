// File: tests/daemon/backend/skypilot_backend_fixture.h
//
// What the tests of the `skypilot` backend (skypilot_*_test.cc) share: a
// job spec, backend options pointing at the wire-level fake API server
// (tests/skypilot_fake, one fake process per test case), and helpers that
// launch, query and read logs.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "yaml-cpp/yaml.h"

#include "daemon/backend/never_sent.h"
#include "daemon/backend/skypilot/backend_job_id.h"
#include "daemon/backend/skypilot/log_filter.h"
#include "daemon/backend/skypilot/managed_job_queue.h"
#include "daemon/backend/skypilot/skypilot_backend.h"
#include "daemon/backend/skypilot/skypilot_options.h"
#include "daemon/backend/skypilot/status_mapping.h"
#include "daemon/backend/skypilot/task_yaml.h"
#include "daemon/backend/skypilot_fake_fixture.h"

namespace skydeck::backend::skypilot {

using testing::SkyPilotFake;
using Clock = std::chrono::steady_clock;

inline constexpr char kUserId[] = "ab12cd34";

// Every managed-job status SkyPilot reports and what SkyDeck makes of it.
inline const std::vector<std::pair<std::string, JobStatus>>& ManagedJobStatusTable() {
  static const auto* table = new std::vector<std::pair<std::string, JobStatus>>{
      {"PENDING", JobStatus::kPending},
      {"SUBMITTED", JobStatus::kSubmitted},
      {"STARTING", JobStatus::kStarting},
      {"RUNNING", JobStatus::kRunning},
      {"RECOVERING", JobStatus::kRecovering},
      {"CANCELLING", JobStatus::kCancelling},
      {"SUCCEEDED", JobStatus::kSucceeded},
      {"CANCELLED", JobStatus::kCancelled},
      {"FAILED", JobStatus::kFailed},
      {"FAILED_SETUP", JobStatus::kFailedSetup},
      {"FAILED_PRECHECKS", JobStatus::kFailedPrechecks},
      {"FAILED_NO_RESOURCE", JobStatus::kFailedNoResource},
      {"FAILED_CONTROLLER", JobStatus::kFailedController},
  };
  return *table;
}

inline SkyPilotFake::Args FakeArgs(int api_version, const std::string& tick_mode = "queue",
                                   const std::string& token = "") {
  SkyPilotFake::Args args;
  args.api_version = api_version;
  args.tick_mode = tick_mode;
  args.token = token;
  return args;
}

inline JobSpec Spec(const std::string& name) {
  JobSpec spec;
  spec.name = name;
  spec.command = "python train.py 'trainer.lr=0.0003' 'name=it'\\''s'";
  spec.nodes = 2;
  spec.gpus_per_node = 4;
  spec.gpu_type = "H100";
  spec.infra = "aws";
  spec.spot = true;
  spec.env = {{"SKYDECK_EXPERIMENT", "exp"},
              {"SKYDECK_JOB", "42"},
              {"SKYDECK_ATTEMPT", "1"},
              {"SKYDECK_RUN_NAME", "yes"}};
  return spec;
}

inline SkyPilotOptions Options(const SkyPilotFake& fake) {
  SkyPilotOptions options;
  options.endpoint = fake.endpoint();
  options.user_id = kUserId;
  options.user_name = "skydeck-test";
  options.timeouts.SetCalls(absl::Seconds(10));
  options.timeouts.connect = absl::Seconds(2);
  options.unreachable_backoff_initial = absl::ZeroDuration();
  // Find is conclusive at once unless a test is about launch_settle.
  options.launch_settle = absl::ZeroDuration();
  return options;
}

inline std::unique_ptr<SkyPilotBackend> MakeBackend(const SkyPilotOptions& options) {
  auto backend = SkyPilotBackend::Create(options);
  REQUIRE(backend.ok());
  return std::move(*backend);
}

// Launches and returns the managed job id once the launch resolved (the
// fake resolves launches at once unless told to hold them).
inline std::string LaunchResolved(Backend& backend, const std::string& name) {
  absl::StatusOr<std::string> id = backend.Launch(Spec(name));
  REQUIRE(id.ok());
  auto obs = backend.Query({*id});
  REQUIRE(obs.ok());
  REQUIRE(obs->size() == 1);
  REQUIRE_FALSE((*obs)[0].resolved_job_id.empty());
  return (*obs)[0].resolved_job_id;
}

inline JobObservation QueryOne(Backend& backend, const std::string& id) {
  auto obs = backend.Query({id});
  INFO(obs.status().ToString());
  REQUIRE(obs.ok());
  REQUIRE(obs->size() == 1);
  return (*obs)[0];
}

inline std::string CollectLogs(Backend& backend, const std::string& id, bool follow, LogTail tail,
                               absl::Status* status) {
  std::string out;
  *status = backend.StreamLogs(
      id, follow, tail,
      [&](absl::string_view chunk) {
        out.append(chunk.data(), chunk.size());
        return true;
      },
      [] { return false; });
  return out;
}

// The failure reason a real API server gave without cloud access (issue 16).
inline constexpr char kNoCloudReason[] =
    "[sky.exceptions.NoCloudAccessError] Cloud access is not set up. Run: \x1b[1msky check\x1b[0m";

}  // namespace skydeck::backend::skypilot
