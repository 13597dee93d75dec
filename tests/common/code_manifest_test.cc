#include "common/code_manifest.h"

#include <catch2/catch.hpp>

#include "common/sha256.h"

namespace skydeck {
namespace {

CodeEntry File(std::string path, int64_t size, char digest = 'a',
               CodeEntryKind kind = CodeEntryKind::kFile) {
  return CodeEntry{std::move(path), kind, size, std::string(64, digest)};
}

TEST_CASE("sha256 of known texts", "[manifest]") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  CHECK(h.HexDigest() == Sha256Hex("abc"));
  CHECK(IsSha256Hex(Sha256Hex("x")));
  CHECK_FALSE(IsSha256Hex(std::string(64, 'A')));
  CHECK_FALSE(IsSha256Hex("abc"));
}

TEST_CASE("the canonical text and the id of a manifest", "[manifest]") {
  CodeManifest m;
  m.entries = {File("run.sh", 7, 'b', CodeEntryKind::kExecutable), File("train.py", 12),
               File("latest", 8, 'c', CodeEntryKind::kSymlink)};
  SortManifest(m);
  REQUIRE(ValidateManifest(m, {}, "workdir /p").ok());
  std::string text = CanonicalManifest(m);
  CHECK(text ==
        "skydeck-snapshot 1 dir\n"
        "l " +
            std::string(64, 'c') +
            " 8 latest\n"
            "x " +
            std::string(64, 'b') +
            " 7 run.sh\n"
            "f " +
            std::string(64, 'a') + " 12 train.py\n");
  CHECK(ManifestId(m) == Sha256Hex(text));
  absl::StatusOr<CodeManifest> back = ParseManifest(text);
  REQUIRE(back.ok());
  CHECK(*back == m);

  // A path with spaces is the rest of the line.
  CodeManifest spaced;
  spaced.entries = {File("my dir/a b.txt", 1)};
  absl::StatusOr<CodeManifest> spaced_back = ParseManifest(CanonicalManifest(spaced));
  REQUIRE(spaced_back.ok());
  CHECK(spaced_back->entries[0].path == "my dir/a b.txt");

  // One changed byte of content changes the id; so does the kind.
  CodeManifest other = m;
  other.entries[2].sha256 = std::string(64, 'd');
  CHECK(ManifestId(other) != ManifestId(m));
  CodeManifest single;
  single.single_file = true;
  single.entries = {File("cfg.yaml", 3)};
  CodeManifest dir = single;
  dir.single_file = false;
  CHECK(ManifestId(single) != ManifestId(dir));
  CHECK(CanonicalManifest(single).rfind("skydeck-snapshot 1 file\n", 0) == 0);
}

TEST_CASE("manifests that are refused", "[manifest]") {
  auto refused = [](CodeManifest m) {
    absl::Status s = ValidateManifest(m, {}, "workdir /p");
    CHECK(absl::IsInvalidArgument(s));
    return std::string(s.message());
  };
  CodeManifest m;
  m.entries = {File("../etc/passwd", 1)};
  CHECK(refused(m).find("not relative and normal") != std::string::npos);
  m.entries = {File("/abs", 1)};
  refused(m);
  m.entries = {File("a//b", 1)};
  refused(m);
  m.entries = {File("a/./b", 1)};
  refused(m);
  m.entries = {File("a\nb", 1)};
  CHECK(refused(m).find("control character") != std::string::npos);
  m.entries = {File("b", 1), File("a", 1)};
  CHECK(refused(m).find("sorted") != std::string::npos);
  m.entries = {File("a", 1), File("a", 1)};
  refused(m);
  m.entries = {CodeEntry{"a", CodeEntryKind::kFile, 1, "nothex"}};
  refused(m);
  m.entries = {File("a", -1)};
  refused(m);
  m.entries = {File("l", kMaxSymlinkTargetBytes + 1, 'a', CodeEntryKind::kSymlink)};
  refused(m);
  m.single_file = true;
  m.entries = {File("a", 1), File("b", 1)};
  CHECK(refused(m).find("one file") != std::string::npos);
  m.entries = {File("d/a", 1)};
  refused(m);
  CHECK_FALSE(ParseManifest("").ok());
  CHECK_FALSE(ParseManifest("skydeck-snapshot 2 dir\n").ok());
  CHECK_FALSE(ParseManifest("skydeck-snapshot 1 dir\nq x 1 a\n").ok());
  CHECK_FALSE(ParseManifest("skydeck-snapshot 1 dir").ok());
}

TEST_CASE("a snapshot over the limit names its size and biggest paths", "[manifest]") {
  SnapshotLimits limits;
  limits.max_bytes = 1000;
  std::vector<SizedPath> files = {
      {"train.py", 100}, {"data/a.bin", 900}, {"data/b.bin", 400}, {"ckpt/model.pt", 300}};
  absl::Status s = CheckSnapshotSize(files, limits, "workdir /p");
  REQUIRE(absl::IsInvalidArgument(s));
  std::string msg(s.message());
  CHECK(msg.find("workdir /p: the code snapshot would hold 1.7 KiB in 4 files") == 0);
  CHECK(msg.find("more than the limit of 1000 B (skydeckd --max-snapshot-bytes)") !=
        std::string::npos);
  // Directories first (biggest first), then files.
  CHECK(msg.find("Biggest: data/ 1.3 KiB in 2 files, ckpt/ 300 B in 1 file, data/a.bin "
                 "900 B, data/b.bin 400 B") != std::string::npos);
  CHECK(msg.find(".skydeckignore") != std::string::npos);
  limits.max_bytes = 1700;
  CHECK(CheckSnapshotSize(files, limits, "w").ok());
  limits.max_files = 3;
  absl::Status many = CheckSnapshotSize(files, limits, "w");
  REQUIRE(absl::IsInvalidArgument(many));
  CHECK(many.message().find("more than the limit of 3 files") != absl::string_view::npos);
}

TEST_CASE("byte sizes for people", "[manifest]") {
  CHECK(FormatBytes(0) == "0 B");
  CHECK(FormatBytes(1023) == "1023 B");
  CHECK(FormatBytes(1024) == "1.0 KiB");
  CHECK(FormatBytes(int64_t{100} << 20) == "100.0 MiB");
  CHECK(FormatBytes(int64_t{3} << 30) == "3.0 GiB");
}

}  // namespace
}  // namespace skydeck
