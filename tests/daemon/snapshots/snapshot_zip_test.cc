#include "daemon/snapshots/snapshot_zip.h"

#include <zlib.h>

#include <map>

#include <catch2/catch.hpp>

#include "snapshot_fixture.h"

#include "daemon/snapshots/local_snapshot.h"
#include "daemon/snapshots/zip_writer.h"

namespace skydeck::snapshots {
namespace {

// A minimal zip reader over the central directory, independent of the
// writer: what an extractor sees.
struct ZipEntry {
  std::string content;
  uint32_t mode = 0;  // Unix mode from the external attributes
  uint16_t method = 0;
};

uint32_t Get(const std::string& s, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

std::map<std::string, ZipEntry> ReadZip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string zip((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(zip.size() >= 22);
  size_t end = zip.size() - 22;
  REQUIRE(Get(zip, end, 4) == 0x06054b50);
  uint32_t count = Get(zip, end + 10, 2);
  uint32_t cd_size = Get(zip, end + 12, 4);
  size_t at = Get(zip, end + 16, 4);
  CHECK(at + cd_size == end);
  std::map<std::string, ZipEntry> out;
  for (uint32_t i = 0; i < count; ++i) {
    REQUIRE(Get(zip, at, 4) == 0x02014b50);
    CHECK((Get(zip, at + 4, 2) >> 8) == 3);         // made by Unix
    CHECK((Get(zip, at + 8, 2) & (1 << 11)) != 0);  // UTF-8 names
    uint16_t method = static_cast<uint16_t>(Get(zip, at + 10, 2));
    uint32_t crc = Get(zip, at + 16, 4);
    uint32_t csize = Get(zip, at + 20, 4);
    uint32_t usize = Get(zip, at + 24, 4);
    uint32_t name_len = Get(zip, at + 28, 2);
    uint32_t extra_len = Get(zip, at + 30, 2);
    uint32_t comment_len = Get(zip, at + 32, 2);
    uint32_t external = Get(zip, at + 38, 4);
    size_t local = Get(zip, at + 42, 4);
    std::string name = zip.substr(at + 46, name_len);
    at += 46 + name_len + extra_len + comment_len;
    // The local header agrees with the central one.
    REQUIRE(Get(zip, local, 4) == 0x04034b50);
    CHECK(Get(zip, local + 14, 4) == crc);
    CHECK(Get(zip, local + 18, 4) == csize);
    CHECK(Get(zip, local + 22, 4) == usize);
    size_t data = local + 30 + Get(zip, local + 26, 2) + Get(zip, local + 28, 2);
    std::string raw = zip.substr(data, csize);
    ZipEntry e;
    e.mode = external >> 16;
    e.method = method;
    if (method == 0) {
      e.content = raw;
    } else {
      REQUIRE(method == 8);
      e.content.resize(usize);
      z_stream z{};
      REQUIRE(inflateInit2(&z, -MAX_WBITS) == Z_OK);
      z.next_in = reinterpret_cast<Bytef*>(raw.data());
      z.avail_in = static_cast<uInt>(raw.size());
      z.next_out = reinterpret_cast<Bytef*>(e.content.data());
      z.avail_out = static_cast<uInt>(e.content.size());
      CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
      inflateEnd(&z);
    }
    CHECK(crc32(0, reinterpret_cast<const Bytef*>(e.content.data()),
                static_cast<uInt>(e.content.size())) == crc);
    out[name] = e;
  }
  return out;
}

TEST_CASE("a snapshot zip holds each snapshot under its prefix", "[snapshots][zip]") {
  StoreFixture f;
  f.data.Write("code/train.py", "print('hi')\n");
  f.data.Write("code/pkg/big.txt", std::string(700000, 'z'));  // spans deflate buffers
  f.data.Write("code/run.sh", "#!/bin/sh\n");
  std::filesystem::permissions(f.data.path / "code/run.sh", std::filesystem::perms::owner_exec,
                               std::filesystem::perm_options::add);
  std::filesystem::create_symlink("train.py", f.data.path / "code/link.py");
  f.data.Write("cfg.yaml", "a: 1\n");
  absl::StatusOr<LocalSnapshot> code =
      SnapshotLocalPath(*f.store, (f.data.path / "code").string(), "code");
  absl::StatusOr<LocalSnapshot> cfg =
      SnapshotLocalPath(*f.store, (f.data.path / "cfg.yaml").string(), "cfg");
  REQUIRE(code.ok());
  REQUIRE(cfg.ok());
  std::string code_dir = "skydeck/snapshots/" + code->snapshot.id;
  std::string cfg_dir = "skydeck/snapshots/" + cfg->snapshot.id;
  std::string out = (f.data.path / "out.zip").string();
  REQUIRE(
      WriteSnapshotZip(*f.store, {{code->snapshot.id, code_dir}, {cfg->snapshot.id, cfg_dir}}, out)
          .ok());
  std::map<std::string, ZipEntry> zip = ReadZip(out);
  CHECK(zip.size() == 7);
  CHECK(zip.at(code_dir + "/").mode == 040755);
  CHECK(zip.at(code_dir + "/train.py").content == "print('hi')\n");
  CHECK(zip.at(code_dir + "/train.py").mode == 0100644);
  CHECK(zip.at(code_dir + "/train.py").method == 8);
  CHECK(zip.at(code_dir + "/pkg/big.txt").content == std::string(700000, 'z'));
  CHECK(zip.at(code_dir + "/run.sh").mode == 0100755);
  CHECK(zip.at(code_dir + "/link.py").content == "train.py");
  CHECK((zip.at(code_dir + "/link.py").mode >> 12) == 0xA);  // what SkyPilot checks
  CHECK(zip.at(cfg_dir + "/").mode == 040755);
  CHECK(zip.at(cfg_dir + "/cfg.yaml").content == "a: 1\n");

  // The same snapshots give the same bytes.
  std::string again = (f.data.path / "again.zip").string();
  REQUIRE(WriteSnapshotZip(*f.store, {{code->snapshot.id, code_dir}, {cfg->snapshot.id, cfg_dir}},
                           again)
              .ok());
  std::ifstream a(out, std::ios::binary), b(again, std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(a), {}) ==
        std::string(std::istreambuf_iterator<char>(b), {}));

  CHECK(absl::IsNotFound(WriteSnapshotZip(*f.store, {{std::string(64, 'a'), "x"}}, out)));
}

TEST_CASE("an empty zip is a valid zip", "[snapshots][zip]") {
  TempDir d;
  std::string path = (d.path / "empty.zip").string();
  auto zip = ZipWriter::Create(path);
  REQUIRE(zip.ok());
  REQUIRE((*zip)->Finish().ok());
  CHECK(ReadZip(path).empty());
}

}  // namespace
}  // namespace skydeck::snapshots
