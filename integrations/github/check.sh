#!/usr/bin/env bash
# The check step of the pchat-guard GitHub Action (action.yml), kept in a file so that it can be
# run and tested outside GitHub. One run of the CLI: the chosen format (default: workflow
# annotations) on standard output, SARIF written to a file for code scanning. The inputs arrive
# as environment variables; the exit code is the CLI's (0 clean, 1 findings, 2 cannot check,
# 3 internal error) and is also written to $GITHUB_OUTPUT as `exit-code`. The CLI reads the
# repository's pchat-guard.toml (extensions, waivers, fail-on...); inputs given override it.
set -uo pipefail

bin="${PCHAT_GUARD:-pchat-guard}"
args=(check --format "${INPUT_FORMAT:-github}")
if [ -n "${INPUT_FAIL_ON:-}" ]; then
  args+=(--fail-on "$INPUT_FAIL_ON")
fi
if [ -n "${INPUT_SARIF_FILE:-}" ]; then
  args+=(--output "sarif:${INPUT_SARIF_FILE}")
fi
if [ -n "${INPUT_BASELINE:-}" ]; then
  args+=(--baseline "$INPUT_BASELINE")
fi
# Waiver files and paths: separated by spaces or newlines.
for waivers in ${INPUT_WAIVERS:-}; do
  args+=(--waivers "$waivers")
done
if [ "${INPUT_IGNORE_MANIFEST_WAIVERS:-false}" = "true" ]; then
  args+=(--ignore-manifest-waivers)
fi
read -r -d '' -a paths <<<"${INPUT_PATHS:-.}"

"$bin" "${args[@]}" -- "${paths[@]}"
code=$?
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "exit-code=$code" >>"$GITHUB_OUTPUT"
fi
exit "$code"
