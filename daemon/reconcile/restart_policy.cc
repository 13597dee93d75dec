#include "daemon/reconcile/restart_policy.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace skydeck::reconcile {

bool CountsAgainstBudget(backend::FailureKind kind) {
  switch (kind) {
    case backend::FailureKind::kUserCode:
    case backend::FailureKind::kInvalidSpec:
    case backend::FailureKind::kCancelled:
      return true;
    default:
      return false;
  }
}

std::string CommandNotRunnable(const std::string& command, std::optional<int> exit_code) {
  if (!exit_code || (*exit_code != 127 && *exit_code != 126)) return "";
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(command);
  absl::string_view word = rest.substr(0, std::min(rest.find_first_of(" \t\n"), rest.size()));
  if (word.size() >= 2 && (word.front() == '\'' || word.front() == '"') &&
      word.back() == word.front()) {
    word = word.substr(1, word.size() - 2);
  }
  return absl::StrCat(*exit_code == 127 ? "command not found: " : "command not executable: ", word);
}

absl::Duration RestartBackoff(int consecutive_failures, uint64_t seed) {
  constexpr double kBaseSeconds = 10;
  constexpr double kMaxSeconds = 600;
  int exponent = std::clamp(consecutive_failures - 1, 0, 16);
  double seconds = std::min(kBaseSeconds * static_cast<double>(1 << exponent), kMaxSeconds);
  // splitmix64 of the seed -> a fraction in [0, 1).
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  double fraction = static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
  return absl::Seconds(seconds * (0.8 + 0.4 * fraction));
}

}  // namespace skydeck::reconcile
