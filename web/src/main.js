// The pchat-guard playground: a CodeMirror 6 editor whose text is checked, as you type, by the
// pchat-guard WebAssembly module running in a Web Worker (see worker.js). Completion and hover
// come from the manifest schema that the worker's module returns (see schema-assist.js). The
// diagram pane shows the topology the module draws, and the report downloads as the CLI's JSON
// report or SARIF, built by the module too.
import { EditorView, basicSetup } from 'codemirror';
import { EditorState, Compartment } from '@codemirror/state';
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics, forEachDiagnostic } from '@codemirror/lint';
import { schemaAssist, setSchema } from './schema-assist.js';

const DEBOUNCE_MS = 300;
const STORAGE_KEY = 'pchat-guard-playground';
const MAX_STORED = 1 << 20; // characters kept in localStorage

const params = new URLSearchParams(location.search);
const today = params.get('today') || undefined; // default: the package's (today's UTC date)
let timeLimitMs = Number(params.get('timeout')) || 5000;

const $ = (id) => document.getElementById(id);
const statusEl = $('status');
const summaryEl = $('summary');
const findingsEl = $('findings');
const reportEl = $('report-json');
const formatEl = $('format');
const filenameEl = $('filename');
const exampleEl = $('example');
const diagramBox = $('diagram-box');
const diagramEl = $('diagram');
const diagramMessageEl = $('diagram-message');
const poolEl = $('diagram-pool');
const poolLabelEl = $('diagram-pool-label');
const downloadButtons = [$('download-json'), $('download-sarif')]; // data-format: json, sarif

function setStatus(text, problem = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle('problem', problem);
}

// ---------------------------------------------------------------- editor

const language = new Compartment();
const langFor = (format) => (format === 'json' ? json() : yaml());
let format = 'yaml';

const view = new EditorView({
  parent: $('editor'),
  state: EditorState.create({
    doc: '',
    extensions: [
      basicSetup,
      language.of(langFor(format)),
      lintGutter(),
      schemaAssist(),
      EditorView.contentAttributes.of({ 'aria-label': 'Topology manifest' }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) {
          docVersion++;
          scheduleCheck();
        }
      }),
    ],
  }),
});
let docVersion = 0;

function setFormat(next) {
  format = next === 'json' ? 'json' : 'yaml';
  formatEl.value = format;
  view.dispatch({ effects: language.reconfigure(langFor(format)) });
}

function setText(text, nextFormat, filename) {
  if (nextFormat) setFormat(nextFormat);
  if (filename !== undefined) filenameEl.value = filename;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  scheduleCheck(0);
}

formatEl.addEventListener('change', () => {
  setFormat(formatEl.value);
  const name = filenameEl.value.replace(/\.(ya?ml|json)$/i, '');
  filenameEl.value = `${name || 'topology'}.${format === 'json' ? 'json' : 'yaml'}`;
  scheduleCheck(0);
});
filenameEl.addEventListener('change', () => {
  const m = /\.(ya?ml|json)$/i.exec(filenameEl.value);
  if (m) setFormat(/json/i.test(m[1]) ? 'json' : 'yaml');
  scheduleCheck(0);
});

// ---------------------------------------------------------------- worker

// One request is in the worker at a time, under the time limit: the latest check (`queued`; a
// newer text replaces it) or a report to render for a download (`renders`, first). A render asked
// for while a check is in flight waits for it, so the time limit always measures one request.
let worker = null; // { w, ready }
let nextId = 1;
let inFlight = null; // a request ({ id, message, ... }) and its timer
let queued = null; // the latest check not yet sent: { id, version, message }
const renders = []; // renders not yet sent: { id, message, resolve, reject }
let lastReport = null;
let checks = 0;

function startWorker() {
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const entry = { w, ready: false };
  worker = entry;
  w.onmessage = (event) => onWorkerMessage(entry, event.data);
  w.onerror = (event) => {
    if (worker !== entry) return;
    setStatus(`The checker failed: ${event.message || 'worker error'}; restarting it.`, true);
    restartWorker();
  };
}

/** Replaces the worker; a render it had is refused (the queued ones go to the new worker). */
function restartWorker() {
  if (worker) worker.w.terminate();
  if (inFlight) {
    clearTimeout(inFlight.timer);
    if (inFlight.message.type === 'render') inFlight.reject(new Error('the checker was restarted'));
  }
  inFlight = null;
  startWorker();
}

