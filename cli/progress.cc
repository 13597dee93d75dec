// File: cli/progress.cc
#include "cli/progress.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

#include "cli/output.h"
#include "cli/terminal.h"

namespace skydeck::cli {
namespace {

constexpr absl::string_view kSpinner = "|/-\\";
constexpr absl::Duration kTick = absl::Milliseconds(100);

}  // namespace

std::string RenderProgressLine(const std::vector<ProgressTrack>& tracks, absl::string_view target,
                               int64_t elapsed_ms, int frame, int columns) {
  std::string line;
  if (frame >= 0) absl::StrAppend(&line, kSpinner.substr(frame % kSpinner.size(), 1), " ");
  if (tracks.size() == 1) {
    absl::StrAppend(&line, tracks[0].name, ": ", absl::StrJoin(tracks[0].states, " -> "));
  } else {
    int reached = 0;
    for (const ProgressTrack& t : tracks) reached += t.reached ? 1 : 0;
    absl::StrAppend(&line, reached, "/", tracks.size(), " ", target);
    for (const ProgressTrack& t : tracks) {
      if (t.reached || t.states.empty()) continue;
      absl::StrAppend(&line, ", ", t.name, ": ", t.states.back());
    }
  }
  absl::StrAppend(&line, " (", FormatDuration(elapsed_ms), ")");
  return Truncate(line, static_cast<size_t>(columns > 1 ? columns - 1 : 1));
}

WaitProgress::WaitProgress(bool redraw, FILE* out, std::string target)
    : redraw_(redraw),
      out_(out),
      target_(std::move(target)),
      start_(std::chrono::steady_clock::now()) {
  if (redraw_) ticker_ = std::thread([this] { Tick(); });
}

WaitProgress::~WaitProgress() { Finish(); }

void WaitProgress::Observe(const std::string& name, const std::string& state, bool reached) {
  absl::MutexLock lock(&mu_);
  ProgressTrack* track = nullptr;
  for (ProgressTrack& t : tracks_) {
    if (t.name == name) track = &t;
  }
  if (track == nullptr) track = &tracks_.emplace_back(ProgressTrack{name, {}, false});
  track->reached = reached;
  if (!track->states.empty() && track->states.back() == state) return;
  track->states.push_back(state);
  if (!redraw_) {
    std::fprintf(out_, "%s: %s\n", name.c_str(), state.c_str());
    std::fflush(out_);
  }
}

void WaitProgress::Finish() {
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
  }
  if (!redraw_) return;
  ticker_.join();  // the ticker's Await sees finished_ at once
  absl::MutexLock lock(&mu_);
  if (tracks_.empty()) return;  // nothing was drawn: leave no blank line
  Draw(/*frame=*/-1);
  std::fputs("\n", out_);
  std::fflush(out_);
}

void WaitProgress::Draw(int frame) {
  if (tracks_.empty()) return;
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start_);
  std::string line =
      RenderProgressLine(tracks_, target_, elapsed.count(), frame, TerminalColumns(out_, 80));
  // Back to the line's start, the new text, then erase what a longer
  // previous line left behind.
  std::fputs(absl::StrCat("\r", line, "\x1b[K").c_str(), out_);
  std::fflush(out_);
}

void WaitProgress::Tick() {
  absl::MutexLock lock(&mu_);
  for (int frame = 0; !finished_; ++frame) {
    Draw(frame);
    mu_.AwaitWithTimeout(absl::Condition(&finished_), kTick);
  }
}

}  // namespace skydeck::cli
