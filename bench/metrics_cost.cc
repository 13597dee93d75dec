// File: bench/metrics_cost.cc
//
// Our Prometheus code (common/metric_family.h, prometheus_text.h) against
// prometheus-cpp's core (Debian prometheus-cpp-dev 1.0.1), in one process,
// on the two paths that cost per request (issue 18 item 4):
//
// - observe: what the gRPC interceptor does per finished call
//   (grpc_server_metrics.cc): requests{method,code} += 1 and
//   duration{method}.Observe(seconds), looking the series up by label
//   values each time. prometheus-cpp twice: Family::Add on every call (its
//   documented way to reach a series; it builds a throw-away metric per
//   call), and with each series' reference cached in a map of our own (what
//   switching would really need, since our labels are only known per call).
// - scrape: rendering the daemon's gRPC families with `--methods` methods
//   seen (3 codes each) to the exposition text, ours via PrometheusText,
//   prometheus-cpp via Registry::Collect + TextSerializer.
//
// Every round runs each variant in turn (so machine load hits all alike)
// and times it in thread CPU time; the report is the median per operation
// and the ratio to ours. Both scrape texts are read by the tests'
// exposition checker (tests/common/exposition_checker.h) and by a
// series-by-series comparison, and the problems are printed.
//
//   build/release/bench/metrics_cost --methods 40 --rounds 15

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

#include "CLI/CLI.hpp"
#include "common/exposition_checker.h"
#include "common/metric_family.h"
#include "common/prometheus_text.h"

namespace {

constexpr const char* kCodes[] = {"OK", "NOT_FOUND", "INVALID_ARGUMENT"};

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<double> Buckets() {
  return std::vector<double>(std::begin(skydeck::kLatencyBuckets),
                             std::end(skydeck::kLatencyBuckets));
}

// The latency of call i: spread over the buckets, deterministic.
double Seconds(int i) { return 0.0004 * (1 + i % 997); }

// Ours, as grpc_server_metrics.h holds it.
struct Ours {
  skydeck::CounterFamily requests{
      "skydeck_grpc_requests_total", "gRPC requests.", {"method", "code"}};
  skydeck::HistogramFamily durations{
      "skydeck_grpc_request_duration_seconds", "gRPC unary latency.", {"method"}};
  void Finish(const std::string& method, const char* code, double seconds) {
    requests.Add({method, code});
    durations.Observe({method}, seconds);
  }
  std::string Scrape() const {
    skydeck::PrometheusText text;
    requests.Render(&text);
    durations.Render(&text);
    return text.text();
  }
};

// prometheus-cpp, reaching each series through Family::Add.
struct Theirs {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& requests = prometheus::BuildCounter()
                                                          .Name("skydeck_grpc_requests_total")
                                                          .Help("gRPC requests.")
                                                          .Register(registry);
  prometheus::Family<prometheus::Histogram>& durations =
      prometheus::BuildHistogram()
          .Name("skydeck_grpc_request_duration_seconds")
          .Help("gRPC unary latency.")
          .Register(registry);
  const std::vector<double> buckets = Buckets();

  void Finish(const std::string& method, const char* code, double seconds) {
    requests.Add({{"method", method}, {"code", code}}).Increment();
    durations.Add({{"method", method}}, buckets).Observe(seconds);
  }
  std::string Scrape() const { return prometheus::TextSerializer().Serialize(registry.Collect()); }
};

// prometheus-cpp with the series cached by label values (one lookup, our
// own mutex), the way a switched interceptor would have to hold them.
struct TheirsCached : Theirs {
  absl::Mutex mu;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> counters ABSL_GUARDED_BY(mu);
  std::map<std::string, prometheus::Histogram*> histograms ABSL_GUARDED_BY(mu);

