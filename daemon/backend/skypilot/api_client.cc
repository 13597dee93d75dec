#include "daemon/backend/skypilot/api_client.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "httplib.h"

#include "common/ansi_text.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "daemon/backend/call_deadline.h"
#include "daemon/backend/never_sent.h"
#include "daemon/backend/skypilot/json_fields.h"
#include "daemon/http/httplib_transport.h"

namespace skydeck::backend::skypilot {
namespace {

using http::SetTimeouts;
constexpr char kPeer[] = "the SkyPilot API server";

constexpr char kRequestIdHeader[] = "X-Skypilot-Request-ID";
constexpr size_t kMaxErrorSnippet = 300;
constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr size_t kMaxIdsPerStatusCall = 100;

std::string Snippet(absl::string_view body) {
  std::string text(absl::StripAsciiWhitespace(StripAnsi(body.substr(0, kMaxErrorSnippet))));
  if (body.size() > kMaxErrorSnippet) text += "...";
  return absl::StrReplaceAll(text, {{"\n", " "}, {"\r", " "}});
}

// Errors of calls that never left this process (ApiClient::NeverSent).
absl::Status MarkNeverSent(absl::Status status) { return NeverSentError(std::move(status)); }

struct Endpoint {
  std::string scheme_host_port;
  std::string base_path;
};

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text) {
  std::string url(absl::StripAsciiWhitespace(text));
  if (url.find("://") == std::string::npos) url = "http://" + url;
  size_t sep = url.find("://");
  std::string scheme = absl::AsciiStrToLower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("SkyPilot endpoint ", text, ": the scheme must be http or https"));
  }
  std::string rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string host_port = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (host_port.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("SkyPilot endpoint ", text, ": no host"));
  }
  return Endpoint{scheme + "://" + host_port, path};
}

RequestRecord ParseRequestRecord(const nlohmann::json& row) {
  RequestRecord r;
  r.request_id = JsonString(row, "request_id");
  r.name = JsonString(row, "name");
  r.status = JsonString(row, "status");
  r.created_at = JsonDouble(row, "created_at");
  if (const nlohmann::json* body = JsonField(row, "request_body")) {
    if (body->is_object()) {
      r.body = *body;
    } else if (body->is_string()) {
      nlohmann::json parsed = ParseJsonOrDiscarded(body->get<std::string>());
      if (parsed.is_object()) r.body = std::move(parsed);
    }
  }
  return r;
}

}  // namespace

const RequestRecord* FindRequest(const std::vector<RequestRecord>& records,
                                 const std::string& request_id) {
  for (const RequestRecord& r : records) {
    if (r.request_id == request_id) return &r;
  }
  for (const RequestRecord& r : records) {
    if (absl::StartsWith(r.request_id, request_id)) return &r;
  }
  return nullptr;
}

bool IsJobsLaunch(const RequestRecord& record) {
  // A real server (API 31) names it "sky.jobs.launch"; the bare names are
  // kept for servers and proxies that drop the prefix.
  return record.name == "sky.jobs.launch" || record.name == "jobs.launch" ||
         record.name == "jobs/launch";
}

absl::StatusOr<std::unique_ptr<ApiClient>> ApiClient::Create(Config config) {
  ASSIGN_OR_RETURN(Endpoint ep, ParseEndpoint(config.endpoint));
  return std::unique_ptr<ApiClient>(
      new ApiClient(std::move(config), std::move(ep.scheme_host_port), std::move(ep.base_path)));
}

ApiClient::ApiClient(Config config, std::string scheme_host_port, std::string base_path)
    : config_(std::move(config)),
      scheme_host_port_(std::move(scheme_host_port)),
      base_path_(std::move(base_path)),
      api_version_(kClientApiVersion),
      backoff_(config_.backoff_initial, config_.backoff_max) {}

std::string ApiClient::Redact(std::string text) const {
  if (config_.token.empty()) return text;
  return absl::StrReplaceAll(text, {{config_.token, "<redacted>"}});
}

void ApiClient::AddIdentity(nlohmann::json& body) const {
  if (!body.is_object()) body = nlohmann::json::object();
  nlohmann::json& env = body["env_vars"];
  if (!env.is_object()) env = nlohmann::json::object();
  env["SKYPILOT_USER_ID"] = config_.user_id;
  env["SKYPILOT_USER"] = config_.user_name;
}

