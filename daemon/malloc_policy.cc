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
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval)) return;
      }
      TrimNow();
    }
  });
}

MallocTrimmer::~MallocTrimmer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

}  // namespace skydeck
