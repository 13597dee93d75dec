#include "common/code_manifest.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "common/quote_for_error.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace skydeck {
namespace {

constexpr absl::string_view kHeader = "skydeck-snapshot 1 ";
constexpr size_t kBiggestShown = 8;

char KindLetter(CodeEntryKind kind) {
  switch (kind) {
    case CodeEntryKind::kFile:
      return 'f';
    case CodeEntryKind::kExecutable:
      return 'x';
    case CodeEntryKind::kSymlink:
      return 'l';
  }
  return 'f';
}

std::string Files(int64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return absl::StrCat(out, n == 1 ? " file" : " files");
}

std::string WithCommas(int64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string NormalizeLexically(absl::string_view path) {
  std::vector<std::string> out;
  for (absl::string_view seg : absl::StrSplit(path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (out.empty()) return "..";
      out.pop_back();
      continue;
    }
    out.emplace_back(seg);
  }
  return absl::StrJoin(out, "/");
}

}  // namespace

bool SymlinkStaysInside(absl::string_view path, absl::string_view target) {
  if (target.empty() || target[0] == '/') return false;
  size_t slash = path.rfind('/');
  std::string dir = slash == absl::string_view::npos ? "" : std::string(path.substr(0, slash));
  std::string resolved =
      NormalizeLexically(dir.empty() ? std::string(target) : absl::StrCat(dir, "/", target));
  return resolved != ".." && resolved.rfind("../", 0) != 0;
}

std::string CanonicalManifest(const CodeManifest& m) {
  std::string out = absl::StrCat(kHeader, m.single_file ? "file" : "dir", "\n");
  for (const CodeEntry& e : m.entries) {
    absl::StrAppend(&out, std::string(1, KindLetter(e.kind)), " ", e.sha256, " ", e.size, " ",
                    e.path, "\n");
  }
  return out;
}

std::string ManifestId(const CodeManifest& m) { return Sha256Hex(CanonicalManifest(m)); }

absl::StatusOr<CodeManifest> ParseManifest(absl::string_view text) {
  CodeManifest m;
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("code manifest: does not end with a newline");
  }
  text.remove_suffix(1);
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("code manifest line ", line_no, ": ", why));
    };
    if (line_no == 1) {
      if (line == absl::StrCat(kHeader, "dir")) continue;
      if (line == absl::StrCat(kHeader, "file")) {
        m.single_file = true;
        continue;
      }
      return bad("not a skydeck-snapshot 1 header");
    }
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(' ', 3));
    if (parts.size() != 4 || parts[0].size() != 1) return bad("expected KIND SHA256 SIZE PATH");
    CodeEntry e;
    switch (parts[0][0]) {
      case 'f':
        e.kind = CodeEntryKind::kFile;
        break;
      case 'x':
        e.kind = CodeEntryKind::kExecutable;
        break;
      case 'l':
        e.kind = CodeEntryKind::kSymlink;
        break;
      default:
        return bad("unknown kind");
    }
    e.sha256 = std::string(parts[1]);
    if (!absl::SimpleAtoi(parts[2], &e.size)) return bad("size is not a number");
    e.path = std::string(parts[3]);
    m.entries.push_back(std::move(e));
  }
  if (line_no == 0) return absl::InvalidArgumentError("code manifest: empty");
  return m;
}

void SortManifest(CodeManifest& m) {
  std::sort(m.entries.begin(), m.entries.end(),
            [](const CodeEntry& a, const CodeEntry& b) { return a.path < b.path; });
}

