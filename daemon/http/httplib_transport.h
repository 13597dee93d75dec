// File: daemon/http/httplib_transport.h
//
// The cpp-httplib settings and transport-error mapping every outgoing HTTP
// call of skydeckd uses: SendHttp (http_call.h) for plain exchanges, and
// the SkyPilot API client's streaming calls, which drive httplib directly.
//
// Thread-safety: free functions.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "httplib.h"

namespace skydeck::http {

// One connection per call (no keep-alive), connecting within `connect`,
// each read and write within `read`.
void SetTimeouts(httplib::Client& cli, absl::Duration connect, absl::Duration read);

// TransportError()
//
// The status of a call that got no complete answer: UNAVAILABLE when no
// connection could be made to `peer` ("the SkyPilot API server") or it was
// dropped; DEADLINE_EXCEEDED when the answer did not come within `timeout`
// (`elapsed` since the call began). The message names `what` at `endpoint`,
// which must hold no credentials, and always `peer`: whichever way a call
// fails, the user reads who did not answer (the experiment's Degraded
// message is the first failure's, and a server going down mid-answer
// drops the connection instead of refusing it).
absl::Status TransportError(absl::string_view what, absl::string_view endpoint,
                            absl::string_view peer, httplib::Error err, absl::Duration elapsed,
                            absl::Duration timeout);

// True when `err` means no connection was opened: nothing reached the peer.
inline bool NeverConnected(httplib::Error err) {
  return err == httplib::Error::Connection || err == httplib::Error::ConnectionTimeout;
}

}  // namespace skydeck::http
