#include "cli/since_flag.h"

#include <catch2/catch.hpp>

namespace skydeck::cli {
namespace {

constexpr int64_t kNow = 1'765'000'000'000;  // 2025-12-06T05:46:40Z
constexpr int64_t kHour = 3'600'000;

TEST_CASE("cost's --since takes a time back from now", "[cli][cost]") {
  CHECK(*ParseSince("7d", kNow) == kNow - 7 * 24 * kHour);
  CHECK(*ParseSince("2w", kNow) == kNow - 14 * 24 * kHour);
  CHECK(*ParseSince("12h", kNow) == kNow - 12 * kHour);
  CHECK(*ParseSince("30m", kNow) == kNow - kHour / 2);
}

TEST_CASE("cost's --since takes a moment", "[cli][cost]") {
  CHECK(*ParseSince("2025-12-01", kNow) == 1'764'547'200'000);
  CHECK(*ParseSince("2025-12-01T01:00:00Z", kNow) == 1'764'547'200'000 + kHour);
}

TEST_CASE("cost's --since refuses what it cannot read", "[cli][cost]") {
  for (const char* bad : {"soon", "-3d", "2099-01-01", "7x", ""}) {
    INFO(bad);
    CHECK(ParseSince(bad, kNow).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace skydeck::cli