function onWorkerMessage(entry, msg) {
  if (worker !== entry) return; // a replaced worker
  if (msg.type === 'ready') {
    entry.ready = true;
    showModuleInfo(msg);
    view.dispatch({ effects: setSchema.of(msg.schema) });
    if (!lastReport) setStatus('Checker ready.');
    pump();
    return;
  }
  if (msg.type === 'fatal') {
    setStatus(`Cannot load the checker: ${msg.message}`, true);
    for (const r of renders.splice(0)) r.reject(new Error('the checker cannot be loaded'));
    return;
  }
  if (!inFlight || msg.id !== inFlight.id) return;
  const done = inFlight;
  clearTimeout(done.timer);
  inFlight = null;
  if (done.message.type === 'render') {
    if (msg.type === 'rendered') done.resolve(msg.document);
    else done.reject(new Error(msg.message));
  } else if (msg.type === 'report') {
    checks++;
    if (done.version === docVersion) showReport(msg.report, msg.ranges, msg.ms, msg.drawing);
  } else if (msg.type === 'error') {
    setStatus(`The checker refused the request: ${msg.message}`, true);
    clearResults('not checked');
  }
  if (msg.type === 'error' && msg.fatal) restartWorker();
  pump();
}

/** Sends the next request when the worker is ready and idle, with a time limit. */
function pump() {
  if (inFlight || !worker || !worker.ready) return;
  const req = renders.shift() || queued;
  if (!req) return;
  if (req === queued) queued = null;
  const entry = worker;
  inFlight = {
    ...req,
    timer: setTimeout(() => {
      if (worker === entry) timedOut(req);
    }, timeLimitMs),
  };
  if (req.message.type === 'check') setStatus('Checking…');
  entry.w.postMessage(req.message);
}

function timedOut(req) {
  const limit = `longer than ${timeLimitMs / 1000} s`;
  if (req.message.type === 'render') {
    req.reject(new Error(`it took ${limit}; the checker was restarted`));
  } else {
    const kb = Math.round(req.message.text.length / 1024);
    setStatus(`Time-out: the check of this ${kb} KB text took ${limit} and was stopped; the checker was restarted.`, true);
    clearResults('not checked (time-out)');
  }
  restartWorker();
}

let debounce = null;
function scheduleCheck(delay = DEBOUNCE_MS) {
  clearTimeout(debounce);
  debounce = setTimeout(requestCheck, delay);
}

function requestCheck() {
  const text = view.state.doc.toString();
  const id = nextId++;
  queued = {
    id,
    version: docVersion,
    message: {
      type: 'check',
      id,
      text,
      filename: filenameEl.value,
      format,
      today,
      diagram: diagramBox.open,
      pool: poolEl.value || undefined,
    },
  };
  save(text);
  pump();
}

/** The CLI's document (`json`: the run report; `sarif`) of one file report, built by the worker. */
function render(format, report) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    renders.push({ id, message: { type: 'render', id, format, report }, resolve, reject });
    pump();
  });
}

// ---------------------------------------------------------------- results

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function tooltip(f) {
  return () => {
    const div = document.createElement('div');
    div.className = 'pcg-tip';
    const head = document.createElement('div');
    const code = document.createElement('strong');
    code.textContent = f.code;
    head.append(code, `: ${f.message}${f.waived ? ' (waived)' : ''}`);
    div.append(head);
    if (f.help) {
      const help = document.createElement('div');
      help.className = 'pcg-help';
      help.textContent = `help: ${f.help}`;
      div.append(help);
    }
    return div;
  };
}

let findingStarts = []; // where each finding of lastReport starts in the editor

/** Puts the cursor on the start of the `i`-th finding and focuses the editor. */
function goToFinding(i) {
  const at = Math.min(findingStarts[i], view.state.doc.length);
  view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
  view.focus();
}

function setDownloadable(on) {
  for (const b of downloadButtons) b.disabled = !on;
}

/** Forgets the last report (its findings no longer describe the text). */
function clearResults(summary) {
  lastReport = null;
  findingStarts = [];
  reportEl.textContent = '';
  findingsEl.replaceChildren();
  summaryEl.textContent = summary;
  view.dispatch(setDiagnostics(view.state, []));
  setDownloadable(false);
  clearDiagram(`Not drawn: ${summary}.`);
}

