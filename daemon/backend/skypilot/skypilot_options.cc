#include "daemon/backend/skypilot/skypilot_options.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace skydeck::backend::skypilot {
namespace {

std::string CleanEndpoint(absl::string_view text) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  while (absl::ConsumeSuffix(&trimmed, "/")) {
  }
  return std::string(trimmed);
}

}  // namespace

absl::Status SetTimeout(SkyPilotTimeouts& timeouts, absl::string_view operation, absl::Duration d) {
  constexpr char kOperations[] =
      "connect, health, submit, status, queue, cancel, logs, logs-read, upload";
  absl::Duration* slot = operation == "connect"     ? &timeouts.connect
                         : operation == "health"    ? &timeouts.health
                         : operation == "submit"    ? &timeouts.submit
                         : operation == "status"    ? &timeouts.status
                         : operation == "queue"     ? &timeouts.queue
                         : operation == "cancel"    ? &timeouts.cancel
                         : operation == "logs"      ? &timeouts.logs
                         : operation == "logs-read" ? &timeouts.logs_read
                         : operation == "upload"    ? &timeouts.upload
                                                    : nullptr;
  if (slot == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("SkyPilot timeout \"", operation, "\": the operations are ", kOperations));
  }
  if (d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SkyPilot timeout ", operation, ": must be longer than 0"));
  }
  *slot = d;
  return absl::OkStatus();
}

std::string ResolveEndpoint(absl::string_view flag_value, const char* env_value) {
  if (std::string flag = CleanEndpoint(flag_value); !flag.empty()) return flag;
  if (env_value != nullptr) {
    if (std::string env = CleanEndpoint(env_value); !env.empty()) return env;
  }
  return kDefaultEndpoint;
}

std::string ResolveEndpoint(absl::string_view flag_value) {
  return ResolveEndpoint(flag_value, std::getenv(kEndpointEnv));
}

absl::StatusOr<std::string> LoadToken(absl::string_view token_file, const char* env_value) {
  if (!token_file.empty()) {
    std::ifstream in{std::string(token_file)};
    if (!in) {
      int err = errno;
      std::string msg =
          absl::StrCat("cannot read SkyPilot token file ", token_file, ": ", std::strerror(err));
      return err == EACCES ? absl::PermissionDeniedError(msg) : absl::NotFoundError(msg);
    }
    std::stringstream content;
    content << in.rdbuf();
    std::string token(absl::StripAsciiWhitespace(content.str()));
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("SkyPilot token file ", token_file, " is empty"));
    }
    return token;
  }
  if (env_value != nullptr) return std::string(absl::StripAsciiWhitespace(env_value));
  return std::string();
}

absl::StatusOr<std::string> LoadToken(absl::string_view token_file) {
  return LoadToken(token_file, std::getenv(kTokenEnv));
}

std::string StableUserId(absl::string_view seed) {
  // FNV-1a: stable across platforms and releases, unlike std::hash.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : seed) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return absl::StrFormat("%08x", static_cast<uint32_t>(h ^ (h >> 32)));
}

}  // namespace skydeck::backend::skypilot
