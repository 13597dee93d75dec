// File: daemon/reconcile/job_text.h
//
// The phrases conditions and events use for jobs and times, so that every
// message names a job and a time the same way.
#pragma once

#include <cstdint>
#include <string>

#include "common/model/records.h"

namespace skydeck::reconcile {

// "job 7 (attempt 2) FAILED with exit code 1: <failure reason>"
std::string Describe(const JobRecord& job);

// "14:03:07 UTC": a time of day in condition and event messages.
std::string ClockTime(int64_t unix_ms);

}  // namespace skydeck::reconcile
