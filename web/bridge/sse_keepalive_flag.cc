#include "web/bridge/sse_keepalive_flag.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

#include "common/duration_flag.h"

namespace skydeck::web {

CLI::Option* AddSseKeepaliveFlag(CLI::App& app, absl::Duration* keepalive) {
  return app
      .add_option_function<std::string>(
          "--sse-keepalive",
          [keepalive](const std::string& text) {
            absl::StatusOr<absl::Duration> d = ParseDurationFlag(text);
            if (!d.ok() || *d < kMinSseKeepalive || *d == absl::InfiniteDuration()) {
              throw CLI::ValidationError(
                  "--sse-keepalive",
                  absl::StrCat("\"", text, "\": must be a duration of at least ",
                               absl::FormatDuration(kMinSseKeepalive), ", e.g. 15s or 500ms"));
            }
            *keepalive = *d;
          },
          "Keep-alive interval of event streams (e.g. 15s, 500ms)")
      ->default_str(absl::FormatDuration(*keepalive));
}

void AddDeprecatedSseKeepaliveMsFlag(CLI::App& app, CLI::Option* keepalive_flag,
                                     absl::Duration* keepalive) {
  app.add_option_function<int64_t>(
         "--sse-keepalive-ms",
         [keepalive](int64_t ms) {
           if (absl::Milliseconds(ms) < kMinSseKeepalive) {
             throw CLI::ValidationError("--sse-keepalive-ms",
                                        absl::StrCat(ms, ": must be at least 10"));
           }
           *keepalive = absl::Milliseconds(ms);
         },
         "Deprecated: use --sse-keepalive DURATION (this one takes milliseconds)")
      ->excludes(keepalive_flag)
      ->group("Deprecated");
}

}  // namespace skydeck::web
