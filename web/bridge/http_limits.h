// File: web/bridge/http_limits.h
//
// The limits that keep the HTTP edge answering under abuse: slow clients
// (slowloris), many idle or streaming connections, one client taking every
// connection. skydeckd and skydeck-web take them from the same flags
// (http_limit_flags.h); docs/design.md says how each one is enforced.
#pragma once

#include <chrono>

namespace skydeck::web {

struct HttpLimits {
  // Connections open at once; more are accepted and closed at once.
  int max_connections = 4096;
  // Connections open at once from one client address (0: no limit). Over
  // it, a new connection is closed at once.
  int max_connections_per_client = 256;
  // Server-Sent Event streams open at once; over it a stream request gets
  // 429 RESOURCE_EXHAUSTED "too many open streams".
  int max_streams = 2048;
  // A request's headers must be complete this long after its connection
  // opened (or, on a kept-alive connection, after the previous response
  // and the idle timeout): slowloris clients are cut here.
  std::chrono::milliseconds header_timeout{10000};
  // A connection on which nothing moves this long is closed (not open
  // streams: their keep-alive comments keep them moving).
  std::chrono::seconds idle_timeout{60};
};

}  // namespace skydeck::web
