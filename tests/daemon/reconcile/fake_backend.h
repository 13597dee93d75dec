// File: tests/daemon/reconcile/fake_backend.h
//
// A deterministic in-memory Backend for reconciler and poller tests: jobs
// change status only when the test says so, and every call is counted.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "daemon/backend/backend.h"

namespace skydeck::reconcile {

class FakeBackend : public backend::Backend {
 public:
  std::string name() const override { return "fake"; }
  int64_t DefaultPollIntervalMs() const override { return 1000; }

  // A one-line description, refused like Launch when render_error is set.
  absl::StatusOr<std::string> RenderTask(const backend::JobSpec& spec) override {
    std::lock_guard<std::mutex> lock(mu);
    if (!render_error.ok()) return render_error;
    std::string out = absl::StrCat("name: ", spec.name, "\nrun: ", spec.command, "\n");
    for (const auto& [k, v] : spec.secrets) absl::StrAppend(&out, "secret ", k, ": ", v, "\n");
    return out;
  }

  absl::StatusOr<std::string> Launch(const backend::JobSpec& spec) override {
    // Outside the lock: a test may block here (a slow launch) or fail it.
    if (before_launch) {
      if (absl::Status s = before_launch(spec); !s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        launch_calls++;
        return s;
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    launch_calls++;
    if (!launch_error.ok()) return launch_error;
    std::string id = absl::StrCat("fake-", ++next_id);
    backend::JobObservation obs;
    obs.backend_job_id = id;
    obs.name = spec.name;
    obs.status = JobStatus::kPending;
    obs.raw_status = "PENDING";
    jobs[id] = obs;
    specs[id] = spec;
    launched_names.push_back(spec.name);
    return id;
  }

  absl::StatusOr<std::vector<backend::JobObservation>> Query(
      const std::vector<std::string>& ids) override {
    std::lock_guard<std::mutex> lock(mu);
    query_calls++;
    if (!query_error.ok()) return query_error;
    std::vector<backend::JobObservation> out;
    for (const auto& id : ids) {
      if (auto it = jobs.find(id); it != jobs.end()) out.push_back(it->second);
    }
    return out;
  }

  absl::StatusOr<std::vector<backend::JobObservation>> Find(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu);
    find_calls++;
    if (!find_error.ok()) return find_error;
    std::vector<backend::JobObservation> out;
    for (const auto& [id, obs] : jobs) {
      if (obs.name == name) out.push_back(obs);
    }
    return out;
  }

  absl::Status Cancel(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu);
    cancel_calls++;
    if (!cancel_error.ok()) return cancel_error;
    cancelled.push_back(id);
    auto it = jobs.find(id);
    if (cancel_ends_jobs && it != jobs.end() && !IsTerminal(it->second.status)) {
      it->second.status = JobStatus::kCancelled;
      it->second.raw_status = "CANCELLED";
    }
    return absl::OkStatus();
  }

  absl::Status Teardown(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu);
    torn_down.push_back(id);
    return absl::OkStatus();
  }

  absl::Status StreamLogs(const std::string& id, bool, const backend::LogTail&,
                          const std::function<bool(absl::string_view)>& sink,
                          const std::function<bool()>&) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      logs_calls++;
      if (!logs_error.ok()) return logs_error;
    }
    sink(absl::StrCat("log of ", id, "\n"));
    return absl::OkStatus();
  }

  backend::BackendInfo Probe() override {
    probe_calls++;
    return {"fake", reachable.load(), "1", "1", reachable ? "" : "unreachable", "fake://endpoint"};
  }

  backend::FailureClass ClassifyFailure(JobStatus status,
                                        absl::string_view failure_reason) const override {
    if (classify) return classify(status, failure_reason);
    return backend::DefaultFailureClass(status);
  }

  // Test controls.
  void Set(const std::string& id, JobStatus status, std::optional<int> exit_code = std::nullopt,
           int recovery_count = 0, const std::string& failure_reason = "") {
    std::lock_guard<std::mutex> lock(mu);
    backend::JobObservation& obs = jobs.at(id);
    obs.status = status;
    obs.failure_reason = failure_reason;
    obs.raw_status = std::string(Name(status));
    obs.exit_code = exit_code;
    obs.recovery_count = recovery_count;
    if (IsTerminal(status)) obs.end_ms = 0;  // the poller uses its clock
  }
  // Pretends a job with this name exists (launched before a crash).
  std::string Plant(const std::string& name, JobStatus status) {
    std::lock_guard<std::mutex> lock(mu);
    std::string id = absl::StrCat("fake-", ++next_id);
    backend::JobObservation obs;
    obs.backend_job_id = id;
    obs.name = name;
    obs.status = status;
    jobs[id] = obs;
    return id;
  }

  // Runs first in every Launch, on the caller's thread, without `mu` held;
  // a non-OK status fails the launch. Set before the backend is shared.
  std::function<absl::Status(const backend::JobSpec&)> before_launch;
  std::atomic<bool> reachable{true};
  std::atomic<int> probe_calls{0};
  // ClassifyFailure's answer; null: DefaultFailureClass. Set before sharing.
  std::function<backend::FailureClass(JobStatus, absl::string_view)> classify;
  // StreamLogs's answer when not OK (e.g. NOT_FOUND: the backend forgot the job).
  absl::Status logs_error;
  // Cancel ends a live job at once (CANCELLED), like a job that exits on
  // SIGTERM. Set before the backend is shared.
  bool cancel_ends_jobs = false;

  std::mutex mu;
  std::map<std::string, backend::JobObservation> jobs;
  std::map<std::string, backend::JobSpec> specs;
  std::vector<std::string> launched_names;
  std::vector<std::string> cancelled;
  std::vector<std::string> torn_down;
  absl::Status launch_error;
  absl::Status render_error;
  absl::Status query_error;
  absl::Status find_error;
  absl::Status cancel_error;
  int launch_calls = 0;
  int query_calls = 0;
  int find_calls = 0;
  int cancel_calls = 0;
  int logs_calls = 0;
  int next_id = 0;
};

}  // namespace skydeck::reconcile
