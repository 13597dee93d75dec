#include "daemon/store/restore.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "common/status_macros.h"
#include "daemon/store/integrity.h"
#include "daemon/store/migrations.h"
#include "daemon/store/sqlite.h"

namespace skydeck::store {
namespace {

namespace fs = std::filesystem;

absl::Status SyncPath(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    int err = errno;
    if (fd >= 0) close(fd);
    return absl::InternalError(absl::StrCat("syncing ", path, ": ", std::strerror(err)));
  }
  close(fd);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ScalarInt(Connection& db, const std::string& sql) {
  ASSIGN_OR_RETURN(Statement * st, db.Prepare(sql));
  ASSIGN_OR_RETURN(std::optional<int64_t> value, st->ReadFirst(IntColumn(0)));
  return value.value_or(0);
}

// The copy at `path` is a SkyDeck database this binary can open. Returns
// its newest event id.
absl::StatusOr<int64_t> CheckCopy(const std::string& path, absl::Duration check_budget) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> db, Connection::Open(path, OpenMode::kExisting));
  ASSIGN_OR_RETURN(IntegrityReport report, QuickCheck(*db, check_budget));
  if (!report.unchecked.empty()) {
    return absl::DeadlineExceededError(
        absl::StrCat("the check of table ", report.unchecked.front(), " did not finish within ",
                     absl::FormatDuration(check_budget), " (raise --db-check-timeout)"));
  }
  ASSIGN_OR_RETURN(int64_t version, ScalarInt(*db, "PRAGMA user_version"));
  if (version < 1 || version > LatestSchemaVersion()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "schema version ", version, " (this skydeckd opens 1 to ", LatestSchemaVersion(), ")"));
  }
  ASSIGN_OR_RETURN(int64_t ids, ScalarInt(*db,
                                          "SELECT count(*) FROM meta WHERE key = "
                                          "'installation_id'"));
  if (ids != 1) return absl::InvalidArgumentError("it has no installation id");
  return ScalarInt(*db, "SELECT coalesce(max(id), 0) FROM events");
}

// Renames `from` to `to` when `from` exists.
absl::Status MoveIfPresent(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (!fs::exists(from, ec)) return absl::OkStatus();
  fs::rename(from, to, ec);
  if (ec) return absl::InternalError(absl::StrCat("renaming ", from, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RestoreResult> RestoreDatabase(const std::string& backup, const std::string& db_path,
                                              absl::Duration check_budget) {
  std::error_code ec;
  if (!fs::is_regular_file(backup, ec)) {
    return absl::NotFoundError(absl::StrCat("backup file ", backup, " not found"));
  }
  // 1. A checked copy beside the database (same file system: the rename
  // below is atomic). Checking the copy, not the backup, leaves the
  // backup file exactly as it was.
  std::string copy = absl::StrCat(db_path, ".restoring");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(copy + suffix, ec);
  fs::copy_file(backup, copy, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("copying ", backup, " to ", copy, ": ", ec.message()));
  }
  // A backup kept read-only (as it should be) gives a read-only copy.
  fs::permissions(copy, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add, ec);
  absl::StatusOr<int64_t> revision = CheckCopy(copy, check_budget);
  if (revision.ok()) {
    // Closed above: its WAL was checkpointed into the file and removed.
    absl::Status synced = SyncPath(copy, O_RDONLY);
    if (!synced.ok()) revision = synced;
  }
  if (!revision.ok()) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(copy + suffix, ec);
    return absl::InvalidArgumentError(
        absl::StrCat(backup, " is not a SkyDeck database this skydeckd can restore: ",
                     revision.status().message(), "; the database was not changed"));
  }
  RestoreResult result;
  result.revision = *revision;
  // 2. The current database aside, with its WAL (it may hold committed
  // transactions); its -shm is only an index of that WAL.
  if (fs::exists(db_path, ec)) {
    result.previous =
        absl::StrCat(db_path, ".before-restore-",
                     absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone()));
    RETURN_IF_ERROR(MoveIfPresent(db_path + "-wal", result.previous + "-wal"));
    RETURN_IF_ERROR(MoveIfPresent(db_path, result.previous));
  }
  fs::remove(db_path + "-shm", ec);
  fs::remove(db_path + "-wal", ec);
  // 3. The copy into place.
  fs::rename(copy, db_path, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat(
        "renaming ", copy, " to ", db_path, ": ", ec.message(), "; the old database is ",
        result.previous.empty() ? "gone (there was none)" : result.previous));
  }
  std::string dir = fs::path(db_path).parent_path().string();
  RETURN_IF_ERROR(SyncPath(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY));
  return result;
}

}  // namespace skydeck::store
