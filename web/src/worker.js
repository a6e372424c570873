// The checker's worker: loads the module once with the package's init(url), says 'ready' with
// the pack's description and the manifest schema (for the editor's completion and hover), then
// answers, one message at a time:
// - { type: 'check' } with the report and each finding's range in UTF-16 positions; with
//   `diagram: true` it calls diagram() instead of check() (the same report, and the SVG or why
//   there is none), so an open diagram pane costs no second module call;
// - { type: 'render', format: 'json' | 'sarif', report } with the CLI's run report or SARIF
//   document of that file report.
// The page terminates and replaces this worker when it does not answer in time.
import { init, check, diagram, runReport, sarif, describe, schema, moduleDigest, version } from '../../js/dist/index.js';

const ready = init(new URL('pchat_guard_bg.wasm', self.location.href));

/**
 * Maps UTF-8 byte offsets (the report's `offset`s) to UTF-16 string positions (CodeMirror's).
 * One pass over the text up to the largest offset asked for.
 */
function byteOffsetsToPositions(text, offsets) {
  const result = new Map();
  if (!/[^\x00-\x7f]/.test(text)) {
    for (const b of offsets) result.set(b, Math.min(b, text.length));
    return result;
  }
  const wanted = [...new Set(offsets)].sort((a, b) => a - b);
  let bytes = 0;
  let i = 0;
  let k = 0;
  while (k < wanted.length && i < text.length) {
    while (k < wanted.length && wanted[k] <= bytes) result.set(wanted[k++], i);
    const c = text.codePointAt(i);
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    i += c >= 0x10000 ? 2 : 1;
  }
  while (k < wanted.length) result.set(wanted[k++], text.length);
  return result;
}

ready.then(
  () => self.postMessage({ type: 'ready', description: describe(), schema: schema(), moduleDigest, version }),
  (err) => self.postMessage({ type: 'fatal', message: String(err && err.message || err) }),
);

function answerCheck(msg) {
  const started = performance.now();
  const options = { filename: msg.filename, format: msg.format };
  if (msg.today) options.today = msg.today;
  let report;
  let drawing;
  if (msg.diagram) {
    const d = diagram(msg.text, msg.pool ? { ...options, pool: msg.pool } : options);
    report = d.report;
    drawing = { svg: d.svg ?? null, declined: d.declined ?? null };
  } else {
    report = check(msg.text, options);
  }
  const offsets = [];
  for (const f of report.findings) offsets.push(f.location.start.offset, f.location.end.offset);
  const map = byteOffsetsToPositions(msg.text, offsets);
  const ranges = report.findings.map((f) => ({
    from: map.get(f.location.start.offset),
    to: map.get(f.location.end.offset),
  }));
  self.postMessage({ type: 'report', id: msg.id, report, ranges, drawing, ms: performance.now() - started });
}

function answerRender(msg) {
  const doc = msg.format === 'sarif' ? sarif(msg.report) : runReport(msg.report);
  self.postMessage({ type: 'rendered', id: msg.id, document: doc });
}

self.onmessage = async (event) => {
  const msg = event.data;
  const answer = msg.type === 'check' ? answerCheck : msg.type === 'render' ? answerRender : null;
  if (!answer) return;
  await ready;
  try {
    answer(msg);
  } catch (err) {
    // `request` errors leave the module usable; anything else (a trap) does not (docs/abi.md).
    const kind = err && err.kind;
    self.postMessage({
      type: 'error',
      id: msg.id,
      message: String((err && err.message) || err),
      fatal: kind !== 'request',
    });
  }
};
