#!/usr/bin/env bash
# Installs what is missing, builds everything and runs the whole test suite
# through ctest. Extra arguments go to ctest (e.g. -R store, -L e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/test
cd build/test
ctest --output-on-failure --timeout 600 -j2 "$@"
