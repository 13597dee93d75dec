// File: common/ignore_rules.h
//
// Which paths a code snapshot leaves out: the patterns of `.gitignore` and
// `.skydeckignore` files, with git's rules (gitignore(5)), implemented here
// so that a directory that is not a git repository, and a machine without
// git, give the same snapshot:
//
//   - blank lines and lines starting with `#` are ignored; `\#` and `\!`
//     start a pattern with those characters; trailing spaces are dropped
//     unless escaped with `\`;
//   - `!` re-includes what an earlier pattern excluded;
//   - a trailing `/` matches directories only;
//   - a pattern with a `/` at its start or middle is relative to the
//     directory of its file; without one it matches a name at any depth
//     below it;
//   - `*` matches anything but `/`, `?` one character but `/`, `[a-z]`,
//     `[!abc]` and `[^abc]` one character of (or not of) a set; `\` quotes
//     the next character;
//   - a leading `**/` matches in every directory, a trailing `/**` matches
//     everything inside, `/**/` matches zero or more directories; any other
//     `**` is a `*`;
//   - the last pattern that matches decides, patterns of a deeper file
//     coming after those of its parents. (Nothing inside an excluded
//     directory can be re-included: the snapshot scanner does not enter it.)
//
// Not read: `.git/info/exclude` and git's `core.excludesFile` (they belong
// to one user's checkout, not to the project). POSIX character classes
// (`[[:alpha:]]`) are not supported: such a set matches nothing.
//
//   IgnoreRules rules;
//   rules.AddFile("", "*.pyc\n/data/\n!keep.pyc\n");
//   rules.AddFile("src", "build/\n");
//   rules.Ignored("a/b.pyc", false);    // true
//   rules.Ignored("keep.pyc", false);   // false
//   rules.Ignored("data", true);        // true
//   rules.Ignored("src/build", true);   // true
//   rules.Ignored("build", true);       // false: src's rule
//
// Pure. Thread-safety: const methods are safe to call concurrently.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace skydeck {

// WildMatch(pattern, text)
//
// git's wildmatch with WM_PATHNAME: the pattern syntax above against a
// '/'-separated path.
//   WildMatch("a/**/b", "a/x/y/b") == true; WildMatch("*.py", "a/b.py") == false
bool WildMatch(absl::string_view pattern, absl::string_view text);

class IgnoreRules {
 public:
  // Adds the patterns of an ignore file found in directory `dir`: a
  // '/'-separated path relative to the directory all later paths are
  // relative to ("" for that directory itself). Files must be added
  // parents first, and in a directory .gitignore before .skydeckignore
  // (the later file wins).
  void AddFile(absl::string_view dir, absl::string_view text);

  // Whether `path` ('/'-separated, relative as above; a directory when
  // `is_dir`) is excluded by the patterns that apply to it.
  bool Ignored(absl::string_view path, bool is_dir) const;

  bool empty() const { return patterns_.empty(); }

 private:
  struct Pattern {
    std::string base;  // the file's directory; "" or "a/b"
    std::string glob;  // without the leading '!', '/' and the trailing '/'
    bool negated = false;
    bool dir_only = false;
    bool anchored = false;  // had a '/' at its start or middle
  };
  std::vector<Pattern> patterns_;
};

}  // namespace skydeck
