#include "common/log.h"

#include <atomic>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "common/time_util.h"

namespace skydeck {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (lower == LevelName(l)) return l;
  }
  if (lower == "warning") return LogLevel::kWarn;
  return absl::InvalidArgumentError(
      absl::StrCat("log level \"", text, "\": must be debug, info, warn or error"));
}

void SetLogLevel(LogLevel level) { g_level = level; }

std::string LogfmtValue(absl::string_view value) {
  bool needs_quotes = value.empty();
  std::string escaped;
  for (char c : value) {
    switch (c) {
      case '"':
        escaped += "\\\"";
        needs_quotes = true;
        break;
      case '\\':
        escaped += "\\\\";
        needs_quotes = true;
        break;
      case '\n':
        escaped += "\\n";
        needs_quotes = true;
        break;
      case '\t':
        escaped += "\\t";
        needs_quotes = true;
        break;
      case ' ':
      case '=':
        escaped += c;
        needs_quotes = true;
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          escaped += absl::StrFormat("\\x%02x", static_cast<unsigned char>(c));
          needs_quotes = true;
        } else {
          escaped += c;
        }
    }
  }
  return needs_quotes ? absl::StrCat("\"", escaped, "\"") : escaped;
}

void Log(LogLevel level, absl::string_view msg, std::initializer_list<LogField> fields) {
  if (level < g_level.load()) return;
  std::string line = absl::StrCat("time=", FormatRfc3339(NowMillis()), " level=", LevelName(level),
                                  " msg=", LogfmtValue(msg));
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, " ", key, "=", LogfmtValue(value));
  }
  line += '\n';
  // One fwrite per line: stdio locks the stream, so lines never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace skydeck
