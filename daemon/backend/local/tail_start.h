// File: daemon/backend/local/tail_start.h
//
// Where a reader of a log file starts to get the file's last `tail`
// (backend/log_tail.h): lines are found by reading back from the end, a
// chunk at a time, so a tail of a large log costs what the tail holds, not
// the whole file.
//
//   ASSIGN_OR_RETURN(int64_t offset, TailStart(fd, size, LogTail{.lines = 10, .bytes = 0}));
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

#include "daemon/backend/log_tail.h"

namespace skydeck::backend::local {

// TailStart()
//
// The offset in the first `size` bytes of the open file `fd` from which the
// rest holds at most `tail.lines` lines (like `tail -n`: a newline that ends
// the file ends the last line, it does not start an empty one) and at most
// `tail.bytes` bytes. 0 for the whole file. Does not move `fd`'s position.
//   "a\nb\nc\n", lines 2 -> 2 ("b\nc\n");  "a\nb\nc", lines 2 -> 2 ("b\nc")
// Errors: UNAVAILABLE when the file cannot be read.
absl::StatusOr<int64_t> TailStart(int fd, int64_t size, const LogTail& tail);

}  // namespace skydeck::backend::local