absl::Status ApiClient::HttpError(absl::string_view what, int status,
                                  const std::string& body) const {
  std::string msg = Redact(absl::StrCat(what, " at ", config_.endpoint, ": HTTP ", status,
                                        body.empty() ? "" : ": ", Snippet(body)));
  switch (status) {
    case 400:
      if (absl::StrContains(body, "version_mismatch")) {
        return absl::FailedPreconditionError(
            absl::StrCat(msg, " (the API server refuses this client's API version)"));
      }
      return absl::InvalidArgumentError(msg);
    case 401:
      return absl::UnauthenticatedError(
          absl::StrCat(msg, " (check the SkyPilot service-account token)"));
    case 403:
      return absl::PermissionDeniedError(msg);
    case 404:
      return absl::NotFoundError(msg);
    case 422:
      return absl::InvalidArgumentError(msg);
    case 408:
    case 429:
    case 502:
    case 503:
    case 504:
      return absl::UnavailableError(msg);
    case 500:
      return absl::InternalError(msg);
    default:
      return status >= 500 ? absl::UnavailableError(msg) : absl::UnknownError(msg);
  }
}

absl::StatusOr<ApiClient::Reply> ApiClient::Exchange(const std::string& method,
                                                     const std::string& path,
                                                     const std::string* body, bool bypass_backoff,
                                                     absl::Duration timeout) {
  std::string what = absl::StrCat(method, " ", path.substr(0, path.find('?')));
  if (!bypass_backoff) {
    if (absl::Status open = backoff_.Check(absl::Now()); !open.ok()) {
      return MarkNeverSent(absl::UnavailableError(absl::StrCat(what, ": ", open.message())));
    }
  }
  // The caller's deadline (call_deadline.h) bounds every wait of this call.
  timeout = RemainingCallTime(timeout);
  if (timeout <= absl::ZeroDuration()) {
    return MarkNeverSent(
        absl::DeadlineExceededError(absl::StrCat(what, ": the call's deadline has passed")));
  }
  httplib::Client cli(scheme_host_port_);
  SetTimeouts(cli, std::min(config_.timeouts.connect, timeout), timeout);

  httplib::Request req;
  req.method = method;
  req.path = base_path_ + path;
  req.set_header("X-SkyPilot-API-Version", std::to_string(api_version_.load()));
  req.set_header("X-SkyPilot-Version", config_.client_version);
  req.set_header("Accept", "application/json");
  if (!config_.token.empty()) req.set_header("Authorization", "Bearer " + config_.token);
  if (body != nullptr) {
    req.body = *body;
    req.set_header("Content-Type", "application/json");
  }
  absl::Time start = absl::Now();
  absl::Time deadline = start + timeout;
  req.progress = [deadline](uint64_t, uint64_t) { return absl::Now() < deadline; };

  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool sent = cli.send(req, res, err);
  absl::Time now = absl::Now();
  if (!sent) {
    absl::Status status =
        http::TransportError(what, config_.endpoint, kPeer, err, now - start, timeout);
    backoff_.Record(status, now);
    if (http::NeverConnected(err)) {
      status = MarkNeverSent(std::move(status));
    }
    return status;
  }
  bool overloaded = res.status == 429 || res.status == 503;
  backoff_.Record(overloaded ? absl::UnavailableError("overloaded") : absl::OkStatus(), now);
  Reply reply;
  reply.status = res.status;
  reply.body = std::move(res.body);
  reply.request_id = res.get_header_value(kRequestIdHeader);
  return reply;
}

bool ApiClient::NeverSent(const absl::Status& status) { return WasNeverSent(status); }

absl::Status ApiClient::CheckReachable() const {
  absl::Status open = backoff_.Check(absl::Now());
  if (open.ok()) return open;
  return absl::UnavailableError(
      absl::StrCat("SkyPilot API server at ", config_.endpoint, ": ", open.message()));
}

