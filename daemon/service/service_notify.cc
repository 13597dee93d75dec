// TestNotify and the notify sinks of GetHealth.
#include "absl/strings/str_cat.h"

#include "common/model/proto_convert.h"
#include "common/status_macros.h"
#include "daemon/notify/notifier.h"
#include "daemon/service/notify_status.h"
#include "daemon/service/skydeck_service.h"

namespace skydeck::service {
namespace {

constexpr size_t kMaxSinkName = 64;

void SetTime(int64_t ms, google::protobuf::Timestamp* t) {
  if (ms != 0) ToProtoTime(ms, t);
}

}  // namespace

void AddNotifySinks(const notify::Notifier* notifier, pb::Health* health) {
  if (notifier == nullptr) return;
  for (const notify::SinkStatus& s : notifier->Status()) {
    pb::NotifySink* out = health->add_notify_sinks();
    out->set_name(s.name);
    out->set_url(s.url);
    out->set_format(s.format);
    for (const std::string& e : s.events) out->add_events(e);
    out->set_selector(s.selector);
    out->set_delivered(s.delivered);
    out->set_failed_attempts(s.failed);
    out->set_consecutive_failures(s.consecutive_failures);
    out->set_failing(s.failing);
    out->set_last_error(s.last_error);
    SetTime(s.last_delivery_ms, out->mutable_last_delivery_time());
    SetTime(s.last_failure_ms, out->mutable_last_failure_time());
    SetTime(s.next_attempt_ms, out->mutable_next_attempt_time());
    out->set_cursor(s.cursor);
  }
}

grpc::Status SkyDeckService::TestNotify(grpc::ServerContext* ctx, const pb::TestNotifyRequest* req,
                                        pb::TestNotifyResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    if (notifier_ == nullptr) {
      return absl::FailedPreconditionError(
          "skydeckd runs without notifications; start it with --notify FILE");
    }
    if (req->sink().size() > kMaxSinkName) {
      return absl::InvalidArgumentError(
          absl::StrCat("sink: at most ", kMaxSinkName, " characters"));
    }
    ASSIGN_OR_RETURN(std::vector<notify::TestResult> results, notifier_->SendTest(req->sink()));
    for (const notify::TestResult& r : results) {
      pb::TestNotifyResponse::Result* out = resp->add_results();
      out->set_sink(r.sink);
      out->set_url(r.url);
      out->set_ok(r.status.ok());
      out->set_error(std::string(r.status.message()));
      out->set_duration_ms(r.duration_ms);
    }
    return absl::OkStatus();
  });
}

}  // namespace skydeck::service
