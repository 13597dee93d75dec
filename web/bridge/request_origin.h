// File: web/bridge/request_origin.h
//
// Which requests the bridge may serve, judged by their Host and Origin
// headers, before any route runs:
//
// - DNS rebinding: a web page can point its own host name at 127.0.0.1 and
//   then talk to the bridge "same-origin". Without a token nothing else
//   stops it, so without a token the Host header must name this machine
//   (localhost, 127.0.0.0/8, ::1) or a host the operator allowed.
// - Cross-site writes: a state-changing request that carries an Origin must
//   come from the page's own origin (defence in depth next to the JSON
//   content-type rule; browsers send Origin on every POST and DELETE).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace skydeck::web {

struct OriginPolicy {
  // A bearer token guards the API: any Host is fine (the token is the auth).
  bool token_required = false;
  // Extra host names accepted without a token (e.g. behind a local reverse
  // proxy), lower case, without port.
  std::vector<std::string> allowed_hosts;
};

// CheckRequestOrigin()
//
// OK when the request may be served. Errors: PERMISSION_DENIED with a
// message saying which header was refused and how to get in.
absl::Status CheckRequestOrigin(const OriginPolicy& policy, absl::string_view method,
                                absl::string_view host_header, absl::string_view origin_header);

}  // namespace skydeck::web
