// File: daemon/malloc_policy.h
//
// Keeps skydeckd's resident memory bounded under glibc malloc.
//
// The daemon's live heap is small (~3 MB peak at 2,000 local jobs, most of
// it SQLite's page cache: heaptrack), but its RSS grew with every job
// (issue 14: 8 -> 56 MB over 12,000 local jobs). The growth is freed
// memory glibc keeps: every thread that allocates gets a malloc arena of
// its own, up to 8 per core, and the daemon has ~100 threads (the HTTP
// bridge's pool, gRPC's workers, one per open Watch or log stream,
// reconcile workers); each arena keeps the high-water mark of what its
// threads once held, and free chunks between live ones are never returned.
// Two measures (figures in bench/README.md, `memory_growth.py`):
//
// - fewer arenas (LimitMallocArenas), so freed memory is shared instead of
//   kept per thread group; the daemon's threads mostly wait on the network
//   and the store's one lock, so malloc contention does not matter here;
// - a periodic malloc_trim(0) (MallocTrimmer), which returns the free pages
//   inside every arena to the kernel, not only those at an arena's top.
//
//   LimitMallocArenas(kDaemonMallocArenas);   // first thing in main
//   MallocTrimmer trimmer(absl::Seconds(30)); // for the daemon's lifetime
#pragma once

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace skydeck {

// Arenas skydeckd uses unless MALLOC_ARENA_MAX says otherwise.
inline constexpr int kDaemonMallocArenas = 2;

// LimitMallocArenas()
//
// Caps glibc's malloc arenas at `max_arenas`, unless MALLOC_ARENA_MAX is
// set in the environment (glibc applies that itself, and an operator's
// choice wins). Returns the cap in effect: `max_arenas`, or 0 when the
// environment decides. A no-op (returning 0) on other C libraries.
// REQUIRES: called before the process starts any thread.
int LimitMallocArenas(int max_arenas);

// MallocTrimmer
//
// A thread that calls malloc_trim(0) every `interval` until destroyed.
// Thread-safety: construct and destroy on one thread; nothing else to call.
class MallocTrimmer {
 public:
  explicit MallocTrimmer(absl::Duration interval);
  ~MallocTrimmer();
  MallocTrimmer(const MallocTrimmer&) = delete;
  MallocTrimmer& operator=(const MallocTrimmer&) = delete;

  // Returns free heap pages to the kernel now; true when some were.
  static bool TrimNow();

 private:
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // the thread awaits it between trims
  std::thread thread_;
};

}  // namespace skydeck
