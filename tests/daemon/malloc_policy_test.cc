#include "daemon/malloc_policy.h"

#include <stdlib.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

// RssAnon of this process in kB (heap, arenas, stacks).
long RssAnonKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stol(line.substr(8));
  }
  return -1;
}

TEST_CASE("an operator's MALLOC_ARENA_MAX wins over the daemon's cap", "[malloc]") {
  setenv("MALLOC_ARENA_MAX", "4", 1);
  CHECK(LimitMallocArenas(kDaemonMallocArenas) == 0);
  unsetenv("MALLOC_ARENA_MAX");
  CHECK(LimitMallocArenas(kDaemonMallocArenas) == kDaemonMallocArenas);
}

TEST_CASE("trimming returns free pages held between live blocks", "[malloc]") {
  // 32 MiB in 4 KiB blocks, then all but every 64th freed: the free pages
  // sit between live blocks, where glibc's own trimming (top of the heap
  // only) never reaches them.
  constexpr size_t kBlocks = 8192, kSize = 4096;
  std::vector<char*> blocks;
  for (size_t i = 0; i < kBlocks; ++i) {
    blocks.push_back(static_cast<char*>(malloc(kSize)));
    memset(blocks.back(), 1, kSize);
  }
  for (size_t i = 0; i < kBlocks; ++i) {
    if (i % 64 != 63) {
      free(blocks[i]);
      blocks[i] = nullptr;
    }
  }
  long before = RssAnonKb();
  MallocTrimmer::TrimNow();
  long after = RssAnonKb();
  INFO("RssAnon " << before << " kB -> " << after << " kB");
  CHECK(before - after > 16 * 1024);  // most of the ~31 MiB freed
  for (char* b : blocks) free(b);
}

TEST_CASE("the trimmer thread stops at once when destroyed", "[malloc]") {
  auto start = std::chrono::steady_clock::now();
  { MallocTrimmer trimmer(absl::Hours(1)); }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

}  // namespace
}  // namespace skydeck
