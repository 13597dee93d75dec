#include "daemon/backend/local/node_log_prefix.h"

#include <algorithm>

namespace skydeck::backend::local {

std::string NodeLogLabel(int rank, pid_t pid) {
  std::string rank_text = std::to_string(rank);
  std::string pid_text = std::to_string(pid);
  if (rank == 0) return "(head, rank=0, pid=" + pid_text + ") ";
  // Every local node runs on this machine.
  return "(worker" + rank_text + ", rank=" + rank_text + ", pid=" + pid_text + ", ip=127.0.0.1) ";
}

LinePrefixer::LinePrefixer(std::string prefix, size_t max_line)
    : prefix_(std::move(prefix)), max_line_(std::max<size_t>(max_line, 1)) {}

void LinePrefixer::Emit(std::string_view line, std::string* out) const {
  out->append(prefix_);
  out->append(line.data(), line.size());
  out->push_back('\n');
}

std::string LinePrefixer::Feed(std::string_view bytes) {
  std::string out;
  while (!bytes.empty()) {
    if (just_cut_ && bytes.front() == '\n') {
      // The line ended exactly where it was cut: its '\n' is already out.
      bytes.remove_prefix(1);
    }
    just_cut_ = false;
    if (bytes.empty()) break;
    size_t newline = bytes.find('\n');
    size_t room = max_line_ - pending_.size();
    if (newline != std::string_view::npos && newline <= room) {
      if (pending_.empty()) {
        Emit(bytes.substr(0, newline), &out);
      } else {
        pending_.append(bytes.data(), newline);
        Emit(pending_, &out);
        pending_.clear();
      }
      bytes.remove_prefix(newline + 1);
      continue;
    }
    // No newline within the line's remaining room: hold what fits, and cut
    // the line once it is full.
    size_t take = std::min(room, bytes.size());
    pending_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (pending_.size() == max_line_) {
      Emit(pending_, &out);
      pending_.clear();
      just_cut_ = true;
    }
  }
  return out;
}

std::string LinePrefixer::Finish() {
  std::string out;
  if (!pending_.empty()) Emit(pending_, &out);
  pending_.clear();
  just_cut_ = false;
  return out;
}

}  // namespace skydeck::backend::local
