#include "common/time_util.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

TEST_CASE("durations are printed rounded for people", "[common]") {
  // A jittered backoff printed as "21.40899002775s" before.
  CHECK(FormatDurationRounded(absl::Seconds(21.40899002775)) == "21s");
  CHECK(FormatDurationRounded(absl::Seconds(21.6)) == "22s");
  CHECK(FormatDurationRounded(absl::Milliseconds(2449)) == "2.4s");
  CHECK(FormatDurationRounded(absl::Milliseconds(2451)) == "2.5s");
  CHECK(FormatDurationRounded(absl::Microseconds(250400)) == "250ms");
  CHECK(FormatDurationRounded(absl::Minutes(2)) == "2m");
  CHECK(FormatDurationRounded(absl::Seconds(-3.26)) == "-3.3s");
  CHECK(FormatDurationRounded(absl::ZeroDuration()) == "0");
}

}  // namespace
}  // namespace skydeck
