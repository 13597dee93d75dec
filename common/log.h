// File: common/log.h
//
// Structured log lines in logfmt on stderr, one line per call:
//
//   LogInfo("listening", {{"addr", "127.0.0.1:50051"}});
//   // time=2026-11-28T14:17:43.123Z level=info msg=listening addr=127.0.0.1:50051
//
// Values are quoted when they contain spaces, quotes or '='; control
// characters are escaped so user text cannot forge log lines. Never pass
// secrets (tokens) as values.
//
// Thread-safety: safe to call from any thread; lines never interleave.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

using LogField = std::pair<absl::string_view, std::string>;

// Errors: INVALID_ARGUMENT unless debug, info, warn or error.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text);
void SetLogLevel(LogLevel level);

void Log(LogLevel level, absl::string_view msg, std::initializer_list<LogField> fields = {});
inline void LogDebug(absl::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kDebug, msg, f);
}
inline void LogInfo(absl::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kInfo, msg, f);
}
inline void LogWarn(absl::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kWarn, msg, f);
}
inline void LogError(absl::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kError, msg, f);
}

// logfmt quoting of one value (exposed for tests).
std::string LogfmtValue(absl::string_view value);

}  // namespace skydeck
