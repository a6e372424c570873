#!/bin/sh
# Builds the playground into web/dist/ (a static site: serve the folder with any static host).
#
#   web/build.sh [CLI]    CLI: the pchat-guard binary (default: $PCHAT_GUARD_CLI, else pchat-guard)
#
# 1. npm ci if node_modules is missing;
# 2. js/build.sh CLI if js/dist is missing or ships another module than CLI's (`--version` digest);
# 3. esbuild bundles src/main.js and src/worker.js (CodeMirror 6 + @pchat-guard/core);
# 4. index.html, style.css, the module and examples/topologies/* are copied beside them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cli=${1:-${PCHAT_GUARD_CLI:-pchat-guard}}
case $cli in
  */*) cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli") ;;
esac
cd "$here"

if [ ! -x node_modules/.bin/esbuild ]; then
  npm ci --no-audit --no-fund >&2
fi

want=$("$cli" --version | sed -n 's/^module sha256:\([0-9a-f]*\).*/\1/p')
have=$(sed -n 's/^export const moduleDigest = "\([0-9a-f]*\)".*/\1/p' ../js/dist/build-info.js 2>/dev/null || true)
if [ ! -f ../js/dist/index.js ] || [ ! -f ../js/dist/pchat_guard_bg.wasm ] || [ "$want" != "$have" ]; then
  sh ../js/build.sh "$cli" >/dev/null
fi

rm -rf dist
mkdir -p dist/examples
node_modules/.bin/esbuild src/main.js src/worker.js \
  --bundle --format=esm --target=es2022 --minify --sourcemap \
  --external:node:* --outdir=dist --log-level=warning
cp src/index.html src/style.css dist/
cp ../js/dist/pchat_guard_bg.wasm dist/
# The shipped examples, and their list for the picker.
cp ../examples/topologies/*.yaml ../examples/topologies/*.json dist/examples/ 2>/dev/null || true
(cd dist/examples && ls | node -e '
  const names = require("fs").readFileSync(0, "utf8").split("\n").filter((n) => /\.(ya?ml|json)$/.test(n));
  process.stdout.write(JSON.stringify(names.sort()) + "\n");' > index.json)
echo "$here/dist"
