// The pchat-guard playground: a CodeMirror 6 editor whose text is checked, as you type, by the
// pchat-guard WebAssembly module running in a Web Worker (see worker.js). Completion and hover
// come from the manifest schema that the worker's module returns (see schema-assist.js).
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

let worker = null; // { w, ready }
let nextId = 1;
let inFlight = null; // { id, version, text, timer }
let queued = null; // the latest request not yet sent
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

function restartWorker() {
  if (worker) worker.w.terminate();
  if (inFlight) clearTimeout(inFlight.timer);
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
    return;
  }
  if (!inFlight || msg.id !== inFlight.id) return;
  const done = inFlight;
  clearTimeout(done.timer);
  inFlight = null;
  if (msg.type === 'report') {
    checks++;
    if (done.version === docVersion) showReport(msg.report, msg.ranges, msg.ms);
  } else if (msg.type === 'error') {
    setStatus(`The checker refused the request: ${msg.message}`, true);
    clearResults('not checked');
    if (msg.fatal) restartWorker();
  }
  pump();
}

/** Sends the queued request when the worker is ready and idle, with a time limit. */
function pump() {
  if (!queued || inFlight || !worker || !worker.ready) return;
  const req = queued;
  queued = null;
  const entry = worker;
  inFlight = {
    ...req,
    timer: setTimeout(() => {
      if (worker !== entry) return;
      const kb = Math.round(req.text.length / 1024);
      setStatus(
        `Time-out: the check of this ${kb} KB text took longer than ${timeLimitMs / 1000} s and was stopped; the checker was restarted.`,
        true,
      );
      clearResults('not checked (time-out)');
      restartWorker();
    }, timeLimitMs),
  };
  setStatus('Checking…');
  entry.w.postMessage({
    type: 'check',
    id: req.id,
    text: req.text,
    filename: req.filename,
    format: req.format,
    today,
  });
}

let debounce = null;
function scheduleCheck(delay = DEBOUNCE_MS) {
  clearTimeout(debounce);
  debounce = setTimeout(requestCheck, delay);
}

function requestCheck() {
  const text = view.state.doc.toString();
  queued = { id: nextId++, version: docVersion, text, filename: filenameEl.value, format };
  save(text);
  pump();
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

/** Forgets the last report (its findings no longer describe the text). */
function clearResults(summary) {
  lastReport = null;
  reportEl.textContent = '';
  findingsEl.replaceChildren();
  summaryEl.textContent = summary;
  view.dispatch(setDiagnostics(view.state, []));
}

function showReport(report, ranges, ms) {
  lastReport = report;
  reportEl.textContent = JSON.stringify(report, null, 2);
  reportEl.dataset.checks = String(checks);
  const len = view.state.doc.length;
  const diagnostics = report.findings.map((f, i) => {
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

  findingsEl.replaceChildren(
    ...report.findings.map((f, i) => {
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
      b.addEventListener('click', () => {
        const at = Math.min(diagnostics[i].from, view.state.doc.length);
        view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
        view.focus();
      });
      li.append(b);
      return li;
    }),
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
}

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
