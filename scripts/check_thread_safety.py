#!/usr/bin/env python3
"""Checks SkyDeck's locking convention (docs/design.md, "Locking").

Two checks, both over the source tree:

1. Every project .cc that takes part in locking (it, or a project header it
   includes directly, names a mutex, a lock or a thread-safety annotation)
   is compiled by clang with `-fsyntax-only -Wthread-safety -Werror`, using
   its command from the build's compile_commands.json with gcc-only flags
   dropped. This is what makes ABSL_GUARDED_BY and
   ABSL_EXCLUSIVE_LOCKS_REQUIRED binding: reading a guarded field without
   its lock fails here.
2. Production code (common/, cli/, daemon/, web/) uses absl::Mutex,
   absl::MutexLock, absl::CondVar / Mutex::Await and absl::Notification;
   std::mutex, std::condition_variable and their guards are not checked by
   -Wthread-safety (libstdc++ is not annotated), so they are refused.

Usage: check_thread_safety.py --source-dir DIR --build-dir DIR [--jobs N] [--verbose]
Exit status: 0 clean, 1 violations, 77 skipped (no clang++; ctest reports
the test as skipped), 2 usage or set-up error.
"""

import argparse
import concurrent.futures
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import time

SKIP = 77

# What marks a file as taking part in locking.
LOCK_WORDS = re.compile(
    r"absl::(Mutex|MutexLock|ReaderMutexLock|WriterMutexLock|CondVar)\b|"
    r"ABSL_(GUARDED_BY|PT_GUARDED_BY|EXCLUSIVE_LOCKS_REQUIRED|SHARED_LOCKS_REQUIRED|"
    r"LOCKS_EXCLUDED|EXCLUSIVE_LOCK_FUNCTION|UNLOCK_FUNCTION)\b|"
    r"std::(mutex|shared_mutex|recursive_mutex|timed_mutex|condition_variable|"
    r"condition_variable_any|lock_guard|unique_lock|scoped_lock|shared_lock)\b")

# What production code must not use (check 2).
STD_LOCKING = re.compile(
    r"std::(mutex|shared_mutex|recursive_mutex|timed_mutex|condition_variable|"
    r"condition_variable_any|lock_guard|scoped_lock|shared_lock)\b|"
    r"std::unique_lock<std::")
PRODUCTION_DIRS = ("common", "cli", "daemon", "web")

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)

# gcc flags clang does not know; clang would warn (an error under -Werror).
GCC_ONLY = re.compile(
    r"^-(fno-)?(tree-|ipa-|gcse|var-tracking|reorder-blocks-and-partition|"
    r"semantic-interposition|stack-clash-protection|cf-protection=|"
    r"diagnostics-color|lto-|fat-lto-objects|prefetch-loop-arrays)|"
    r"^-W(no-)?(maybe-uninitialized|stringop-|restrict|class-memaccess|"
    r"missing-field-initializers=|dangling-reference|array-bounds=|format-overflow|"
    r"format-truncation|psabi|useless-cast|duplicated-|logical-op|noexcept)")


