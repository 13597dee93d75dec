// File: tests/fuzz/fuzz_check.h
//
// What every fuzz target shares: the libFuzzer entry point's signature and
// FUZZ_CHECK, which turns a broken property into a crash the fuzzer (or the
// replay driver) reports with the input that caused it. A property is
// something that must hold for every input, e.g. "what RenderCommand writes
// splits back into exactly the key=value words it was given".
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Aborts with the failed condition and a note; libFuzzer and the replay
// driver both save the current input when the process aborts.
#define FUZZ_CHECK(cond, note)                                                                    \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      std::fprintf(stderr, "%s:%d: property failed: %s (%s)\n", __FILE__, __LINE__, #cond, note); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)
