#include "daemon/notify/notifier.h"

#include <algorithm>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/log.h"
#include "common/model/event_types.h"
#include "common/time_util.h"
#include "daemon/notify/backend_watch.h"
#include "daemon/notify/url_redaction.h"
#include "daemon/notify/webhook_payload.h"
#include "daemon/notify/webhook_sender.h"

namespace skydeck::notify {
namespace {

// Remembers an announced backend outage across restarts, so that the
// daemon that sees the backend come back says so.
constexpr char kOutageMetaKey[] = "notify_backend_outage_announced";

NotifierOptions WithDefaults(NotifierOptions options) {
  if (!options.post) options.post = PostWebhook;
  return options;
}

std::string FormatName(PayloadFormat format) {
  return format == PayloadFormat::kSlack ? "slack" : "json";
}

}  // namespace

// One sink: its cursor, its thread, its counters.
class Notifier::SinkWorker {
 public:
  SinkWorker(store::Store* store, const NotifierOptions& options, SinkConfig sink)
      : store_(store),
        options_(options),
        sink_(std::move(sink)),
        shown_url_(RedactUrl(sink_.url)),
        random_(std::random_device{}()) {}

  const SinkConfig& sink() const { return sink_; }

  absl::Status LoadCursor() {
    absl::StatusOr<std::optional<int64_t>> saved = store_->GetNotifyCursor(sink_.name);
    if (!saved.ok()) return saved.status();
    int64_t cursor = 0;
    if (saved->has_value()) {
      cursor = **saved;
    } else {
      // A new sink is not sent the history from before it existed.
      absl::StatusOr<int64_t> latest = store_->LatestRevision();
      if (!latest.ok()) return latest.status();
      cursor = *latest;
      if (absl::Status s = store_->SetNotifyCursor(sink_.name, cursor); !s.ok()) return s;
    }
    absl::MutexLock lock(&mu_);
    cursor_ = cursor;
    return absl::OkStatus();
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

  SinkStatus Status() const {
    SinkStatus s;
    s.name = sink_.name;
    s.url = shown_url_;
    s.format = FormatName(sink_.format);
    for (NotifyKind k : sink_.events) s.events.emplace_back(KindName(k));
    s.selector = sink_.selector_text;
    absl::MutexLock lock(&mu_);
    s.delivered = delivered_;
    s.failed = failed_;
    s.consecutive_failures = consecutive_failures_;
    s.failing = consecutive_failures_ >= kFailingAfter;
    s.last_error = last_error_;
    s.last_delivery_ms = last_delivery_ms_;
    s.last_failure_ms = last_failure_ms_;
    s.next_attempt_ms = consecutive_failures_ > 0 ? absl::ToUnixMillis(next_attempt_) : 0;
    s.cursor = cursor_;
    return s;
  }

 private:
  void Run() {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.idle_check);
        if (stopping_) return;
        if (absl::Now() < next_attempt_) continue;
        bool retrying = consecutive_failures_ > 0;
        if (!retrying && options_.revision && options_.revision() <= cursor_) continue;
      }
      while (Drain()) {
      }
    }
  }

  // Deals with one batch of events after the cursor. True when a full
  // batch was dealt with (more may follow at once).
  bool Drain() {
    int64_t cursor;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return false;
      cursor = cursor_;
    }
    absl::StatusOr<std::vector<EventRecord>> events =
        store_->EventsAfter(cursor, 0, options_.batch);
    if (!events.ok()) {
      LogWarn("notifications: cannot read events",
              {{"sink", sink_.name}, {"error", std::string(events.status().message())}});
      return false;
    }
    int64_t dealt = cursor;
    std::map<int64_t, std::optional<ExperimentRecord>> experiments;
    for (const EventRecord& e : *events) {
      std::optional<Notification> n = Wanted(e, experiments);
      if (!n) {
        dealt = e.id;
        continue;
      }
      absl::Status sent = options_.post(sink_, FormatPayload(sink_.format, *n), n->idempotency_key);
      if (!sent.ok()) {
        Failed(sent, e.id);
        Advance(cursor, dealt);
        return false;
      }
      dealt = e.id;
      Advance(cursor, dealt);
      cursor = dealt;
      Delivered();
    }
    Advance(cursor, dealt);
    return static_cast<int>(events->size()) == options_.batch;
  }

  // The notification `e` makes for this sink, if it wants one.
  std::optional<Notification> Wanted(
      const EventRecord& e, std::map<int64_t, std::optional<ExperimentRecord>>& experiments) {
    std::optional<NotifyKind> kind = ClassifyEvent(e);
    if (!kind || !sink_.events.count(*kind)) return std::nullopt;
    Notification n;
    n.kind = kind;
    n.idempotency_key = EventIdempotencyKey(options_.installation_id, e.id);
    n.event_id = e.id;
    n.time_ms = e.time_ms;
    n.job_id = e.job_id;
    n.reason = e.reason;
    n.message = e.message;
    if (e.experiment_id == 0) return n;  // backend events pass any selector
    auto [it, inserted] = experiments.try_emplace(e.experiment_id);
    if (inserted) {
      absl::StatusOr<ExperimentRecord> r = store_->GetExperiment(e.experiment_id);
      if (r.ok()) it->second = *std::move(r);
    }
    n.experiment_id = e.experiment_id;
    if (it->second) {
      n.experiment_name = it->second->spec.name;
      n.labels = it->second->spec.labels;
    }
    if (sink_.selector && !sink_.selector->Matches(n.labels)) return std::nullopt;
    return n;
  }

  void Advance(int64_t from, int64_t to) {
    if (to == from) return;
    // A failed write costs at most a repeat after a restart (same key).
    if (absl::Status s = store_->SetNotifyCursor(sink_.name, to); !s.ok()) {
      LogWarn("notifications: cannot record progress",
              {{"sink", sink_.name}, {"error", std::string(s.message())}});
    }
    absl::MutexLock lock(&mu_);
    cursor_ = std::max(cursor_, to);
  }

  void Delivered() {
    absl::MutexLock lock(&mu_);
    if (consecutive_failures_ >= kFailingAfter) {
      LogInfo("notifications: sink delivers again", {{"sink", sink_.name}, {"url", shown_url_}});
    }
    ++delivered_;
    consecutive_failures_ = 0;
    last_error_.clear();
    last_delivery_ms_ = NowMillis();
  }

  void Failed(const absl::Status& error, int64_t event_id) {
    absl::MutexLock lock(&mu_);
    ++failed_;
    ++consecutive_failures_;
    last_error_ = RedactIn(std::string(error.message()), sink_.url);
    last_failure_ms_ = NowMillis();
    double jitter = std::uniform_real_distribution<double>(0, 1)(random_);
    absl::Duration delay = RetryDelay(consecutive_failures_, options_.backoff, jitter);
    next_attempt_ = absl::Now() + delay;
    if (consecutive_failures_ == 1 || consecutive_failures_ == kFailingAfter) {
      LogWarn("notifications: delivery failed; retrying",
              {{"sink", sink_.name},
               {"url", shown_url_},
               {"event", absl::StrCat(event_id)},
               {"attempts", absl::StrCat(consecutive_failures_)},
               {"retry_in", FormatDurationRounded(delay)},
               {"error", last_error_}});
    }
  }

  store::Store* const store_;
  const NotifierOptions& options_;
  const SinkConfig sink_;
  const std::string shown_url_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  int64_t last_delivery_ms_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_failure_ms_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time next_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::mt19937 random_ ABSL_GUARDED_BY(mu_);
};

