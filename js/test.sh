#!/bin/sh
# Builds @pchat-guard/core and runs its tests against a pchat-guard CLI (for CI).
#
#   js/test.sh [CLI]     CLI: the pchat-guard binary (default: $PCHAT_GUARD_CLI, else pchat-guard on PATH)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cli=${1:-${PCHAT_GUARD_CLI:-$(command -v pchat-guard || true)}}
if [ -z "$cli" ]; then
  echo "test.sh: no pchat-guard CLI: give its path, or set PCHAT_GUARD_CLI" >&2
  exit 2
fi
case $cli in
  */*) cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli") ;;
esac
cd "$here"
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
./build.sh "$cli"
PCHAT_GUARD_CLI=$cli node --test test/*.test.mjs