  void Finish(const std::string& method, const char* code, double seconds) {
    prometheus::Counter* counter;
    prometheus::Histogram* histogram;
    {
      absl::MutexLock lock(&mu);
      prometheus::Counter*& c = counters[{method, code}];
      if (c == nullptr) c = &requests.Add({{"method", method}, {"code", code}});
      counter = c;
      prometheus::Histogram*& h = histograms[method];
      if (h == nullptr) h = &durations.Add({{"method", method}}, buckets);
      histogram = h;
    }
    counter->Increment();
    histogram->Observe(seconds);
  }
};

template <typename Metrics>
void Fill(Metrics& m, const std::vector<std::string>& methods) {
  for (size_t i = 0; i < methods.size(); ++i) {
    for (int c = 0; c < 3; ++c) m.Finish(methods[i], kCodes[c], Seconds(static_cast<int>(i + c)));
  }
}

// ns per Finish over `calls` calls spread over the methods.
template <typename Metrics>
double ObserveNs(Metrics& m, const std::vector<std::string>& methods, int calls) {
  double start = ThreadCpuSeconds();
  for (int i = 0; i < calls; ++i) {
    m.Finish(methods[i % methods.size()], kCodes[i % 7 == 0 ? 1 : 0], Seconds(i));
  }
  return (ThreadCpuSeconds() - start) * 1e9 / calls;
}

template <typename Metrics>
double ScrapeUs(const Metrics& m, int scrapes, size_t* bytes) {
  double start = ThreadCpuSeconds();
  for (int i = 0; i < scrapes; ++i) *bytes = m.Scrape().size();
  return (ThreadCpuSeconds() - start) * 1e6 / scrapes;
}

// Problems the exposition checker finds, and series whose values differ
// from ours (labels compared in any order).
std::vector<std::string> Compare(const std::string& ours, const std::string& theirs) {
  using skydeck::testing::ParseExposition;
  skydeck::testing::Exposition a = ParseExposition(ours);
  skydeck::testing::Exposition b = ParseExposition(theirs);
  std::vector<std::string> out;
  for (const std::string& p : a.problems) out.push_back("ours: " + p);
  for (const std::string& p : b.problems) out.push_back("prometheus-cpp: " + p);
  if (a.samples.size() != b.samples.size()) {
    out.push_back(
        absl::StrCat("samples: ours ", a.samples.size(), ", prometheus-cpp ", b.samples.size()));
  }
  int differ = 0;
  for (const auto& s : a.samples) {
    std::optional<double> v = b.Value(s.name, s.labels);
    if (v && *v == s.value) continue;
    if (++differ <= 3) {
      out.push_back(absl::StrCat(s.name, ": ours ", skydeck::FormatMetricValue(s.value),
                                 ", prometheus-cpp ",
                                 v ? skydeck::FormatMetricValue(*v) : std::string("missing")));
    }
  }
  if (differ > 0) {
    out.push_back(absl::StrCat(differ, " of ", a.samples.size(),
                               " series read back differently from prometheus-cpp's text"));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Per-request cost of our Prometheus code vs prometheus-cpp's core"};
  int methods_n = 40, rounds = 15, calls = 200000, scrapes = 200;
  app.add_option("--methods", methods_n, "gRPC methods with series")->check(CLI::Range(1, 10000));
  app.add_option("--rounds", rounds, "rounds (median reported)")->check(CLI::Range(1, 1000));
  app.add_option("--calls", calls, "Finish calls per round and variant")
      ->check(CLI::Range(1, 1 << 30));
  app.add_option("--scrapes", scrapes, "scrapes per round and variant")
      ->check(CLI::Range(1, 1 << 20));
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> methods;
  for (int i = 0; i < methods_n; ++i)
    methods.push_back(absl::StrCat("skydeck.v1.SkyDeck/Method", i));

  Ours ours;
  Theirs theirs;
  TheirsCached cached;
  Fill(ours, methods);
  Fill(theirs, methods);
  Fill(cached, methods);

  std::vector<double> obs_ours, obs_theirs, obs_cached, scr_ours, scr_theirs;
  size_t bytes_ours = 0, bytes_theirs = 0;
  for (int r = 0; r < rounds; ++r) {
    obs_ours.push_back(ObserveNs(ours, methods, calls));
    obs_theirs.push_back(ObserveNs(theirs, methods, calls));
    obs_cached.push_back(ObserveNs(cached, methods, calls));
    scr_ours.push_back(ScrapeUs(ours, scrapes, &bytes_ours));
    scr_theirs.push_back(ScrapeUs(theirs, scrapes, &bytes_theirs));
  }
  double o = Median(obs_ours), t = Median(obs_theirs), c = Median(obs_cached);
  double so = Median(scr_ours), st = Median(scr_theirs);
  std::printf("methods %d, rounds %d, median thread CPU time\n", methods_n, rounds);
  std::printf(
      "observe (counter + histogram per call): ours %.0f ns, prometheus-cpp Add %.0f ns "
      "(%.2fx), prometheus-cpp cached %.0f ns (%.2fx)\n",
      o, t, t / o, c, c / o);
  std::printf(
      "scrape (%d counter + %d histogram series): ours %.1f us (%zu bytes), "
      "prometheus-cpp %.1f us (%zu bytes) (%.2fx)\n",
      methods_n * 3, methods_n, so, bytes_ours, st, bytes_theirs, st / so);

  std::vector<std::string> problems = Compare(ours.Scrape(), theirs.Scrape());
  std::printf("exposition: %zu problems\n", problems.size());
  for (const std::string& p : problems) std::printf("  %s\n", p.c_str());
  return 0;
}