def find_clang():
    for name in (os.environ.get("SKYDECK_CLANGXX", ""), "clang++-14", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def takes_part_in_locking(source, source_dir):
    """True when `source` names locking or, in production code, a project
    header it includes does (its .cc files define the methods that take the
    header's locks). A test or bench that only includes such a header adds
    nothing: the header's inline code is checked with its own .cc."""
    text = read(source)
    if LOCK_WORDS.search(text):
        return True
    if os.path.relpath(source, source_dir).split(os.sep)[0] not in PRODUCTION_DIRS:
        return False
    for header in INCLUDE.findall(text):
        path = os.path.join(source_dir, header)
        if os.path.isfile(path) and LOCK_WORDS.search(read(path)):
            return True
    return False


def clang_command(entry, clang):
    """The entry's compile command, for clang, checking only."""
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = [clang]
    skip_next = False
    for arg in args[1:]:
        if skip_next:
            skip_next = False
            continue
        if arg in ("-o", "-MF", "-MT", "-MQ"):
            skip_next = True
            continue
        if arg in ("-c", "-MD", "-MMD") or GCC_ONLY.search(arg):
            continue
        if arg == entry["file"] or os.path.abspath(
                os.path.join(entry["directory"], arg)) == entry["file"]:
            continue
        out.append(arg)
    out += ["-fsyntax-only", "-Wthread-safety", "-Werror", entry["file"]]
    return out


def check_one(entry, clang):
    start = time.monotonic()
    proc = subprocess.run(clang_command(entry, clang), cwd=entry["directory"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return entry["file"], proc.returncode, proc.stdout, time.monotonic() - start


def project_entries(build_dir, source_dir):
    path = os.path.join(build_dir, "compile_commands.json")
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        print(f"check_thread_safety: cannot read {path} ({e}); configure with "
              "CMAKE_EXPORT_COMPILE_COMMANDS=ON (the top-level CMakeLists.txt sets it)")
        sys.exit(2)
    source_dir = os.path.realpath(source_dir) + os.sep
    build_real = os.path.realpath(build_dir) + os.sep
    seen = {}
    for e in entries:
        file = os.path.realpath(os.path.join(e["directory"], e["file"]))
        if not file.startswith(source_dir) or file.startswith(build_real):
            continue  # generated code (protoc) and third-party sources
        if "/build/" in file[len(source_dir) - 1:]:
            continue  # another build tree inside the source tree
        e = dict(e, file=file)
        seen.setdefault(file, e)  # a file in two targets is checked once
    return sorted(seen.values(), key=lambda e: e["file"])


def std_locking_violations(source_dir):
    found = []
    for top in PRODUCTION_DIRS:
        for root, dirs, files in os.walk(os.path.join(source_dir, top)):
            dirs[:] = [d for d in dirs if d not in ("node_modules", "build", "dist")]
            for name in files:
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.join(root, name)
                for n, line in enumerate(read(path).splitlines(), 1):
                    if STD_LOCKING.search(line):
                        found.append(f"{os.path.relpath(path, source_dir)}:{n}: {line.strip()}")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--verbose", action="store_true", help="print each file's time")
    parser.add_argument("--only", default="", help="check only files whose path matches this regex")
    args = parser.parse_args()
    source_dir = os.path.realpath(args.source_dir)

    failed = False
    violations = std_locking_violations(source_dir)
    if violations:
        failed = True
        print("std:: locking in production code; use absl::Mutex + ABSL_GUARDED_BY, "
              "absl::MutexLock, absl::CondVar or Mutex::Await (docs/design.md, Locking):")
        for v in violations:
            print("  " + v)

    clang = find_clang()
    if clang is None:
        print("check_thread_safety: SKIPPED the -Wthread-safety build: no clang++-14 or "
              "clang++ on PATH (scripts/install-deps.sh --test installs clang-14)")
        return 1 if failed else SKIP

    entries = [e for e in project_entries(args.build_dir, source_dir)
               if takes_part_in_locking(e["file"], source_dir)
               and re.search(args.only, os.path.relpath(e["file"], source_dir))]
    start = time.monotonic()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    bad = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for file, rc, output, seconds in pool.map(lambda e: check_one(e, clang), entries):
            rel = os.path.relpath(file, source_dir)
            if args.verbose:
                print(f"  {seconds:5.1f}s {rel}")
            if rc != 0:
                bad.append(rel)
                print(f"--- {rel}\n{output}")
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    print(f"check_thread_safety: {len(entries)} files with locks, {len(bad)} failing, "
          f"{time.monotonic() - start:.1f}s wall, {cpu:.1f}s CPU, {args.jobs} jobs "
          f"({os.path.basename(clang)})")
    if bad:
        failed = True
        print("failing: " + " ".join(bad))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
