#!/bin/sh
# Builds the @pchat-guard/core package into js/dist/ and prints that folder.
#
#   js/build.sh [CLI]     CLI: the pchat-guard binary (default: $PCHAT_GUARD_CLI, else pchat-guard)
#
# 1. `<CLI> module` writes the module and its wasm-bindgen glue;
# 2. scripts/build-info.mjs writes src/build-info.ts (package version, module SHA-256);
# 3. tsc compiles src/ into dist/; the glue and the module are copied beside it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cli=${1:-${PCHAT_GUARD_CLI:-pchat-guard}}
case $cli in
  */*) cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli") ;;
esac
cd "$here"

if [ ! -x node_modules/.bin/tsc ]; then
  npm ci --no-audit --no-fund >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
"$cli" module --out "$work/module.wasm" --js-out "$work/glue" >&2
# The module `--out` wrote and the one beside the glue must be the same bytes.
cmp -s "$work/module.wasm" "$work/glue/pchat_guard_bg.wasm" || {
  echo "build.sh: $cli wrote two different modules" >&2
  exit 1
}
node scripts/build-info.mjs "$work/module.wasm" >/dev/null

rm -rf dist
node_modules/.bin/tsc -p tsconfig.json
cp "$work/glue/pchat_guard.js" "$work/glue/pchat_guard_bg.wasm" dist/
# The glue's own declarations are replaced by the hand-kept src/pchat_guard.d.ts (README, Notes).
cp src/pchat_guard.d.ts dist/pchat_guard.d.ts
node scripts/check-dist.mjs
echo "$here/dist"
