// @pchat-guard/core: the pchat-guard WebAssembly module (the same one the CLI runs), with a
// typed API. `await init()` once, then `check()` as often as needed.
import initGlue, * as glue from './pchat_guard.js';
import { moduleDigest, version } from './build-info.js';
import { PchatGuardError } from './errors.js';
import type { FileReport, RunReport } from './report-types.js';
import type { CheckOptions, Description, Diagram, DiagramOptions, JsonSchema, ModuleSource } from './types.js';

export { PchatGuardError } from './errors.js';
export type { PchatGuardErrorKind } from './errors.js';
export type * from './report-types.js';
export type * from './types.js';

/** The version of this package. */
export { version };
/** SHA-256 (hex) of the module this package ships: the `module sha256:` of `pchat-guard --version`. */
export { moduleDigest };
/** The module ABI version this package speaks (docs/abi.md). */
export const ABI_VERSION = 3;

let ready = false;
let pending: Promise<void> | undefined;

interface NodeProcess {
  versions?: { node?: string };
}

function isNode(): boolean {
  const proc = (globalThis as { process?: NodeProcess }).process;
  return typeof proc?.versions?.node === 'string';
}

/** The URL of the `.wasm` file beside this file (in dist/ of the package). */
function defaultUrl(): URL {
  return new URL('./pchat_guard_bg.wasm', import.meta.url);
}

async function readFile(path: string | URL): Promise<Uint8Array> {
  const fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
  return fs.readFile(path);
}

/** Turns a location into what the glue instantiates: bytes (Node, files) or a fetch. */
async function resolveSource(source: ModuleSource | undefined): Promise<unknown> {
  if (source === undefined) source = defaultUrl();
  if (typeof source === 'string') {
    if (isNode()) {
      if (/^file:/i.test(source)) return readFile(new URL(source));
      if (!/^(https?|data|blob):/i.test(source)) return readFile(source);
    }
    return fetch(source);
  }
  if (typeof URL === 'function' && source instanceof URL) {
    if (source.protocol === 'file:' && isNode()) return readFile(source);
    return fetch(source);
  }
  if (typeof Request === 'function' && source instanceof Request) return fetch(source);
  return source;
}

function checkAbi(): void {
  const abi = glue.abiVersion();
  if (abi !== ABI_VERSION) {
    throw new PchatGuardError(
      `the module speaks ABI version ${abi}, this package speaks ${ABI_VERSION}`,
      'abi',
    );
  }
}

/**
 * Loads the module. Call it once before anything else; later calls do nothing (and ignore their
 * argument) once it succeeded.
 *
 * @param source The module: its bytes (`Uint8Array`, `ArrayBuffer`), a `WebAssembly.Module`, a
 *   `Response`, or a `URL`/string to fetch (in Node, a `file:` URL or a path is read from disk).
 *   Default: `pchat_guard_bg.wasm` beside this file, read from disk in Node and fetched in
 *   browsers (`new URL('./pchat_guard_bg.wasm', import.meta.url)`).
 */
export function init(source?: ModuleSource | Promise<ModuleSource>): Promise<void> {
  if (ready) return Promise.resolve();
  if (pending === undefined) {
    pending = (async () => {
      try {
        const resolved = await resolveSource(await source);
        await initGlue({ module_or_path: resolved as never });
      } catch (cause) {
        throw new PchatGuardError(`cannot load the pchat-guard module: ${String(cause)}`, 'init', {
          cause,
        });
      }
      checkAbi();
      ready = true;
    })();
    pending.catch(() => {
      pending = undefined;
    });
  }
  return pending;
}

/**
 * Loads the module synchronously from its bytes or a compiled `WebAssembly.Module` (browsers
 * limit synchronous compiles to small modules on the main thread: use it in Node or workers).
 */
export function initSync(module: ArrayBuffer | ArrayBufferView | WebAssembly.Module): void {
  if (ready) return;
  try {
    glue.initSync({ module: module as BufferSource | WebAssembly.Module });
  } catch (cause) {
    throw new PchatGuardError(`cannot load the pchat-guard module: ${String(cause)}`, 'init', {
      cause,
    });
  }
  checkAbi();
  ready = true;
}

/** Whether `init()` (or `initSync()`) has succeeded. */
export function isInitialized(): boolean {
  return ready;
}

function needReady(what: string): void {
  if (!ready) {
    throw new PchatGuardError(`call \`await init()\` before \`${what}()\``, 'not-initialized');
  }
}

interface ErrorResponse {
  status: 'error';
  message: string;
}

function isError(value: unknown): value is ErrorResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { status?: unknown }).status === 'error' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** Today's date in UTC, `YYYY-MM-DD`. */
function utcDay(date: Date): string {
  if (Number.isNaN(date.getTime())) {
    throw new PchatGuardError('`today` is an invalid Date', 'request');
  }
  return date.toISOString().slice(0, 10);
}

function parseBundle(bundle: string | object): unknown {
  if (typeof bundle !== 'string') return bundle;
  try {
    return JSON.parse(bundle);
  } catch (cause) {
    throw new PchatGuardError(`the bundle is not JSON: ${String(cause)}`, 'request', { cause });
  }
}

