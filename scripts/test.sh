#!/usr/bin/env bash
# Installs what is missing, builds everything and runs the whole test suite
# through ctest. Extra arguments go to ctest (e.g. -R store, -L e2e).
# Tests labelled `long` (the long chaos runs) are excluded; run them with
# `cd build/test && ctest -L long`.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: hits across clones in other folders (CI builds a fresh clone).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
scripts/install-deps.sh --test
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/test
cd build/test
ctest --output-on-failure --timeout 600 -j2 -LE long "$@"
