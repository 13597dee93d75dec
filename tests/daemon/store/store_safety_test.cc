// The store's defences for its file: the start-up integrity check, writes
// that SQLite refuses as read-only, online backups and restoring them.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"
#include "store_fixture.h"

#include "daemon/store/integrity.h"
#include "daemon/store/restore.h"
#include "daemon/store/store.h"

namespace skydeck::store {
namespace {

namespace fs = std::filesystem;

// A database file with `n` experiments, closed (its WAL checkpointed).
void MakeDatabase(const std::string& path, int n) {
  auto store = Store::Open(path);
  REQUIRE(store.ok());
  for (int i = 0; i < n; ++i) {
    REQUIRE((*store)->CreateExperiment(StoreFixture::Spec(absl::StrCat("e", i)), "t").ok());
  }
}

int64_t SqliteInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  int64_t value = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return value;
}

// Overwrites the b-tree header of the experiments table's root page, as a
// bad sector or a stray write would.
void DamageExperimentsTable(const std::string& path) {
  int64_t page_size = SqliteInt(path, "PRAGMA page_size");
  int64_t root = SqliteInt(path, "SELECT rootpage FROM sqlite_schema WHERE name = 'experiments'");
  int fd = open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  std::string garbage(64, '\x5a');
  REQUIRE(pwrite(fd, garbage.data(), garbage.size(), (root - 1) * page_size) ==
          static_cast<ssize_t>(garbage.size()));
  close(fd);
}

TEST_CASE("the start-up check refuses a database with a damaged table page", "[store][safety]") {
  TempDir dir;
  std::string db = dir.File("skydeck.db");
  MakeDatabase(db, 300);
  DamageExperimentsTable(db);

  OpenOptions checked;
  checked.integrity_check_budget = absl::Seconds(30);
  auto refused = Store::Open(db, checked);
  REQUIRE(absl::IsDataLoss(refused.status()));
  CHECK_THAT(std::string(refused.status().message()),
             Catch::Contains("quick_check of table experiments"));
  // Without the check the damage goes unnoticed until a request reads it.
  CHECK(Store::Open(db).ok());
}

TEST_CASE("the start-up check passes a sound database and a new one", "[store][safety]") {
  TempDir dir;
  OpenOptions checked;
  checked.integrity_check_budget = absl::Seconds(30);
  auto fresh = Store::Open(dir.File("new.db"), checked);
  REQUIRE(fresh.ok());
  fresh->reset();
  MakeDatabase(dir.File("sound.db"), 50);
  CHECK(Store::Open(dir.File("sound.db"), checked).ok());
}

TEST_CASE("the check goes table by table and reports what it had no time for", "[store][safety]") {
  TempDir dir;
  std::string db = dir.File("skydeck.db");
  MakeDatabase(db, 200);
  auto conn = Connection::Open(db, OpenMode::kExisting);
  REQUIRE(conn.ok());
  auto whole = QuickCheck(**conn, absl::Seconds(30));
  REQUIRE(whole.ok());
  CHECK(whole->unchecked.empty());
  // What every request reads comes first.
  REQUIRE(whole->checked.size() >= 5);
  CHECK(std::vector<std::string>(whole->checked.begin(), whole->checked.begin() + 5) ==
        std::vector<std::string>{"meta", "flag_schemas", "experiments", "jobs", "events"});

  auto none = QuickCheck(**conn, absl::Nanoseconds(1));
  REQUIRE(none.ok());
  CHECK(none->checked.empty());
  CHECK(none->unchecked.size() == whole->checked.size());
}

TEST_CASE("a read-only refusal is not mistaken for a constraint", "[store][safety]") {
  // Both are FAILED_PRECONDITION; only one means "name taken" or "already
  // has a live job".
  absl::Status read_only = SqliteError(nullptr, SQLITE_READONLY, "insert");
  absl::Status unique = SqliteError(nullptr, SQLITE_CONSTRAINT_UNIQUE, "insert");
  CHECK(absl::IsFailedPrecondition(read_only));
  CHECK(absl::IsFailedPrecondition(unique));
  CHECK_FALSE(IsConstraintViolation(read_only));
  CHECK(IsConstraintViolation(unique));
  CHECK(SqliteResultCode(read_only) == SQLITE_READONLY);
  CHECK(SqliteResultCode(absl::FailedPreconditionError("not from SQLite")) == 0);
  CHECK(absl::IsDataLoss(SqliteError(nullptr, SQLITE_CORRUPT, "read")));
}

TEST_CASE("a write refused as read-only is reported and the store recovers on its own",
          "[store][safety]") {
  TempDir dir;
  auto opened = Store::Open(dir.File("skydeck.db"));
  REQUIRE(opened.ok());
  Store& store = **opened;
  CHECK(store.WriteProblem().empty());
  REQUIRE(store.CreateExperiment(StoreFixture::Spec("before"), "t").ok());

  // SQLite refuses every write on this connection with SQLITE_READONLY, as
  // for a file it could only open read-only.
  REQUIRE(store.ExecForTesting("PRAGMA query_only = 1").ok());
  auto refused = store.CreateExperiment(StoreFixture::Spec("during"), "t");
  CHECK(absl::IsFailedPrecondition(refused.status()));
  CHECK_THAT(std::string(refused.status().message()), Catch::Contains("readonly"));

  // A fresh connection can write: the next write (or health) takes it, with
  // no restart and nothing lost.
  auto after = store.CreateExperiment(StoreFixture::Spec("after"), "t");
  INFO(after.status().ToString());
  REQUIRE(after.ok());
  CHECK(store.WriteProblem().empty());
  CHECK(store.FindExperimentByName("before").ok());
  CHECK(absl::IsNotFound(store.FindExperimentByName("during").status()));
}

// Runs `body` in a child process without root's power to write any file
// (as nobody when the test runs as root); returns the child's exit code.
int RunUnprivileged(const std::function<int()>& body) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(100);
    _exit(body());
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 101;
}

