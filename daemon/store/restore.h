// File: daemon/store/restore.h
//
// Putting a backup (from `skydeck backup`, i.e. Store::Backup) in place of
// the database, for `skydeckd --restore-from FILE`. Done by hand, a restore
// has a trap: a "-wal" file left by the old database (after a crash it
// holds committed pages) would be replayed onto the restored file and
// corrupt it. This does it in the safe order:
//
//   1. copy the backup next to the database and check the copy: an SQLite
//      file that passes quick_check, with SkyDeck's tables, of a schema
//      version this binary can open;
//   2. move the current database aside, its "-wal" with it (so the old
//      database stays whole and readable under the new name), and drop its
//      "-shm" (rebuilt from the WAL on open);
//   3. rename the checked copy into place and sync the directory.
//
// The caller must hold the database's InstanceLock: no process may have
// the database open meanwhile.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace skydeck::store {

struct RestoreResult {
  // The newest event id in the restored database.
  int64_t revision = 0;
  // Where the database that was replaced now is; "" when there was none.
  std::string previous;
};

// RestoreDatabase()
//
// Replaces the database at `db_path` with a copy of `backup` as described
// above; the old one becomes "<db_path>.before-restore-<UTC time>".
// `check_budget` bounds the quick_check of the copy; a copy not checked
// whole within it is refused.
// Errors: INVALID_ARGUMENT when `backup` is not a usable SkyDeck database
// (nothing is changed then); NOT_FOUND when it does not exist; others for
// I/O (then the database is either untouched or already replaced, never
// missing: the message says which).
absl::StatusOr<RestoreResult> RestoreDatabase(const std::string& backup, const std::string& db_path,
                                              absl::Duration check_budget);

}  // namespace skydeck::store
