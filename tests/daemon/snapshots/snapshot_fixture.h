// A temporary snapshot store and directory helpers for snapshot tests.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "common/code_manifest.h"
#include "common/sha256.h"
#include "daemon/snapshots/snapshot_store.h"

namespace skydeck::snapshots {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("snapshots_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void Write(const std::string& rel, const std::string& text) const {
    std::filesystem::path p = path / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
};

struct StoreFixture {
  TempDir data;
  std::unique_ptr<SnapshotStore> store;
  explicit StoreFixture(SnapshotLimits limits = {}) {
    auto opened = SnapshotStore::Open((data.path / "snapshots").string(), limits);
    REQUIRE(opened.ok());
    store = *std::move(opened);
  }
  std::string Dir() const { return (data.path / "snapshots").string(); }
};

inline CodeEntry EntryFor(std::string path, const std::string& content,
                          CodeEntryKind kind = CodeEntryKind::kFile) {
  return CodeEntry{std::move(path), kind, static_cast<int64_t>(content.size()), Sha256Hex(content)};
}

// Makes `path` look last used `seconds` ago.
inline void Age(const std::string& path, int seconds) {
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = std::time(nullptr) - seconds;
  times[0].tv_nsec = times[1].tv_nsec = 0;
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

}  // namespace skydeck::snapshots
