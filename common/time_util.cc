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

}  // namespace skydeck
