// The package's API: init, version and digest, describe, schema, errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as pcg from '../dist/index.js';
import { ROOT, runCli, TODAY } from './helpers.mjs';

const manifest = readFileSync(join(ROOT, 'tests/fixtures/manifests/clean-minimal.yaml'), 'utf8');

test('before init, calls throw PchatGuardError (not-initialized)', () => {
  assert.equal(pcg.isInitialized(), false);
  for (const call of [() => pcg.check(manifest), () => pcg.describe(), () => pcg.schema(), () => pcg.loadBundle(null)]) {
    assert.throws(call, (e) => e instanceof pcg.PchatGuardError && e.kind === 'not-initialized');
  }
});

test('init twice (and concurrently) is harmless', async () => {
  await Promise.all([pcg.init(), pcg.init()]);
  await pcg.init();
  await pcg.init(new Uint8Array([0, 1, 2])); // ignored: already loaded
  pcg.initSync(new Uint8Array([0, 1, 2])); // likewise
  assert.equal(pcg.isInitialized(), true);
  assert.equal(pcg.check(manifest, { today: TODAY }).checked, true);
});

test('moduleDigest is the module digest `pchat-guard --version` prints', () => {
  const m = /^module sha256:([0-9a-f]{64})\b/m.exec(runCli(['--version']));
  assert.ok(m, 'the CLI printed a module digest');
  assert.equal(pcg.moduleDigest, m[1]);
});

test('moduleDigest is the SHA-256 of the shipped .wasm', async () => {
  const { createHash } = await import('node:crypto');
  const bytes = readFileSync(new URL('../dist/pchat_guard_bg.wasm', import.meta.url));
  assert.equal(pcg.moduleDigest, createHash('sha256').update(bytes).digest('hex'));
});

test('version is the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(pcg.version, pkg.version);
  assert.match(pcg.version, /^\d+\.\d+\.\d+/);
});

test('describe() runs the persistent-chat pack and equals `pchat-guard describe`', () => {
  const d = pcg.describe();
  assert.equal(d.pack.name, 'persistent-chat');
  assert.equal(d.abi_version, pcg.ABI_VERSION);
  assert.ok(d.rules.length > 0 && d.codes.length > 0);
  assert.deepStrictEqual(d, JSON.parse(runCli(['describe'])));
});

test('schema() equals `pchat-guard schema`', () => {
  const s = pcg.schema();
  assert.equal(typeof s, 'object');
  assert.deepStrictEqual(s, JSON.parse(runCli(['schema'])));
});

test('a date that does not exist throws PchatGuardError (kind request)', () => {
  assert.throws(
    () => pcg.check(manifest, { today: '2026-02-30' }),
    (e) => {
      assert.ok(e instanceof pcg.PchatGuardError);
      assert.ok(e instanceof Error);
      assert.equal(e.name, 'PchatGuardError');
      assert.equal(e.kind, 'request');
      assert.match(e.message, /2026-02-30/);
      return true;
    },
  );
  assert.throws(() => pcg.check(manifest, { today: new Date('nope') }), pcg.PchatGuardError);
  assert.throws(() => pcg.check(manifest, { format: 'toml' }), pcg.PchatGuardError);
  // The instance still works after a refused request.
  assert.equal(pcg.check(manifest, { today: TODAY }).checked, true);
});

test('today defaults to the UTC date', () => {
  const utc = new Date().toISOString().slice(0, 10);
  const file = 'tests/fixtures/waivers/waived.yaml';
  const text = readFileSync(join(ROOT, file), 'utf8');
  const byDefault = pcg.check(text, { filename: file });
  const explicit = pcg.check(text, { filename: file, today: utc });
  if (new Date().toISOString().slice(0, 10) === utc) assert.deepStrictEqual(byDefault, explicit);
  // `today: null` sends no date: waivers with `expires` do not apply.
  const none = pcg.check(text, { filename: file, today: null });
  assert.ok(none.findings.some((f) => f.code === 'PCG-WAIVER-EXPIRED' && f.pointer === '/waivers/0/expires'));
});

test('a malformed manifest is a report (checked: false), not an error', () => {
  const r = pcg.check('{ "a": ', { filename: 'broken.json', today: TODAY });
  assert.equal(r.checked, false);
  assert.equal(r.input_format, 'json');
  assert.equal(r.findings[0].code, 'PCG-SYNTAX');
});

test('without a filename the format comes from the text', () => {
  assert.equal(pcg.check('{}', { today: TODAY }).input_format, 'json');
  assert.equal(pcg.check('a: 1\n', { today: TODAY }).input_format, 'yaml');
  assert.equal(pcg.check('{}', { today: TODAY }).path, '');
});

test('coverage: true adds coverage to the report', () => {
  const r = pcg.check(manifest, { filename: 'm.yaml', today: TODAY, coverage: true });
  assert.equal(typeof r.coverage, 'object');
  assert.ok(Object.keys(r.coverage).length > 0);
  assert.equal(pcg.check(manifest, { filename: 'm.yaml', today: TODAY }).coverage, undefined);
});

test('limits are passed to the module', () => {
  const r = pcg.check(manifest, { filename: 'm.yaml', today: TODAY, limits: { maxDepth: 1 } });
  assert.equal(r.checked, false);
  assert.ok(r.findings.some((f) => f.code === 'PCG-LIMIT'));
});

test('loadBundle: a bad pack throws (kind bundle) and the module keeps its own pack', () => {
  assert.throws(() => pcg.loadBundle('nope'), (e) => e instanceof pcg.PchatGuardError && e.kind === 'bundle');
  assert.equal(pcg.describe().pack.name, 'persistent-chat');
  assert.equal(pcg.loadBundle(null).pack.name, 'persistent-chat');
});
