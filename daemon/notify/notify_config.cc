#include "daemon/notify/notify_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "yaml-cpp/yaml.h"

#include "common/duration_flag.h"
#include "common/status_macros.h"
#include "daemon/notify/url_redaction.h"

namespace skydeck::notify {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxSinks = 100;

// Errors point at a line of the file (1-based, as editors count).
class Where {
 public:
  explicit Where(absl::string_view file) : file_(file) {}
  absl::Status Error(const YAML::Node& node, absl::string_view what) const {
    int line = node.Mark().line;
    return absl::InvalidArgumentError(line >= 0 ? absl::StrCat(file_, ":", line + 1, ": ", what)
                                                : absl::StrCat(file_, ": ", what));
  }

 private:
  std::string file_;
};

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '_')) return false;
  }
  return true;
}

std::string KnownKinds() {
  std::vector<std::string> names;
  for (NotifyKind k : kAllNotifyKinds) names.emplace_back(KindName(k));
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<std::string> Scalar(const Where& where, const YAML::Node& node,
                                   absl::string_view what) {
  if (!node.IsScalar()) return where.Error(node, absl::StrCat(what, " must be a string"));
  return node.Scalar();
}

absl::StatusOr<absl::Duration> Duration(const Where& where, const YAML::Node& node,
                                        absl::string_view what) {
  ASSIGN_OR_RETURN(std::string text, Scalar(where, node, what));
  absl::StatusOr<absl::Duration> d = ParseDurationFlag(text);
  if (!d.ok() || *d <= absl::ZeroDuration()) {
    return where.Error(
        node, absl::StrCat(what, " '", text, "' is not a positive duration (e.g. 30s, 5m, 1h)"));
  }
  return *d;
}

absl::Status ParseEvents(const Where& where, const YAML::Node& node, const std::string& sink,
                         std::set<NotifyKind>* events) {
  std::vector<YAML::Node> items;
  if (node.IsScalar()) {
    items.push_back(node);
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) items.push_back(item);
  } else {
    return where.Error(node, absl::StrCat("sink '", sink, "': events must be a list"));
  }
  for (const YAML::Node& item : items) {
    ASSIGN_OR_RETURN(std::string name, Scalar(where, item, "an event"));
    if (name == "all") {
      events->insert(kAllNotifyKinds.begin(), kAllNotifyKinds.end());
      continue;
    }
    std::optional<NotifyKind> kind = KindNamed(name);
    if (!kind) {
      return where.Error(item, absl::StrCat("sink '", sink, "': unknown event '", name,
                                            "' (known: ", KnownKinds(), ", all)"));
    }
    events->insert(*kind);
  }
  if (events->empty()) {
    return where.Error(node, absl::StrCat("sink '", sink, "': events is empty"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SinkConfig> ParseSink(const Where& where, const YAML::Node& node, size_t index) {
  if (!node.IsMap()) {
    return where.Error(node, absl::StrCat("sink ", index + 1,
                                          " must be a mapping with name, url, format, events"));
  }
  SinkConfig sink;
  const YAML::Node name = node["name"];
  if (!name) return where.Error(node, absl::StrCat("sink ", index + 1, ": name is missing"));
  ASSIGN_OR_RETURN(sink.name, Scalar(where, name, "name"));
  if (!ValidName(sink.name)) {
    return where.Error(
        name, absl::StrCat("sink name '", sink.name, "': use 1-64 of a-z, 0-9, '-' and '_'"));
  }
  bool has_events = false;
  for (const auto& entry : node) {
    std::string key = entry.first.as<std::string>("");
    const YAML::Node& value = entry.second;
    if (key == "name") continue;
    if (key == "url") {
      ASSIGN_OR_RETURN(sink.url, Scalar(where, value, "url"));
      if (absl::Status ok = SplitWebhookUrl(sink.url).status(); !ok.ok()) {
        return where.Error(value, absl::StrCat("sink '", sink.name, "': ", ok.message()));
      }
    } else if (key == "format") {
      ASSIGN_OR_RETURN(std::string format, Scalar(where, value, "format"));
      if (format == "json") {
        sink.format = PayloadFormat::kJson;
      } else if (format == "slack") {
        sink.format = PayloadFormat::kSlack;
      } else {
        return where.Error(value, absl::StrCat("sink '", sink.name, "': unknown format '", format,
                                               "' (json or slack)"));
      }
    } else if (key == "events") {
      RETURN_IF_ERROR(ParseEvents(where, value, sink.name, &sink.events));
      has_events = true;
    } else if (key == "selector") {
      ASSIGN_OR_RETURN(sink.selector_text, Scalar(where, value, "selector"));
      absl::StatusOr<LabelSelector> sel = LabelSelector::Parse(sink.selector_text);
      if (!sel.ok()) {
        return where.Error(
            value, absl::StrCat("sink '", sink.name, "': selector: ", sel.status().message()));
      }
      if (!sink.selector_text.empty()) sink.selector = *std::move(sel);
    } else if (key == "timeout") {
      ASSIGN_OR_RETURN(sink.timeout, Duration(where, value, "timeout"));
    } else {
      return where.Error(entry.first,
                         absl::StrCat("sink '", sink.name, "': unknown key '", key,
                                      "' (known: name, url, format, events, selector, timeout)"));
    }
  }
  if (sink.url.empty()) {
    return where.Error(node, absl::StrCat("sink '", sink.name, "': url is missing"));
  }
  if (!has_events) sink.events.insert(kAllNotifyKinds.begin(), kAllNotifyKinds.end());
  return sink;
}

absl::StatusOr<NotifyConfig> ParseRoot(const Where& where, const YAML::Node& root) {
  NotifyConfig config;
  // yaml-cpp's Node::operator= writes through to the node referred to:
  // reset() rebinds, so `root` is never overwritten.
  YAML::Node sinks;
  sinks.reset(root);
  if (root.IsMap()) {
    bool has_sinks = false;
    for (const auto& entry : root) {
      std::string key = entry.first.as<std::string>("");
      if (key == "sinks") {
        sinks.reset(entry.second);
        has_sinks = true;
      } else if (key == "unreachable_after") {
        ASSIGN_OR_RETURN(config.unreachable_after,
                         Duration(where, entry.second, "unreachable_after"));
      } else {
        return where.Error(
            entry.first, absl::StrCat("unknown key '", key, "' (known: sinks, unreachable_after)"));
      }
    }
    if (!has_sinks) return where.Error(root, "sinks is missing");
  }
  if (!sinks.IsSequence()) {
    return where.Error(sinks, "expected a list of sinks (or a mapping with sinks:)");
  }
  if (sinks.size() > kMaxSinks) {
    return where.Error(sinks, absl::StrCat("at most ", kMaxSinks, " sinks"));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < sinks.size(); ++i) {
    ASSIGN_OR_RETURN(SinkConfig sink, ParseSink(where, sinks[i], i));
    if (!names.insert(sink.name).second) {
      return where.Error(sinks[i], absl::StrCat("sink name '", sink.name, "' is used twice"));
    }
    config.sinks.push_back(std::move(sink));
  }
  return config;
}

}  // namespace

absl::StatusOr<NotifyConfig> ParseNotifyConfig(absl::string_view text,
                                               absl::string_view file_name) {
  Where where(file_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", e.mark.line + 1, ": invalid YAML: ", e.msg));
  }
  if (!root || root.IsNull()) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": no sinks (the file is empty)"));
  }
  // yaml-cpp throws on conversions of odd nodes (e.g. a map as a key).
  try {
    return ParseRoot(where, root);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ":", e.mark.line + 1, ": ", e.msg));
  }
}

absl::StatusOr<NotifyConfig> LoadNotifyConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read the notify file ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseNotifyConfig(text.str(), path);
}

}  // namespace skydeck::notify
