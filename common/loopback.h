// File: common/loopback.h
//
// Whether a host names this machine only. Used to refuse listening on a
// reachable address without a token, and to refuse HTTP requests whose Host
// header is not this machine (DNS rebinding) when no token guards the API.
// Pure: IP literals are parsed, names are never resolved.
#pragma once

#include "absl/strings/string_view.h"

namespace skydeck {

// IsLoopbackHost()
//
// True for "localhost", IPv4 literals in 127.0.0.0/8 and the IPv6 literal
// ::1 (with or without brackets). Anything else is false, including names
// that merely start with "127." (e.g. "127.evil.example").
//
//   IsLoopbackHost("127.0.0.1")        == true
//   IsLoopbackHost("[::1]")            == true
//   IsLoopbackHost("127.0.0.1.nip.io") == false
bool IsLoopbackHost(absl::string_view host);

// HostOfAuthority()
//
// The host part of "host[:port]" or "[v6]:port", brackets kept off:
// "localhost:8000" -> "localhost", "[::1]:80" -> "::1". Lower-cased.
std::string HostOfAuthority(absl::string_view authority);

}  // namespace skydeck
