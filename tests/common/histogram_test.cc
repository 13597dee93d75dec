#include "common/histogram.h"

#include <cmath>

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

TEST_CASE("a value lands in the first bucket whose bound is >= it", "[metrics][histogram]") {
  const double bounds[] = {0.01, 0.1, 1};
  Histogram h(bounds);
  h.Observe(0.005);  // le 0.01
  h.Observe(0.01);   // on a bound: that bound's bucket (le is <=)
  h.Observe(0.05);   // le 0.1
  h.Observe(3);      // above every bound: +Inf only
  HistogramSnapshot s = h.Snapshot();
  CHECK(s.upper_bounds == std::vector<double>{0.01, 0.1, 1});
  CHECK(s.cumulative == std::vector<uint64_t>{2, 3, 3});
  CHECK(s.count == 4);
  CHECK(s.sum == Approx(3.065));
}

TEST_CASE("NaN is not an observation", "[metrics][histogram]") {
  Histogram h;
  h.Observe(std::nan(""));
  h.Observe(0.002);
  HistogramSnapshot s = h.Snapshot();
  CHECK(s.count == 1);
  CHECK(s.sum == Approx(0.002));
  CHECK_FALSE(std::isnan(s.sum));
}

TEST_CASE("the default latency buckets run from 1 ms to 10 s", "[metrics][histogram]") {
  HistogramSnapshot s = Histogram().Snapshot();
  REQUIRE(s.upper_bounds.size() == std::size(kLatencyBuckets));
  CHECK(s.upper_bounds.front() == 0.001);
  CHECK(s.upper_bounds.back() == 10);
  CHECK(std::is_sorted(s.upper_bounds.begin(), s.upper_bounds.end()));
  CHECK(s.count == 0);
  CHECK(s.cumulative == std::vector<uint64_t>(std::size(kLatencyBuckets), 0));
}

}  // namespace
}  // namespace skydeck
