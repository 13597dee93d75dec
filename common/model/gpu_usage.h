// File: common/model/gpu_usage.h
//
// How long a job ran and how many GPU-hours that is: nodes x GPUs per node
// x running time, where running time is from the job's start to its end
// (or `now` while it is live) minus the time the backend reported it was
// not running (preemption gaps: paused_ms, and the pause going on since
// paused_since_ms). Computed at read time, so a live job accrues.
//
//   JobRecord j;  j.nodes = 2; j.gpus = 8; j.started_ms = 0;
//   j.ended_ms = 3'600'000; j.paused_ms = 1'800'000;
//   GpuHours(j, /*now_ms=*/0) == 8.0   // 2 x 8 GPUs x 0.5 h
#pragma once

#include <cstdint>

#include "common/model/records.h"

namespace skydeck {

// Milliseconds the job ran: 0 when it never started; never negative.
int64_t RunningMs(const JobRecord& job, int64_t now_ms);

// Milliseconds of RunningMs that fall within [from_ms, now_ms]. A window
// that covers the whole job gives RunningMs; otherwise the overlap of the
// window with [start, end] is scaled by the job's running fraction (the
// backend reports how long a job was paused, not when).
int64_t RunningMsSince(const JobRecord& job, int64_t from_ms, int64_t now_ms);

// nodes x gpus x hours; 0 for a job without GPUs.
double GpuHours(const JobRecord& job, int64_t now_ms, int64_t from_ms = 0);

}  // namespace skydeck