absl::StatusOr<nlohmann::json> ApiClient::Health() {
  ASSIGN_OR_RETURN(Reply reply, Exchange("GET", "/api/health", nullptr, /*bypass_backoff=*/true,
                                         config_.timeouts.health));
  if (reply.status != 200) return HttpError("GET /api/health", reply.status, reply.body);
  nlohmann::json parsed = ParseJsonOrDiscarded(reply.body);
  if (!parsed.is_object()) {
    return absl::InternalError(Redact(absl::StrCat("GET /api/health at ", config_.endpoint,
                                                   ": not a JSON object: ", Snippet(reply.body))));
  }
  return parsed;
}

absl::StatusOr<std::string> ApiClient::Submit(absl::string_view route, nlohmann::json body) {
  AddIdentity(body);
  std::string text = body.dump();
  std::string path(route);
  ASSIGN_OR_RETURN(Reply reply, Exchange("POST", path, &text, false, config_.timeouts.submit));
  std::string what = absl::StrCat("POST ", route);
  if (reply.status != 200) return HttpError(what, reply.status, reply.body);
  if (reply.request_id.empty()) {
    return absl::InternalError(
        absl::StrCat(what, " at ", config_.endpoint, ": the answer carries no ", kRequestIdHeader));
  }
  return reply.request_id;
}

absl::StatusOr<RequestResult> ApiClient::Await(absl::string_view request_id,
                                               absl::Duration timeout) {
  std::string path = absl::StrCat("/api/get?request_id=", request_id);
  absl::StatusOr<Reply> answered = Exchange("GET", path, nullptr, false, timeout);
  if (absl::IsDeadlineExceeded(answered.status())) {
    // The server took the request and is working on it: slow (e.g. its
    // workers warming up after a restart), not gone.
    return absl::DeadlineExceededError(absl::StrCat(
        "the SkyPilot API server at ", config_.endpoint, " accepted request ", request_id,
        " but did not finish it within ", FormatDurationRounded(timeout),
        " (slow, e.g. starting up or busy; raise --skypilot-timeout if this is normal)"));
  }
  ASSIGN_OR_RETURN(Reply reply, std::move(answered));
  std::string what = absl::StrCat("GET /api/get (request ", request_id, ")");
  auto malformed = [&](absl::string_view why) {
    return absl::InternalError(
        Redact(absl::StrCat(what, " at ", config_.endpoint, ": ", why, ": ", Snippet(reply.body))));
  };
  nlohmann::json record = ParseJsonOrDiscarded(reply.body);
  if (reply.status == 500 && record.is_object()) {
    const nlohmann::json* detail = JsonField(record, "detail");
    nlohmann::json error;
    if (detail != nullptr) {
      if (const nlohmann::json* e = JsonField(*detail, "error"); e && e->is_string()) {
        error = ParseJsonOrDiscarded(e->get<std::string>());
      } else if (e && e->is_object()) {
        error = *e;
      }
    }
    if (!error.is_object()) return malformed("a failed request without an error record");
    RequestResult result;
    result.phase = RequestPhase::kFailed;
    result.error_type = JsonString(error, "type", "UnknownError");
    result.error_message = Redact(StripAnsi(JsonString(error, "message")));
    return result;
  }
  if (reply.status != 200) return HttpError(what, reply.status, reply.body);
  if (!record.is_object()) return malformed("not a JSON request record");
  RequestResult result;
  result.phase = MapRequestPhase(JsonString(record, "status"));
  if (result.phase == RequestPhase::kActive) {
    return malformed("the request is not finished although /api/get returned");
  }
  if (const nlohmann::json* value = JsonField(record, "return_value")) {
    if (value->is_string()) {
      result.value = ParseJsonOrDiscarded(value->get<std::string>());
      if (result.value.is_discarded()) return malformed("return_value is not JSON");
    } else {
      result.value = *value;
    }
  }
  return result;
}

