// File: common/code_version.h
//
// What code a local workdir holds: its git commit and whether it has
// uncommitted changes. Recorded on the job (Job code_commit, code_dirty)
// so that a result can be traced to its code: read by skydeckd at launch
// (local backend) and by whoever takes a code snapshot of the directory
// (the CLI, or skydeckd itself), when it is taken.
//
//   CodeVersion v = InspectCode("/home/me/project");
//   // v.commit == "3f2a..." (40 hex digits), v.dirty == true
//
// Runs `git` (found on skydeckd's PATH) with a bounded time per call
// (5 s), with repository hooks and fsmonitor off, never taking git's
// optional locks (so a concurrent git command of the user is not
// disturbed). A directory that is not a git work tree, or a machine
// without git, gives an empty commit and dirty == false.
//
// Thread-safety: safe to call concurrently.
#pragma once

#include <string>

namespace skydeck {

struct CodeVersion {
  // 40 hex digits; "" when unknown.
  std::string commit;
  // Tracked files changed, or files added that git does not ignore.
  bool dirty = false;

  bool operator==(const CodeVersion&) const = default;
};

CodeVersion InspectCode(const std::string& dir);

}  // namespace skydeck
