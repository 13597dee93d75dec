#include "daemon/snapshots/snapshot_collector.h"

#include "absl/strings/str_cat.h"
#include "common/code_manifest.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace skydeck::snapshots {

SnapshotCollector::SnapshotCollector(store::Store* store, SnapshotStore* snapshots,
                                     CollectorOptions options)
    : store_(store), snapshots_(snapshots), options_(options) {}

SnapshotCollector::~SnapshotCollector() { Stop(); }

absl::StatusOr<CollectResult> SnapshotCollector::CollectOnce() {
  // References first, then the cutoff: a snapshot named after the query
  // was touched by the request that named it, so it is younger than any
  // cutoff taken now.
  ASSIGN_OR_RETURN(std::set<std::string> referenced, store_->ReferencedCodeSnapshots());
  return snapshots_->Collect(referenced, absl::Now() - options_.grace);
}

void SnapshotCollector::Start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      absl::StatusOr<CollectResult> r = CollectOnce();
      if (!r.ok()) {
        LogWarn("code snapshot collection failed", {{"error", r.status().ToString()}});
      } else if (r->trees + r->blobs + r->partials > 0) {
        LogInfo("code snapshots collected",
                {{"snapshots", absl::StrCat(r->trees)},
                 {"contents", absl::StrCat(r->blobs)},
                 {"partial_uploads", absl::StrCat(r->partials)},
                 {"freed", FormatBytes(r->bytes)}});
      }
      lock.lock();
      cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.interval),
                   [this] { return stopping_; });
    }
  });
}

void SnapshotCollector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace skydeck::snapshots
