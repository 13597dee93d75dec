#include "cli/since_flag.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace skydeck::cli {
namespace {

// absl durations stop at hours; people count cost in days and weeks.
bool ParseDaysOrWeeks(const std::string& text, absl::Duration* out) {
  if (text.size() < 2) return false;
  char unit = absl::ascii_tolower(static_cast<unsigned char>(text.back()));
  if (unit != 'd' && unit != 'w') return false;
  double count = 0;
  if (!absl::SimpleAtod(text.substr(0, text.size() - 1), &count)) return false;
  *out = absl::Hours(24) * count * (unit == 'w' ? 7 : 1);
  return true;
}

}  // namespace

absl::StatusOr<int64_t> ParseSince(const std::string& text, int64_t now_ms) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--since \"", text, "\": ", why,
                     "; give a time back from now (7d, 12h, 30m, 2w) or a moment "
                     "(2026-12-01 or 2026-12-01T09:00:00Z)"));
  };
  absl::Duration back;
  if (ParseDaysOrWeeks(text, &back) || absl::ParseDuration(text, &back)) {
    if (back < absl::ZeroDuration() || back == absl::InfiniteDuration()) {
      return bad("must not be negative");
    }
    return now_ms - absl::ToInt64Milliseconds(back);
  }
  absl::Time at;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &at, &error) ||
      absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &at, &error)) {
    int64_t ms = absl::ToUnixMillis(at);
    if (ms > now_ms) return bad("is in the future");
    return ms;
  }
  return bad("is neither a duration nor a time");
}

}  // namespace skydeck::cli
