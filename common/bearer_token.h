// File: common/bearer_token.h
//
// Loading the bearer token that guards skydeckd's gRPC and HTTP APIs (and
// skydeck-web's). A token is either read from a file (its surrounding white
// space trimmed) or taken from an environment variable. A file that exists
// but holds nothing is an error, never "auth off": a mistake there must not
// silently open the API.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck {

// LoadBearerToken()
//
// The token from `file` when it is non-empty, else `env_value` (may be
// null), else "" (no token: auth off). Errors: INVALID_ARGUMENT when the file
// cannot be read or is empty, or when the token contains white space or
// control characters (it travels in an HTTP header).
absl::StatusOr<std::string> LoadBearerToken(absl::string_view file, const char* env_value);

}  // namespace skydeck
