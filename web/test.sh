#!/bin/sh
# Builds the playground and runs its real-browser test.
#
#   web/test.sh [CLI]    CLI: the pchat-guard binary (default: $PCHAT_GUARD_CLI, else pchat-guard)
#
# Needs Chromium (Debian: apt-get install -y chromium; or set CHROMIUM=/path/to/chrome).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cli=${1:-${PCHAT_GUARD_CLI:-$(command -v pchat-guard || echo pchat-guard)}}
case $cli in
  */*) cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli") ;;
esac
cd "$here"
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
sh ./build.sh "$cli" >/dev/null
PCHAT_GUARD_CLI=$cli exec node --test --test-concurrency=1 test.mjs
