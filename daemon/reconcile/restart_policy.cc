#include "daemon/reconcile/restart_policy.h"

#include <algorithm>

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
