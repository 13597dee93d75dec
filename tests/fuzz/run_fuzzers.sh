#!/usr/bin/env bash
# Runs each libFuzzer target of a -DSKYDECK_FUZZ=ON build for a while, one
# after another (one job each), and prints libFuzzer's final statistics.
#
#   tests/fuzz/run_fuzzers.sh [BUILD_DIR] [SECONDS_PER_TARGET] [TARGET...]
#   tests/fuzz/run_fuzzers.sh build/fuzz 600
#
# New inputs go to BUILD_DIR/fuzz-corpus/<target>/ (the committed seeds in
# tests/fuzz/corpus/ are only read), crashes to BUILD_DIR/fuzz-artifacts/.
# Exits non-zero when any target found a crash.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build/fuzz}"
seconds="${2:-600}"
shift 2 2>/dev/null || shift $#
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(flags manifest json_schema request_mapping)

status=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  work="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$work" "$artifacts"
  echo "== fuzz_$t for ${seconds}s ($(date -u +%FT%TZ))"
  # rss_limit: the machine is shared; a target that needs more is a finding.
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
      -timeout=10 -dict="$here/dicts/$t.dict" -artifact_prefix="$artifacts/" \
      "$work" "$here/corpus/$t" 2>&1 | grep -E '^(stat::|==[0-9]+==|SUMMARY|artifact_prefix|Done|#[0-9]+.*DONE)' 
  rc=${PIPESTATUS[0]}
  echo "== fuzz_$t exit $rc, corpus $(ls "$work" | wc -l) files, crashes $(ls "$artifacts" | wc -l)"
  [ "$rc" -ne 0 ] && status=1
done
exit $status