/**
 * Findings shown in the list, the editor and the report view. A manifest of 100,000 unknown
 * keys is checked in seconds; drawing each of its findings would hold the page for longer. The
 * rest are counted, and the downloads carry them all.
 */
const MAX_SHOWN = 1000;

function showReport(report, ranges, ms, drawing) {
  lastReport = report;
  setDownloadable(true);
  const shown = report.findings.slice(0, MAX_SHOWN);
  const hidden = report.findings.length - shown.length;
  reportEl.textContent = JSON.stringify(
    hidden ? { ...report, findings: shown, findings_not_shown: hidden } : report,
    null,
    2,
  );
  reportEl.dataset.checks = String(checks);
  const len = view.state.doc.length;
  findingStarts = report.findings.map((_, i) => Math.min(ranges[i].from, len));
  const diagnostics = shown.map((f, i) => {
    const from = Math.min(ranges[i].from, len);
    const to = Math.max(from, Math.min(ranges[i].to, len));
    return {
      from,
      to,
      severity: f.waived ? 'info' : f.severity,
      markClass: f.waived ? 'pcg-waived' : undefined,
      source: f.code,
      message: `${f.code}: ${f.message}${f.help ? ` (help: ${f.help})` : ''}`,
      renderMessage: tooltip(f),
    };
  });
  view.dispatch(setDiagnostics(view.state, diagnostics));

  const more = [];
  if (hidden) {
    const li = document.createElement('li');
    li.className = 'more';
    li.textContent = `… and ${hidden} more findings (the downloaded reports have them all)`;
    more.push(li);
  }
  findingsEl.replaceChildren(
    ...shown.map((f, i) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `sev-${f.severity}${f.waived ? ' waived' : ''}`;
      b.dataset.code = f.code;
      const { line, column } = f.location.start;
      const pos = document.createElement('span');
      pos.className = 'pos';
      pos.textContent = `${line}:${column}`;
      const code = document.createElement('span');
      code.className = 'code';
      code.textContent = f.code;
      b.append(pos, ' ', code, ` ${f.message}${f.waived ? ' (waived)' : ''}`);
      b.title = f.help ? `${f.severity}. help: ${f.help}` : f.severity;
      b.addEventListener('click', () => goToFinding(i));
      li.append(b);
      return li;
    }),
    ...more,
  );

  const count = { error: 0, warning: 0, info: 0 };
  let waived = 0;
  for (const f of report.findings) {
    if (f.waived) waived++;
    else count[f.severity]++;
  }
  const parts = [];
  if (count.error) parts.push(plural(count.error, 'error'));
  if (count.warning) parts.push(plural(count.warning, 'warning'));
  if (count.info) parts.push(plural(count.info, 'info'));
  if (waived) parts.push(`${waived} waived`);
  summaryEl.textContent = report.findings.length === 0 ? 'no findings' : parts.join(', ');
  if (report.checked) {
    setStatus(`Checked in ${Math.round(ms)} ms.`);
  } else {
    const first = report.findings[0];
    setStatus(`Not checked: ${first ? `${first.code}: ${first.message}` : 'the manifest cannot be read'}`, true);
  }
  // A check made while the diagram pane was closed draws nothing; opening it asks for a drawing.
  if (drawing) showDiagram(drawing);
  else clearDiagram(diagramBox.open ? 'Drawing…' : '');
}

// ---------------------------------------------------------------- diagram

const SVG_NS = 'http://www.w3.org/2000/svg';
let lastSvg = null; // the module's SVG text shown in the pane, as the worker sent it

function clearDiagram(message) {
  lastSvg = null;
  diagramEl.replaceChildren();
  diagramMessageEl.textContent = message;
}

function showDiagram({ svg, declined }) {
  const node = svg ? svgNode(svg) : null;
  if (node) {
    lastSvg = svg;
    diagramEl.replaceChildren(node);
    diagramMessageEl.textContent = '';
  } else {
    const why = declined || 'the module drew something that is not SVG';
    clearDiagram(`Not drawn: ${why}.`);
  }
  updatePools(poolIds(node, declined), Boolean(node));
}

