#include "cli/server_address.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace skydeck::cli {
namespace {

constexpr absl::string_view kWhatToPass =
    "--server (or SKYDECK_SERVER) takes skydeckd's gRPC address HOST:PORT, e.g. "
    "127.0.0.1:50051 (skydeckd --grpc-port; 50051 by default)";

// "host:port", "[v6]:port", or a gRPC URI scheme such as unix: or dns:.
bool HasPort(absl::string_view target) {
  if (absl::StartsWith(target, "unix:") || absl::StartsWith(target, "unix-abstract:") ||
      absl::StartsWith(target, "dns:") || absl::StartsWith(target, "ipv4:") ||
      absl::StartsWith(target, "ipv6:")) {
    return true;
  }
  size_t bracket = target.rfind(']');
  size_t colon = target.rfind(':');
  return colon != absl::string_view::npos &&
         (bracket == absl::string_view::npos || colon > bracket) && colon + 1 < target.size();
}

}  // namespace

std::string ServerAddressHint(absl::string_view target, absl::string_view grpc_error) {
  if (absl::StartsWithIgnoreCase(target, "http://") ||
      absl::StartsWithIgnoreCase(target, "https://")) {
    return absl::StrCat("\"", target, "\" is a URL (the dashboard's); ", kWhatToPass);
  }
  if (!HasPort(target)) {
    return absl::StrCat("\"", target, "\" has no port; ", kWhatToPass);
  }
  std::string error = absl::AsciiStrToLower(grpc_error);
  if (absl::StrContains(error, "http1") || absl::StrContains(error, "http/1")) {
    return absl::StrCat(target,
                        " answers HTTP/1: it is skydeckd's dashboard and HTTP API port "
                        "(--port), not its gRPC port; ",
                        kWhatToPass);
  }
  return "";
}

}  // namespace skydeck::cli
