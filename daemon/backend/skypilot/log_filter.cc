#include "daemon/backend/skypilot/log_filter.h"

namespace skydeck::backend::skypilot {
namespace {

constexpr absl::string_view kPayloadOpen = "<sky-payload";
constexpr absl::string_view kPayloadClose = "</sky-payload>";

}  // namespace

bool IsSkyPayloadLine(absl::string_view line) {
  size_t open = line.find(kPayloadOpen);
  if (open == absl::string_view::npos) return false;
  size_t tag_end = line.find('>', open + kPayloadOpen.size());
  return tag_end != absl::string_view::npos &&
         line.find(kPayloadClose, tag_end + 1) != absl::string_view::npos;
}

std::string SkyPayloadFilter::Feed(absl::string_view chunk) {
  pending_.append(chunk.data(), chunk.size());
  std::string out;
  size_t start = 0;
  for (size_t nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', start)) {
    absl::string_view line(pending_.data() + start, nl + 1 - start);
    if (!IsSkyPayloadLine(line)) out.append(line.data(), line.size());
    start = nl + 1;
  }
  pending_.erase(0, start);
  if (pending_.size() > kMaxPendingBytes &&
      absl::string_view(pending_).find(kPayloadOpen) == absl::string_view::npos) {
    out += pending_;
    pending_.clear();
  }
  return out;
}

std::string SkyPayloadFilter::Finish() {
  std::string out;
  if (!IsSkyPayloadLine(pending_)) out = std::move(pending_);
  pending_.clear();
  return out;
}

void TailBuffer::Append(absl::string_view text) {
  if (max_bytes_ == 0) return;
  if (text.size() >= max_bytes_) {
    data_.assign(text.data() + text.size() - max_bytes_, max_bytes_);
    return;
  }
  data_.append(text.data(), text.size());
  // Trim in amortised steps rather than on every append.
  if (data_.size() > 2 * max_bytes_) data_.erase(0, data_.size() - max_bytes_);
}

std::string TailBuffer::Take() {
  if (data_.size() > max_bytes_) data_.erase(0, data_.size() - max_bytes_);
  return std::move(data_);
}

}  // namespace skydeck::backend::skypilot
