// Declarations of the wasm-bindgen glue (`pchat_guard.js`) that build.sh copies beside the
// compiled wrapper, for the functions the wrapper uses. Hand-kept: the glue's own `.d.ts` is not
// used (see README.md, "Notes"). build.sh copies this file into dist/ as the glue's types.

/** The ABI version of the module (3). */
export function abiVersion(): number;
/** A JSON check request in, a JSON response out (docs/abi.md). */
export function check(request: string): string;
/** The description of the module and its pack, as JSON. */
export function describe(): string;
/** Loads a compiled pack (IR bundle JSON); `""` goes back to the module's own pack. */
export function loadBundle(bundle: string): string;
/** A JSON diagram request in (`{"check": ..., "pool"?: ...}`), the report and the SVG out. */
export function diagram(request: string): string;
/** The document of a run (`{"format": "json"|"sarif", "files": [...]}` in), as JSON. */
export function render(request: string): string;
/** The manifest JSON Schema, as JSON. */
export function schema(): string;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
export type SyncInitInput = BufferSource | WebAssembly.Module;

export function initSync(module: { module: SyncInitInput }): unknown;
export default function __wbg_init(module_or_path: {
  module_or_path: InitInput | Promise<InitInput>;
}): Promise<unknown>;
