// File: daemon/notify/notify_config.h
//
// The notification sinks of `skydeckd --notify FILE`: a YAML list of
// webhooks, each with its payload format, the events it wants and an
// optional label selector on the experiment. The file may also be a
// mapping with `sinks:` and `unreachable_after:` (how long the backend
// must be unreachable before that is announced, default 5m).
//
//   - name: team-slack
//     url: https://hooks.slack.com/services/T000/B000/XXXX
//     format: slack            # or json (the default)
//     events: [job_failed, stalled, succeeded]   # default: all
//     selector: team=nlp       # default: every experiment
//
//   ASSIGN_OR_RETURN(NotifyConfig config, LoadNotifyConfig("/etc/skydeck/notify.yaml"));
//
// Errors are INVALID_ARGUMENT and name the file and line ("notify.yaml:4:
// sink 'x': unknown event 'job_fail' (known: ...)"). A sink's URL never
// appears in an error: only its redacted form (url_redaction.h).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "common/model/label_selector.h"
#include "daemon/notify/notify_event.h"

namespace skydeck::notify {

enum class PayloadFormat {
  kJson,   // {"event": ..., "experiment": ..., ...}: webhook_payload.h
  kSlack,  // {"text": "..."}: Slack and compatible (Mattermost, Rocket.Chat)
};

struct SinkConfig {
  // Unique, [a-z0-9_-], at most 64 characters: shown in health, metrics
  // labels and `skydeck notify test --sink`.
  std::string name;
  // http:// or https://; may hold a secret (a Slack webhook's path): never
  // logged or returned, see RedactUrl.
  std::string url;
  PayloadFormat format = PayloadFormat::kJson;
  std::set<NotifyKind> events;  // never empty after parsing
  // Only events of experiments it matches; backend events always pass.
  std::optional<LabelSelector> selector;
  std::string selector_text;
  // Each delivery attempt, connection included.
  absl::Duration timeout = absl::Seconds(10);
};

struct NotifyConfig {
  std::vector<SinkConfig> sinks;
  absl::Duration unreachable_after = absl::Minutes(5);
};

// ParseNotifyConfig()
//
// `text` (the content of `file_name`, used in messages) as a NotifyConfig.
absl::StatusOr<NotifyConfig> ParseNotifyConfig(absl::string_view text, absl::string_view file_name);

// LoadNotifyConfig()
//
// Reads and parses `path`. Errors: NOT_FOUND / PERMISSION_DENIED when it
// cannot be read, else as ParseNotifyConfig.
absl::StatusOr<NotifyConfig> LoadNotifyConfig(const std::string& path);

}  // namespace skydeck::notify
