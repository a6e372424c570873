// Real-browser test of the playground: serves web/dist on 127.0.0.1, drives Debian's Chromium
// with playwright-core, and compares the page's report with the CLI's.
//
//   PCHAT_GUARD_CLI=/path/to/pchat-guard node --test web/test.mjs    (after web/build.sh)
//
// Fails (never skips) when the CLI, Chromium or web/dist is missing. Chromium: $CHROMIUM, else
// /usr/bin/chromium. Screenshots go to target/web-screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const dist = join(here, 'dist');
const shots = join(root, 'target', 'web-screenshots');
const fixtureDir = join(root, 'tests', 'fixtures', 'manifests');
const examplesDir = join(root, 'examples', 'topologies');
const FIXTURE = 'dangling-ref-sql.json';
const TODAY = '2026-11-26';

const cli = process.env.PCHAT_GUARD_CLI;
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!cli || !existsSync(cli)) {
  throw new Error(`PCHAT_GUARD_CLI must name the pchat-guard binary (got ${JSON.stringify(cli)})`);
}
if (!existsSync(chromiumPath)) {
  throw new Error(`no Chromium at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM)`);
}
if (!existsSync(join(dist, 'index.html'))) {
  throw new Error(`${dist} is not built: run web/build.sh CLI first`);
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.yaml': 'text/plain; charset=utf-8',
};

let server;
let base;
let browser;
let page;
const pageErrors = [];

