// File: tests/fuzz/replay_main.cc
//
// A main() for the fuzz targets where libFuzzer is not available (the gcc
// build CI uses). It runs every seed of the corpus through
// LLVMFuzzerTestOneInput, then a bounded, deterministic mutation loop: the
// same seed and iteration count always try the same inputs, so a failure in
// CI reproduces locally with the command it prints. There is no coverage
// feedback; the point is that every target and its properties run on every
// build, not to replace a real fuzzing session (tests/fuzz/README.md).
//
//   fuzz_flags_replay [--iterations N] [--seed S] [--max-seconds T]
//                     [--max-len BYTES] [--dict FILE] CORPUS_DIR_OR_FILE...
//
// A crash (FUZZ_CHECK, a sanitizer report, a signal) writes the input to
// ./crash-<program name> and prints it; `fuzz_x_replay crash-x` replays it.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_check.h"

extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

namespace fs = std::filesystem;
using Bytes = std::string;

struct Options {
  uint64_t iterations = 10000;
  uint64_t seed = 1;
  double max_seconds = 4.0;
  size_t max_len = 4096;
  std::string dict_path;
  std::vector<std::string> inputs;
};

// The input being run, for the crash handlers. Set before each run.
const Bytes* g_current = nullptr;
char g_crash_path[512];

// Async-signal-safe: only open/write/close on preformatted data.
void SaveCurrentInput() {
  if (g_current == nullptr) return;
  int fd = open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    const char* p = g_current->data();
    size_t left = g_current->size();
    while (left > 0) {
      ssize_t n = write(fd, p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<size_t>(n);
    }
    close(fd);
  }
  static const char kNote[] = "\nreplay: the failing input was saved to ";
  if (write(2, kNote, sizeof(kNote) - 1) < 0) return;
  if (write(2, g_crash_path, strlen(g_crash_path)) < 0) return;
  if (write(2, "\n", 1) < 0) return;
}

void OnFatalSignal(int sig) {
  SaveCurrentInput();
  signal(sig, SIG_DFL);
  raise(sig);
}

void InstallCrashHandlers(const char* argv0) {
  std::string name = fs::path(argv0).filename().string();
  std::snprintf(g_crash_path, sizeof(g_crash_path), "%s/crash-%s", fs::current_path().c_str(),
                name.c_str());
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) signal(sig, OnFatalSignal);
  // Sanitizers report and _exit without a signal: hook their death instead.
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(SaveCurrentInput);
}

bool ReadFile(const fs::path& path, Bytes* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return true;
}

// libFuzzer's dictionary format: one "token" per line, with \\, \" and
// \xNN escapes; `name=` prefixes and # comments are ignored.
std::vector<Bytes> ReadDictionary(const std::string& path) {
  std::vector<Bytes> tokens;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t open = line.find('"');
    size_t close = line.rfind('"');
    if (line.empty() || line[0] == '#' || open == std::string::npos || close <= open) continue;
    Bytes token;
    for (size_t i = open + 1; i < close; ++i) {
      if (line[i] != '\\' || i + 1 >= close) {
        token += line[i];
      } else if (line[i + 1] == 'x' && i + 3 < close) {
        token += static_cast<char>(std::stoi(line.substr(i + 2, 2), nullptr, 16));
        i += 3;
      } else {
        token += line[++i];
      }
    }
    tokens.push_back(token);
  }
  return tokens;
}

class Mutator {
 public:
  Mutator(uint64_t seed, std::vector<Bytes> dictionary, size_t max_len)
      : rng_(seed), dictionary_(std::move(dictionary)), max_len_(max_len) {}

  Bytes Mutate(const std::vector<Bytes>& corpus) {
    Bytes data = corpus[Below(corpus.size())];
    int rounds = 1 + static_cast<int>(Below(4));
    for (int i = 0; i < rounds; ++i) MutateOnce(data, corpus);
    if (data.size() > max_len_) data.resize(max_len_);
    return data;
  }

