#!/usr/bin/env bash
# Quick start: installs what is missing, builds Release (daemon, CLI and the
# dashboard) and runs skydeckd in the foreground on its embedded defaults:
# dashboard and HTTP API on http://127.0.0.1:8000 (--port), gRPC on
# 127.0.0.1:50051 (--grpc-port), database under ~/.local/share/skydeck.
# Extra arguments go to skydeckd.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: hits across clones in other folders (CI builds a fresh clone).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build/release
echo "dashboard: http://127.0.0.1:8000   CLI: $(pwd)/build/release/cli/skydeck" >&2
exec build/release/daemon/skydeckd "$@"
