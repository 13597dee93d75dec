#include "common/time_util.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace skydeck {

int64_t NowMillis() { return absl::ToUnixMillis(absl::Now()); }

std::string FormatRfc3339(int64_t unix_millis) {
  if (unix_millis == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_millis),
                          absl::UTCTimeZone());
}

std::string FormatDurationRounded(absl::Duration d) {
  absl::Duration magnitude = absl::AbsDuration(d);
  absl::Duration unit = magnitude >= absl::Seconds(10)  ? absl::Seconds(1)
                        : magnitude >= absl::Seconds(1) ? absl::Milliseconds(100)
                                                        : absl::Milliseconds(1);
  absl::Duration half = unit / 2;
  return absl::FormatDuration(absl::Trunc(d < absl::ZeroDuration() ? d - half : d + half, unit));
}

}  // namespace skydeck
