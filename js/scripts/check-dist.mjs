// Refuses to pack (npm pack / publish) a package without a complete, consistent dist/:
// build it first with ./build.sh <pchat-guard CLI>.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

const dist = new URL('../dist/', import.meta.url);
const need = ['index.js', 'index.d.ts', 'build-info.js', 'pchat_guard.js', 'pchat_guard.d.ts', 'pchat_guard_bg.wasm'];
const missing = need.filter((f) => !existsSync(new URL(f, dist)));
if (missing.length > 0) {
  console.error(`dist/ lacks ${missing.join(', ')}: run ./build.sh <pchat-guard CLI> first`);
  process.exit(1);
}
const digest = createHash('sha256').update(readFileSync(new URL('pchat_guard_bg.wasm', dist))).digest('hex');
const info = readFileSync(new URL('build-info.js', dist), 'utf8');
if (!info.includes(`"${digest}"`)) {
  console.error('dist/build-info.js does not name the digest of dist/pchat_guard_bg.wasm: rebuild with ./build.sh');
  process.exit(1);
}
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
if (!info.includes(`"${version}"`)) {
  console.error(`dist/build-info.js is not of version ${version}: rebuild with ./build.sh`);
  process.exit(1);
}
