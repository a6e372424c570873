// Writes src/build-info.ts: the package version (package.json) and the SHA-256 of the module
// bytes build.sh got from the CLI, so that `moduleDigest` is known without hashing at run time.
//
//   node scripts/build-info.mjs <module.wasm>
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const wasm = process.argv[2];
if (!wasm) {
  console.error('usage: node scripts/build-info.mjs <module.wasm>');
  process.exit(2);
}
const digest = createHash('sha256').update(readFileSync(wasm)).digest('hex');
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const out = fileURLToPath(new URL('../src/build-info.ts', import.meta.url));
writeFileSync(
  out,
  `// Written by scripts/build-info.mjs (build.sh): do not edit.

/** The version of this package. */
export const version = ${JSON.stringify(version)};

/** SHA-256 (hex) of the module this package ships: the \`module sha256:\` of \`pchat-guard --version\`. */
export const moduleDigest = ${JSON.stringify(digest)};
`,
);
console.log(digest);
