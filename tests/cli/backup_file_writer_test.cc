// `skydeck backup FILE` writes FILE only once the backup arrived whole.
#include "cli/backup_file_writer.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"

#include "common/sha256.h"

namespace skydeck::cli {
namespace {

namespace fs = std::filesystem;

struct Dir {
  fs::path path = fs::temp_directory_path() / absl::StrCat("skydeck-backup-writer-", getpid());
  Dir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() { fs::remove_all(path); }
  int Entries() const {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(path)) ++n;
    return n;
  }
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Digest(const std::string& data) {
  Sha256 h;
  h.Update(data);
  return h.HexDigest();
}

TEST_CASE("a backup that arrived whole replaces the file, private to its owner", "[cli][backup]") {
  Dir dir;
  fs::path target = dir.path / "skydeck.db";
  std::ofstream(target) << "an older backup";
  BackupFileWriter out(target.string());
  REQUIRE(out.Open().ok());
  REQUIRE(out.Append("SQLite format 3").ok());
  REQUIRE(out.Append(std::string(5000, 'x')).ok());
  std::string all = "SQLite format 3" + std::string(5000, 'x');
  REQUIRE(out.Commit(static_cast<int64_t>(all.size()), Digest(all)).ok());
  CHECK(Slurp(target) == all);
  CHECK(dir.Entries() == 1);  // no temporary file left
  CHECK((fs::status(target).permissions() & fs::perms::others_read) == fs::perms::none);
}

TEST_CASE("a damaged or short backup leaves the old file and nothing else", "[cli][backup]") {
  Dir dir;
  fs::path target = dir.path / "skydeck.db";
  std::ofstream(target) << "an older backup";
  {
    BackupFileWriter out(target.string());
    REQUIRE(out.Open().ok());
    REQUIRE(out.Append("abc").ok());
    auto wrong_digest = out.Commit(3, Digest("abd"));
    CHECK(absl::IsDataLoss(wrong_digest));
  }
  {
    BackupFileWriter out(target.string());
    REQUIRE(out.Open().ok());
    REQUIRE(out.Append("ab").ok());
    CHECK(absl::IsDataLoss(out.Commit(3, Digest("abc"))));
  }
  {
    BackupFileWriter out(target.string());
    REQUIRE(out.Open().ok());
    REQUIRE(out.Append("abc").ok());
    // The stream broke: no Commit.
  }
  CHECK(Slurp(target) == "an older backup");
  CHECK(dir.Entries() == 1);
}

TEST_CASE("a backup into a missing directory fails before anything is sent", "[cli][backup]") {
  BackupFileWriter out("/nonexistent-dir/skydeck.db");
  CHECK(absl::IsFailedPrecondition(out.Open()));
}

}  // namespace
}  // namespace skydeck::cli