 private:
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }

  void MutateOnce(Bytes& d, const std::vector<Bytes>& corpus) {
    static const char kSpecial[] = {'\0', '\n', '\\', '"', '\'', '{', '}', '[', ']',
                                    ':',  ',',  '-',  '=', '&',  '?', '%', '$', '\xff'};
    size_t pos = Below(d.size() + 1);
    switch (Below(9)) {
      case 0:  // flip a bit
        if (!d.empty()) d[Below(d.size())] ^= static_cast<char>(1 << Below(8));
        break;
      case 1:  // a random byte
        if (!d.empty()) d[Below(d.size())] = static_cast<char>(Below(256));
        break;
      case 2:  // insert a syntax character
        d.insert(pos, 1, kSpecial[Below(sizeof(kSpecial))]);
        break;
      case 3:  // erase a range
        if (!d.empty()) d.erase(Below(d.size()), 1 + Below(std::min<size_t>(d.size(), 16)));
        break;
      case 4: {  // duplicate a range (grows nesting and repetition)
        if (d.empty()) break;
        size_t from = Below(d.size());
        size_t len = 1 + Below(std::min<size_t>(d.size() - from, 32));
        d.insert(pos, d.substr(from, len));
        break;
      }
      case 5:  // insert a dictionary token
      case 6:
        if (!dictionary_.empty()) d.insert(pos, dictionary_[Below(dictionary_.size())]);
        break;
      case 7: {  // splice with another seed
        const Bytes& other = corpus[Below(corpus.size())];
        size_t cut = Below(other.size() + 1);
        d = d.substr(0, pos) + other.substr(cut);
        break;
      }
      default:  // an integer boundary as text
        static const char* kNumbers[] = {"0",
                                         "-1",
                                         "9223372036854775807",
                                         "9223372036854775808",
                                         "-9223372036854775808",
                                         "1e308",
                                         "1e309",
                                         "4.0",
                                         "0x10",
                                         "nan",
                                         "-0"};
        d.insert(pos, kNumbers[Below(sizeof(kNumbers) / sizeof(kNumbers[0]))]);
        break;
    }
  }

  std::mt19937_64 rng_;
  std::vector<Bytes> dictionary_;
  size_t max_len_;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--iterations") {
      o->iterations = std::stoull(value());
    } else if (arg == "--seed") {
      o->seed = std::stoull(value());
    } else if (arg == "--max-seconds") {
      o->max_seconds = std::stod(value());
    } else if (arg == "--max-len") {
      o->max_len = std::stoull(value());
    } else if (arg == "--dict") {
      o->dict_path = value();
    } else if (arg.rfind("--", 0) == 0) {
      std::cerr << "unknown option " << arg << "\n";
      return false;
    } else {
      o->inputs.push_back(arg);
    }
  }
  return !o->inputs.empty();
}

void Run(const Bytes& input) {
  g_current = &input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  g_current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseArgs(argc, argv, &options)) {
    std::cerr << "usage: " << argv[0]
              << " [--iterations N] [--seed S] [--max-seconds T] [--max-len BYTES]"
                 " [--dict FILE] CORPUS_DIR_OR_FILE...\n";
    return 2;
  }
  InstallCrashHandlers(argv[0]);

  std::vector<fs::path> files;
  for (const std::string& input : options.inputs) {
    if (fs::is_directory(input)) {
      for (const auto& entry : fs::directory_iterator(input)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.push_back(input);
    }
  }
  std::sort(files.begin(), files.end());  // directory order is not stable
  std::vector<Bytes> corpus;
  for (const fs::path& f : files) {
    Bytes data;
    if (!ReadFile(f, &data)) {
      std::cerr << "cannot read " << f << "\n";
      return 2;
    }
    corpus.push_back(std::move(data));
  }
  if (corpus.empty()) {
    std::cerr << "no inputs found\n";
    return 2;
  }

  auto started = std::chrono::steady_clock::now();
  for (const Bytes& seed_input : corpus) Run(seed_input);

  Mutator mutator(
      options.seed,
      options.dict_path.empty() ? std::vector<Bytes>{} : ReadDictionary(options.dict_path),
      options.max_len);
  uint64_t done = 0;
  for (; done < options.iterations; ++done) {
    // The time cap only guards slow machines (sanitizers, valgrind); the
    // inputs tried are a prefix of the same deterministic sequence.
    if (done % 64 == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() >
            options.max_seconds) {
      break;
    }
    Run(mutator.Mutate(corpus));
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << fs::path(argv[0]).filename().string() << ": " << corpus.size() << " seeds, " << done
            << " of " << options.iterations << " mutations (seed " << options.seed << ") in "
            << seconds << " s, no failure\n";
  return 0;
}