// A database of one experiment in a directory anyone may write, the file
// itself read-only for everyone but root.
std::string ReadOnlyDatabase(const TempDir& dir) {
  std::string db = dir.File("skydeck.db");
  MakeDatabase(db, 1);
  fs::permissions(dir.path, fs::perms::all, fs::perm_options::add);
  fs::permissions(db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read,
                  fs::perm_options::replace);
  return db;
}

// 0 when Store::Open(db), run unprivileged, is refused with
// FAILED_PRECONDITION and a message containing `needle`.
int UnprivilegedOpenRefusal(const std::string& db, const std::string& needle) {
  return RunUnprivileged([&] {
    auto store = Store::Open(db);
    if (store.ok()) return 1;
    if (!absl::IsFailedPrecondition(store.status())) return 2;
    std::string message(store.status().message());
    if (message.find(needle) == std::string::npos) {
      fprintf(stderr, "message: %s\n", message.c_str());
      return 3;
    }
    return 0;
  });
}

TEST_CASE("a database file that can only be read is refused before anything is read",
          "[store][safety]") {
  TempDir dir;
  std::string db = ReadOnlyDatabase(dir);
  CHECK(UnprivilegedOpenRefusal(db, "read-only") == 0);
  // A read would have left a -shm with the file's read-only mode behind,
  // keeping the database unwritable after a chmod (see sqlite.h).
  CHECK_FALSE(fs::exists(db + "-shm"));
}

TEST_CASE("a read-only -shm left by a read-only reader is refused once the file is writable",
          "[store][safety]") {
  TempDir dir;
  std::string db = ReadOnlyDatabase(dir);
  // What the audit's daemon did on a 0444 database: read it. SQLite creates
  // the -shm with the database's mode, read-only.
  REQUIRE(RunUnprivileged([&] {
            sqlite3* reader = nullptr;
            if (sqlite3_open_v2(db.c_str(), &reader, SQLITE_OPEN_READWRITE, nullptr) != 0) return 1;
            int rc =
                sqlite3_exec(reader, "SELECT count(*) FROM experiments", nullptr, nullptr, nullptr);
            sqlite3_close(reader);
            return rc == SQLITE_OK ? 0 : 2;
          }) == 0);
  REQUIRE(fs::exists(db + "-shm"));
  // `chmod 666 skydeck.db`: the database is writable, its -shm still is not.
  fs::permissions(db, fs::perms::all, fs::perm_options::add);
  CHECK(UnprivilegedOpenRefusal(db, "-shm") == 0);
}

// Writes the copy `backup` holds to `path`.
void SaveBackup(const BackupFile& backup, const std::string& path) {
  std::string buffer(static_cast<size_t>(backup.size_bytes()), '\0');
  REQUIRE(pread(backup.fd(), buffer.data(), buffer.size(), 0) ==
          static_cast<ssize_t>(buffer.size()));
  std::ofstream(path, std::ios::binary)
      .write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
}

