// File: daemon/backend/local/log_stream.h
//
// Streams a file that other processes may still be appending to, such as a
// job's run.log, in chunks of at most 64 KiB.
//
//   RETURN_IF_ERROR(StreamFile(dir.LogPath(), LogTail{}, follow ?
//       is_job_finished : [] { return true; }, sink, cancelled));
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "daemon/backend/log_tail.h"

namespace skydeck::backend::local {

// Sends the file to `sink` from the start, or only its last `tail` lines or
// bytes (tail_start.h; measured when the file is first opened). Then, until
// `writers_done()` returns true, waits (100 ms at a time) for more and sends
// that too. `writers_done` is asked BEFORE each read to the end, so what
// was written before it turned true is always sent. Stops early, with OK,
// when `sink` returns false or `cancelled()` returns true. A file that does
// not exist yet reads as empty.
// Errors: UNAVAILABLE when the file cannot be opened or read.
absl::Status StreamFile(const std::filesystem::path& path, const LogTail& tail,
                        const std::function<bool()>& writers_done,
                        const std::function<bool(absl::string_view)>& sink,
                        const std::function<bool()>& cancelled);

}  // namespace skydeck::backend::local
