// The packed package, as a user gets it: `npm pack`, unpacked into node_modules of a scratch
// project, imported by its name from Node, and type-checked from a TypeScript consumer.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import './helpers.mjs'; // fails without PCHAT_GUARD_CLI, like every test file

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(pkgDir, 'node_modules', 'typescript', 'bin', 'tsc');
let project;

before(() => {
  project = mkdtempSync(join(tmpdir(), 'pcg-consumer-'));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['pack', '--silent', '--pack-destination', project], { cwd: pkgDir, stdio: ['ignore', 'pipe', 'inherit'] });
  const tarball = readdirSync(project).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made a tarball');
  const dest = join(project, 'node_modules', '@pchat-guard', 'core');
  mkdirSync(dest, { recursive: true });
  execFileSync('tar', ['-xzf', join(project, tarball), '-C', dest, '--strip-components=1']);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
});

after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

test('the tarball holds the module, the glue, the wrapper and their types', () => {
  const dist = readdirSync(join(project, 'node_modules', '@pchat-guard', 'core', 'dist')).sort();
  for (const f of ['index.js', 'index.d.ts', 'pchat_guard.js', 'pchat_guard.d.ts', 'pchat_guard_bg.wasm']) {
    assert.ok(dist.includes(f), `dist/${f} is packed`);
  }
  assert.ok(!dist.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript sources');
});

test('Node imports @pchat-guard/core by name and init() finds the .wasm in the package', () => {
  const script = `import { init, check, describe, moduleDigest, version } from '@pchat-guard/core';
await init();
const r = check('{}', { filename: 'x.json', today: '2026-11-26' });
console.log(JSON.stringify({ pack: describe().pack.name, checked: r.checked, moduleDigest, version }));`;
  writeFileSync(join(project, 'run.mjs'), script);
  const r = spawnSync(process.execPath, ['run.mjs'], { cwd: project, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.pack, 'persistent-chat');
  assert.equal(out.checked, true);
  assert.match(out.moduleDigest, /^[0-9a-f]{64}$/);
});

test('a TypeScript consumer type-checks against the packed types', () => {
  writeFileSync(
    join(project, 'consumer.ts'),
    `import {
  init, check, describe, schema, loadBundle, diagram, runReport, sarif, PchatGuardError, moduleDigest, version, ABI_VERSION,
  type Diagram, type RunReport,
  type FileReport, type Finding, type Location, type Position, type Waived, type Description,
  type RuleInfo, type CodeInfo, type CheckOptions, type Severity, type PchatGuardErrorKind,
} from '@pchat-guard/core';

export async function run(text: string): Promise<string[]> {
  await init(new URL('https://example.com/pchat_guard_bg.wasm'));
  const options: CheckOptions = { filename: 'a.yaml', format: 'yaml', today: new Date(), ignoreManifestWaivers: true,
    waivers: [{ rule: 'PCHAT-HA-001', target: 'pool', reason: 'why', expires: '2027-01-01' }] };
  const report: FileReport = check(text, options);
  const first: Finding | undefined = report.findings[0];
  const where: Location | undefined = first?.location;
  const start: Position | undefined = where?.start;
  const waived: Waived | undefined = first?.waived;
  const severity: Severity | undefined = first?.severity;
  const d: Description = describe();
  const rules: RuleInfo[] = d.rules;
  const codes: CodeInfo[] = d.codes;
  const s: { [key: string]: unknown } = schema();
  const again: Description = loadBundle(null);
  // @ts-expect-error: only json and yaml
  check(text, { format: 'toml' });
  // @ts-expect-error: severities are a closed set
  const bad: Severity = 'fatal';
  try { check(text); } catch (e) {
    if (e instanceof PchatGuardError) { const k: PchatGuardErrorKind = e.kind; void k; }
  }
  const n: 3 = ABI_VERSION;
  const drawn: Diagram = diagram(text, { filename: 'a.yaml', pool: 'p1' });
  const svg: string | undefined = drawn.svg;
  const run: RunReport = runReport([report]);
  const doc: Record<string, unknown> = sarif(report);
  void svg; void run; void doc;
  return [moduleDigest, version, String(start?.line), String(waived?.reason), String(severity), String(rules.length),
    String(codes.length), String(Object.keys(s).length), String(again.pack?.name), String(bad), String(n)];
}
`,
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'],
        types: [], strict: true, noEmit: true, skipLibCheck: false,
      },
      files: ['consumer.ts'],
    }),
  );
  const r = spawnSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});
