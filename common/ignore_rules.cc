#include "common/ignore_rules.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace skydeck {
namespace {

// Matches one bracket expression starting at p[0] == '[' against `c`.
// Returns the position after it, or npos when the expression is not closed
// (then '[' is a literal). `matched` says whether `c` is in the set.
size_t MatchClass(absl::string_view p, char c, bool* matched) {
  size_t i = 1;
  bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negate) ++i;
  bool in = false;
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    if (p[i] == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      // A POSIX class: unsupported, so it matches nothing (see header).
      size_t end = p.find(":]", i + 2);
      if (end == absl::string_view::npos) return absl::string_view::npos;
      i = end + 2;
      continue;
    }
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      if (hi == '\\' && i + 3 < p.size()) hi = p[++i + 2];
      i += 2;
    }
    if (c >= lo && c <= hi) in = true;
    ++i;
  }
  if (i >= p.size()) return absl::string_view::npos;
  *matched = c != '/' && (in != negate);
  return i + 1;
}

bool Match(absl::string_view p, absl::string_view t) {
  while (!p.empty()) {
    char c = p[0];
    if (c == '*') {
      // WildMatch has taken the "**" that span directories out; any star
      // run left matches within one segment.
      size_t stars = p.find_first_not_of('*');
      if (stars == absl::string_view::npos) stars = p.size();
      absl::string_view rest = p.substr(stars);
      if (rest.empty()) return t.find('/') == absl::string_view::npos;
      for (size_t i = 0;; ++i) {
        if (Match(rest, t.substr(i))) return true;
        if (i >= t.size() || t[i] == '/') return false;
      }
    }
    if (t.empty()) return false;
    if (c == '?') {
      if (t[0] == '/') return false;
      p.remove_prefix(1);
      t.remove_prefix(1);
      continue;
    }
    if (c == '[') {
      bool matched = false;
      size_t end = MatchClass(p, t[0], &matched);
      if (end != absl::string_view::npos) {
        if (!matched) return false;
        p.remove_prefix(end);
        t.remove_prefix(1);
        continue;
      }
    }
    if (c == '\\' && p.size() > 1) {
      p.remove_prefix(1);
      c = p[0];
    }
    if (t[0] != c) return false;
    p.remove_prefix(1);
    t.remove_prefix(1);
  }
  return t.empty();
}

}  // namespace

bool WildMatch(absl::string_view pattern, absl::string_view text) {
  // Split around "**" segments: "**/" at the start, "/**/" in the middle
  // and "/**" at the end span directories; Match handles the rest.
  if (absl::StartsWith(pattern, "**/")) {
    absl::string_view rest = pattern.substr(3);
    if (WildMatch(rest, text)) return true;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '/' && WildMatch(rest, text.substr(i + 1))) return true;
    }
    return false;
  }
  if (pattern == "**") return true;
  size_t mid = pattern.find("/**/");
  size_t end_star = absl::EndsWith(pattern, "/**") ? pattern.size() - 3 : absl::string_view::npos;
  if (mid != absl::string_view::npos && (end_star == absl::string_view::npos || mid < end_star)) {
    absl::string_view head = pattern.substr(0, mid);
    absl::string_view tail = pattern.substr(mid + 4);
    // head must match a prefix of whole segments, tail the rest after
    // zero or more directories.
    for (size_t i = 0; i <= text.size(); ++i) {
      if (i < text.size() && text[i] != '/') continue;
      if (!Match(head, text.substr(0, i))) continue;
      if (i == text.size()) return false;
      absl::string_view after = text.substr(i + 1);
      if (WildMatch(tail, after)) return true;
      for (size_t j = 0; j < after.size(); ++j) {
        if (after[j] == '/' && WildMatch(tail, after.substr(j + 1))) return true;
      }
    }
    return false;
  }
  if (end_star != absl::string_view::npos) {
    absl::string_view head = pattern.substr(0, end_star);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '/' && Match(head, text.substr(0, i))) return true;
    }
    return false;
  }
  return Match(pattern, text);
}

void IgnoreRules::AddFile(absl::string_view dir, absl::string_view text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Trailing spaces go unless escaped.
    while (!line.empty() && line.back() == ' ' &&
           !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
      line.remove_suffix(1);
    }
    if (line.empty() || line[0] == '#') continue;
    Pattern p;
    p.base = std::string(dir);
    if (line[0] == '!') {
      p.negated = true;
      line.remove_prefix(1);
    } else if (absl::StartsWith(line, "\\!") || absl::StartsWith(line, "\\#")) {
      line.remove_prefix(1);
    }
    if (!line.empty() && line.back() == '/' &&
        !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
      p.dir_only = true;
      line.remove_suffix(1);
    }
    if (!line.empty() && line[0] == '/') {
      p.anchored = true;
      line.remove_prefix(1);
    }
    if (line.find('/') != absl::string_view::npos) p.anchored = true;
    if (line.empty()) continue;
    p.glob = std::string(line);
    patterns_.push_back(std::move(p));
  }
}

bool IgnoreRules::Ignored(absl::string_view path, bool is_dir) const {
  bool ignored = false;
  for (const Pattern& p : patterns_) {
    if (p.dir_only && !is_dir) continue;
    absl::string_view rel = path;
    if (!p.base.empty()) {
      if (!absl::StartsWith(path, p.base) || path.size() <= p.base.size() ||
          path[p.base.size()] != '/') {
        continue;
      }
      rel = path.substr(p.base.size() + 1);
    }
    bool match;
    if (p.anchored) {
      match = WildMatch(p.glob, rel);
    } else {
      size_t slash = rel.rfind('/');
      match = WildMatch(p.glob, slash == absl::string_view::npos ? rel : rel.substr(slash + 1));
    }
    if (match) ignored = !p.negated;
  }
  return ignored;
}

}  // namespace skydeck
