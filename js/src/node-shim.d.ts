// The one Node API the wrapper uses (to read the .wasm beside it), declared here so that the
// package needs no @types/node. Not emitted: dist/index.d.ts does not refer to it.
declare module 'node:fs/promises' {
  export function readFile(path: string | URL): Promise<Uint8Array>;
}