/** The JSON request of docs/abi.md for one manifest. */
function request(text: string, options: CheckOptions): Record<string, unknown> {
  if (typeof text !== 'string') {
    throw new PchatGuardError('the manifest must be given as a string', 'request');
  }
  const req: Record<string, unknown> = { source: text };
  if (options.filename !== undefined) req.path = options.filename;
  if (options.format !== undefined) req.input_format = options.format;
  const today = options.today === undefined ? new Date() : options.today;
  if (today !== null) req.today = today instanceof Date ? utcDay(today) : today;
  if (options.waivers !== undefined && options.waivers.length > 0) req.waivers = options.waivers;
  if (options.ignoreManifestWaivers) req.ignore_manifest_waivers = true;
  if (options.coverage) req.coverage = true;
  if (options.bundle !== undefined) req.bundle = parseBundle(options.bundle);
  if (options.limits !== undefined) {
    const limits: Record<string, number> = {};
    if (options.limits.maxBytes !== undefined) limits.max_bytes = options.limits.maxBytes;
    if (options.limits.maxDepth !== undefined) limits.max_depth = options.limits.maxDepth;
    if (options.limits.maxNodes !== undefined) limits.max_nodes = options.limits.maxNodes;
    req.limits = limits;
  }
  return req;
}

/**
 * Checks one manifest. A malformed manifest is not an error: its report says `checked: false`
 * (a host must then fail, as the CLI exits 2).
 *
 * @throws {PchatGuardError} when the module refuses the request (kind `request`), for example
 *   a `today` that does not exist.
 */
export function check(text: string, options: CheckOptions = {}): FileReport {
  needReady('check');
  const answer: unknown = JSON.parse(glue.check(JSON.stringify(request(text, options))));
  if (isError(answer)) throw new PchatGuardError(answer.message, 'request');
  return (answer as { report: FileReport }).report;
}

/** Versions, the pack the module runs (the loaded one, else its own), its rules and codes. */
export function describe(): Description {
  needReady('describe');
  const answer: unknown = JSON.parse(glue.describe());
  if (isError(answer)) throw new PchatGuardError(answer.message, 'module');
  return answer as Description;
}

/**
 * Checks one manifest and draws its topology as SVG with the findings on it: the same bytes as
 * `pchat-guard diagram`. `svg` is absent and `declined` says why when it cannot be drawn (the
 * manifest cannot be read, or it is too large for one picture: then name a `pool`).
 *
 * @throws {PchatGuardError} (kind `request`) when the module refuses the request.
 */
export function diagram(text: string, options: DiagramOptions = {}): Diagram {
  needReady('diagram');
  const req: Record<string, unknown> = { check: request(text, options) };
  if (options.pool !== undefined) req.pool = options.pool;
  const answer: unknown = JSON.parse(glue.diagram(JSON.stringify(req)));
  if (isError(answer)) throw new PchatGuardError(answer.message, 'request');
  const { report, svg, declined } = answer as Diagram;
  return svg === undefined ? { report, declined } : { report, svg };
}

function render(format: 'json' | 'sarif', reports: FileReport | FileReport[]): unknown {
  const files = Array.isArray(reports) ? reports : [reports];
  const answer: unknown = JSON.parse(glue.render(JSON.stringify({ format, files })));
  if (isError(answer)) throw new PchatGuardError(answer.message, 'request');
  return (answer as { document: unknown }).document;
}

/**
 * The report of a run over these file reports, as `pchat-guard check --format json` prints it
 * (tool, files, summary), built by the module.
 *
 * @throws {PchatGuardError} (kind `request`) when an element is not a report of `check`.
 */
export function runReport(reports: FileReport | FileReport[]): RunReport {
  needReady('runReport');
  return render('json', reports) as RunReport;
}

/**
 * SARIF 2.1.0 of a run over these file reports, as `pchat-guard check --format sarif` writes it
 * (GitHub code scanning), built by the module with the rules of the pack that runs.
 *
 * @throws {PchatGuardError} (kind `request`) when an element is not a report of `check`.
 */
export function sarif(reports: FileReport | FileReport[]): Record<string, unknown> {
  needReady('sarif');
  return render('sarif', reports) as Record<string, unknown>;
}

/** The JSON Schema of manifests (what `pchat-guard schema` prints). */
export function schema(): JsonSchema {
  needReady('schema');
  const answer: unknown = JSON.parse(glue.schema());
  if (isError(answer)) throw new PchatGuardError(answer.message, 'module');
  return answer as JsonSchema;
}

/**
 * Runs a compiled pack (IR bundle, as `pchat-guard-lang` emits it; JSON text or parsed) for every
 * later check; `null` goes back to the module's own pack. Returns the new description.
 *
 * @throws {PchatGuardError} (kind `bundle`) when the pack cannot run; the previous pack stays.
 */
export function loadBundle(bundle: string | object | null): Description {
  needReady('loadBundle');
  const text = bundle === null ? '' : typeof bundle === 'string' ? bundle : JSON.stringify(bundle);
  const answer: unknown = JSON.parse(glue.loadBundle(text));
  if (isError(answer)) throw new PchatGuardError(answer.message, 'bundle');
  return (answer as { description: Description }).description;
}
