#include "common/model/workdir.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/model/validation.h"

namespace skydeck {
namespace {

// "user@host:path" with no "://": git's scp-like syntax.
bool IsScpLike(absl::string_view text) {
  size_t at = text.find('@');
  size_t colon = text.find(':');
  size_t slash = text.find('/');
  return at != absl::string_view::npos && colon != absl::string_view::npos && at > 0 &&
         colon > at + 1 && (slash == absl::string_view::npos || slash > colon);
}

}  // namespace

absl::StatusOr<Workdir> ParseWorkdir(absl::string_view text) {
  Workdir w;
  if (text.empty()) return w;
  if (text.size() > kMaxWorkdirBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("workdir: at most ", kMaxWorkdirBytes, " bytes, got ", text.size()));
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("workdir: control characters are not allowed");
    }
  }
  if (text.front() == '/') {
    w.kind = Workdir::Kind::kLocal;
    w.path = std::string(text);
    return w;
  }
  size_t scheme = text.find("://");
  bool url = scheme != absl::string_view::npos && scheme > 0;
  if (!url && !IsScpLike(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat("workdir ", QuoteForError(text),
                     ": use an absolute directory (/home/me/project) or a git repository URL[@REF] "
                     "(https://github.com/org/repo.git@main)"));
  }
  // The '@' of a ref comes after the authority's user ("git@host:",
  // "https://user@host/").
  size_t authority_end = url ? text.find('/', scheme + 3) : text.find(':');
  size_t at = text.rfind('@');
  bool has_ref = at != absl::string_view::npos && authority_end != absl::string_view::npos &&
                 at > authority_end && text.find('/', at) == absl::string_view::npos &&
                 at + 1 < text.size();
  w.kind = Workdir::Kind::kGit;
  w.url = std::string(has_ref ? text.substr(0, at) : text);
  w.ref = has_ref ? std::string(text.substr(at + 1)) : "";
  return w;
}

std::string FormatWorkdir(const Workdir& w) {
  switch (w.kind) {
    case Workdir::Kind::kNone:
      return "";
    case Workdir::Kind::kLocal:
      return w.path;
    case Workdir::Kind::kGit:
      return w.ref.empty() ? w.url : absl::StrCat(w.url, "@", w.ref);
  }
  return "";
}

}  // namespace skydeck