TEST_CASE("a backup is one consistent snapshot, readable as a database", "[store][safety]") {
  TempDir dir;
  std::string db = dir.File("skydeck.db");
  auto opened = Store::Open(db);
  REQUIRE(opened.ok());
  Store& store = **opened;
  for (int i = 0; i < 20; ++i) {
    REQUIRE(store.CreateExperiment(StoreFixture::Spec(absl::StrCat("e", i)), "t").ok());
  }
  auto revision = store.LatestRevision();
  REQUIRE(revision.ok());
  auto backup = store.Backup();
  REQUIRE(backup.ok());
  CHECK((*backup)->revision() == *revision);

  // Nothing of it is left in the directory: the copy lives on through fd().
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    CHECK_THAT(e.path().filename().string(), !Catch::Contains(".backup-"));
    ++entries;
  }
  CHECK(entries > 0);

  std::string out = dir.File("copy.db");
  SaveBackup(**backup, out);
  CHECK(SqliteInt(out, "SELECT count(*) FROM experiments") == 20);
  CHECK(SqliteInt(out, "SELECT max(id) FROM events") == *revision);
  auto copy = Store::Open(out);
  REQUIRE(copy.ok());
  CHECK((*copy)->FindExperimentByName("e19").ok());
  CHECK((*copy)->InstallationId().value() == store.InstallationId().value());
}

TEST_CASE("a backup taken while another thread writes holds exactly a prefix of the writes",
          "[store][safety]") {
  TempDir dir;
  auto opened = Store::Open(dir.File("skydeck.db"));
  REQUIRE(opened.ok());
  Store& store = **opened;
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      if (store.CreateExperiment(StoreFixture::Spec(absl::StrCat("w", i)), "t").ok()) {
        acknowledged = i + 1;
      }
    }
  });
  while (acknowledged < 50) std::this_thread::yield();
  int before = acknowledged.load();
  auto backup = store.Backup();
  stop = true;
  writer.join();
  REQUIRE(backup.ok());

  std::string out = dir.File("copy.db");
  SaveBackup(**backup, out);
  int64_t copied = SqliteInt(out, "SELECT count(*) FROM experiments");
  CHECK(copied >= before);
  // A prefix: experiment ids are dense, so count == the highest id.
  CHECK(SqliteInt(out, "SELECT max(id) FROM experiments") == copied);
  CHECK(SqliteInt(out, "SELECT max(id) FROM events") == (*backup)->revision());
}

TEST_CASE("a restore replaces the database and keeps the old one with its WAL", "[store][safety]") {
  TempDir dir;
  std::string db = dir.File("skydeck.db");
  std::string backup_file = dir.File("backup.db");
  MakeDatabase(db, 3);
  fs::copy_file(db, backup_file);
  {
    auto store = Store::Open(db);
    REQUIRE(store.ok());
    REQUIRE((*store)->CreateExperiment(StoreFixture::Spec("after-backup"), "t").ok());
  }
  // A daemon killed with -9 leaves committed pages in the -wal: fake one by
  // leaving a WAL behind that must not meet the restored file.
  {
    std::ofstream wal(db + "-wal", std::ios::binary);
    wal << "stale wal";
  }
  auto restored = RestoreDatabase(backup_file, db, absl::Seconds(30));
  REQUIRE(restored.ok());
  CHECK_FALSE(fs::exists(db + "-wal"));
  CHECK(fs::exists(restored->previous));
  CHECK(fs::exists(restored->previous + "-wal"));
  auto store = Store::Open(db);
  REQUIRE(store.ok());
  CHECK((*store)->FindExperimentByName("e2").ok());
  CHECK(absl::IsNotFound((*store)->FindExperimentByName("after-backup").status()));
  CHECK((*store)->LatestRevision().value() == restored->revision);
}

TEST_CASE("a restore from a file that is not a usable backup changes nothing", "[store][safety]") {
  TempDir dir;
  std::string db = dir.File("skydeck.db");
  MakeDatabase(db, 2);
  std::string junk = dir.File("junk.db");
  std::ofstream(junk) << "not a database at all, but long enough to look like a header....";
  auto refused = RestoreDatabase(junk, db, absl::Seconds(30));
  CHECK(absl::IsInvalidArgument(refused.status()));
  CHECK(absl::IsNotFound(RestoreDatabase(dir.File("missing.db"), db, absl::Seconds(30)).status()));

  std::string damaged = dir.File("damaged.db");
  MakeDatabase(damaged, 300);
  DamageExperimentsTable(damaged);
  CHECK(absl::IsInvalidArgument(RestoreDatabase(damaged, db, absl::Seconds(30)).status()));

  auto store = Store::Open(db);
  REQUIRE(store.ok());
  CHECK((*store)->FindExperimentByName("e1").ok());
  for (const auto& e : fs::directory_iterator(dir.path)) {
    CHECK_THAT(e.path().filename().string(), !Catch::Contains("before-restore"));
    CHECK_THAT(e.path().filename().string(), !Catch::Contains("restoring"));
  }
}

}  // namespace
}  // namespace skydeck::store
