// File: common/status_text.h
//
// An absl::Status as people read it: "UNAVAILABLE: cannot connect ...".
// absl::Status::ToString() also prints payloads ("[type.skydeck.dev/
// backend.NeverSent='1']"), which are markers for code, not words for
// events, conditions or health.
//
//   StatusText(absl::UnavailableError("down")) == "UNAVAILABLE: down"
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace skydeck {

inline std::string StatusText(const absl::Status& status) {
  if (status.ok()) return "OK";
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
}

}  // namespace skydeck