Notifier::Notifier(store::Store* store, NotifierOptions options)
    : store_(store), options_(WithDefaults(std::move(options))) {
  for (const SinkConfig& sink : options_.config.sinks) {
    workers_.push_back(std::make_unique<SinkWorker>(store_, options_, sink));
  }
}

Notifier::~Notifier() { Stop(); }

absl::Status Notifier::Start() {
  for (auto& w : workers_) {
    if (absl::Status s = w->LoadCursor(); !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("notify sink ", w->sink().name, ": ", s.message()));
    }
  }
  for (auto& w : workers_) w->Start();
  bool wants_backend = false;
  for (const SinkConfig& sink : options_.config.sinks) {
    wants_backend |= sink.events.count(NotifyKind::kBackendUnreachable) > 0 ||
                     sink.events.count(NotifyKind::kBackendReachable) > 0;
  }
  if (wants_backend && options_.backend_health) {
    backend_thread_ = std::thread([this] { WatchBackend(); });
  }
  return absl::OkStatus();
}

void Notifier::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (backend_thread_.joinable()) backend_thread_.join();
  for (auto& w : workers_) w->Stop();
}

void Notifier::WatchBackend() {
  absl::StatusOr<std::optional<std::string>> saved = store_->GetMeta(kOutageMetaKey);
  bool announced = saved.ok() && saved->has_value() && **saved == "1";
  BackendWatch watch(options_.config.unreachable_after, announced);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.backend_check);
      if (stopping_) return;
    }
    std::optional<NewEvent> event = watch.Observe(options_.backend_health(), NowMillis());
    if (!event) continue;
    // The event first: if the daemon dies between the two writes, the
    // outage is announced again rather than never.
    absl::Status s = store_->AppendEvent(*event);
    if (s.ok()) s = store_->SetMeta(kOutageMetaKey, watch.announced() ? "1" : "0");
    if (!s.ok()) {
      LogWarn("notifications: cannot record a backend event",
              {{"event", event->type}, {"error", std::string(s.message())}});
    }
  }
}

