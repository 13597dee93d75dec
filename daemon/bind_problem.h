// File: daemon/bind_problem.h
//
// Why a listener could not start. gRPC's ServerBuilder only says that it
// failed (BuildAndStart returns null); this binds a throw-away socket to the
// same address to learn the reason, so the start-up error can say "address
// already in use" rather than leave the user to guess.
#pragma once

#include <string>

namespace skydeck {

// BindProblem()
//
// Binds (and closes) a TCP socket on `host`:`port` as a listener would
// (SO_REUSEADDR, no SO_REUSEPORT). Returns the reason it failed, e.g.
// "Address already in use", or "" when it could be bound (then the failure
// was something else). `host` may be a name, an IPv4 or an IPv6 address
// (with or without brackets).
std::string BindProblem(const std::string& host, int port);

}  // namespace skydeck
