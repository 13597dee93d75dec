// File: common/model/workdir.h
//
// Where a job's code is: an experiment's `workdir` (and the daemon's
// --skypilot-workdir) is either an absolute local directory or a git
// repository "URL[@REF]". Pure parsing; whether the directory exists is
// the daemon's business.
//
//   ASSIGN_OR_RETURN(Workdir w, ParseWorkdir("https://github.com/org/repo.git@v1.2"));
//   // w.kind == Workdir::Kind::kGit, w.url == "https://github.com/org/repo.git", w.ref == "v1.2"
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck {

inline constexpr size_t kMaxWorkdirBytes = 4096;

struct Workdir {
  enum class Kind { kNone, kLocal, kGit };
  Kind kind = Kind::kNone;
  // kLocal: the absolute path as given.
  std::string path;
  // kGit: the repository and the branch, tag or commit ("" = default branch).
  std::string url;
  std::string ref;

  bool operator==(const Workdir&) const = default;
};

// ParseWorkdir()
//
// "" is kNone. A text starting with '/' is a local directory. A text with
// "://" ("https://...", "ssh://...", "file://...") or of the scp-like form
// "user@host:path" is a git repository; REF is what follows the last '@'
// provided no '/' follows it and it is not the user of an scp-like or
// URL authority ("git@github.com:org/repo.git" is a url only,
// "https://github.com/org/repo.git@v1.2" is url + ref "v1.2").
// Errors: INVALID_ARGUMENT for anything else (a relative path: clients
// resolve those), control characters, or more than 4096 bytes.
absl::StatusOr<Workdir> ParseWorkdir(absl::string_view text);

// The text ParseWorkdir reads back: the path, or "URL" / "URL@REF".
std::string FormatWorkdir(const Workdir& workdir);

}  // namespace skydeck