std::vector<SinkStatus> Notifier::Status() const {
  std::vector<SinkStatus> out;
  for (const auto& w : workers_) out.push_back(w->Status());
  return out;
}

absl::StatusOr<std::vector<TestResult>> Notifier::SendTest(const std::string& only) {
  std::vector<const SinkConfig*> sinks;
  for (const SinkConfig& sink : options_.config.sinks) {
    if (only.empty() || sink.name == only) sinks.push_back(&sink);
  }
  if (!only.empty() && sinks.empty()) {
    std::vector<std::string> names;
    for (const SinkConfig& sink : options_.config.sinks) names.push_back(sink.name);
    return absl::NotFoundError(
        absl::StrCat("no notify sink named '", only,
                     "' (sinks: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }
  std::vector<TestResult> results(sinks.size());
  std::vector<std::thread> threads;
  int64_t now_ms = NowMillis();
  for (size_t i = 0; i < sinks.size(); ++i) {
    threads.emplace_back([&, i] {
      const SinkConfig& sink = *sinks[i];
      Notification n;
      n.idempotency_key = absl::StrCat("skydeck-", options_.installation_id, "-test-", now_ms);
      n.time_ms = now_ms;
      n.message = absl::StrCat("a test message to sink '", sink.name, "' from skydeckd");
      absl::Time start = absl::Now();
      absl::Status s = options_.post(sink, FormatPayload(sink.format, n), n.idempotency_key);
      results[i] = TestResult{
          sink.name, RedactUrl(sink.url),
          s.ok() ? s : absl::Status(s.code(), RedactIn(std::string(s.message()), sink.url)),
          absl::ToInt64Milliseconds(absl::Now() - start)};
    });
  }
  for (std::thread& t : threads) t.join();
  return results;
}

void Notifier::RenderMetrics(PrometheusText* out) const {
  std::vector<SinkStatus> sinks = Status();
  out->Family("skydeck_notify_deliveries_total", MetricType::kCounter,
              "Notifications delivered, by sink.");
  for (const SinkStatus& s : sinks) {
    out->Sample("skydeck_notify_deliveries_total", {{"sink", s.name}},
                static_cast<double>(s.delivered));
  }
  out->Family("skydeck_notify_delivery_failures_total", MetricType::kCounter,
              "Failed notification delivery attempts, by sink.");
  for (const SinkStatus& s : sinks) {
    out->Sample("skydeck_notify_delivery_failures_total", {{"sink", s.name}},
                static_cast<double>(s.failed));
  }
  out->Family("skydeck_notify_sink_failing", MetricType::kGauge,
              "1 while a sink's last deliveries failed (3 or more in a row).");
  for (const SinkStatus& s : sinks) {
    out->Sample("skydeck_notify_sink_failing", {{"sink", s.name}}, s.failing ? 1 : 0);
  }
  out->Family("skydeck_notify_sink_cursor", MetricType::kGauge,
              "The newest event id a sink has dealt with (compare skydeck health's revision).");
  for (const SinkStatus& s : sinks) {
    out->Sample("skydeck_notify_sink_cursor", {{"sink", s.name}}, static_cast<double>(s.cursor));
  }
}

}  // namespace skydeck::notify