function serve() {
  const s = createServer(async (req, res) => {
    try {
      let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (path.endsWith('/')) path += 'index.html';
      const file = normalize(join(dist, path));
      if (file !== dist && !file.startsWith(dist + sep)) throw new Error('outside');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((ok) => s.listen(0, '127.0.0.1', () => ok(s)));
}

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

/** The entries of the findings list, as `CODE`s. */
const listedCodes = () =>
  page.$$eval('#findings button', (bs) => bs.map((b) => b.dataset.code));

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await serve();
  base = `http://127.0.0.1:${server.address().port}`;
  // chromium.launch uses a fresh temporary user-data dir of its own, removed on close.
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  await page.goto(`${base}/?today=${TODAY}`);
  await page.waitForFunction(() => document.getElementById('footer').dataset.moduleDigest, null, {
    timeout: 30_000,
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('the page loads the module the CLI runs, and the pack rules', async () => {
  const version = execFileSync(cli, ['--version'], { encoding: 'utf8' });
  const digest = /module sha256:([0-9a-f]{64})/.exec(version)[1];
  assert.equal(await page.$eval('#footer', (f) => f.dataset.moduleDigest), digest);
  const described = JSON.parse(execFileSync(cli, ['describe'], { encoding: 'utf8' }));
  const rules = await page.$$eval('#rules li code', (cs) => cs.map((c) => c.textContent));
  assert.deepEqual(rules, described.rules.map((r) => r.id));
  assert.ok((await page.textContent('#footer')).includes(described.pack.version));
  const examples = await page.$$eval('#example option', (os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(examples.length > 0, 'the example picker lists the shipped topologies');
  await shot('01-loaded');
});

test('a broken manifest: findings, lint marker on line 78, report equals the CLI', async () => {
  const text = readFileSync(join(fixtureDir, FIXTURE), 'utf8');
  const before = await page.evaluate(() => window.__pcg.checks());
  await page.evaluate(([t, f]) => window.__pcg.setText(t, 'json', f), [text, FIXTURE]);
  await page.waitForSelector('#findings button[data-code="PCG-DANGLING-REF"]', { timeout: 10_000 });
  assert.ok((await page.evaluate(() => window.__pcg.checks())) > before);

  // The page's report is the CLI's files[0], deep-equal.
  // (the CLI exits 1: the manifest has errors)
  const run = spawnSync(cli, ['check', '--format', 'json', '--today', TODAY, FIXTURE], {
    cwd: fixtureDir,
    encoding: 'utf8',
  });
  assert.equal(run.status, 1, run.stderr);
  const cliReport = JSON.parse(run.stdout);
  assert.equal(cliReport.files[0].path, FIXTURE);
  assert.deepEqual(JSON.parse(await page.textContent('#report-json')), cliReport.files[0]);
});

test('clicking the finding moves the cursor; a lint marker is on line 78', async () => {
  await page.click('#findings button[data-code="PCG-DANGLING-REF"]');
  const at = await page.evaluate(() => {
    const v = window.__pcg.view;
    const head = v.state.selection.main.head;
    const line = v.state.doc.lineAt(head);
    return { line: line.number, col: head - line.from + 1, focused: v.hasFocus };
  });
  assert.deepEqual(at, { line: 78, col: 21, focused: true });
  const listed = await page.textContent('#findings button[data-code="PCG-DANGLING-REF"]');
  assert.match(listed, /^78:21 PCG-DANGLING-REF `sql-chat-mirorr` names no entry of `sql_instances`/);

  // The diagnostic, and its DOM: an underlined range and a gutter marker on line 78.
  const diags = await page.evaluate(() => window.__pcg.diagnostics());
  assert.ok(diags.some((d) => d.source === 'PCG-DANGLING-REF' && d.line === 78 && d.severity === 'error'));
  const dom = await page.evaluate(() => {
    const v = window.__pcg.view;
    const ranges = [...document.querySelectorAll('.cm-lintRange-error')].map(
      (el) => v.state.doc.lineAt(v.posAtDOM(el)).number,
    );
    const block = v.lineBlockAt(v.state.doc.line(78).from);
    const top = block.top + v.documentTop;
    const markers = [...document.querySelectorAll('.cm-gutter-lint .cm-lint-marker-error')].filter((m) => {
      const r = m.closest('.cm-gutterElement').getBoundingClientRect();
      return Math.abs(r.top - top) < 2;
    });
    return { ranges, markers: markers.length };
  });
  assert.ok(dom.ranges.includes(78), `a .cm-lintRange-error on line 78 (got lines ${dom.ranges})`);
  assert.equal(dom.markers, 1, 'one error marker in the lint gutter on line 78');

  // The tooltip, hovering the middle of the finding's range: code, message and help.
  const xy = await page.evaluate(() => {
    const v = window.__pcg.view;
    const d = window.__pcg.diagnostics().find((x) => x.source === 'PCG-DANGLING-REF');
    const c = v.coordsAtPos(Math.floor((d.from + d.to) / 2));
    return { x: (c.left + c.right) / 2, y: (c.top + c.bottom) / 2 };
  });
  await page.mouse.move(xy.x, xy.y);
  await page.waitForFunction(() => /PCG-DANGLING-REF/.test(document.querySelector('.cm-tooltip-lint')?.textContent), null, {
    timeout: 5_000,
  });
  const tipText = await page.textContent('.cm-tooltip-lint');
  assert.match(tipText, /PCG-DANGLING-REF: `sql-chat-mirorr` names no entry of `sql_instances`/);
  assert.match(tipText, /help: did you mean `sql-chat-mirror`\?/);
  await shot('02-dangling-ref');
});

test('fixing the typo by typing removes the finding', async () => {
  // Select the name inside the quotes (the finding covers `"sql-chat-mirorr"`) and retype it.
  await page.click('#findings button[data-code="PCG-DANGLING-REF"]');
  await page.keyboard.press('ArrowRight');
  for (let i = 0; i < 'sql-chat-mirorr'.length; i++) await page.keyboard.press('Shift+ArrowRight');
  const checks = await page.evaluate(() => window.__pcg.checks());
  await page.keyboard.type('sql-chat-mirror');
  await page.waitForFunction((n) => window.__pcg.checks() > n, checks, { timeout: 10_000 });
  await page.waitForFunction(
    () => !document.querySelector('#findings button[data-code="PCG-DANGLING-REF"]'),
    null,
    { timeout: 10_000 },
  );
  const text = await page.evaluate(() => window.__pcg.view.state.doc.toString());
  assert.ok(text.includes('"mirror": "sql-chat-mirror"') || text.includes('sql-chat-mirror"'));
  assert.ok(!text.includes('sql-chat-mirorr'));
  const report = JSON.parse(await page.textContent('#report-json'));
  assert.ok(!report.findings.some((f) => f.code === 'PCG-DANGLING-REF'));
  assert.ok(!(await listedCodes()).includes('PCG-DANGLING-REF'));
  await shot('03-fixed');
});

test('hostile input: deep nesting is refused with a limit message', async () => {
  await page.evaluate(() => window.__pcg.setText('['.repeat(100_000), 'json', 'deep.json'));
  await page.waitForFunction(() => /PCG-LIMIT/.test(document.getElementById('status').textContent), null, {
    timeout: 15_000,
  });
  assert.match(await page.textContent('#summary'), /1 error/);
  await shot('04-deep-nesting');
});

test('hostile input: 10 MB keeps the page responsive; a time-out restarts the worker', async () => {
  const fill = () =>
    page.evaluate(() => {
      const line = (i) => `  "key-${String(i).padStart(7, '0')}": "${'x'.repeat(80)}",\n`;
      const parts = ['{\n'];
      let size = 2;
      for (let i = 0; size < 10 * 1024 * 1024; i++) {
        const l = line(i);
        parts.push(l);
        size += l.length;
      }
      parts.push('  "last": 0\n}\n');
      window.__pcg.setText(parts.join(''), 'json', 'big.json');
    });
  // First with the normal limit: the page answers while the worker checks, then shows a result.
  const checks = await page.evaluate(() => window.__pcg.checks());
  await fill();
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await page.evaluate(() => document.getElementById('status').textContent);
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `page.evaluate took ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.waitForFunction(
    (n) => window.__pcg.checks() > n || /Time-out/.test(document.getElementById('status').textContent),
    checks,
    { timeout: 30_000 },
  );
  // Checked (about 100,000 unknown keys, one finding each): the page lists the first findings
  // and counts the rest rather than drawing them all.
  if (await page.evaluate((n) => window.__pcg.checks() > n, checks)) {
    const listed = await page.locator('#findings li').count();
    assert.ok(listed <= 1001, `${listed} findings listed`);
    assert.match(await page.textContent('#findings'), /and \d+ more findings/);
  }
  await shot('05-10mb');

  // Then with a time limit too short for it: the worker is terminated and replaced, with a message.
  await page.evaluate(() => window.__pcg.setTimeLimit(5));
  await page.evaluate(() => window.__pcg.view.dispatch({ changes: { from: 1, insert: ' ' } }));
  const t0 = performance.now();
  await page.evaluate(() => 1);
  assert.ok(performance.now() - t0 < 2000);
  await page.waitForFunction(() => /Time-out/.test(document.getElementById('status').textContent), null, {
    timeout: 15_000,
  });
  assert.match(await page.textContent('#summary'), /time-out/);
  assert.equal(await page.$$eval('#findings button', (bs) => bs.length), 0, 'stale findings are cleared');
  assert.equal(await page.textContent('#report-json'), '');
  assert.ok(await page.isDisabled('#download-json'), 'nothing to download without a report');
  assert.ok(await page.isDisabled('#download-sarif'));
  await shot('06-time-out');

  // The new worker checks the next text.
  await page.evaluate(() => window.__pcg.setTimeLimit(5000));
  const text = readFileSync(join(fixtureDir, FIXTURE), 'utf8');
  await page.evaluate(([t, f]) => window.__pcg.setText(t, 'json', f), [text, FIXTURE]);
  await page.waitForSelector('#findings button[data-code="PCG-DANGLING-REF"]', { timeout: 15_000 });
});

// ---------------------------------------------------------------- schema completion and hover

const fixture = (name) => readFileSync(join(fixtureDir, name), 'utf8');
const schema = JSON.parse(execFileSync(cli, ['schema'], { encoding: 'utf8' }));
const sqlProperty = (name) => schema.properties.sql_instances.items.properties[name];

/** Puts `text` in the editor (test hook) and waits for its report, which names `filename`. */
async function load(text, format, filename, target = page) {
  await target.evaluate(([t, f, n]) => window.__pcg.setText(t, f, n), [text, format, filename]);
  await waitForReport(filename, target);
}
const waitForReport = (filename, target = page) =>
  target.waitForFunction((n) => window.__pcg.report()?.path === n, filename, { timeout: 15_000 });

/** Puts the cursor at `pos` in the focused editor. */
const cursorAt = (pos) =>
  page.evaluate((p) => {
    const v = window.__pcg.view;
    v.dispatch({ selection: { anchor: p }, scrollIntoView: true });
    v.focus();
  }, pos);

/** Ctrl-Space, then the labels of the completion list. */
async function completeHere() {
  await page.keyboard.press('Control+Space');
  await page.waitForSelector('.cm-tooltip-autocomplete li', { timeout: 5_000 });
  return page.$$eval('.cm-tooltip-autocomplete li .cm-completionLabel', (ls) => ls.map((l) => l.textContent));
}

/** Waits until the completion list shows exactly `labels` (typing filters it asynchronously). */
const waitForOptions = (labels) =>
  page.waitForFunction(
    (want) => {
      const got = [...document.querySelectorAll('.cm-tooltip-autocomplete li .cm-completionLabel')];
      return JSON.stringify(got.map((l) => l.textContent)) === JSON.stringify(want);
    },
    labels,
    { timeout: 5_000 },
  );

/**
 * Accepts the only option left by a click (Enter is ignored for 75 ms after the list (re)opens,
 * CodeMirror's `interactionDelay`, and typing a quote in JSON reopens it).
 */
const acceptOnly = () => page.click('.cm-tooltip-autocomplete li');

/** The editor's text of the line holding the cursor. */
const cursorLine = () =>
  page.evaluate(() => {
    const s = window.__pcg.view.state;
    return s.doc.lineAt(s.selection.main.head).text;
  });

test('YAML completion: the properties of the SQL instance at the cursor, with their descriptions', async () => {
  // A blank line inside the first SQL instance, indented like its keys.
  const text = fixture('clean-minimal.yaml').replace('    host: sql01.contoso.com\n', '    host: sql01.contoso.com\n    \n');
  await load(text, 'yaml', 'complete.yaml');
  await cursorAt(text.indexOf('    \n') + 4);
  const labels = await completeHere();
  for (const name of ['mirroring_port', 'availability', 'cumulative_update', 'instance']) {
    assert.ok(labels.includes(name), `${name} is offered (got ${labels})`);
  }
  assert.ok(!labels.includes('host') && !labels.includes('id'), 'keys the instance already has are not offered');
  assert.ok(!labels.includes('pool_type'), 'no property of another object');

  // Typing filters; the selected option's description is shown; accepting inserts `name: `.
  await page.keyboard.type('mirr');
  await waitForOptions(['mirroring_port']);
  await page.waitForSelector('.cm-completionInfo', { timeout: 5_000 });
  assert.equal(await page.textContent('.cm-completionInfo'), sqlProperty('mirroring_port').description.replace(/`/g, ''));
  await shot('07-yaml-completion');
  await acceptOnly();
  assert.equal(await cursorLine(), '    mirroring_port: ');
});

test('YAML completion of a value: the enum of the property', async () => {
  const text = fixture('clean-minimal.yaml');
  const at = text.indexOf('edition: enterprise', text.indexOf('- id: sql-chat-primary')) + 'edition: '.length;
  const edited = `${text.slice(0, at)}${text.slice(at + 'enterprise'.length)}`;
  await load(edited, 'yaml', 'complete-enum.yaml');
  await cursorAt(at);
  const labels = await completeHere();
  assert.deepEqual(labels.slice().sort(), sqlProperty('edition').enum.slice().sort());
  await page.keyboard.type('sta');
  await waitForOptions(['standard']);
  await acceptOnly();
  assert.equal(await cursorLine(), '    edition: standard');
});

test('JSON completion: quoted property names, and a value from the enum', async () => {
  const text = fixture('clean-minimal.json').replace('"host": "sql01.contoso.com",\n', '"host": "sql01.contoso.com",\n\n');
  await load(text, 'json', 'complete.json');
  await cursorAt(text.indexOf('"host": "sql01.contoso.com",\n') + '"host": "sql01.contoso.com",\n'.length);
  const labels = await completeHere();
  assert.ok(labels.includes('"mirroring_port"') && labels.includes('"availability"'), `got ${labels}`);
  assert.ok(!labels.includes('"host"'), 'keys the instance already has are not offered');
  await page.keyboard.type('"avail');
  await waitForOptions(['"availability"']);
  await acceptOnly();
  assert.equal(await cursorLine(), '"availability": ');
  // The value: the instance's high-availability mechanisms.
  const values = await completeHere();
  assert.deepEqual(values.slice().sort(), sqlProperty('availability').enum.map((v) => JSON.stringify(v)).sort());
  await shot('08-json-completion');
  await page.keyboard.press('Escape');
});

test('hovering a property key shows its schema description, values and pointer', async () => {
  const text = fixture('clean-minimal.yaml');
  await load(text, 'yaml', 'hover.yaml');
  const key = text.indexOf('edition', text.indexOf('- id: sql-chat-primary'));
  await cursorAt(key);
  const xy = await page.evaluate((p) => {
    const c = window.__pcg.view.coordsAtPos(p + 3);
    return { x: c.left, y: (c.top + c.bottom) / 2 };
  }, key);
  await page.mouse.move(xy.x, xy.y + 200);
  await page.mouse.move(xy.x, xy.y, { steps: 3 });
  await page.waitForSelector('.pcg-schema-tip', { timeout: 5_000 });
  const tip = await page.textContent('.pcg-schema-tip');
  assert.ok(tip.includes(sqlProperty('edition').description.replace(/`/g, '')), tip);
  assert.ok(tip.includes('one of: "enterprise", "standard"'), tip);
  assert.ok(tip.includes('/sql_instances/0/edition'), tip);
  await shot('09-hover');
  await page.mouse.move(5, 5);
});

// ---------------------------------------------------------------- storage, sharing, format

test('the text, format and file name are kept in localStorage across a reload', async () => {
  const text = fixture('clean-minimal.json').replace('clean minimal manifest', 'kept in storage, Zürich ✓');
  await load(text, 'json', 'stored-topology.json');
  assert.equal(new URL(page.url()).hash, '', 'no share link in the address bar');
  await page.reload();
  await page.waitForFunction(() => document.getElementById('footer').dataset.moduleDigest, null, { timeout: 30_000 });
  await waitForReport('stored-topology.json');
  assert.equal(await page.evaluate(() => window.__pcg.view.state.doc.toString()), text);
  assert.equal(await page.inputValue('#format'), 'json');
  assert.equal(await page.inputValue('#filename'), 'stored-topology.json');
});

test('a share link opens the same text, format and file name, with the same findings, elsewhere', async () => {
  const text = fixture(FIXTURE).replace('"sql-chat-mirorr"', '"sql-chat-mirorr"  ').replace(/"name": "[^"]*"/, '"name": "shared, Zürich ✓"');
  await load(text, 'json', 'shared-topology.json');
  const report = await page.evaluate(() => window.__pcg.report());
  assert.ok(report.findings.some((f) => f.code === 'PCG-DANGLING-REF'));
  await page.click('#share');
  await page.waitForFunction(() => location.hash.startsWith('#s='));
  const url = page.url();

  // A fresh context: no localStorage, so the page can only have the text from the link.
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const other = await context.newPage();
    other.on('pageerror', (err) => pageErrors.push(String(err)));
    await other.goto(url);
    await other.waitForFunction(() => document.getElementById('footer').dataset.moduleDigest, null, { timeout: 30_000 });
    await waitForReport('shared-topology.json', other);
    assert.equal(await other.evaluate(() => window.__pcg.view.state.doc.toString()), text);
    assert.equal(await other.inputValue('#format'), 'json');
    assert.equal(await other.inputValue('#filename'), 'shared-topology.json');
    assert.deepEqual(await other.evaluate(() => window.__pcg.report()), report);
    const codes = await other.$$eval('#findings button', (bs) => bs.map((b) => b.dataset.code));
    assert.deepEqual(codes, report.findings.map((f) => f.code));
  } finally {
    await context.close();
  }
});

test('switching the format to JSON renames the file and checks the text as JSON', async () => {
  await load(fixture('clean-minimal.yaml'), 'yaml', 'clean-minimal.yaml');
  assert.equal((await page.evaluate(() => window.__pcg.report())).input_format, 'yaml');
  const json = fixture('clean-minimal.json');
  await page.evaluate((t) => {
    const v = window.__pcg.view;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: t } });
  }, json);
  await page.selectOption('#format', 'json');
  assert.equal(await page.inputValue('#filename'), 'clean-minimal.json');
  await waitForReport('clean-minimal.json');
  const report = await page.evaluate(() => window.__pcg.report());
  assert.equal(report.input_format, 'json');

  // The CLI's report of that JSON file (the file name is in the fingerprints too).
  const run = spawnSync(cli, ['check', '--format', 'json', '--today', TODAY, 'clean-minimal.json'], {
    cwd: fixtureDir,
    encoding: 'utf8',
  });
  assert.equal(run.status, 1, run.stderr);
  assert.deepEqual(report, JSON.parse(run.stdout).files[0]);
  const listed = await page.$$eval('#findings button', (bs) => bs.map((b) => b.textContent));
  assert.deepEqual(
    listed.map((t) => t.split(' ').slice(0, 2).join(' ')),
    report.findings.map((f) => `${f.location.start.line}:${f.location.start.column} ${f.code}`),
  );
});

test('a finding waived in the manifest is listed, marked and counted as waived', async () => {
  // waived.yaml with one waiver: PCHAT-HA-001 for the pool, until 2027-01-31 (after TODAY).
  const base = readFileSync(join(root, 'tests', 'fixtures', 'waivers', 'waived.yaml'), 'utf8');
  const text =
    base.slice(0, base.indexOf('\nwaivers:\n')) +
    '\nwaivers:\n  - rule: PCHAT-HA-001\n    target: pchat-pool\n    reason: the mirror instance is ordered\n    expires: 2027-01-31\n';
  await load(text, 'yaml', 'waived-one.yaml');
  const report = await page.evaluate(() => window.__pcg.report());
  assert.deepEqual(
    report.findings.map((f) => [f.code, Boolean(f.waived)]),
    [
      ['PCHAT-FS-001', false],
      ['PCHAT-HA-001', true],
    ],
  );
  assert.equal(await page.textContent('#summary'), '1 error, 1 waived');
  const entry = '#findings button[data-code="PCHAT-HA-001"]';
  assert.match(await page.getAttribute(entry, 'class'), /\bwaived\b/);
  assert.match(await page.textContent(entry), /\(waived\)$/);
  assert.doesNotMatch(await page.getAttribute('#findings button[data-code="PCHAT-FS-001"]', 'class'), /\bwaived\b/);

  const diag = (await page.evaluate(() => window.__pcg.diagnostics())).find((d) => d.source === 'PCHAT-HA-001');
  assert.equal(diag.severity, 'info');
  assert.equal(diag.markClass, 'pcg-waived');
  // Its range is drawn with the mark class (clicking the entry scrolls it into view). It lies
  // inside the pool's unwaived PCHAT-FS-001 range, so there it is underlined as an error.
  await page.click(entry);
  await page.waitForSelector('.cm-lintRange.pcg-waived', { timeout: 5_000 });
  await shot('10-waived');
});

// ---------------------------------------------------------------- downloads

/** Runs the CLI in `cwd`; its standard output. */
function cliOutput(args, cwd, status) {
  const run = spawnSync(cli, args, { cwd, encoding: 'utf8' });
  assert.equal(run.status, status, run.stderr);
  return run.stdout;
}

/** Does `click` and returns the file it makes the page download (name, text) and what it returned. */
async function downloaded(click) {
  const [download, clicked] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), click()]);
  return { name: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8'), clicked };
}

test('the downloaded JSON report and SARIF are the CLI\'s, named after the file', async () => {
  await load(fixture(FIXTURE), 'json', FIXTURE);
  for (const format of ['json', 'sarif']) {
    // (the CLI exits 1: the manifest has errors)
    const expected = cliOutput(['check', '--format', format, '--today', TODAY, FIXTURE], fixtureDir, 1);
    const file = await downloaded(() => page.click(`#download-${format}`));
    assert.equal(file.name, `${FIXTURE}.pchat-guard.${format}`);
    assert.deepEqual(JSON.parse(file.text), JSON.parse(expected));
    assert.equal(file.text, expected, 'the same bytes, too');
  }
  assert.equal(await page.textContent('#status'), `Downloaded ${FIXTURE}.pchat-guard.sarif.`);
});

test('a download asked for while a check is in flight waits for it; both are answered', async () => {
  await load(fixture(FIXTURE), 'json', FIXTURE);
  const checks = await page.evaluate(() => window.__pcg.checks());
  // The same manifest with 50,000 `x-` extension items (about 0.7 MB): the same findings, but
  // a check that takes hundreds of milliseconds.
  const items = Array.from({ length: 50_000 }, (_, i) => `{"k": ${i}}`).join(',\n');
  const slow = fixture(FIXTURE).replace(/\n\}\s*$/, `,\n  "x-padding": [${items}]\n}\n`);
  const file = await downloaded(() =>
    page.evaluate(
      async ([t, n]) => {
        window.__pcg.setText(t, 'json', n);
        for (let i = 0; i < 2000 && window.__pcg.busy() !== 'check'; i++) await new Promise((r) => setTimeout(r, 1));
        const atClick = window.__pcg.busy();
        document.getElementById('download-sarif').click();
        return atClick;
      },
      [slow, FIXTURE],
    ),
  );
  assert.equal(file.clicked, 'check', 'the check was in flight when the download was asked for');
  assert.equal(file.text, cliOutput(['check', '--format', 'sarif', '--today', TODAY, FIXTURE], fixtureDir, 1));
  await page.waitForFunction((n) => window.__pcg.checks() > n, checks, { timeout: 15_000 });
  assert.doesNotMatch(await page.textContent('#status'), /Time-out|refused|failed/);
  assert.equal(await page.evaluate(() => window.__pcg.busy()), null);
});

// ---------------------------------------------------------------- diagram

/** The worker's SVG text once the report of `filename` is shown with a drawing or a message. */
async function drawn(filename) {
  await page.waitForFunction(
    (n) => window.__pcg.report()?.path === n && (window.__pcg.lastSvg() || /Not drawn/.test(document.getElementById('diagram-message').textContent)),
    filename,
    { timeout: 15_000 },
  );
  return page.evaluate(() => window.__pcg.lastSvg());
}

test('the diagram pane draws the CLI\'s SVG of the text, and its findings on it', async () => {
  await page.click('#diagram-box > summary');
  assert.ok(await page.$eval('#diagram-box', (d) => d.open));
  const name = 'stretched-high-bandwidth.yaml';
  await page.selectOption('#example', name);
  assert.equal(await drawn(name), cliOutput(['diagram', '--today', TODAY, name], examplesDir, 0));
  assert.equal(await page.$$eval('#diagram g.server', (gs) => gs.length), 8);
  assert.ok(await page.isHidden('#diagram-pool-label'), 'one pool: nothing to choose');
  await page.$eval('#diagram-box', (d) => d.scrollIntoView());
  await shot('11-diagram');

  // Broken: the mirror that names no instance carries the finding's fingerprint.
  await load(fixture(FIXTURE), 'json', FIXTURE);
  assert.equal(await drawn(FIXTURE), cliOutput(['diagram', '--today', TODAY, FIXTURE], fixtureDir, 0));
  const finding = (await page.evaluate(() => window.__pcg.report())).findings.find((f) => f.code === 'PCG-DANGLING-REF');
  const element = `#diagram g[data-findings~="${finding.fingerprint}"]`;
  assert.equal(await page.getAttribute(element, 'data-pointer'), finding.pointer);
  await shot('12-diagram-finding');

  // Clicking it, or Enter on it, puts the cursor on the finding.
  const cursor = () =>
    page.evaluate(() => {
      const v = window.__pcg.view;
      return { line: v.state.doc.lineAt(v.state.selection.main.head).number, focused: v.hasFocus };
    });
  await page.click(element);
  assert.deepEqual(await cursor(), { line: finding.location.start.line, focused: true });
  await page.evaluate(() => window.__pcg.view.dispatch({ selection: { anchor: 0 } }));
  await page.focus(element);
  await page.keyboard.press('Enter');
  assert.deepEqual(await cursor(), { line: finding.location.start.line, focused: true });

  // Unreadable: a message, no picture.
  await load(fixture('malformed-trailing-comma.json'), 'json', 'malformed-trailing-comma.json');
  assert.equal(await drawn('malformed-trailing-comma.json'), null);
  assert.match(await page.textContent('#diagram-message'), /^Not drawn: the manifest cannot be read/);
  assert.equal(await page.$$eval('#diagram svg', (s) => s.length), 0);
});

test('the diagram pane offers the pools, and one pool when the whole is too large', async () => {
  const name = 'two-pools-two-sites.yaml';
  await page.selectOption('#example', name);
  await drawn(name);
  await page.waitForSelector('#diagram-pool-label:not([hidden])');
  const options = () => page.$$eval('#diagram-pool option', (os) => os.map((o) => o.value));
  assert.deepEqual(await options(), ['', 'pchat-nyc', 'pchat-ams']);
  await page.selectOption('#diagram-pool', 'pchat-ams');
  await page.waitForFunction(() => window.__pcg.lastSvg() && document.querySelectorAll('#diagram g.pool').length === 1);
  assert.equal(
    await page.evaluate(() => window.__pcg.lastSvg()),
    cliOutput(['diagram', '--today', TODAY, '--pool', 'pchat-ams', name], examplesDir, 0),
  );
  assert.deepEqual(await options(), ['', 'pchat-nyc', 'pchat-ams'], 'the other pool stays listed');
  await page.selectOption('#diagram-pool', '');

  // 22 copies of a pool: too large for one picture; the message names 20 of them to choose from.
  const manifest = JSON.parse(readFileSync(join(examplesDir, 'stretched-high-bandwidth.json'), 'utf8'));
  const pool = manifest.persistent_chat_pools[0];
  manifest.persistent_chat_pools = Array.from({ length: 22 }, (_, i) => ({ ...pool, id: `pchat-${i + 1}`, fqdn: `pchat-${i + 1}.contoso.com` }));
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  await load(text, 'json', 'many-pools.json');
  assert.equal(await drawn('many-pools.json'), null);
  assert.match(await page.textContent('#diagram-message'), /more than the limit of 400: draw one pool at a time/);
  assert.deepEqual(await options(), ['', ...Array.from({ length: 20 }, (_, i) => `pchat-${i + 1}`)]);
  await page.selectOption('#diagram-pool', 'pchat-7');
  await page.waitForFunction(() => window.__pcg.lastSvg());
  const dir = mkdtempSync(join(tmpdir(), 'pcg-web-'));
  try {
    writeFileSync(join(dir, 'many-pools.json'), text);
    assert.equal(
      await page.evaluate(() => window.__pcg.lastSvg()),
      cliOutput(['diagram', '--today', TODAY, '--pool', 'pchat-7', 'many-pools.json'], dir, 0),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
  await page.selectOption('#diagram-pool', '');
});

test('no page errors', () => {
  assert.deepEqual(pageErrors, []);
});
