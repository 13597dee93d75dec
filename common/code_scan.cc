#include "common/code_scan.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "common/ignore_rules.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace skydeck {
namespace {

constexpr const char* kIgnoreFiles[] = {".gitignore", ".skydeckignore"};
// Ignore files larger than this are not project rules anyone wrote.
constexpr int64_t kMaxIgnoreFileBytes = 1 << 20;

absl::Status ErrnoStatus(absl::string_view what, absl::string_view action, const std::string& path,
                         int err) {
  std::string msg = absl::StrCat(what, ": ", action, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

std::string JoinPath(absl::string_view a, absl::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  return absl::StrCat(a, "/", b);
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  text.resize(kMaxIgnoreFileBytes);
  in.read(text.data(), kMaxIgnoreFileBytes);
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

// Adds the ignore files of absolute directory `dir` (`rel` relative to the
// top the rules are relative to).
void AddIgnoreFiles(IgnoreRules& rules, const std::string& dir, const std::string& rel,
                    bool gitignore_only) {
  for (const char* name : kIgnoreFiles) {
    if (gitignore_only && std::string(name) != ".gitignore") continue;
    std::string file = JoinPath(dir, name);
    struct stat st;
    if (stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    rules.AddFile(rel, ReadSmallFile(file));
  }
}

// The top of the git work tree holding absolute directory `dir` (the
// nearest directory with a `.git` entry), or "" when none.
std::string GitTop(const std::string& dir) {
  std::string d = dir;
  while (true) {
    struct stat st;
    std::string probe = d == "/" ? "/.git" : d + "/.git";
    if (lstat(probe.c_str(), &st) == 0) return d;
    if (d == "/") return "";
    size_t slash = d.rfind('/');
    d = slash == 0 ? "/" : d.substr(0, slash);
  }
}

struct Listed {
  CodeEntry entry;  // without sha256 yet
  CodeSource source;
};

class Walker {
 public:
  Walker(std::string root, absl::string_view what) : root_(std::move(root)), what_(what) {}

  absl::Status Run() {
    std::string top = GitTop(root_);
    if (!top.empty() && top != root_) {
      // The work tree's .gitignore files above the root apply too.
      prefix_ = root_.substr(top == "/" ? 1 : top.size() + 1);
      std::string dir = top;
      std::string rel;
      for (absl::string_view seg : absl::StrSplit(prefix_, '/')) {
        AddIgnoreFiles(rules_, dir, rel, /*gitignore_only=*/true);
        dir = dir == "/" ? absl::StrCat("/", seg) : absl::StrCat(dir, "/", seg);
        rel = JoinPath(rel, seg);
      }
    }
    return Visit("");
  }

  std::vector<Listed>& listed() { return listed_; }
  std::vector<std::string>& skipped() { return skipped_; }

 private:
  std::string Abs(const std::string& rel) const {
    return rel.empty() ? root_ : JoinPath(root_, rel);
  }
  std::string RuleRel(const std::string& rel) const { return JoinPath(prefix_, rel); }

  absl::Status Visit(const std::string& rel) {
    std::string abs = Abs(rel);
    AddIgnoreFiles(rules_, abs, RuleRel(rel), /*gitignore_only=*/false);
    DIR* d = opendir(abs.c_str());
    if (d == nullptr) return ErrnoStatus(what_, "listing", abs, errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* ent = readdir(d)) {
      std::string name = ent->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (name == ".git") continue;
      std::string child = JoinPath(rel, name);
      std::string child_abs = JoinPath(abs, name);
      struct stat st;
      if (lstat(child_abs.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // removed while we looked
        return ErrnoStatus(what_, "reading", child_abs, errno);
      }
      bool is_dir = S_ISDIR(st.st_mode);
      if (rules_.Ignored(RuleRel(child), is_dir)) continue;
      if (absl::Status s = ValidateCodePath(child); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            what_, ": ", s.message(), "; rename it or leave it out with .skydeckignore"));
      }
      if (is_dir) {
        RETURN_IF_ERROR(Visit(child));
      } else if (S_ISREG(st.st_mode)) {
        Listed l;
        l.entry.path = child;
        l.entry.kind = (st.st_mode & 0111) ? CodeEntryKind::kExecutable : CodeEntryKind::kFile;
        l.entry.size = st.st_size;
        l.source.file = child_abs;
        listed_.push_back(std::move(l));
      } else if (S_ISLNK(st.st_mode)) {
        RETURN_IF_ERROR(AddSymlink(child, child_abs));
      } else {
        skipped_.push_back(absl::StrCat(child, " (not a file, directory or symlink)"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status AddSymlink(const std::string& rel, const std::string& abs) {
    std::string target(kMaxSymlinkTargetBytes + 1, '\0');
    ssize_t n = readlink(abs.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoStatus(what_, "reading the symlink", abs, errno);
    target.resize(static_cast<size_t>(n));
    if (static_cast<int64_t>(target.size()) > kMaxSymlinkTargetBytes ||
        !SymlinkStaysInside(rel, target)) {
      skipped_.push_back(absl::StrCat(rel, " -> ", target, " (a symlink out of the directory)"));
      return absl::OkStatus();
    }
    Listed l;
    l.entry.path = rel;
    l.entry.kind = CodeEntryKind::kSymlink;
    l.entry.size = static_cast<int64_t>(target.size());
    l.source.link_target = std::move(target);
    listed_.push_back(std::move(l));
    return absl::OkStatus();
  }

  const std::string root_;
  const std::string what_;
  std::string prefix_;  // the root relative to the git work tree's top
  IgnoreRules rules_;
  std::vector<Listed> listed_;
  std::vector<std::string> skipped_;
};

}  // namespace

absl::StatusOr<CodeScan> ScanCode(const std::string& path, const SnapshotLimits& limits,
                                  absl::string_view what) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not an absolute path"));
  }
  std::string root = path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
  struct stat st;
  if (stat(root.c_str(), &st) != 0) return ErrnoStatus(what, "reading", root, errno);
  CodeScan scan;
  scan.root = root;
  std::vector<Listed> listed;
  if (S_ISREG(st.st_mode)) {
    scan.manifest.single_file = true;
    Listed l;
    l.entry.path = root.substr(root.rfind('/') + 1);
    l.entry.kind = (st.st_mode & 0111) ? CodeEntryKind::kExecutable : CodeEntryKind::kFile;
    l.entry.size = st.st_size;
    l.source.file = root;
    RETURN_IF_ERROR(ValidateCodePath(l.entry.path));
    listed.push_back(std::move(l));
  } else if (S_ISDIR(st.st_mode)) {
    Walker walker(root, what);
    RETURN_IF_ERROR(walker.Run());
    listed = std::move(walker.listed());
    scan.skipped = std::move(walker.skipped());
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", root, " is neither a directory nor a regular file"));
  }
  std::vector<SizedPath> sizes;
  for (const Listed& l : listed) sizes.push_back({l.entry.path, l.entry.size});
  RETURN_IF_ERROR(CheckSnapshotSize(sizes, limits, what));

  std::sort(listed.begin(), listed.end(),
            [](const Listed& a, const Listed& b) { return a.entry.path < b.entry.path; });
  for (Listed& l : listed) {
    if (l.entry.kind == CodeEntryKind::kSymlink) {
      l.entry.sha256 = Sha256Hex(l.source.link_target);
    } else {
      absl::StatusOr<FileDigest> digest = Sha256File(l.source.file);
      if (absl::IsNotFound(digest.status())) continue;  // removed while we looked
      if (!digest.ok()) {
        return absl::Status(digest.status().code(),
                            absl::StrCat(what, ": ", digest.status().message()));
      }
      l.entry.sha256 = digest->sha256;
      l.entry.size = digest->size;
    }
    scan.manifest.entries.push_back(std::move(l.entry));
    scan.sources.push_back(std::move(l.source));
  }
  // What was read may differ from what was listed (a file grew).
  RETURN_IF_ERROR(ValidateManifest(scan.manifest, limits, what));
  return scan;
}

}  // namespace skydeck
