#include "common/metric_family.h"

#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "exposition_checker.h"

namespace skydeck {
namespace {

TEST_CASE("a family renders its header even before any sample", "[metrics][family]") {
  CounterFamily c("x_total", "X.", {"code"});
  PrometheusText t;
  c.Render(&t);
  CHECK(t.text() == "# HELP x_total X.\n# TYPE x_total counter\n");
  CHECK(c.Value({"OK"}) == 0);
}

TEST_CASE("series render sorted by label values, one family each", "[metrics][family]") {
  CounterFamily c("calls_total", "Calls.", {"method", "code"});
  c.Add({"b", "OK"});
  c.Add({"a", "NOT_FOUND"}, 2);
  c.Add({"b", "OK"});
  GaugeFamily g("open", "Open.", {"method"});
  g.Add({"w"}, 1);
  g.Add({"w"}, 1);
  g.Add({"w"}, -1);
  HistogramFamily h("call_duration_seconds", "Durations.", {"method"});
  h.Observe({"a"}, 0.003);
  PrometheusText t;
  c.Render(&t);
  g.Render(&t);
  h.Render(&t);
  testing::Exposition e = testing::ParseExposition(t.text());
  CHECK(e.problems.empty());
  CHECK(e.Value("calls_total", {{"method", "b"}, {"code", "OK"}}) == 2);
  CHECK(e.Value("calls_total", {{"method", "a"}, {"code", "NOT_FOUND"}}) == 2);
  CHECK(e.Value("open", {{"method", "w"}}) == 1);
  CHECK(e.Value("call_duration_seconds_bucket", {{"method", "a"}, {"le", "0.0025"}}) == 0);
  CHECK(e.Value("call_duration_seconds_bucket", {{"method", "a"}, {"le", "0.005"}}) == 1);
  CHECK(e.Value("call_duration_seconds_count", {{"method", "a"}}) == 1);
  CHECK(t.text().find("calls_total{method=\"a\"") < t.text().find("calls_total{method=\"b\""));
}

TEST_CASE("concurrent updates are all counted", "[metrics][family]") {
  CounterFamily c("n_total", "N.", {"worker"});
  HistogramFamily h("d_seconds", "D.", {});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.Add({std::to_string(t % 2)});
        h.Observe({}, 0.001);
      }
    });
  }
  // A scrape while others write sees a consistent copy of each series.
  PrometheusText t;
  c.Render(&t);
  for (auto& th : threads) th.join();
  CHECK(c.Value({"0"}) == 20000);
  CHECK(c.Value({"1"}) == 20000);
  CHECK(h.Snapshot({}).count == 40000);
}

}  // namespace
}  // namespace skydeck