absl::StatusOr<std::vector<RequestRecord>> ApiClient::Statuses(
    const std::vector<std::string>& request_ids) {
  std::vector<RequestRecord> out;
  size_t next = 0;
  do {  // a bounded number of ids per URL
    std::string path = "/api/status";
    size_t end = std::min(request_ids.size(), next + kMaxIdsPerStatusCall);
    for (size_t i = next; i < end; ++i) {
      absl::StrAppend(&path, i == next ? "?" : "&", "request_ids=", request_ids[i]);
    }
    next = end;
    ASSIGN_OR_RETURN(Reply reply, Exchange("GET", path, nullptr, false, config_.timeouts.status));
    if (reply.status != 200) return HttpError("GET /api/status", reply.status, reply.body);
    nlohmann::json rows = ParseJsonOrDiscarded(reply.body);
    if (!rows.is_array()) {
      return absl::InternalError(Redact(absl::StrCat("GET /api/status at ", config_.endpoint,
                                                     ": not a JSON list: ", Snippet(reply.body))));
    }
    for (const nlohmann::json& row : rows) {
      if (!row.is_object()) continue;
      RequestRecord r = ParseRequestRecord(row);
      if (!r.request_id.empty()) out.push_back(std::move(r));
    }
  } while (next < request_ids.size());
  return out;
}

absl::StatusOr<StreamResult> ApiClient::SubmitStreaming(
    absl::string_view route, nlohmann::json body,
    const std::function<bool(absl::string_view)>& on_chunk, const std::function<bool()>& cancelled,
    absl::Duration read_timeout, absl::Time deadline) {
  std::string what = absl::StrCat("POST ", route);
  if (absl::Status open = backoff_.Check(absl::Now()); !open.ok()) {
    return absl::UnavailableError(absl::StrCat(what, ": ", open.message()));
  }
  AddIdentity(body);
  // The caller's deadline (call_deadline.h) ends the stream no later.
  deadline = std::min(deadline, CallDeadline());
  read_timeout = RemainingCallTime(read_timeout);
  if (read_timeout <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError(absl::StrCat(what, ": the call's deadline has passed"));
  }
  httplib::Client cli(scheme_host_port_);
  SetTimeouts(cli, std::min(config_.timeouts.connect, read_timeout), read_timeout);

  httplib::Request req;
  req.method = "POST";
  req.path = base_path_ + std::string(route);
  req.set_header("X-SkyPilot-API-Version", std::to_string(api_version_.load()));
  req.set_header("X-SkyPilot-Version", config_.client_version);
  if (!config_.token.empty()) req.set_header("Authorization", "Bearer " + config_.token);
  req.set_header("Content-Type", "application/json");
  req.body = body.dump();

  int status = 0;
  std::string error_body;
  StreamResult result;
  std::atomic<bool> stopped{false};
  std::atomic<bool> overdue{false};
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    result.request_id = res.get_header_value(kRequestIdHeader);
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (status != 200) {
      if (error_body.size() < kMaxErrorBody) error_body.append(data, len);
      return true;
    }
    if (overdue.load()) return false;
    if (stopped.load() || !on_chunk(absl::string_view(data, len))) {
      stopped.store(true);
      return false;
    }
    return true;
  };

  // cpp-httplib has no cancellation hook while it waits for bytes; a
  // watcher closes the socket when the caller gives up.
  absl::Notification done;
  std::thread watcher([&] {
    while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(100))) {
      if (cancelled && cancelled()) {
        stopped.store(true);
        cli.stop();
      } else if (absl::Now() >= deadline && !overdue.exchange(true)) {
        cli.stop();
      }
    }
  });
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  absl::Time start = absl::Now();
  bool sent = cli.send(req, res, err);
  done.Notify();
  watcher.join();

  result.stopped = stopped.load();
  if (result.stopped) return result;
  if (overdue.load()) {
    // The server answered and kept the stream open: slow or waiting, not gone.
    return absl::DeadlineExceededError(absl::StrCat(what, " at ", config_.endpoint,
                                                    ": the answer did not end within ",
                                                    FormatDurationRounded(deadline - start)));
  }
  absl::Time now = absl::Now();
  if (!sent) {
    absl::Status s =
        http::TransportError(what, config_.endpoint, kPeer, err, now - start, read_timeout);
    backoff_.Record(s, now);
    return s;
  }
  backoff_.Record(absl::OkStatus(), now);
  if (res.status != 200) {
    return HttpError(what, res.status, error_body.empty() ? res.body : error_body);
  }
  if (result.request_id.empty()) {
    return absl::InternalError(
        absl::StrCat(what, " at ", config_.endpoint, ": the answer carries no ", kRequestIdHeader));
  }
  return result;
}

}  // namespace skydeck::backend::skypilot
