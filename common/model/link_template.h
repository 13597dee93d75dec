// File: common/model/link_template.h
//
// Links shown with experiments and jobs: templates given to the daemon
// (skydeckd --link 'W&B=https://wandb.ai/ORG/PROJ/runs/{run_name}') and the
// link a user attaches to an experiment (ExperimentSpec::link, the seed's
// wandb_link). A template's placeholders are filled from the experiment and
// its job, each value URL-escaped (RFC 3986: all but A-Z a-z 0-9 - . _ ~):
//
//   {experiment_name} {experiment_id} {run_name} (the job's, else the
//   experiment's run name, else its name) {job_id} {attempt}
//   {backend_job_id} {label.KEY} {flag.KEY} (the job's flags, else the
//   experiment's)
//
// A link whose placeholders cannot all be filled (no job yet, a missing
// label or flag, no backend job id) is left out rather than shown broken.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "common/model/records.h"

namespace skydeck {

struct ResolvedLink {
  std::string name;
  std::string url;
  bool operator==(const ResolvedLink&) const = default;
};

class LinkTemplate {
 public:
  // Parses "NAME=TEMPLATE" (split at the first '='). NAME: 1-64 printable
  // characters; TEMPLATE starts with http:// or https:// (so no value can
  // change the scheme), at most 2048 bytes, and every {...} is one of the
  // placeholders above. Errors: INVALID_ARGUMENT saying what is wrong and
  // listing the placeholders.
  static absl::StatusOr<LinkTemplate> Parse(absl::string_view flag_value);

  // The URL for `experiment` and its `job` (null: the experiment's link,
  // so job placeholders cannot be filled); unset when a value is missing.
  std::optional<std::string> Expand(const ExperimentRecord& experiment, const JobRecord* job) const;

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }

 private:
  struct Part {
    bool placeholder = false;
    std::string text;  // literal text, or the placeholder's name
  };
  std::string name_;
  std::string text_;
  std::vector<Part> parts_;
};

// The experiment's own link (named "link") first, then each template that
// expands, in order.
std::vector<ResolvedLink> ResolveLinks(const std::vector<LinkTemplate>& templates,
                                       const ExperimentRecord& experiment, const JobRecord* job);

// An experiment's link: "" (none) or an absolute http(s) URL with a host,
// no white space or control characters, at most 2048 bytes.
// Errors: INVALID_ARGUMENT naming `field`.
absl::Status ValidateLinkUrl(absl::string_view field, absl::string_view url);

// Percent-encodes every byte but A-Z a-z 0-9 - . _ ~.
std::string UrlEscape(absl::string_view value);

// The template of the SkyPilot dashboard's page of a managed job on the
// API server at `endpoint` (its /dashboard/jobs/<id> page).
std::string SkyPilotJobPageTemplate(absl::string_view endpoint);

}  // namespace skydeck
