// ApiClient::Upload: SkyPilot's file upload (`POST /upload`), which its
// client uses to send local workdirs and file mounts to a remote API
// server (sky/client/common.py, upload_mounts_to_api_server; the server
// side is upload_zip_file in sky/server/server.py).
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"

#include "common/status_macros.h"
#include "daemon/backend/call_deadline.h"
#include "daemon/backend/skypilot/api_client.h"
#include "daemon/backend/skypilot/json_fields.h"

namespace skydeck::backend::skypilot {
namespace {

std::string QueryEscape(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> ApiClient::Upload(absl::string_view upload_id, int chunk_index,
                                              int total_chunks, absl::string_view chunk) {
  std::string what = "POST /upload";
  if (absl::Status open = backoff_.Check(absl::Now()); !open.ok()) {
    return absl::UnavailableError(absl::StrCat(what, ": ", open.message()));
  }
  // The caller's deadline (call_deadline.h) bounds the upload too.
  absl::Duration timeout = RemainingCallTime(config_.timeouts.upload);
  if (timeout <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError(absl::StrCat(what, ": the call's deadline has passed"));
  }
  httplib::Client cli(scheme_host_port_);
  cli.set_connection_timeout(
      absl::ToChronoMicroseconds(std::min(config_.timeouts.connect, timeout)));
  cli.set_read_timeout(absl::ToChronoMicroseconds(timeout));
  cli.set_write_timeout(absl::ToChronoMicroseconds(timeout));
  cli.set_keep_alive(false);

  httplib::Request req;
  req.method = "POST";
  req.path = absl::StrCat(base_path_, "/upload?user_hash=", QueryEscape(config_.user_id),
                          "&upload_id=", QueryEscape(upload_id), "&chunk_index=", chunk_index,
                          "&total_chunks=", total_chunks);
  req.set_header("X-SkyPilot-API-Version", std::to_string(api_version_.load()));
  req.set_header("X-SkyPilot-Version", config_.client_version);
  req.set_header("Accept", "application/json");
  if (!config_.token.empty()) req.set_header("Authorization", "Bearer " + config_.token);
  req.set_header("Content-Type", "application/octet-stream");
  req.body = std::string(chunk);
  absl::Time start = absl::Now();
  absl::Time deadline = start + timeout;
  req.progress = [deadline](uint64_t, uint64_t) { return absl::Now() < deadline; };

  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool sent = cli.send(req, res, err);
  absl::Time now = absl::Now();
  if (!sent) {
    absl::Status status = absl::UnavailableError(absl::StrCat(what, " at ", config_.endpoint, ": ",
                                                              httplib::to_string(err), " after ",
                                                              absl::FormatDuration(now - start)));
    if (err == httplib::Error::Connection || err == httplib::Error::ConnectionTimeout) {
      backoff_.Record(status, now);
    }
    return status;
  }
  bool overloaded = res.status == 429 || res.status == 503;
  backoff_.Record(overloaded ? absl::UnavailableError("overloaded") : absl::OkStatus(), now);
  if (res.status != 200) return HttpError(what, res.status, res.body);
  nlohmann::json answer = ParseJsonOrDiscarded(res.body);
  std::string status = JsonString(answer, "status");
  if (status.empty()) {
    return absl::InternalError(
        Redact(absl::StrCat(what, " at ", config_.endpoint,
                            ": an answer without a status: ", res.body.substr(0, 300))));
  }
  return status;
}

}  // namespace skydeck::backend::skypilot
