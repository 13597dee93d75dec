#include "cli/byte_size.h"

#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace skydeck::cli {
namespace {

// The multiplier a suffix names (lower-cased), or nullopt when unknown.
std::optional<int64_t> Multiplier(absl::string_view suffix) {
  static constexpr std::pair<absl::string_view, int64_t> kSuffixes[] = {
      {"", 1},
      {"b", 1},
      {"k", int64_t{1} << 10},
      {"kib", int64_t{1} << 10},
      {"kb", 1'000},
      {"m", int64_t{1} << 20},
      {"mib", int64_t{1} << 20},
      {"mb", 1'000'000},
      {"g", int64_t{1} << 30},
      {"gib", int64_t{1} << 30},
      {"gb", 1'000'000'000},
      {"t", int64_t{1} << 40},
      {"tib", int64_t{1} << 40},
      {"tb", 1'000'000'000'000},
  };
  for (const auto& [name, factor] : kSuffixes) {
    if (suffix == name) return factor;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<int64_t> ParseByteSize(absl::string_view option, absl::string_view text) {
  auto refuse = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        option, ": \"", text, "\" ", why,
        " (a whole number of bytes, optionally with a suffix: K, M, G, T or KiB, MiB, GiB, "
        "TiB count 1024s; KB, MB, GB, TB count 1000s)"));
  };
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  size_t digits = 0;
  while (digits < trimmed.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(trimmed[digits]))) {
    ++digits;
  }
  if (digits == 0) return refuse("is not a size");
  std::optional<int64_t> factor =
      Multiplier(absl::AsciiStrToLower(absl::StripAsciiWhitespace(trimmed.substr(digits))));
  if (!factor) return refuse("is not a size");
  int64_t number = 0;
  if (!absl::SimpleAtoi(trimmed.substr(0, digits), &number) ||
      number > std::numeric_limits<int64_t>::max() / *factor) {
    return refuse("is too large");
  }
  return number * *factor;
}

}  // namespace skydeck::cli
