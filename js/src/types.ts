// Types of the module's API that are not part of the run report (those are generated from
// schemas/report.schema.json into report-types.ts). test/types-drift.test.mjs compares these
// interfaces with what the module answers.
import type { FileReport, Finding, Location } from './report-types.js';

/** A finding's severity. */
export type Severity = Finding['severity'];

/** A manifest's format. */
export type InputFormat = FileReport['input_format'];

/** What `describe()` answers: the module, the pack it runs, its rules and its own codes. */
export interface Description {
  /** The module's ABI version. */
  abi_version: number;
  /** The engine's version. */
  engine_version: string;
  /** The version of the report format (`format_version` of reports). */
  report_format_version: number;
  /** The pack the module runs (the loaded one, else its own). */
  pack: PackInfo | null;
  /** The pack's rules, in pack order. */
  rules: RuleInfo[];
  /** The engine's own finding codes (`PCG-*`). */
  codes: CodeInfo[];
  /** The facts the rules cite, with their titles and sources. */
  facts: FactInfo[];
  /** The packs that run, in load order: the pack alone, or the shipped pack and its extensions. */
  packs: PackInfo[];
}

/** A fact rules cite, as its pack's `facts.toml` declares it. */
export interface FactInfo {
  /** The id rules cite, such as `F7`. */
  id: string;
  /** What the fact says. */
  title: string;
  /** Where it comes from. */
  url?: string;
}

/** Which pack the module runs. */
export interface PackInfo {
  /** The pack's name, such as `persistent-chat`. */
  name: string;
  /** The pack's version. */
  version: string;
  /** `sha256:<hex>` of the pack's IR; `null` for a pack given to `loadBundle`. */
  digest: string | null;
}

/** A rule of the pack. */
export interface RuleInfo {
  /** Stable id, such as `PCHAT-HA-001`. */
  id: string;
  /** Default severity. */
  severity: Severity;
  /** One line. */
  title: string;
  /** The facts it rests on. */
  facts: string[];
  /** Markdown documentation. */
  doc: string;
  /** The pack it belongs to. */
  pack: string;
}

/** A code of the engine's own findings. */
export interface CodeInfo {
  /** `PCG-*`. */
  code: string;
  /** One line. */
  summary: string;
  /** Its severity. */
  severity: Severity;
  /** Whether it means the input could not be checked (`checked: false`). */
  input_error: boolean;
}

/** Where a waiver from outside the manifest is written; copied into the findings it waives. */
export interface ExternalWaiverOrigin {
  path: string;
  pointer: string;
  location: Location;
}

/** A waiver from outside the manifest (for example from a waiver file). */
export interface ExternalWaiver {
  /** The rule id it waives (`PCG-*` findings cannot be waived). */
  rule: string;
  /** A JSON pointer (that value and everything below it) or an entity id. */
  target: string;
  /** Why the finding is accepted. */
  reason: string;
  /** Last day it applies, `YYYY-MM-DD`; never expires when absent. */
  expires?: string;
  /** Where it is written, copied into the findings it waives. */
  origin?: ExternalWaiverOrigin;
}

/** Bounds on the cost of one manifest; each defaults to the module's own. */
export interface Limits {
  /** Bytes of the manifest (default 64 MiB). */
  maxBytes?: number;
  /** Nesting depth (default 64, at most 256: more is refused with an error). */
  maxDepth?: number;
  /** Values, aliases expanded (default 4,000,000). */
  maxNodes?: number;
}

/** Options of `check()`. */
export interface CheckOptions {
  /** The name reported back as `path`; its extension (`.json`, `.yaml`, `.yml`) picks the format. */
  filename?: string;
  /** The format; without it, the filename's extension, else the text (`{` or `[` first: JSON). */
  format?: InputFormat;
  /**
   * Today's date, to tell whether waivers have expired: a `Date` (its UTC day) or `YYYY-MM-DD`.
   * Defaults to today's UTC date. `null` sends no date: a waiver with `expires` then does not
   * apply (`PCG-WAIVER-EXPIRED`).
   */
  today?: Date | string | null;
  /** Waivers from outside the manifest, applied after the manifest's own `waivers[]`. */
  waivers?: ExternalWaiver[];
  /** Ignore the manifest's own `waivers[]` (each gets a `PCG-WAIVER-IGNORED` finding). */
  ignoreManifestWaivers?: boolean;
  /** Add `coverage` to the report: per rule, its findings and per `where` clause [held, not]. */
  coverage?: boolean;
  /** A compiled pack (IR bundle, as JSON text or parsed) to run for this check only. */
  bundle?: string | object;
  /** Overrides of the module's limits. */
  limits?: Limits;
}

/** What `init()` accepts: the module's bytes, a compiled module, a `Response`, or where to get it. */
export type ModuleSource =
  | ArrayBuffer
  | ArrayBufferView
  | WebAssembly.Module
  | Response
  | Request
  | URL
  | string;

/** A JSON Schema document. */
export type JsonSchema = { [key: string]: unknown };

/** Options of `diagram()`: those of `check()`, and the one pool to draw. */
export interface DiagramOptions extends CheckOptions {
  /** The id of the Persistent Chat pool to draw; every pool when absent. */
  pool?: string;
}

/** What `diagram()` answers: the report of the check, and the SVG or why there is none. */
export interface Diagram {
  /** The report whose findings are drawn. */
  report: FileReport;
  /** The SVG document (`pchat-guard diagram` writes the same bytes). */
  svg?: string;
  /** Why nothing was drawn: the manifest cannot be read, it is too large, no such pool. */
  declined?: string;
}
