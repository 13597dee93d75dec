// File: daemon/backend/backend_wrapper.h
//
// A Backend that forwards every call to another one, after LevelDB's
// EnvWrapper: subclass it and override only the calls you change (timing
// them, injecting faults), and the rest keep working unchanged.
//
//   class SlowLaunches final : public BackendWrapper {
//    public:
//     using BackendWrapper::BackendWrapper;
//     absl::StatusOr<std::string> Launch(const JobSpec& spec) override {
//       absl::SleepFor(absl::Seconds(1));
//       return BackendWrapper::Launch(spec);
//     }
//   };
//
// Thread-safety: as the wrapped backend's.
#pragma once

#include <memory>
#include <utility>

#include "daemon/backend/backend.h"

namespace skydeck::backend {

class BackendWrapper : public Backend {
 public:
  // REQUIRES: `target` is not null.
  explicit BackendWrapper(std::unique_ptr<Backend> target) : target_(std::move(target)) {}

  Backend* target() const { return target_.get(); }

  std::string name() const override { return target_->name(); }
  int64_t DefaultPollIntervalMs() const override { return target_->DefaultPollIntervalMs(); }
  bool UsesCodeSnapshots() const override { return target_->UsesCodeSnapshots(); }
  absl::StatusOr<std::string> RenderTask(const JobSpec& spec) override {
    return target_->RenderTask(spec);
  }
  absl::StatusOr<std::string> Launch(const JobSpec& spec) override { return target_->Launch(spec); }
  absl::StatusOr<std::vector<JobObservation>> Query(
      const std::vector<std::string>& backend_job_ids) override {
    return target_->Query(backend_job_ids);
  }
  absl::StatusOr<std::vector<JobObservation>> Find(const std::string& name) override {
    return target_->Find(name);
  }
  absl::Status Cancel(const std::string& backend_job_id) override {
    return target_->Cancel(backend_job_id);
  }
  absl::Status Teardown(const std::string& backend_job_id) override {
    return target_->Teardown(backend_job_id);
  }
  absl::Status StreamLogs(const std::string& backend_job_id, bool follow, const LogTail& tail,
                          const std::function<bool(absl::string_view)>& sink,
                          const std::function<bool()>& cancelled) override {
    return target_->StreamLogs(backend_job_id, follow, tail, sink, cancelled);
  }
  BackendInfo Probe() override { return target_->Probe(); }
  FailureClass ClassifyFailure(JobStatus status, absl::string_view failure_reason) const override {
    return target_->ClassifyFailure(status, failure_reason);
  }

 private:
  std::unique_ptr<Backend> target_;
};

}  // namespace skydeck::backend
