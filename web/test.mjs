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
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const dist = join(here, 'dist');
const shots = join(root, 'target', 'web-screenshots');
const fixtureDir = join(root, 'tests', 'fixtures', 'manifests');
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
  await shot('06-time-out');

  // The new worker checks the next text.
  await page.evaluate(() => window.__pcg.setTimeLimit(5000));
  const text = readFileSync(join(fixtureDir, FIXTURE), 'utf8');
  await page.evaluate(([t, f]) => window.__pcg.setText(t, 'json', f), [text, FIXTURE]);
  await page.waitForSelector('#findings button[data-code="PCG-DANGLING-REF"]', { timeout: 15_000 });
});

test('no page errors', () => {
  assert.deepEqual(pageErrors, []);
});