absl::Status ValidateCodePath(absl::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("an empty path");
  if (path.size() > kMaxCodePathBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a path longer than ", kMaxCodePathBytes, " bytes"));
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("the path ", QuoteForError(path), " has a control character"));
    }
  }
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    if (segment.empty() || segment == "." || segment == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("the path ", QuoteForError(path),
                       " is not relative and normal (no leading '/', no empty, . or .. segments)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateManifest(const CodeManifest& m, const SnapshotLimits& limits,
                              absl::string_view what) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", why));
  };
  std::vector<SizedPath> sizes;
  sizes.reserve(m.entries.size());
  for (size_t i = 0; i < m.entries.size(); ++i) {
    const CodeEntry& e = m.entries[i];
    if (absl::Status s = ValidateCodePath(e.path); !s.ok()) return bad(s.message());
    if (i > 0 && !(m.entries[i - 1].path < e.path)) {
      return bad(absl::StrCat("paths must be sorted and unique (", QuoteForError(e.path), ")"));
    }
    if (e.size < 0) return bad(absl::StrCat(QuoteForError(e.path), ": a negative size"));
    if (!IsSha256Hex(e.sha256)) {
      return bad(absl::StrCat(QuoteForError(e.path), ": sha256 must be 64 lowercase hex digits"));
    }
    if (e.kind == CodeEntryKind::kSymlink && e.size > kMaxSymlinkTargetBytes) {
      return bad(absl::StrCat(QuoteForError(e.path), ": a symlink target longer than ",
                              kMaxSymlinkTargetBytes, " bytes"));
    }
    sizes.push_back({e.path, e.size});
  }
  if (m.single_file) {
    if (m.entries.size() != 1 || m.entries[0].kind == CodeEntryKind::kSymlink ||
        m.entries[0].path.find('/') != std::string::npos) {
      return bad("the snapshot of one file holds exactly that file, by its base name");
    }
  }
  return CheckSnapshotSize(sizes, limits, what);
}

absl::Status CheckSnapshotSize(const std::vector<SizedPath>& files, const SnapshotLimits& limits,
                               absl::string_view what) {
  int64_t total = 0;
  for (const SizedPath& f : files) total += f.size;
  bool too_many = static_cast<int64_t>(files.size()) > limits.max_files;
  if (total <= limits.max_bytes && !too_many) return absl::OkStatus();
  // The biggest top-level directories, then the biggest files.
  std::map<std::string, int64_t> dirs;
  std::map<std::string, int64_t> dir_files;
  for (const SizedPath& f : files) {
    size_t slash = f.path.find('/');
    if (slash == std::string::npos) continue;
    std::string top = f.path.substr(0, slash + 1);
    dirs[top] += f.size;
    ++dir_files[top];
  }
  std::vector<std::pair<std::string, int64_t>> biggest;
  for (const auto& [dir, bytes] : dirs) {
    biggest.push_back({absl::StrCat(dir, " ", FormatBytes(bytes), " in ", Files(dir_files[dir])),
                       too_many ? dir_files[dir] : bytes});
  }
  std::sort(biggest.begin(), biggest.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  biggest.resize(std::min(biggest.size(), kBiggestShown / 2));
  std::vector<SizedPath> by_size = files;
  std::sort(by_size.begin(), by_size.end(),
            [](const SizedPath& a, const SizedPath& b) { return a.size > b.size; });
  for (size_t i = 0; i < by_size.size() && biggest.size() < kBiggestShown; ++i) {
    biggest.push_back({absl::StrCat(by_size[i].path, " ", FormatBytes(by_size[i].size)), 0});
  }
  std::vector<std::string> shown;
  for (const auto& [text, weight] : biggest) shown.push_back(text);
  std::string limit =
      too_many ? absl::StrCat("more than the limit of ", WithCommas(limits.max_files), " files")
               : absl::StrCat("more than the limit of ", FormatBytes(limits.max_bytes),
                              " (skydeckd --max-snapshot-bytes)");
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": the code snapshot would hold ", FormatBytes(total), " in ",
      Files(static_cast<int64_t>(files.size())), ", ", limit,
      ". Biggest: ", absl::StrJoin(shown, ", "),
      ". Leave them out with .skydeckignore or .gitignore (gitignore syntax), or use a git URL "
      "or a bucket mount for data"));
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, units[unit]);
}

std::string ShortSnapshotId(absl::string_view id) { return std::string(id.substr(0, 12)); }

}  // namespace skydeck
