// File: daemon/store/reader_pool.h
//
// A small pool of read-only connections to one database file, so reads run
// in parallel with each other and with the store's single writer
// connection. The database is in WAL mode: each read transaction sees one
// consistent snapshot of what was committed when its first statement ran,
// and neither waits for the writer nor makes it wait (only a checkpoint
// stops at the oldest open read).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ReaderPool> pool, ReaderPool::Open(path, 4));
//   RETURN_IF_ERROR(pool->Read([&](Connection& db) -> absl::Status { ... }));
//
// Each connection has its own prepared-statement cache and runs with
// "PRAGMA query_only=1": a write through it fails (SQLITE_READONLY) instead
// of slipping past the store's write path.
//
// Not for ":memory:": every connection to it would open a database of its
// own (the Store reads through its writer connection there instead).
//
// Thread-safety: thread-safe. A connection serves one Read at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

#include "daemon/store/sqlite.h"

namespace skydeck::store {

class ReaderPool {
 public:
  // Opens `size` (>= 1) read-only connections to the existing database at
  // `path`. Errors: Connection::Open's.
  static absl::StatusOr<std::unique_ptr<ReaderPool>> Open(const std::string& path, int size);

  // ReaderPool::Read()
  //
  // Runs `body` on a free connection (waiting while every connection is in
  // use), inside one read transaction: every statement of `body` sees the
  // same snapshot. Returns `body`'s status. `body` must not call Read again
  // (with every connection taken it would wait for itself).
  absl::Status Read(const std::function<absl::Status(Connection&)>& body) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `each` on every connection in turn, each while no read uses it
  // (tests: the statements each has prepared).
  absl::Status ForEachConnectionForTesting(const std::function<absl::Status(Connection&)>& each)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit ReaderPool(std::vector<std::unique_ptr<Connection>> connections);
  Connection* Take() ABSL_LOCKS_EXCLUDED(mu_);
  void Give(Connection* connection) ABSL_LOCKS_EXCLUDED(mu_);

  // Owns every connection; constant after construction.
  const std::vector<std::unique_ptr<Connection>> connections_;
  absl::Mutex mu_;
  // The connections no Read is using.
  std::vector<Connection*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace skydeck::store
