#include "daemon/store/seed_database.h"

#include <cstring>
#include <fstream>
#include <set>

#include <sqlite3.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"

namespace skydeck::store {
namespace {

// Column names of `table`, empty when it does not exist or cannot be read.
std::set<std::string> Columns(sqlite3* db, const char* table) {
  std::set<std::string> columns;
  sqlite3_stmt* st = nullptr;
  std::string sql = absl::StrCat("PRAGMA table_info(", table, ")");
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return columns;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* name = sqlite3_column_text(st, 1);
    if (name) columns.insert(reinterpret_cast<const char*>(name));
  }
  sqlite3_finalize(st);
  return columns;
}

int64_t UserVersion(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  int64_t version = 0;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) != SQLITE_OK) return 0;
  if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return version;
}

bool IsSeedSchema(sqlite3* db) {
  // SkyDeck's own schema always has a version; the predecessor never set one.
  if (UserVersion(db) != 0) return false;
  std::set<std::string> experiments = Columns(db, "experiments");
  std::set<std::string> jobs = Columns(db, "jobs");
  return experiments.count("current_state") && experiments.count("tags") &&
         experiments.count("flags") && jobs.count("cluster_name");
}

// The 100-byte SQLite header says whether this could be the predecessor's
// file: an SQLite database in rollback-journal mode. Ours are always WAL,
// and opening a WAL database, even read-only, would create its "-shm"
// (and, for a file this process cannot write, leave it read-only).
bool RollbackJournalDatabase(const std::string& path) {
  char header[100] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in.read(header, sizeof header)) return false;
  constexpr int kWriteVersionOffset = 18;  // 1: rollback journal, 2: WAL
  return std::memcmp(header, "SQLite format 3", 16) == 0 && header[kWriteVersionOffset] == 1;
}

}  // namespace

absl::Status RefuseSeedDatabase(const std::string& path) {
  struct stat info;
  if (path == ":memory:" || stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode) ||
      !RollbackJournalDatabase(path)) {
    return absl::OkStatus();
  }
  sqlite3* db = nullptr;
  bool seed = false;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    seed = IsSeedSchema(db);
  }
  sqlite3_close(db);
  if (!seed) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "database ", path,
      " was written by the earlier SkyDeck dashboard (Python), not by skydeckd: start skydeckd "
      "on a new database (another --db-path, or none for the default) and bring its "
      "experiments and job history over with `skydeck import --seed-db ",
      path, "` (the file is only read)"));
}

}  // namespace skydeck::store
