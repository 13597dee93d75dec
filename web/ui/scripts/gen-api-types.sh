#!/bin/sh
# Generates the dashboard's API types from proto/ into src/generated/
# (gitignored): protoc (Debian's protobuf-compiler) with ts-proto's plugin
# from node_modules, types only. api/types.ts maps them to the HTTP API's
# plain JSON (enums by short name). Run by `npm run gen`, before
# build/typecheck/test (npm's pre-scripts) and by build.sh.
#
# The options, and why:
#   onlyTypes=true          interfaces only: the bridge's JSON is parsed
#                           with JSON.parse (api/wire.ts), not by ts-proto.
#   snakeToCamel=false      the bridge writes fields by proto name.
#   stringEnums, enumsAsLiterals, unrecognizedEnum=false
#                           enums as string unions (full names; types.ts
#                           strips the prefix as the bridge does).
#   useOptionals=all        every field optional: the dashboard builds
#                           partial objects (drafts, tests).
#   forceLong=string        int64 arrives as a decimal string.
#   useDate=string          Timestamp arrives as an RFC 3339 string.
#
#   web/ui/scripts/gen-api-types.sh
set -eu
ui="$(cd "$(dirname "$0")/.." && pwd)"
proto="$ui/../../proto"
out="$ui/src/generated"
plugin="$ui/node_modules/.bin/protoc-gen-ts_proto"
if [ ! -x "$plugin" ]; then
  echo "gen-api-types: $plugin is missing; run npm ci in web/ui" >&2
  exit 1
fi
# Into a fresh directory, then swapped in whole: a concurrent reader (tsc,
# vitest) never sees half a tree; the lock keeps two generators apart.
exec 8>"$ui/.gen.lock"
flock 8
tmp="$(mktemp -d "$ui/.generated.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
protoc -I "$proto" \
  --plugin=protoc-gen-ts_proto="$plugin" \
  --ts_proto_out="$tmp" \
  --ts_proto_opt=onlyTypes=true,snakeToCamel=false,stringEnums=true,enumsAsLiterals=true \
  --ts_proto_opt=unrecognizedEnum=false,useOptionals=all,forceLong=string,useDate=string \
  --ts_proto_opt=outputServices=false,esModuleInterop=true \
  "$proto/skydeck/v1/resources.proto" "$proto/skydeck/v1/service.proto"
if [ -d "$out" ] && diff -r -q "$tmp" "$out" >/dev/null 2>&1; then
  exit 0  # unchanged: keep the files' times so nothing rebuilds
fi
rm -rf "$out.old"
[ -d "$out" ] && mv "$out" "$out.old"
mv "$tmp" "$out"
rm -rf "$out.old"
