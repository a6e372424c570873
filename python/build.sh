#!/usr/bin/env bash
# Builds the pchat_guard wheel: copies the module out of a pchat-guard CLI into the package
# (src/pchat_guard/pchat_guard.wasm, never committed) and runs `pip wheel`.
#
#   python/build.sh [CLI] [OUTDIR]
#
# CLI: a pchat-guard binary (default: `pchat-guard` on PATH). OUTDIR: where the wheel goes
# (default: python/dist). PYTHON: the interpreter whose pip builds the wheel (default python3).
# Prints the wheel's path on the last line of standard output.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cli="${1:-pchat-guard}"
outdir="${2:-$here/dist}"
python="${PYTHON:-python3}"

if ! command -v "$cli" >/dev/null 2>&1; then
  echo "error: no pchat-guard CLI at \`$cli\` (give its path as the first argument)" >&2
  exit 2
fi

# The package's version must be the CLI's: the JSON report names it as the tool's version.
cli_version="$("$cli" --version | head -n 1 | awk '{print $2}')"
py_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/pyproject.toml" | head -n 1)"
init_version="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$here/src/pchat_guard/__init__.py")"
if [[ "$cli_version" != "$py_version" || "$cli_version" != "$init_version" ]]; then
  echo "error: the CLI is version $cli_version but python/pyproject.toml says $py_version and" \
    "src/pchat_guard/__init__.py says $init_version: make them equal" >&2
  exit 1
fi

"$cli" module --out "$here/src/pchat_guard/pchat_guard.wasm" >&2

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
# Stale setuptools outputs would leak old files into the wheel.
rm -rf "$here/build" "$here/src/pchat_guard.egg-info"
rm -f "$outdir"/pchat_guard-"$py_version"-*.whl
"$python" -m pip wheel --no-deps --quiet -w "$outdir" "$here" >&2
rm -rf "$here/build" "$here/src/pchat_guard.egg-info"

wheel="$(ls "$outdir"/pchat_guard-"$py_version"-*.whl)"
# The wheel must hold the module: without it the package cannot check anything.
"$python" - "$wheel" <<'PY' >&2
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
if "pchat_guard/pchat_guard.wasm" not in names:
    sys.exit(f"error: {sys.argv[1]} holds no pchat_guard/pchat_guard.wasm")
PY
echo "$wheel"
