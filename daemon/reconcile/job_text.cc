#include "daemon/reconcile/job_text.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace skydeck::reconcile {

std::string Describe(const JobRecord& job) {
  std::string out = absl::StrCat("job ", job.id, " (attempt ", job.attempt, ") ", Name(job.status));
  if (job.exit_code) absl::StrAppend(&out, " with exit code ", *job.exit_code);
  if (!job.failure_reason.empty()) absl::StrAppend(&out, ": ", job.failure_reason);
  return out;
}

std::string ClockTime(int64_t unix_ms) {
  return absl::StrCat(
      absl::FormatTime("%H:%M:%S", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone()), " UTC");
}

}  // namespace skydeck::reconcile
