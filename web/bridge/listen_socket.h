// File: web/bridge/listen_socket.h
//
// The HTTP edge's listening socket. It sets SO_REUSEADDR (a restarted
// daemon can bind a port whose old connections are in TIME_WAIT) and never
// SO_REUSEPORT: with it, a second skydeckd on the same port starts "fine"
// and the kernel splits requests between two daemons with different data.
// A busy port is an error that names the address.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace skydeck::web {

struct ListenSocket {
  int fd = -1;   // listening, close-on-exec; the caller owns it
  int port = 0;  // the bound port (the chosen one when asked for 0)
  bool ipv6 = false;
};

// OpenListenSocket()
//
// Binds `host` (an address or a name, resolved here; the first address
// that binds wins) and `port` (0: any free port) and listens.
// Errors: INVALID_ARGUMENT when `host` does not resolve; UNAVAILABLE when
// the port is in use ("... is in use by another process") or cannot be
// bound (the OS error in the message).
absl::StatusOr<ListenSocket> OpenListenSocket(const std::string& host, int port, int backlog);

}  // namespace skydeck::web
