#include "common/model/link_template.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include "common/model/flag_value.h"

namespace skydeck {
namespace {

constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxNameBytes = 64;
constexpr char kPlaceholders[] =
    "{experiment_name} {experiment_id} {run_name} {job_id} {attempt} {backend_job_id} "
    "{label.KEY} {flag.KEY}";

bool IsKnownPlaceholder(absl::string_view p) {
  static const char* const kPlain[] = {"experiment_name", "experiment_id", "run_name",
                                       "job_id",          "attempt",       "backend_job_id"};
  for (const char* known : kPlain) {
    if (p == known) return true;
  }
  for (absl::string_view prefix : {"label.", "flag."}) {
    if (absl::StartsWith(p, prefix) && p.size() > prefix.size()) return true;
  }
  return false;
}

bool HasHttpScheme(absl::string_view url) {
  return absl::StartsWithIgnoreCase(url, "http://") || absl::StartsWithIgnoreCase(url, "https://");
}

std::optional<std::string> Value(absl::string_view p, const ExperimentRecord& e,
                                 const JobRecord* job) {
  if (p == "experiment_name") return e.spec.name;
  if (p == "experiment_id") return absl::StrCat(e.id);
  if (p == "run_name") {
    if (job && !job->run_name.empty()) return job->run_name;
    return e.spec.run_name.empty() ? e.spec.name : e.spec.run_name;
  }
  if (p == "job_id") return job ? std::optional<std::string>(absl::StrCat(job->id)) : std::nullopt;
  if (p == "attempt") {
    return job ? std::optional<std::string>(absl::StrCat(job->attempt)) : std::nullopt;
  }
  if (p == "backend_job_id") {
    if (!job || job->backend_job_id.empty()) return std::nullopt;
    return job->backend_job_id;
  }
  if (absl::ConsumePrefix(&p, "label.")) {
    auto it = e.spec.labels.find(std::string(p));
    if (it == e.spec.labels.end()) return std::nullopt;
    return it->second;
  }
  if (absl::ConsumePrefix(&p, "flag.")) {
    const FlagMap& flags = job ? job->flags : e.spec.flags;
    auto it = flags.find(std::string(p));
    if (it == flags.end()) return std::nullopt;
    return FormatFlagValue(it->second);
  }
  return std::nullopt;
}

}  // namespace

std::string UrlEscape(absl::string_view value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

absl::StatusOr<LinkTemplate> LinkTemplate::Parse(absl::string_view flag_value) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("link \"", flag_value, "\": ", why,
                                                   " (expected NAME=URL_TEMPLATE with "
                                                   "placeholders ",
                                                   kPlaceholders, ")"));
  };
  size_t eq = flag_value.find('=');
  if (eq == absl::string_view::npos) return bad("no '=' between the name and the template");
  LinkTemplate t;
  t.name_ = std::string(absl::StripAsciiWhitespace(flag_value.substr(0, eq)));
  t.text_ = std::string(absl::StripAsciiWhitespace(flag_value.substr(eq + 1)));
  if (t.name_.empty() || t.name_.size() > kMaxNameBytes) {
    return bad("the name must be 1-64 characters");
  }
  for (unsigned char c : t.name_) {
    if (c < 0x20 || c == 0x7f) return bad("the name has a control character");
  }
  if (!HasHttpScheme(t.text_)) return bad("the template must start with http:// or https://");
  if (t.text_.size() > kMaxUrlBytes) return bad("the template is longer than 2048 bytes");
  absl::string_view rest = t.text_;
  while (!rest.empty()) {
    size_t open = rest.find_first_of("{}");
    if (open == absl::string_view::npos) {
      t.parts_.push_back(Part{false, std::string(rest)});
      break;
    }
    if (rest[open] == '}') return bad("a '}' without its '{'");
    if (open > 0) t.parts_.push_back(Part{false, std::string(rest.substr(0, open))});
    size_t close = rest.find('}', open);
    if (close == absl::string_view::npos) return bad("a '{' is not closed");
    absl::string_view name = rest.substr(open + 1, close - open - 1);
    if (!IsKnownPlaceholder(name)) {
      return bad(absl::StrCat("unknown placeholder {", name, "}"));
    }
    t.parts_.push_back(Part{true, std::string(name)});
    rest.remove_prefix(close + 1);
  }
  for (unsigned char c : t.text_) {
    if (c <= 0x20 || c == 0x7f) return bad("the template has white space or a control character");
  }
  return t;
}

std::optional<std::string> LinkTemplate::Expand(const ExperimentRecord& experiment,
                                                const JobRecord* job) const {
  std::string url;
  for (const Part& part : parts_) {
    if (!part.placeholder) {
      url += part.text;
      continue;
    }
    std::optional<std::string> value = Value(part.text, experiment, job);
    if (!value) return std::nullopt;
    url += UrlEscape(*value);
  }
  return url;
}

std::vector<ResolvedLink> ResolveLinks(const std::vector<LinkTemplate>& templates,
                                       const ExperimentRecord& experiment, const JobRecord* job) {
  std::vector<ResolvedLink> out;
  if (!experiment.spec.link.empty()) out.push_back({"link", experiment.spec.link});
  for (const LinkTemplate& t : templates) {
    if (std::optional<std::string> url = t.Expand(experiment, job)) {
      out.push_back({t.name(), std::move(*url)});
    }
  }
  return out;
}

absl::Status ValidateLinkUrl(absl::string_view field, absl::string_view url) {
  if (url.empty()) return absl::OkStatus();
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": \"", url, "\" ", why));
  };
  if (url.size() > kMaxUrlBytes) return bad("is longer than 2048 bytes");
  if (!HasHttpScheme(url)) return bad("is not an http:// or https:// URL");
  absl::string_view host = url.substr(url.find("//") + 2);
  host = host.substr(0, host.find_first_of("/?#"));
  if (host.empty()) return bad("has no host");
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return bad("has white space or a control character");
  }
  return absl::OkStatus();
}

std::string SkyPilotJobPageTemplate(absl::string_view endpoint) {
  absl::string_view base = absl::StripSuffix(endpoint, "/");
  return absl::StrCat(base, "/dashboard/jobs/{backend_job_id}");
}

}  // namespace skydeck