/**
 * Parses the module's SVG as XML (never as HTML) and imports it into the page without anything
 * that could run code or restyle the page. The module escapes the manifest's text, so there is
 * nothing to remove: this is a second line of defence. Elements with findings become buttons.
 */
function svgNode(text) {
  const root = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
  if (root.namespaceURI !== SVG_NS || root.localName !== 'svg' || root.querySelector('parsererror')) return null;
  for (const el of root.querySelectorAll('script, style, foreignObject')) el.remove();
  for (const el of [root, ...root.querySelectorAll('*')]) {
    for (const { name, value } of [...el.attributes]) {
      if (/^on/i.test(name) || (/href$/i.test(name) && !value.startsWith('#'))) el.removeAttribute(name);
    }
  }
  // role="img" would hide the focusable elements inside from assistive technology.
  root.setAttribute('role', 'group');
  root.setAttribute('aria-label', 'Topology diagram');
  for (const g of root.querySelectorAll('g[data-findings]')) {
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'button');
  }
  return document.importNode(root, true);
}

/** Moves the cursor to the first finding (in report order) drawn on `g`. */
function goToFindingOf(g) {
  const drawn = new Set(g.dataset.findings.split(' '));
  const i = lastReport ? lastReport.findings.findIndex((f) => drawn.has(f.fingerprint)) : -1;
  if (i >= 0) goToFinding(i);
}

diagramEl.addEventListener('click', (event) => {
  const g = event.target.closest('g[data-findings]');
  if (g) goToFindingOf(g);
});
diagramEl.addEventListener('keydown', (event) => {
  if ((event.key === 'Enter' || event.key === ' ') && event.target.matches('g[data-findings]')) {
    event.preventDefault();
    goToFindingOf(event.target);
  }
});

/**
 * The pool ids a result names: those of the drawn pools (each `g.pool`'s title reads
 * `Persistent Chat pool ID`; a pool without an id is drawn as `(pool N)` and cannot be chosen),
 * or, when nothing was drawn, those of the message (`… (pools: a, b, …)`, at most 20).
 */
function poolIds(node, declined) {
  if (node) {
    return [...node.querySelectorAll('g.pool > title')]
      .map((t) => /^Persistent Chat pool (.+)/.exec(t.textContent)?.[1])
      .filter((id) => id && !/^\(pool \d+\)$/.test(id));
  }
  const m = /\(pools: (.+)\)$/.exec(declined || '');
  return m ? m[1].split(', ').filter((id) => id !== '…') : [];
}

/**
 * Lists the pools to choose from: the ids the result names, those listed before when the
 * picture is of one chosen pool (it shows no other), and the chosen one (kept even when the
 * manifest no longer has it: the message says so). Shown when there is a choice to make.
 */
function updatePools(found, drawn) {
  const chosen = poolEl.value;
  const listed = [...poolEl.options].slice(1).map((o) => o.value);
  const ids = [...new Set([...(chosen && drawn ? listed : []), ...found, ...(chosen ? [chosen] : [])])];
  poolLabelEl.hidden = ids.length < 2 && !chosen;
  if (ids.join('\n') === listed.join('\n')) return;
  poolEl.replaceChildren(
    poolEl.options[0],
    ...ids.map((id) => {
      const opt = document.createElement('option');
      opt.value = opt.textContent = id;
      return opt;
    }),
  );
  poolEl.value = chosen;
}

diagramBox.addEventListener('toggle', () => {
  if (!diagramBox.open) return;
  if (!lastSvg && !diagramMessageEl.textContent) diagramMessageEl.textContent = 'Drawing…';
  scheduleCheck(0);
});
poolEl.addEventListener('change', () => scheduleCheck(0));

// ---------------------------------------------------------------- downloads

const DOCUMENTS = {
  json: { what: 'JSON report', type: 'application/json' },
  sarif: { what: 'SARIF', type: 'application/sarif+json' },
};

/**
 * Downloads the CLI's document of the report shown (`check --format json` or `--format sarif`),
 * as `NAME.pchat-guard.json` or `NAME.pchat-guard.sarif`, NAME being the report's file name.
 */
