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

void SnapshotCollector::CollectAndLog() {
  absl::StatusOr<CollectResult> r = CollectOnce();
  if (!r.ok()) {
    LogWarn("code snapshot collection failed", {{"error", r.status().ToString()}});
  } else if (r->trees + r->blobs + r->partials > 0) {
    LogInfo("code snapshots collected", {{"snapshots", absl::StrCat(r->trees)},
                                         {"contents", absl::StrCat(r->blobs)},
                                         {"partial_uploads", absl::StrCat(r->partials)},
                                         {"freed", FormatBytes(r->bytes)}});
  }
}

void SnapshotCollector::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
      }
      CollectAndLog();
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval)) return;
    }
  });
}

void SnapshotCollector::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace skydeck::snapshots
