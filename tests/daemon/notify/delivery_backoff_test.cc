#include "daemon/notify/delivery_backoff.h"

#include <catch2/catch.hpp>

namespace skydeck::notify {
namespace {

TEST_CASE("retries back off exponentially up to the maximum", "[notify]") {
  BackoffPolicy p{absl::Seconds(1), absl::Minutes(5)};
  CHECK(RetryDelay(1, p, 0) == absl::Seconds(1));
  CHECK(RetryDelay(2, p, 0) == absl::Seconds(2));
  CHECK(RetryDelay(4, p, 0) == absl::Seconds(8));
  CHECK(RetryDelay(9, p, 0) == absl::Seconds(256));
  CHECK(RetryDelay(10, p, 0) == absl::Minutes(5));
  CHECK(RetryDelay(1000000, p, 0) == absl::Minutes(5));
}

TEST_CASE("jitter takes off at most a fifth", "[notify]") {
  BackoffPolicy p{absl::Seconds(10), absl::Minutes(5)};
  CHECK(RetryDelay(1, p, 0.5) == absl::Seconds(9));
  CHECK(RetryDelay(1, p, 0.999) > absl::Seconds(8));
  CHECK(RetryDelay(1, p, 5.0) > absl::Seconds(8));  // out of range: clamped
}

}  // namespace
}  // namespace skydeck::notify