async function download(format) {
  const report = lastReport;
  if (!report) return;
  const { what, type } = DOCUMENTS[format];
  const name = `${report.path.split(/[\\/]/).pop() || 'topology'}.pchat-guard.${format}`;
  try {
    const doc = await render(format, report);
    saveFile(name, `${JSON.stringify(doc, null, 2)}\n`, type);
    setStatus(`Downloaded ${name}.`);
  } catch (err) {
    setStatus(`Cannot build the ${what}: ${err.message}`, true);
  }
}

function saveFile(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // The browser reads the blob after this task: revoking it at once could fail the download.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

for (const b of downloadButtons) b.addEventListener('click', () => download(b.dataset.format));

function showModuleInfo(msg) {
  const d = msg.description;
  const rules = $('rules');
  rules.replaceChildren(
    ...d.rules.map((r) => {
      const li = document.createElement('li');
      const code = document.createElement('code');
      code.textContent = r.id;
      li.append(code, ` (${r.severity}) ${r.title}`);
      li.title = r.doc || '';
      return li;
    }),
  );
  $('rules-box').querySelector('summary').textContent = `Rules of the pack (${d.rules.length})`;
  $('footer').textContent =
    `pack ${d.pack.name} ${d.pack.version} · @pchat-guard/core ${msg.version} · ` +
    `module sha256:${msg.moduleDigest} · runs in your browser; nothing is uploaded.`;
  $('footer').dataset.moduleDigest = msg.moduleDigest;
}

// ---------------------------------------------------------------- examples, storage, sharing

async function loadExamples() {
  try {
    const names = await (await fetch('examples/index.json')).json();
    for (const name of names) {
      const opt = document.createElement('option');
      opt.value = opt.textContent = name;
      exampleEl.append(opt);
    }
  } catch {
    /* no examples: the picker stays empty */
  }
}

exampleEl.addEventListener('change', async () => {
  const name = exampleEl.value;
  if (!name) return;
  const text = await (await fetch(`examples/${encodeURIComponent(name)}`)).text();
  setText(text, /\.json$/.test(name) ? 'json' : 'yaml', name);
});

function save(text) {
  try {
    if (text.length > MAX_STORED) return;
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ text, format, filename: filenameEl.value }));
  } catch {
    /* storage full or disabled */
  }
}

function toBase64Url(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
function fromBase64Url(text) {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

$('share').addEventListener('click', async () => {
  const payload = JSON.stringify({ t: view.state.doc.toString(), f: format, n: filenameEl.value });
  const packed = await pipe(new TextEncoder().encode(payload), new CompressionStream('deflate-raw'));
  const url = `${location.origin}${location.pathname}${location.search}#s=${toBase64Url(packed)}`;
  history.replaceState(null, '', url);
  try {
    await navigator.clipboard.writeText(url);
    setStatus('Share link copied to the clipboard (and in the address bar).');
  } catch {
    setStatus('Share link is in the address bar.');
  }
});

async function initialText() {
  const m = /^#s=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (m) {
    try {
      const bytes = await pipe(fromBase64Url(m[1]), new DecompressionStream('deflate-raw'));
      const { t, f, n } = JSON.parse(new TextDecoder().decode(bytes));
      return { text: t, format: f, filename: n };
    } catch {
      setStatus('The share link cannot be read.', true);
    }
  }
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
    if (saved && typeof saved.text === 'string') return saved;
  } catch {
    /* ignore */
  }
  return null;
}

// ---------------------------------------------------------------- start

/** Test hooks (web/test.mjs). */
window.__pcg = {
  view,
  setText,
  report: () => lastReport,
  checks: () => checks,
  lastSvg: () => lastSvg,
  busy: () => inFlight?.message.type ?? null,
  setTimeLimit: (ms) => {
    timeLimitMs = ms;
  },
  diagnostics: () => {
    const out = [];
    forEachDiagnostic(view.state, (d, from, to) =>
      out.push({
        from,
        to,
        severity: d.severity,
        source: d.source,
        markClass: d.markClass,
        line: view.state.doc.lineAt(from).number,
      }),
    );
    return out;
  },
};

startWorker();
loadExamples();
const first = await initialText();
if (first) {
  setText(first.text, first.format, first.filename || (first.format === 'json' ? 'topology.json' : 'topology.yaml'));
} else {
  filenameEl.value = params.get('filename') || 'topology.yaml';
  setText('# Paste a topology manifest here, or choose an example.\n', 'yaml');
}
