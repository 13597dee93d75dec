#include "common/model/gpu_usage.h"

#include <algorithm>

namespace skydeck {
namespace {

constexpr double kMsPerHour = 3'600'000.0;

int64_t EndOrNow(const JobRecord& job, int64_t now_ms) {
  return job.ended_ms != 0 ? job.ended_ms : std::max(now_ms, job.started_ms);
}

}  // namespace

int64_t RunningMs(const JobRecord& job, int64_t now_ms) {
  if (job.started_ms == 0) return 0;
  int64_t end = EndOrNow(job, now_ms);
  int64_t paused = job.paused_ms;
  // A pause still going on (the job is recovering) does not count either.
  if (job.paused_since_ms != 0) paused += std::max<int64_t>(0, end - job.paused_since_ms);
  return std::max<int64_t>(0, end - job.started_ms - paused);
}

int64_t RunningMsSince(const JobRecord& job, int64_t from_ms, int64_t now_ms) {
  int64_t running = RunningMs(job, now_ms);
  if (running == 0 || from_ms <= job.started_ms) return running;
  int64_t end = EndOrNow(job, now_ms);
  if (from_ms >= end) return 0;
  int64_t wall = end - job.started_ms;
  double fraction = static_cast<double>(end - from_ms) / static_cast<double>(wall);
  return static_cast<int64_t>(static_cast<double>(running) * fraction);
}

double GpuHours(const JobRecord& job, int64_t now_ms, int64_t from_ms) {
  if (job.gpus <= 0 || job.nodes <= 0) return 0;
  int64_t ms = from_ms > 0 ? RunningMsSince(job, from_ms, now_ms) : RunningMs(job, now_ms);
  return static_cast<double>(job.nodes) * job.gpus * (static_cast<double>(ms) / kMsPerHour);
}

}  // namespace skydeck
