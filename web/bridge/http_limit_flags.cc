#include "web/bridge/http_limit_flags.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace skydeck::web {
namespace {

// At least `min`; a duration with a unit (a bare number is refused: "10"
// could mean seconds or milliseconds).
std::chrono::milliseconds ParseLimitDuration(const std::string& flag, const std::string& text,
                                             absl::Duration min) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < min || d == absl::InfiniteDuration()) {
    throw CLI::ValidationError(
        flag, absl::StrCat("\"", text, "\": use a duration of at least ", absl::FormatDuration(min),
                           " with a unit, e.g. 10s or 500ms"));
  }
  return absl::ToChronoMilliseconds(d);
}

std::string FormatMs(std::chrono::milliseconds ms) {
  return absl::FormatDuration(absl::FromChrono(ms));
}

}  // namespace

void AddHttpLimitFlags(CLI::App& app, HttpLimits* limits) {
  app.add_option("--http-max-connections", limits->max_connections,
                 "HTTP connections open at once; more are closed at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--http-max-connections-per-client", limits->max_connections_per_client,
                 "HTTP connections open at once from one client address (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--http-max-streams", limits->max_streams,
                 "Event streams (/api/watch, logs) open at once; more get 429")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option_function<std::string>(
         "--http-header-timeout",
         [limits](const std::string& text) {
           limits->header_timeout =
               ParseLimitDuration("--http-header-timeout", text, absl::Milliseconds(100));
         },
         "Time a client has to send a request's headers (slow clients are cut)")
      ->default_str(FormatMs(limits->header_timeout));
  app.add_option_function<std::string>(
         "--http-idle-timeout",
         [limits](const std::string& text) {
           auto ms = ParseLimitDuration("--http-idle-timeout", text, absl::Seconds(1));
           limits->idle_timeout = std::chrono::duration_cast<std::chrono::seconds>(ms);
         },
         "An HTTP connection on which nothing moves this long is closed (whole seconds)")
      ->default_str(FormatMs(limits->idle_timeout));
}

}  // namespace skydeck::web
