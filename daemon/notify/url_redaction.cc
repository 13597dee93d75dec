#include "daemon/notify/url_redaction.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace skydeck::notify {
namespace {

struct UrlParts {
  std::string scheme;  // lower case
  std::string userinfo;
  std::string host_port;
  std::string rest;  // path, query and fragment, "" when none
};

std::optional<UrlParts> Parse(absl::string_view url) {
  url = absl::StripAsciiWhitespace(url);
  size_t sep = url.find("://");
  if (sep == absl::string_view::npos || sep == 0) return std::nullopt;
  UrlParts p;
  p.scheme = absl::AsciiStrToLower(url.substr(0, sep));
  absl::string_view after = url.substr(sep + 3);
  size_t end = after.find_first_of("/?#");
  absl::string_view authority = after.substr(0, end);
  if (end != absl::string_view::npos) p.rest = std::string(after.substr(end));
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    p.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  p.host_port = std::string(authority);
  if (p.host_port.empty()) return std::nullopt;
  return p;
}

}  // namespace

std::string RedactUrl(absl::string_view url) {
  std::optional<UrlParts> p = Parse(url);
  if (!p) return "<invalid URL>";
  bool nothing_after = p->rest.empty() || p->rest == "/";
  return absl::StrCat(p->scheme, "://", p->host_port, nothing_after ? "/" : "/…");
}

absl::StatusOr<WebhookTarget> SplitWebhookUrl(absl::string_view url) {
  std::optional<UrlParts> p = Parse(url);
  if (!p) {
    return absl::InvalidArgumentError("the url must be http://HOST[:PORT]/... or https://...");
  }
  std::string shown = RedactUrl(url);
  if (p->scheme != "http" && p->scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("url ", shown, ": the scheme must be http or https"));
  }
  if (!p->userinfo.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("url ", shown,
                     ": user:password@ is not supported; put the secret in the "
                     "path or query the receiver expects"));
  }
  std::string rest = p->rest;
  if (size_t hash = rest.find('#'); hash != std::string::npos) rest.resize(hash);
  if (rest.empty() || rest[0] != '/') rest.insert(0, "/");
  return WebhookTarget{absl::StrCat(p->scheme, "://", p->host_port), rest};
}

std::string RedactIn(std::string text, absl::string_view url) {
  std::optional<UrlParts> p = Parse(url);
  std::string shown = RedactUrl(url);
  std::string trimmed(absl::StripAsciiWhitespace(url));
  if (!trimmed.empty()) text = absl::StrReplaceAll(text, {{trimmed, shown}});
  if (p && p->rest.size() > 1) text = absl::StrReplaceAll(text, {{p->rest, "/…"}});
  if (p && !p->userinfo.empty()) text = absl::StrReplaceAll(text, {{p->userinfo, "…"}});
  return text;
}

}  // namespace skydeck::notify
