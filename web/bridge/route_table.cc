#include "web/bridge/route_table.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "skydeck/v1/annotations.pb.h"

namespace skydeck::web {
namespace {

std::vector<std::string> SplitPath(absl::string_view path) {
  std::vector<std::string> out;
  for (absl::string_view s : absl::StrSplit(path, '/', absl::SkipEmpty())) out.emplace_back(s);
  return out;
}

bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// How well `route` fits the path: -1 for no match, else the number of
// literal segments (more literals = more specific).
int Score(const Route& route, const std::vector<std::string>& parts) {
  if (route.segments.size() != parts.size()) return -1;
  int literals = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (IsParam(route.segments[i])) continue;
    if (route.segments[i] != parts[i]) return -1;
    ++literals;
  }
  return literals;
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || !absl::ascii_isxdigit(text[i + 1]) ||
        !absl::ascii_isxdigit(text[i + 2])) {
      return absl::InvalidArgumentError("bad percent-escape in path");
    }
    out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

absl::StatusOr<RouteTable> RouteTable::ForService(
    const google::protobuf::ServiceDescriptor* service) {
  RouteTable table;
  for (int m = 0; m < service->method_count(); ++m) {
    const google::protobuf::MethodDescriptor* method = service->method(m);
    const auto& options = method->options();
    for (int i = 0; i < options.ExtensionSize(skydeck::v1::http); ++i) {
      const std::string& spec = options.GetExtension(skydeck::v1::http, i);
      std::vector<std::string> parts = absl::StrSplit(spec, ' ', absl::SkipEmpty());
      if (parts.size() != 2 || !absl::StartsWith(parts[1], "/")) {
        return absl::InvalidArgumentError(absl::StrCat(method->full_name(), ": http option \"",
                                                       spec, "\" is not \"VERB /path\""));
      }
      Route route;
      route.verb = absl::AsciiStrToUpper(parts[0]);
      route.pattern = parts[1];
      route.segments = SplitPath(parts[1]);
      route.method = method;
      for (const std::string& seg : route.segments) {
        if (!IsParam(seg)) continue;
        std::string field = seg.substr(1, seg.size() - 2);
        if (method->input_type()->FindFieldByName(field) == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat(method->full_name(), ": route ", spec, " names unknown field ", field));
        }
      }
      table.routes_.push_back(std::move(route));
    }
  }
  return table;
}

absl::StatusOr<RouteMatch> RouteTable::Match(absl::string_view verb, absl::string_view path) const {
  std::vector<std::string> parts = SplitPath(path);
  const Route* best = nullptr;
  int best_score = -1;
  bool path_exists = false;
  for (const Route& route : routes_) {
    int score = Score(route, parts);
    if (score < 0) continue;
    path_exists = true;
    if (route.verb != verb) continue;
    if (score > best_score) {
      best = &route;
      best_score = score;
    }
  }
  if (best == nullptr) {
    if (path_exists) {
      return absl::FailedPreconditionError(
          absl::StrCat("method ", verb, " is not allowed on ", path));
    }
    return absl::NotFoundError(absl::StrCat("no API route ", verb, " ", path));
  }
  RouteMatch match;
  match.route = best;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = best->segments[i];
    if (!IsParam(seg)) continue;
    auto decoded = PercentDecode(parts[i]);
    if (!decoded.ok()) return decoded.status();
    match.path_params[seg.substr(1, seg.size() - 2)] = *decoded;
  }
  return match;
}

}  // namespace skydeck::web
