#include "common/loopback.h"

#include <string>

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace skydeck {

bool IsLoopbackHost(absl::string_view host) {
  std::string h = absl::AsciiStrToLower(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    static const in6_addr kLoopback = IN6ADDR_LOOPBACK_INIT;
    return std::equal(std::begin(v6.s6_addr), std::end(v6.s6_addr), std::begin(kLoopback.s6_addr));
  }
  return false;
}

std::string HostOfAuthority(absl::string_view authority) {
  std::string a = absl::AsciiStrToLower(authority);
  if (absl::StartsWith(a, "[")) {
    size_t close = a.find(']');
    return close == std::string::npos ? a : a.substr(1, close - 1);
  }
  size_t colon = a.rfind(':');
  // More than one colon without brackets: a bare IPv6 literal, no port.
  if (colon != std::string::npos && a.find(':') == colon) return a.substr(0, colon);
  return a;
}

}  // namespace skydeck
