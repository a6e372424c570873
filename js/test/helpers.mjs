// Shared by the tests: the CLI to compare with (env PCHAT_GUARD_CLI, required), the repository
// root, and the manifests every report must match the CLI on.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (the parent of js/); CLI runs use it as their working directory. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The pchat-guard CLI. Missing or not runnable: every test fails, loudly. */
export const CLI = (() => {
  const cli = process.env.PCHAT_GUARD_CLI;
  if (!cli) {
    throw new Error(
      'PCHAT_GUARD_CLI is not set: the tests compare the package with the pchat-guard CLI; ' +
        'run them with js/test.sh <CLI> or PCHAT_GUARD_CLI=<CLI> node --test test/*.test.mjs',
    );
  }
  if (!existsSync(cli)) throw new Error(`PCHAT_GUARD_CLI=${cli}: no such file`);
  return cli;
})();

/** Runs the CLI in ROOT; returns its standard output. Exit codes 0-2 are answers, not failures. */
export function runCli(args, { allow = [0] } = {}) {
  const r = spawnSync(CLI, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  if (!allow.includes(r.status)) {
    throw new Error(`${CLI} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  }
  return r.stdout;
}

/** `check --format FORMAT` (json by default) of files (relative to ROOT) with extra flags: the parsed output. */
export function cliCheck(files, flags = [], format = 'json') {
  return JSON.parse(runCli(['check', '--format', format, ...flags, ...[files].flat()], { allow: [0, 1, 2] }));
}

function list(dir, pattern) {
  return readdirSync(new URL(dir, `file://${ROOT}`))
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => `${dir}${name}`);
}

/** The manifests of the brief: test fixtures and example topologies (paths relative to ROOT). */
export const MANIFESTS = [
  ...list('tests/fixtures/manifests/', /\.(json|ya?ml)$/),
  ...list('examples/topologies/', /./),
];

/** Manifests with waivers of their own, for the waiver options. */
export const WAIVED_MANIFESTS = ['tests/fixtures/waivers/accepted.yaml', 'tests/fixtures/waivers/waived.yaml'];

/** The date every comparison is made on. */
export const TODAY = '2026-11-26';
