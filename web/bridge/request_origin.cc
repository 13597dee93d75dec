#include "web/bridge/request_origin.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/loopback.h"

namespace skydeck::web {
namespace {

bool ChangesState(absl::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// "https://host:port" -> "host:port"; "" when it is not a URL origin.
std::string AuthorityOfOrigin(absl::string_view origin) {
  size_t scheme_end = origin.find("://");
  if (scheme_end == absl::string_view::npos) return "";
  absl::string_view rest = origin.substr(scheme_end + 3);
  return absl::AsciiStrToLower(rest.substr(0, rest.find('/')));
}

}  // namespace

absl::Status CheckRequestOrigin(const OriginPolicy& policy, absl::string_view method,
                                absl::string_view host_header, absl::string_view origin_header) {
  if (!policy.token_required && !host_header.empty()) {
    std::string host = HostOfAuthority(host_header);
    bool allowed = IsLoopbackHost(host) ||
                   std::find(policy.allowed_hosts.begin(), policy.allowed_hosts.end(), host) !=
                       policy.allowed_hosts.end();
    if (!allowed) {
      return absl::PermissionDeniedError(absl::StrCat(
          "Host \"", host,
          "\" is not this machine; without an auth token only localhost, "
          "127.0.0.1 and [::1] are served (DNS rebinding protection). Use one of those, "
          "allow the name with --http-allowed-host, or set --auth-token-file"));
    }
  }
  if (ChangesState(method) && !origin_header.empty()) {
    std::string origin = AuthorityOfOrigin(origin_header);
    if (origin.empty() || origin != absl::AsciiStrToLower(host_header)) {
      return absl::PermissionDeniedError(absl::StrCat("cross-origin request refused (Origin \"",
                                                      origin_header, "\" is not this server)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace skydeck::web
