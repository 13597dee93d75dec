"""Tests scripts/check_thread_safety.py on small trees made here.

Each case writes a source tree and a compile_commands.json to a temp dir
and runs the checker on it: a guarded field read without its lock and
std::mutex in production code must fail it, the convention must pass, and
without clang++ it must report itself skipped (exit 77).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "check_thread_safety.py")
CLANG = shutil.which("clang++-14") or shutil.which("clang++")

GOOD = """
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
class Counter {
 public:
  int Get() { absl::MutexLock lock(&mu_); return GetLocked(); }
 private:
  int GetLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return n_; }
  absl::Mutex mu_;
  int n_ ABSL_GUARDED_BY(mu_) = 0;
};
int Use() { Counter c; return c.Get(); }
"""

# Reads n_ without mu_: -Wthread-safety must refuse it.
UNLOCKED_READ = GOOD.replace("int Get() { absl::MutexLock lock(&mu_); return GetLocked(); }",
                             "int Get() { return n_; }")

# Calls the ...Locked helper without the lock.
UNLOCKED_CALL = GOOD.replace("int Get() { absl::MutexLock lock(&mu_); return GetLocked(); }",
                             "int Get() { return GetLocked(); }")

STD_MUTEX = """
#include <mutex>
std::mutex mu;
int n = 0;
int Use() { std::lock_guard<std::mutex> lock(mu); return n; }
"""


class CheckThreadSafetyTest(unittest.TestCase):
    def run_checker(self, files, env=None):
        with tempfile.TemporaryDirectory() as root:
            src = os.path.join(root, "src")
            build = os.path.join(root, "build")
            os.makedirs(build)
            entries = []
            for rel, text in files.items():
                path = os.path.join(src, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
                entries.append({"directory": build, "file": path,
                                "command": f"/usr/bin/c++ -std=c++20 -Wall -o x.o -c {path}"})
            with open(os.path.join(build, "compile_commands.json"), "w") as f:
                json.dump(entries, f)
            proc = subprocess.run(
                [sys.executable, SCRIPT, "--source-dir", src, "--build-dir", build, "--jobs", "2"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=300)
            return proc.returncode, proc.stdout

    @unittest.skipIf(CLANG is None, "no clang++")
    def test_convention_passes(self):
        rc, out = self.run_checker({"daemon/good.cc": GOOD})
        self.assertEqual(rc, 0, out)
        self.assertIn("1 files with locks, 0 failing", out)

    @unittest.skipIf(CLANG is None, "no clang++")
    def test_unlocked_read_fails(self):
        rc, out = self.run_checker({"daemon/good.cc": GOOD, "daemon/bad.cc": UNLOCKED_READ})
        self.assertEqual(rc, 1, out)
        self.assertIn("reading variable 'n_' requires holding mutex 'mu_'", out)
        self.assertIn("failing: daemon/bad.cc", out)

    @unittest.skipIf(CLANG is None, "no clang++")
    def test_unlocked_call_of_locked_helper_fails(self):
        rc, out = self.run_checker({"web/bad.cc": UNLOCKED_CALL})
        self.assertEqual(rc, 1, out)
        self.assertIn("calling function 'GetLocked' requires holding mutex 'mu_'", out)

    @unittest.skipIf(CLANG is None, "no clang++")
    def test_std_mutex_in_production_code_fails_but_not_in_tests(self):
        rc, out = self.run_checker({"common/old.cc": STD_MUTEX})
        self.assertEqual(rc, 1, out)
        self.assertIn("common/old.cc:3: std::mutex mu;", out)
        rc, out = self.run_checker({"tests/old_test.cc": STD_MUTEX})
        self.assertEqual(rc, 0, out)

    def test_skipped_without_clang(self):
        env = dict(os.environ, PATH="/nonexistent", SKYDECK_CLANGXX="")
        rc, out = self.run_checker({"daemon/good.cc": GOOD}, env=env)
        self.assertEqual(rc, 77, out)
        self.assertIn("SKIPPED", out)


if __name__ == "__main__":
    unittest.main()
