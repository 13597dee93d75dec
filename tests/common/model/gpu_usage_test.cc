#include "common/model/gpu_usage.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

constexpr int64_t kHour = 3'600'000;
// Times are unix ms, 0 meaning unset: tests count hours from here.
constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t At(double hours) { return kT0 + static_cast<int64_t>(hours * kHour); }

// `ended` < 0: live.
JobRecord Job(int nodes, int gpus, double started, double ended) {
  JobRecord j;
  j.nodes = nodes;
  j.gpus = gpus;
  j.started_ms = At(started);
  j.ended_ms = ended < 0 ? 0 : At(ended);
  return j;
}

TEST_CASE("GPU-hours are nodes x GPUs per node x running hours", "[cost]") {
  JobRecord j = Job(2, 8, 10, 13);
  CHECK(RunningMs(j, At(100)) == 3 * kHour);
  CHECK(GpuHours(j, At(100)) == Approx(48.0));  // 2 x 8 x 3 h
}

TEST_CASE("a job that never started, or has no GPUs, counts nothing", "[cost]") {
  JobRecord never = Job(1, 8, 0, -1);
  never.started_ms = 0;
  CHECK(RunningMs(never, At(5)) == 0);
  CHECK(GpuHours(never, At(5)) == 0);
  CHECK(GpuHours(Job(4, 0, 1, 3), At(5)) == 0);
  CHECK(RunningMs(Job(4, 0, 1, 3), At(5)) == 2 * kHour);
}

TEST_CASE("a running job accrues up to now", "[cost]") {
  JobRecord j = Job(1, 4, 1, -1);
  CHECK(GpuHours(j, At(2)) == Approx(4.0));
  CHECK(GpuHours(j, At(3)) == Approx(8.0));
  // A clock behind the start never gives negative time.
  CHECK(RunningMs(j, At(0)) == 0);
}

TEST_CASE("preemption gaps the backend reported are not counted", "[cost]") {
  JobRecord j = Job(1, 8, 0, 4);
  j.paused_ms = kHour;  // recovered once, after an hour-long gap
  CHECK(RunningMs(j, At(10)) == 3 * kHour);
  CHECK(GpuHours(j, At(10)) == Approx(24.0));
}

TEST_CASE("a pause still going on stops the accrual", "[cost]") {
  JobRecord j = Job(1, 1, 0, -1);
  j.paused_ms = kHour / 2;
  j.paused_since_ms = At(2);  // recovering since 2 h
  CHECK(RunningMs(j, At(2)) == kHour + kHour / 2);
  CHECK(RunningMs(j, At(5)) == kHour + kHour / 2);  // no growth while paused
  // It ended while recovering: the pause lasts until the end.
  j.ended_ms = At(3);
  CHECK(RunningMs(j, At(9)) == kHour + kHour / 2);
}

TEST_CASE("a window counts the running time after its start", "[cost]") {
  JobRecord j = Job(1, 2, 0, 10);
  CHECK(RunningMsSince(j, 0, At(20)) == 10 * kHour);
  CHECK(RunningMsSince(j, At(6), At(20)) == 4 * kHour);
  CHECK(RunningMsSince(j, At(11), At(20)) == 0);
  CHECK(GpuHours(j, At(20), At(6)) == Approx(8.0));
  // Pauses are pro-rated: the backend says how long, not when.
  j.paused_ms = 5 * kHour;
  CHECK(RunningMsSince(j, At(6), At(20)) == 2 * kHour);
}

}  // namespace
}  // namespace skydeck
