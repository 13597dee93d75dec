// File: cli/server_address.h
//
// What to tell a user whose `--server` cannot work: a URL, the daemon's
// HTTP (dashboard) port, or no port at all. gRPC's own errors for these
// ("DNS resolution failed", "Trying to connect an http1.x server") do not
// say what to pass instead.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace skydeck::cli {

// ServerAddressHint()
//
// Given the target dialled and gRPC's error message for a call that could
// not reach it, a sentence saying what --server should be; "" when the
// address looks right (the daemon is simply not there).
//   ServerAddressHint("http://box:8000", ...)  -> "... not a URL ..."
//   ServerAddressHint("box", ...)              -> "... has no port ..."
//   ServerAddressHint("box:8000", "...http1.x server") -> "... HTTP port ..."
std::string ServerAddressHint(absl::string_view target, absl::string_view grpc_error);

}  // namespace skydeck::cli
