#include "common/duration_flag.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace skydeck {

absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& text) {
  double seconds;
  if (absl::SimpleAtod(text, &seconds) && seconds >= 0) return absl::Seconds(seconds);
  absl::Duration d;
  if (absl::ParseDuration(text, &d) && d >= absl::ZeroDuration()) return d;
  return absl::InvalidArgumentError(
      absl::StrCat("duration \"", text, "\": use e.g. 30s, 500ms, 2m or 1h"));
}

}  // namespace skydeck
