// File: daemon/notify/url_redaction.h
//
// Webhook URLs carry their secret in the path (Slack:
// /services/T000/B000/XXXX), the query (?token=) or the user info
// (https://user:pass@host): everything SkyDeck logs, shows or returns
// about a sink uses the redacted form, scheme://host[:port]/…
//
//   RedactUrl("https://hooks.slack.com/services/T0/B0/XXX") == "https://hooks.slack.com/…"
//   RedactUrl("http://127.0.0.1:8080")                      == "http://127.0.0.1:8080/"
//   RedactUrl("https://u:p@example.com/x")                  == "https://example.com/…"
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck::notify {

// `url` as scheme://host[:port]/… ("/" alone when it had no path or
// query); "<invalid URL>" when it has no scheme or host.
std::string RedactUrl(absl::string_view url);

// A webhook URL split for cpp-httplib.
struct WebhookTarget {
  std::string scheme_host_port;  // "https://hooks.slack.com"
  std::string path_and_query;    // "/services/T0/B0/XXX", "/" when empty
};

// SplitWebhookUrl()
//
// Errors: INVALID_ARGUMENT (naming only the redacted URL) unless the
// scheme is http or https and there is a host; user info in the URL is
// refused too (HTTP basic auth would send it in clear in a header we do
// not control).
absl::StatusOr<WebhookTarget> SplitWebhookUrl(absl::string_view url);

// `text` with every occurrence of `url`, and of its path and query, replaced by
// the redacted form: for error messages that might quote the URL.
std::string RedactIn(std::string text, absl::string_view url);

}  // namespace skydeck::notify
