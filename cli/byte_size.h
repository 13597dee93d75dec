// File: cli/byte_size.h
//
// Sizes as people type them on the command line: `65536`, `64K`, `10KiB`,
// `1M`, `1MB`. Binary suffixes (K, KiB, M, MiB, G, GiB, T, TiB) count
// 1024s, decimal ones (KB, MB, GB, TB) 1000s, as GNU coreutils read them;
// letters in any case, a `B` alone means bytes.
//
//   ASSIGN_OR_RETURN(int64_t bytes, AsUsage(ParseByteSize("--tail-bytes", "10KiB")));  // 10240
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck::cli {

// ParseByteSize()
//
// The number of bytes `text` names. `option` names what is parsed, for the
// message. "0" is 0.
//   "4096" -> 4096; "10KiB" -> 10240; "1M" -> 1048576; "1MB" -> 1000000
// Errors: INVALID_ARGUMENT for a negative or fractional number, an unknown
// suffix, or a size beyond int64, saying what is accepted.
absl::StatusOr<int64_t> ParseByteSize(absl::string_view option, absl::string_view text);

}  // namespace skydeck::cli
