// File: daemon/backend/local/node_log_prefix.h
//
// How a multi-node local job's log tells its nodes apart: every line a
// node prints reaches run.log whole, behind the node's label, as SkyPilot
// labels the lines of a multi-node job (sky/skylet/executor/slurm.py and
// the Ray code generator in skypilot-org/skypilot):
//
//   (head, rank=0, pid=4242) loss=0.31
//   (worker1, rank=1, pid=4250, ip=127.0.0.1) loss=0.33
//
// (SkyPilot colours the label with ANSI codes on a terminal; run.log is a
// file, so the label is plain.) Single-node jobs write run.log directly,
// without a label, as SkyPilot's single-node output has none worth
// keeping.
//
// The node's monitor (monitor_main.cc) reads the node's stdout+stderr from
// a pipe and hands what it reads to a LinePrefixer, which returns only
// whole lines; the monitor appends each batch to run.log (O_APPEND) with
// one write, so lines of different nodes never interleave mid-line.
//
// Header and source free of Abseil: the monitor links only libc and
// libstdc++.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace skydeck::backend::local {

// NodeLogLabel()
//
// The label of node `rank` whose shell is `pid`, with the trailing space:
//   NodeLogLabel(0, 42) == "(head, rank=0, pid=42) "
//   NodeLogLabel(2, 43) == "(worker2, rank=2, pid=43, ip=127.0.0.1) "
std::string NodeLogLabel(int rank, pid_t pid);

// Splits a byte stream into lines and puts `prefix` before each.
//
// Usage:
//   LinePrefixer lines("(head, rank=0, pid=42) ");
//   std::string out = lines.Feed("a\nb");  // "(head, rank=0, pid=42) a\n"
//   out += lines.Finish();                 // "(head, rank=0, pid=42) b\n"
//
// A line longer than max_line bytes is cut into pieces of max_line bytes,
// each ending in '\n', so the monitor's memory stays bounded whatever the
// job prints (a '\n' right after a cut ends that piece: no empty line).
// Bytes are passed through unchanged, '\r' and NUL included.
// Thread-safety: none needed (one monitor, one thread).
class LinePrefixer {
 public:
  static constexpr size_t kDefaultMaxLine = 64 * 1024;

  explicit LinePrefixer(std::string prefix, size_t max_line = kDefaultMaxLine);

  // The whole lines completed by `bytes` (each prefixed, each ending in
  // '\n'); keeps an unfinished last line for later. "" when none completed.
  std::string Feed(std::string_view bytes);

  // The unfinished last line, prefixed and ended with '\n'; "" when there
  // is none. Call once the stream has ended.
  std::string Finish();

  // Bytes held for an unfinished line.
  size_t pending() const { return pending_.size(); }

 private:
  void Emit(std::string_view line, std::string* out) const;

  const std::string prefix_;
  const size_t max_line_;
  std::string pending_;
  // The last line out was cut at max_line_: a '\n' right after belongs to it.
  bool just_cut_ = false;
};

}  // namespace skydeck::backend::local
