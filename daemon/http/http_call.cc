#include "daemon/http/http_call.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/time_util.h"
#include "daemon/http/httplib_transport.h"

namespace skydeck::http {

void SetTimeouts(httplib::Client& cli, absl::Duration connect, absl::Duration read) {
  cli.set_connection_timeout(absl::ToChronoMicroseconds(connect));
  cli.set_read_timeout(absl::ToChronoMicroseconds(read));
  cli.set_write_timeout(absl::ToChronoMicroseconds(read));
  cli.set_keep_alive(false);
}

absl::Status TransportError(absl::string_view what, absl::string_view endpoint,
                            absl::string_view peer, httplib::Error err, absl::Duration elapsed,
                            absl::Duration timeout) {
  std::string where = absl::StrCat(what, " at ", endpoint);
  switch (err) {
    case httplib::Error::Connection:
      return absl::UnavailableError(absl::StrCat(where, ": cannot connect to ", peer));
    case httplib::Error::ConnectionTimeout:
      return absl::UnavailableError(absl::StrCat(where, ": timed out connecting to ", peer));
    case httplib::Error::Canceled:
      return absl::DeadlineExceededError(absl::StrCat(where, ": no complete answer from ", peer,
                                                      " within ", FormatDurationRounded(timeout)));
    case httplib::Error::Read:
      // cpp-httplib reports a read timeout and a dropped connection alike.
      if (elapsed + absl::Milliseconds(50) >= timeout) {
        return absl::DeadlineExceededError(absl::StrCat(where, ": no answer from ", peer,
                                                        " within ",
                                                        FormatDurationRounded(timeout)));
      }
      return absl::UnavailableError(absl::StrCat(
          where, ": ", peer, " closed the connection before the answer was complete"));
    default:
      return absl::UnavailableError(
          absl::StrCat(where, ": ", httplib::to_string(err), " (talking to ", peer, ")"));
  }
}

std::string HttpAnswer::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

HttpOutcome SendHttp(const HttpCall& call) {
  httplib::Client cli(call.scheme_host_port);
  SetTimeouts(cli, std::min(call.connect_timeout, call.timeout), call.timeout);
  httplib::Request req;
  req.method = call.method;
  req.path = call.path.empty() ? "/" : call.path;
  for (const auto& [key, value] : call.headers) req.set_header(key, value);
  if (call.has_body) {
    req.body = call.body;
    req.set_header("Content-Type", call.content_type);
  }
  absl::Time start = absl::Now();
  absl::Time deadline = start + call.timeout;
  req.progress = [deadline](uint64_t, uint64_t) { return absl::Now() < deadline; };

  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  HttpOutcome out{absl::InternalError("not sent"), false};
  if (!cli.send(req, res, err)) {
    out.answer =
        TransportError(call.what, call.endpoint, call.peer, err, absl::Now() - start, call.timeout);
    out.never_connected = NeverConnected(err);
    return out;
  }
  HttpAnswer answer;
  answer.status = res.status;
  answer.body = std::move(res.body);
  answer.headers.assign(res.headers.begin(), res.headers.end());
  out.answer = std::move(answer);
  return out;
}

}  // namespace skydeck::http
