#include "daemon/malloc_policy.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace skydeck {

int LimitMallocArenas(int max_arenas) {
#if defined(__GLIBC__)
  const char* env = std::getenv("MALLOC_ARENA_MAX");
  if (env != nullptr && *env != '\0') return 0;
  return mallopt(M_ARENA_MAX, max_arenas) == 1 ? max_arenas : 0;
#else
  (void)max_arenas;
  return 0;
#endif
}

bool MallocTrimmer::TrimNow() {
#if defined(__GLIBC__)
  return malloc_trim(0) == 1;
#else
  return false;
#endif
}

MallocTrimmer::MallocTrimmer(absl::Duration interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!wake_.wait_for(lock, absl::ToChronoMilliseconds(interval),
                           [this] { return stopping_; })) {
      lock.unlock();
      TrimNow();
      lock.lock();
    }
  });
}

MallocTrimmer::~MallocTrimmer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

}  // namespace skydeck
