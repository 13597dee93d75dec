#include "common/bearer_token.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace skydeck {
namespace {

absl::Status CheckToken(absl::string_view token, absl::string_view source) {
  for (char c : token) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("the token from ", source, " contains white space or control characters"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> LoadBearerToken(absl::string_view file, const char* env_value) {
  if (!file.empty()) {
    std::ifstream in{std::string(file)};
    std::stringstream content;
    content << in.rdbuf();
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read token file ", file));
    std::string token(absl::StripAsciiWhitespace(content.str()));
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token file ", file, " is empty; refusing to start without auth"));
    }
    if (absl::Status s = CheckToken(token, file); !s.ok()) return s;
    return token;
  }
  if (env_value == nullptr) return std::string();
  std::string token(absl::StripAsciiWhitespace(env_value));
  if (absl::Status s = CheckToken(token, "SKYDECK_AUTH_TOKEN"); !s.ok()) return s;
  return token;
}

}  // namespace skydeck
