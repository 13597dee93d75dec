// File: cli/progress.h
//
// Progress of `skydeck wait` and `exp start --wait`, on stderr. On a
// terminal (terminal.h LineRedrawAllowed) it is one status line redrawn in
// place every 100 ms: a spinner, the states each experiment went through
// and the time waited; when the wait ends the line stays, ended by a
// newline. Anywhere else (a pipe, a log file, TERM=dumb) it is one plain
// line per state change, "lr-a: PENDING", which logs and scripts want.
//
//   WaitProgress progress(LineRedrawAllowedFor(stderr), stderr, "RUNNING");
//   progress.Observe("lr-a", "PENDING", /*reached=*/false);
//   progress.Observe("lr-a", "RUNNING", /*reached=*/true);
//   progress.Finish();  // the destructor does it too
//
// Thread-safety: a ticker thread redraws the line; Observe() and Finish()
// may be called from any one thread meanwhile (they lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace skydeck::cli {

// One experiment being waited for: the states it went through, in order.
struct ProgressTrack {
  std::string name;
  std::vector<std::string> states;
  bool reached = false;
};

// RenderProgressLine()
//
// The status line (pure, for tests). `frame` < 0: the final line, without
// a spinner. One experiment: its states joined by " -> "; several: how
// many reached `target`, then each other's current state. The time waited
// comes last, and the line is cut to `columns` - 1 code points so it never
// wraps (a wrapped line cannot be redrawn with "\r").
//   RenderProgressLine({{"a", {"LAUNCHING", "PENDING"}}}, "RUNNING", 12000, 0, 80)
//   // "| a: LAUNCHING -> PENDING (12s)"
std::string RenderProgressLine(const std::vector<ProgressTrack>& tracks, absl::string_view target,
                               int64_t elapsed_ms, int frame, int columns);

class WaitProgress {
 public:
  // With `redraw`, starts the ticker thread drawing on `out`.
  WaitProgress(bool redraw, FILE* out, std::string target);
  ~WaitProgress();

  WaitProgress(const WaitProgress&) = delete;
  WaitProgress& operator=(const WaitProgress&) = delete;

  // Records that `name` is now in `state` (repeats are ignored) and whether
  // that is what the wait is for. Without redraw, prints "name: state".
  void Observe(const std::string& name, const std::string& state, bool reached);

  // Stops the ticker and leaves the final line. Idempotent.
  void Finish();

 private:
  void Draw(int frame) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Tick() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const bool redraw_;
  FILE* const out_;
  const std::string target_;
  const std::chrono::steady_clock::time_point start_;

  absl::Mutex mu_;
  std::vector<ProgressTrack> tracks_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // the ticker awaits it
  std::thread ticker_;
};

}  // namespace skydeck::cli
