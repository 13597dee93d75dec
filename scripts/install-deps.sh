#!/usr/bin/env bash
# Installs the Debian 12 packages SkyDeck needs to build, run and test.
# Idempotent and quiet when everything is present. Run as root (or with sudo).
#
#   scripts/install-deps.sh          # build + run dependencies
#   scripts/install-deps.sh --test   # plus what the test suite needs
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libcli11-dev libsqlite3-dev libcpp-httplib-dev libyaml-cpp-dev
  nlohmann-json3-dev libmicrohttpd-dev libbrotli-dev zlib1g-dev libssl-dev
)
# The dashboard is built with node and npm; any node >= 18.19 already on
# the machine will do, else Debian's (18.20).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
if [[ "${1:-}" == "--test" ]]; then
  # python3-yaml: the e2e tests read the task YAML SkyDeck sends as SkyPilot
  # (PyYAML) does; git: workdir commit tests; clang-14: the -Wthread-safety
  # check of the locking convention (scripts/check_thread_safety.py);
  # fonts-noto-color-emoji: the dashboard's emoji (🔔, 🔕) in the browser
  # tests' screenshots, which web/ui/docs/ keeps, instead of empty boxes;
  # wrk: bench_wrk_writes runs the write benchmarks' Lua script in it.
  packages+=(catch2 python3 python3-grpcio python3-protobuf python3-pydantic python3-yaml git
             sqlite3 chromium clang-14 fonts-noto-color-emoji wrk)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
