#include "common/duration_flag.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

TEST_CASE("durations take a unit or plain seconds", "[common][flags]") {
  CHECK(*ParseDurationFlag("30s") == absl::Seconds(30));
  CHECK(*ParseDurationFlag("500ms") == absl::Milliseconds(500));
  CHECK(*ParseDurationFlag("2m") == absl::Minutes(2));
  CHECK(*ParseDurationFlag("1h30m") == absl::Minutes(90));
  CHECK(*ParseDurationFlag("30") == absl::Seconds(30));
  CHECK(*ParseDurationFlag("0.25") == absl::Milliseconds(250));
  CHECK(*ParseDurationFlag("0") == absl::ZeroDuration());
}

TEST_CASE("a bad or negative duration says what to write", "[common][flags]") {
  for (const char* bad : {"", "soon", "-1", "-5s", "10 s", "1d"}) {
    INFO(bad);
    absl::StatusOr<absl::Duration> d = ParseDurationFlag(bad);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(d.status().message().find("e.g. 30s") != absl::string_view::npos);
  }
}

}  // namespace
}  // namespace skydeck
