// File: tests/fuzz/argv_dump.cc
//
// The base command of the shell-quoting property test: writes what it was
// given, exactly, so the test can compare it with what it meant to pass.
// Output: "A<arg>\0" per argument after argv[0], then "R<value>\0" with
// $SKYDECK_RUN_NAME (or "-\0" when unset). NUL cannot occur in an argument
// or an environment value, so the framing is unambiguous.
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::fputc('A', stdout);
    std::fwrite(argv[i], 1, std::strlen(argv[i]), stdout);
    std::fputc('\0', stdout);
  }
  const char* run_name = std::getenv("SKYDECK_RUN_NAME");
  if (run_name == nullptr) {
    std::fputs("-", stdout);
  } else {
    std::fputc('R', stdout);
    std::fwrite(run_name, 1, std::strlen(run_name), stdout);
  }
  std::fputc('\0', stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}
