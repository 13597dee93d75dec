// File: daemon/http/http_call.h
//
// One outgoing HTTP request over cpp-httplib, with the timeouts and the
// mapping of transport failures to absl::Status that every caller of a
// remote HTTP service in skydeckd shares: the SkyPilot API client
// (daemon/backend/skypilot/api_client.h) and the webhook notifier
// (daemon/notify/). http:// and https:// (Debian's cpp-httplib is built
// with OpenSSL; the server's certificate is verified against the system's
// CA store).
//
//   HttpCall call{.method = "POST", .scheme_host_port = "https://hooks.example",
//                 .path = "/T1/abc", ...};
//   HttpOutcome out = SendHttp(call);
//   if (!out.answer.ok()) ... out.never_connected ...
//
// Codes: UNAVAILABLE when no connection could be made or it was dropped;
// DEADLINE_EXCEEDED when the peer accepted the connection but did not
// answer within `timeout`. Any HTTP status is an answer, not an error.
//
// Thread-safety: a free function; each call has its own connection.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace skydeck::http {

struct HttpCall {
  std::string method;            // "GET", "POST"
  std::string scheme_host_port;  // "http://127.0.0.1:8080"
  std::string path;              // "/hook?x=1", with any query
  std::vector<std::pair<std::string, std::string>> headers;
  // Sent when `has_body`, with `content_type`.
  bool has_body = false;
  std::string body;
  std::string content_type = "application/json";
  absl::Duration connect_timeout = absl::Seconds(5);
  // The whole exchange, connection included.
  absl::Duration timeout = absl::Seconds(10);
  // For error messages only: what is asked ("POST /jobs/launch"), where
  // (an endpoint that holds no credentials), and who answers ("the
  // SkyPilot API server").
  std::string what;
  std::string endpoint;
  std::string peer;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first value of header `name` (case-insensitive); "" when absent.
  std::string Header(absl::string_view name) const;
};

struct HttpOutcome {
  absl::StatusOr<HttpAnswer> answer;
  // True when no connection could be opened: nothing reached the peer.
  bool never_connected = false;
};

// SendHttp()
//
// Sends `call` and waits for the answer, at most call.timeout.
HttpOutcome SendHttp(const HttpCall& call);

}  // namespace skydeck::http
