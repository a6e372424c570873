// init() from each kind of source. The module's state is global to a JS realm, so each case
// runs in a Node process of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import './helpers.mjs'; // fails without PCHAT_GUARD_CLI, like every test file

const index = new URL('../dist/index.js', import.meta.url).href;
const wasmUrl = new URL('../dist/pchat_guard_bg.wasm', import.meta.url);
const wasmPath = fileURLToPath(wasmUrl);

const CASES = {
  'no argument (the .wasm beside the package)': 'await pcg.init();',
  'Uint8Array': `await pcg.init(fs.readFileSync(${JSON.stringify(wasmPath)}));`,
  'ArrayBuffer': `const b = fs.readFileSync(${JSON.stringify(wasmPath)}); await pcg.init(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));`,
  'file: URL': `await pcg.init(new URL(${JSON.stringify(wasmUrl.href)}));`,
  'file: URL string': `await pcg.init(${JSON.stringify(wasmUrl.href)});`,
  'path string': `await pcg.init(${JSON.stringify(wasmPath)});`,
  'Response': `await pcg.init(new Response(fs.readFileSync(${JSON.stringify(wasmPath)}), { headers: { 'content-type': 'application/wasm' } }));`,
  'WebAssembly.Module': `await pcg.init(new WebAssembly.Module(fs.readFileSync(${JSON.stringify(wasmPath)})));`,
  'a promise of bytes': `await pcg.init(fs.promises.readFile(${JSON.stringify(wasmPath)}));`,
  'initSync(bytes)': `pcg.initSync(fs.readFileSync(${JSON.stringify(wasmPath)}));`,
};

function run(body) {
  const script = `import * as pcg from ${JSON.stringify(index)}; import fs from 'node:fs';
${body}
const r = pcg.check('{}', { filename: 'x.json', today: '2026-11-26' });
if (r.input_format !== 'json' || !r.findings.length) throw new Error('unexpected report');
console.log(pcg.describe().pack.name);`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

for (const [name, body] of Object.entries(CASES)) {
  test(`init from ${name}`, () => {
    const r = run(body);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'persistent-chat');
    assert.equal(r.stderr, '', 'no warnings');
  });
}

test('init from bytes that are not a module throws PchatGuardError (kind init), and can be retried', () => {
  const r = run(`
let failed = false;
try { await pcg.init(new Uint8Array([1, 2, 3])); } catch (e) {
  if (!(e instanceof pcg.PchatGuardError) || e.kind !== 'init') throw e;
  failed = true;
}
if (!failed || pcg.isInitialized()) throw new Error('init did not fail');
await pcg.init();`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'persistent-chat');
});

test('init from a missing file throws PchatGuardError (kind init)', () => {
  const r = run(`
try { await pcg.init('/nonexistent/pchat_guard_bg.wasm'); throw new Error('no error'); } catch (e) {
  if (!(e instanceof pcg.PchatGuardError) || e.kind !== 'init' || !e.cause) throw e;
}
await pcg.init();`);
  assert.equal(r.status, 0, r.stderr);
});
