#include "common/prometheus_text.h"

#include <catch2/catch.hpp>

#include "exposition_checker.h"

namespace skydeck {
namespace {

TEST_CASE("label values escape backslash, quote and newline", "[metrics][prometheus]") {
  CHECK(EscapeLabelValue("plain") == "plain");
  CHECK(EscapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  CHECK(EscapeLabelValue("tab\tstays") == "tab\tstays");
}

TEST_CASE("values print in their shortest exact form", "[metrics][prometheus]") {
  CHECK(FormatMetricValue(0) == "0");
  CHECK(FormatMetricValue(3) == "3");
  CHECK(FormatMetricValue(0.0025) == "0.0025");
  CHECK(FormatMetricValue(1234567.125) == "1234567.125");
  CHECK(FormatMetricValue(1.0 / 0.0) == "+Inf");
  CHECK(FormatMetricValue(-1.0 / 0.0) == "-Inf");
  CHECK(FormatMetricValue(std::nan("")) == "NaN");
}

TEST_CASE("a family is HELP and TYPE lines, then its samples", "[metrics][prometheus]") {
  PrometheusText t;
  t.Family("jobs_total", MetricType::kCounter, "Jobs.\nBy \\ status.");
  t.Sample("jobs_total", {{"status", "RUN\"NING"}, {"backend", "local"}}, 2);
  t.Family("queue_depth", MetricType::kGauge, "Depth.");
  t.Sample("queue_depth", {}, 0);
  CHECK(t.text() ==
        "# HELP jobs_total Jobs.\\nBy \\\\ status.\n"
        "# TYPE jobs_total counter\n"
        "jobs_total{status=\"RUN\\\"NING\",backend=\"local\"} 2\n"
        "# HELP queue_depth Depth.\n"
        "# TYPE queue_depth gauge\n"
        "queue_depth 0\n");
  testing::Exposition e = testing::ParseExposition(t.text());
  CHECK(e.problems.empty());
  CHECK(e.Value("jobs_total", {{"backend", "local"}, {"status", "RUN\"NING"}}) == 2);
}

TEST_CASE("a histogram renders cumulative buckets, +Inf, _sum and _count",
          "[metrics][prometheus]") {
  const double bounds[] = {0.01, 0.1};
  Histogram h(bounds);
  h.Observe(0.005);
  h.Observe(0.05);
  h.Observe(0.07);
  h.Observe(4);
  PrometheusText t;
  t.Family("call_seconds", MetricType::kHistogram, "Calls.");
  t.Histogram("call_seconds", {{"op", "launch"}}, h.Snapshot());
  CHECK(t.text() ==
        "# HELP call_seconds Calls.\n"
        "# TYPE call_seconds histogram\n"
        "call_seconds_bucket{op=\"launch\",le=\"0.01\"} 1\n"
        "call_seconds_bucket{op=\"launch\",le=\"0.1\"} 3\n"
        "call_seconds_bucket{op=\"launch\",le=\"+Inf\"} 4\n"
        "call_seconds_sum{op=\"launch\"} 4.125\n"
        "call_seconds_count{op=\"launch\"} 4\n");
  CHECK(testing::ParseExposition(t.text()).problems.empty());
}

// The checker the other metric tests rely on must catch what it claims to.
TEST_CASE("the exposition checker rejects broken text", "[metrics][prometheus]") {
  auto problems = [](const std::string& text) {
    return testing::ParseExposition(text).problems.size();
  };
  CHECK(problems("# TYPE a_total counter\na_total 1\n") == 0);
  CHECK(problems("a_total 1\n") > 0);                                     // no TYPE
  CHECK(problems("# TYPE a_total counter\na_total{x=\"y} 1\n") > 0);      // unterminated
  CHECK(problems("# TYPE a_total counter\na_total{x=\"\\t\"} 1\n") > 0);  // bad escape
  CHECK(problems("# TYPE a_total counter\na_total one\n") > 0);           // bad value
  CHECK(problems("# TYPE a counter\na 1\n") > 0);                         // not *_total
  CHECK(problems("# TYPE a_total counter\n# TYPE a_total counter\na_total 1\n") > 0);
  CHECK(problems("# TYPE a_total counter\n# TYPE b gauge\na_total 1\nb 1\na_total{x=\"1\"} 1\n") >
        0);                                                               // not contiguous
  CHECK(problems("# TYPE a_total counter\na_total 1\na_total 2\n") > 0);  // duplicate
  const std::string head = "# TYPE h histogram\n";
  CHECK(problems(head + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n") ==
        0);
  CHECK(problems(head + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n") >
        0);                                                                  // not cumulative
  CHECK(problems(head + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n") > 0);  // no +Inf
  CHECK(problems(head + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n") >
        0);  // _count != +Inf
  CHECK(problems(head + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n") > 0);
}

}  // namespace
}  // namespace skydeck
