// Store::Backup: a consistent copy of the live database (SQLite's online
// backup API), and the clean-up of copies a crash left behind.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <sqlite3.h>
#include <sys/stat.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/log.h"
#include "common/status_macros.h"
#include "daemon/store/store.h"

namespace skydeck::store {
namespace {

// Copies are named "<database>.backup-XXXXXX" (mkstemp's six characters).
constexpr char kBackupInfix[] = ".backup-";
constexpr size_t kTempSuffixLength = 6;

bool IsFile(const std::string& path) { return path != ":memory:" && !path.empty(); }

std::string TempPattern(const std::string& db_path) {
  if (IsFile(db_path)) return absl::StrCat(db_path, kBackupInfix, "XXXXXX");
  return (std::filesystem::temp_directory_path() / "skydeck-backup-XXXXXX").string();
}

// An open sqlite3 handle, closed on every path.
struct Handle {
  sqlite3* db = nullptr;
  ~Handle() { sqlite3_close(db); }
};

absl::Status OpenHandle(const std::string& path, int flags, Handle* out) {
  int rc = sqlite3_open_v2(path.c_str(), &out->db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqliteError(out->db, rc, absl::StrCat("opening ", path));
  sqlite3_busy_timeout(out->db, 5000);
  return absl::OkStatus();
}

absl::Status ExecOn(sqlite3* db, const char* sql) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db, rc, sql);
}

absl::StatusOr<int64_t> NewestEventId(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM events", -1, &st, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "reading the revision");
  rc = sqlite3_step(st);
  int64_t revision = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "reading the revision");
  return revision;
}

// Copies every page of `src` (inside the read transaction the caller
// opened) into the new database at `dest`.
absl::Status CopyPages(sqlite3* src, const std::string& dest) {
  Handle out;
  RETURN_IF_ERROR(OpenHandle(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &out));
  // A scratch file: no journal, no syncs (it is read back at once and a
  // crash discards it).
  RETURN_IF_ERROR(ExecOn(out.db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF"));
  sqlite3_backup* backup = sqlite3_backup_init(out.db, "main", src, "main");
  if (backup == nullptr) return SqliteError(out.db, sqlite3_errcode(out.db), "starting backup");
  // All pages in one step: the copy is the source's snapshot as of the
  // caller's read transaction, never restarted by concurrent writes.
  int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return SqliteError(nullptr, rc, "copying the database");
  return absl::OkStatus();
}

}  // namespace

BackupFile::~BackupFile() { close(fd_); }

void Store::RemoveBackupLeftovers(const std::string& db_path) {
  std::filesystem::path db(db_path);
  std::string prefix = db.filename().string() + kBackupInfix;
  std::error_code ec;
  std::filesystem::path dir = db.parent_path().empty() ? "." : db.parent_path();
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, prefix) && name.size() == prefix.size() + kTempSuffixLength) {
      std::error_code removed;
      std::filesystem::remove(entry.path(), removed);
      LogInfo("removed an unfinished backup copy", {{"path", entry.path().string()}});
    }
  }
}

absl::StatusOr<std::unique_ptr<BackupFile>> Store::Backup() {
  if (backup_running_.exchange(true)) {
    return absl::UnavailableError("another backup is running; try again when it has finished");
  }
  absl::Cleanup finished = [this] { backup_running_ = false; };
  std::string dest = TempPattern(path_);
  int fd = mkostemp(dest.data(), O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("creating the backup file ", dest, ": ", std::strerror(errno)));
  }
  int64_t revision = 0;
  absl::Status copied = [&]() -> absl::Status {
    if (!IsFile(path_)) {
      // An in-memory database (tests) has no other connection to read it.
      absl::MutexLock lock(&mu_);
      ASSIGN_OR_RETURN(revision, NewestEventId(db_->raw()));
      return CopyPages(db_->raw(), dest);
    }
    // A connection of its own: the store's stays free for the API.
    Handle src;
    RETURN_IF_ERROR(OpenHandle(path_, SQLITE_OPEN_READONLY, &src));
    RETURN_IF_ERROR(ExecOn(src.db, "BEGIN"));
    // The first read fixes the snapshot that the revision and the copy share.
    ASSIGN_OR_RETURN(revision, NewestEventId(src.db));
    RETURN_IF_ERROR(CopyPages(src.db, dest));
    return ExecOn(src.db, "COMMIT");
  }();
  // Our descriptor keeps the copy readable; its name goes now, so no exit
  // path leaves a copy of every secret in the database lying around.
  unlink(dest.c_str());
  struct stat st = {};
  if (copied.ok() && fstat(fd, &st) != 0) {
    copied = absl::InternalError(absl::StrCat("reading the backup file: ", std::strerror(errno)));
  }
  if (!copied.ok()) {
    close(fd);
    return copied;
  }
  return std::make_unique<BackupFile>(fd, static_cast<int64_t>(st.st_size), revision);
}

}  // namespace skydeck::store
