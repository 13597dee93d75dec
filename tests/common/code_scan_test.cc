#include "common/code_scan.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "common/sha256.h"

namespace skydeck {
namespace {
namespace fs = std::filesystem;

struct TempTree {
  fs::path root;
  TempTree() {
    root = fs::temp_directory_path() /
           ("code_scan_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~TempTree() { fs::remove_all(root); }
  void Write(const std::string& rel, const std::string& text) {
    fs::path p = root / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  static inline int counter = 0;
};

std::vector<std::string> Paths(const CodeScan& scan) {
  std::vector<std::string> out;
  for (const CodeEntry& e : scan.manifest.entries) out.push_back(e.path);
  return out;
}

CodeScan Scan(const fs::path& path, SnapshotLimits limits = {}) {
  absl::StatusOr<CodeScan> scan = ScanCode(path.string(), limits, "workdir");
  INFO(scan.status().ToString());
  REQUIRE(scan.ok());
  return *std::move(scan);
}

TEST_CASE("a scan lists files sorted, hashed, with kinds and sources", "[code_scan]") {
  TempTree t;
  t.Write("train.py", "print(1)\n");
  t.Write("pkg/model.py", "x = 1\n");
  t.Write("run.sh", "#!/bin/sh\n");
  fs::permissions(t.root / "run.sh", fs::perms::owner_exec, fs::perm_options::add);
  fs::create_directories(t.root / "empty");
  fs::create_symlink("pkg/model.py", t.root / "model_link.py");
  CodeScan scan = Scan(t.root);
  CHECK(scan.root == t.root.string());
  CHECK(Paths(scan) ==
        std::vector<std::string>{"model_link.py", "pkg/model.py", "run.sh", "train.py"});
  const auto& e = scan.manifest.entries;
  CHECK(e[0].kind == CodeEntryKind::kSymlink);
  CHECK(e[0].sha256 == Sha256Hex("pkg/model.py"));
  CHECK(scan.sources[0].link_target == "pkg/model.py");
  CHECK(e[1].kind == CodeEntryKind::kFile);
  CHECK(e[1].sha256 == Sha256Hex("x = 1\n"));
  CHECK(e[1].size == 6);
  CHECK(scan.sources[1].file == (t.root / "pkg/model.py").string());
  CHECK(e[2].kind == CodeEntryKind::kExecutable);
  CHECK_FALSE(scan.manifest.single_file);
  // The same tree scanned again has the same id; a changed byte does not.
  CHECK(ManifestId(Scan(t.root).manifest) == ManifestId(scan.manifest));
  t.Write("train.py", "print(2)\n");
  CHECK(ManifestId(Scan(t.root).manifest) != ManifestId(scan.manifest));
}

TEST_CASE("a scan honours .gitignore and .skydeckignore and drops .git", "[code_scan]") {
  TempTree t;
  t.Write("train.py", "1");
  t.Write(".git/HEAD", "ref");
  t.Write("sub/.git", "gitdir: elsewhere");  // a submodule's .git file
  t.Write(".gitignore", "*.pyc\ndata/\n");
  t.Write(".skydeckignore", "!data/\ndata/big.bin\ncheckpoints/\n");
  t.Write("a.pyc", "x");
  t.Write("data/small.csv", "1,2");
  t.Write("data/big.bin", "xxxx");
  t.Write("checkpoints/ep1.pt", "w");
  t.Write("sub/.gitignore", "local.txt\n");
  t.Write("sub/local.txt", "x");
  t.Write("sub/keep.txt", "x");
  t.Write("local.txt", "not ignored here");
  CodeScan scan = Scan(t.root);
  CHECK(Paths(scan) == std::vector<std::string>{".gitignore", ".skydeckignore", "data/small.csv",
                                                "local.txt", "sub/.gitignore", "sub/keep.txt",
                                                "train.py"});
}

TEST_CASE("a subdirectory of a git work tree takes the parents' .gitignore", "[code_scan]") {
  TempTree t;
  t.Write(".git/HEAD", "ref");
  t.Write(".gitignore", "*.log\n/top-only.txt\nproj/build/\n");
  t.Write("proj/train.py", "1");
  t.Write("proj/run.log", "x");
  t.Write("proj/top-only.txt", "kept: the pattern is anchored at the top");
  t.Write("proj/build/out.o", "x");
  CodeScan scan = Scan(t.root / "proj");
  CHECK(Paths(scan) == std::vector<std::string>{"top-only.txt", "train.py"});
}

TEST_CASE("a scan skips symlinks out of the directory and special files", "[code_scan]") {
  TempTree t;
  t.Write("a.py", "1");
  fs::create_symlink("/usr/bin/python3", t.root / "python");
  fs::create_symlink("../../outside", t.root / "escape");
  fs::create_directories(t.root / "d");
  fs::create_symlink("../a.py", t.root / "d/inside");
  REQUIRE(mkfifo((t.root / "fifo").c_str(), 0600) == 0);
  CodeScan scan = Scan(t.root);
  CHECK(Paths(scan) == std::vector<std::string>{"a.py", "d/inside"});
  REQUIRE(scan.skipped.size() == 3);
  CHECK(scan.skipped[0] == "escape -> ../../outside (a symlink out of the directory)");
  CHECK(scan.skipped[1] == "fifo (not a file, directory or symlink)");
  CHECK(scan.skipped[2] == "python -> /usr/bin/python3 (a symlink out of the directory)");
}

TEST_CASE("a scan of one file, and what is refused", "[code_scan]") {
  TempTree t;
  t.Write("cfg.yaml", "a: 1\n");
  CodeScan one = Scan(t.root / "cfg.yaml");
  CHECK(one.manifest.single_file);
  CHECK(Paths(one) == std::vector<std::string>{"cfg.yaml"});

  CHECK(absl::IsNotFound(ScanCode((t.root / "missing").string(), {}, "w").status()));
  CHECK(absl::IsInvalidArgument(ScanCode("relative", {}, "w").status()));

  t.Write("bad\nname", "x");
  absl::Status control = ScanCode(t.root.string(), {}, "workdir").status();
  CHECK(absl::IsInvalidArgument(control));
  CHECK(control.message().find(".skydeckignore") != absl::string_view::npos);
  t.Write(".skydeckignore", "bad*\n");
  CHECK(ScanCode(t.root.string(), {}, "workdir").ok());

  // Over the limit: refused before hashing, naming the biggest paths.
  t.Write("data/blob.bin", std::string(5000, 'x'));
  SnapshotLimits limits;
  limits.max_bytes = 4096;
  absl::Status big = ScanCode(t.root.string(), limits, "workdir /w").status();
  REQUIRE(absl::IsInvalidArgument(big));
  CHECK(big.message().find("data/blob.bin 4.9 KiB") != absl::string_view::npos);
}

}  // namespace
}  // namespace skydeck
