// File: common/model/job_name.h
//
// The name a job has on its backend, the one rule for it:
// "skydeck-<installation id>-<experiment id>-<attempt>". The installation id
// keeps two databases' jobs apart on one backend; the attempt makes each
// launch of an experiment its own job, so a relaunch never finds (or
// cancels) an older one. A launch intent is written before its attempt is
// known: it carries the pattern, and the store fills the attempt in.
//
//   BackendJobName("ab12", 7, 2) == "skydeck-ab12-7-2"
//   FillAttempt(BackendJobNamePattern("ab12", 7), 2) == "skydeck-ab12-7-2"
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace skydeck::model {

inline constexpr char kAttemptPlaceholder[] = "{attempt}";

// The name with the attempt still to fill in (FillAttempt).
inline std::string BackendJobNamePattern(absl::string_view installation_id, int64_t experiment_id) {
  return absl::StrCat("skydeck-", installation_id, "-", experiment_id, "-", kAttemptPlaceholder);
}

// `pattern` with its attempt placeholder, if any, replaced by `attempt`.
inline std::string FillAttempt(absl::string_view pattern, int attempt) {
  std::string name(pattern);
  if (size_t pos = name.find(kAttemptPlaceholder); pos != std::string::npos) {
    name.replace(pos, sizeof(kAttemptPlaceholder) - 1, std::to_string(attempt));
  }
  return name;
}

inline std::string BackendJobName(absl::string_view installation_id, int64_t experiment_id,
                                  int attempt) {
  return FillAttempt(BackendJobNamePattern(installation_id, experiment_id), attempt);
}

}  // namespace skydeck::model
