#include "daemon/notify/webhook_sender.h"

#include "absl/strings/str_cat.h"

#include "common/status_macros.h"
#include "daemon/http/http_call.h"
#include "daemon/notify/url_redaction.h"

namespace skydeck::notify {

absl::Status PostWebhook(const SinkConfig& sink, const std::string& body,
                         const std::string& idempotency_key) {
  ASSIGN_OR_RETURN(WebhookTarget target, SplitWebhookUrl(sink.url));
  std::string shown = RedactUrl(sink.url);
  http::HttpCall call;
  call.method = "POST";
  call.scheme_host_port = target.scheme_host_port;
  call.path = target.path_and_query;
  call.headers = {{kIdempotencyKeyHeader, idempotency_key},
                  {"User-Agent", "skydeckd-notify/1"},
                  {"Accept", "*/*"}};
  call.has_body = true;
  call.body = body;
  call.content_type = "application/json";
  call.connect_timeout = sink.timeout;
  call.timeout = sink.timeout;
  call.what = "POST";
  call.endpoint = shown;
  call.peer = "the webhook";
  http::HttpOutcome out = http::SendHttp(call);
  if (!out.answer.ok()) {
    // Transport messages hold only `shown`; redact anyway in case a
    // library message quotes the request.
    return absl::Status(out.answer.status().code(),
                        RedactIn(std::string(out.answer.status().message()), sink.url));
  }
  int status = out.answer->status;
  if (status >= 200 && status < 300) return absl::OkStatus();
  std::string msg = absl::StrCat("POST at ", shown, ": HTTP ", status);
  if (status == 408 || status == 429 || status >= 500) return absl::UnavailableError(msg);
  return absl::FailedPreconditionError(msg);
}

}  // namespace skydeck::notify
