#!/bin/sh
# Builds the dashboard into OUT_DIR (a build directory's own copy, so two
# build trees never overwrite each other's output). node_modules is shared by
# every build tree of this checkout, so installing and building hold one
# lock: one tree's `npm ci` never deletes packages under another's build.
#
#   web/ui/build.sh OUT_DIR
set -eu
out="$1"
cd "$(dirname "$0")"
exec 9>.npm.lock
flock 9
# `npm ci` writes node_modules/.package-lock.json; reinstall only when the
# lock file is newer.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# The API types from proto/ (src/generated/, gitignored).
sh scripts/gen-api-types.sh
npx --no-install tsc --noEmit
npx --no-install vite build --logLevel warn --outDir "$out" --emptyOutDir
# Precompressed twins ("x.js.gz") for clients that accept gzip: the bridge
# serves them as they are (web/bridge/static_files.h), so no request pays
# for compressing a static file. -n: no name or time, same bytes each build.
find "$out" -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \
  -o -name '*.json' -o -name '*.txt' \) -size +1k -exec gzip -9 -n -k -f {} +
