// For every manifest, the package's check() equals the CLI's `files[0]`: same module, same
// request, so the reports must be identical (deep equality of the parsed JSON).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { check, diagram, init, PchatGuardError, runReport, sarif } from '../dist/index.js';
import { cliCheck, MANIFESTS, ROOT, runCli, TODAY, WAIVED_MANIFESTS } from './helpers.mjs';

before(async () => {
  await init();
});

const read = (file) => readFileSync(join(ROOT, file), 'utf8');

function onlyReport(run, file) {
  assert.equal(run.files.length, 1, `the CLI made ${run.files.length} reports for ${file}`);
  return run.files[0];
}

test('there are manifests to compare', () => {
  assert.ok(MANIFESTS.length >= 20, `only ${MANIFESTS.length} manifests found`);
  assert.ok(MANIFESTS.some((f) => f.startsWith('examples/topologies/')));
  assert.ok(MANIFESTS.some((f) => f.endsWith('.json')) && MANIFESTS.some((f) => f.endsWith('.yaml')));
});

describe('check() equals the CLI', () => {
  for (const file of [...MANIFESTS, ...WAIVED_MANIFESTS]) {
    test(file, () => {
      const expected = onlyReport(cliCheck(file, ['--today', TODAY]), file);
      const actual = check(read(file), { filename: file, today: TODAY });
      assert.deepStrictEqual(actual, expected);
    });
  }
});

describe('check() with ignoreManifestWaivers equals the CLI with --ignore-manifest-waivers', () => {
  for (const file of [...WAIVED_MANIFESTS, 'tests/fixtures/manifests/clean-minimal.yaml']) {
    test(file, () => {
      const expected = onlyReport(
        cliCheck(file, ['--today', TODAY, '--ignore-manifest-waivers']),
        file,
      );
      const actual = check(read(file), { filename: file, today: TODAY, ignoreManifestWaivers: true });
      assert.deepStrictEqual(actual, expected);
    });
  }
});

describe('waiver expiry follows `today` as in the CLI', () => {
  for (const today of ['2025-01-01', '2027-01-31', '2027-02-01']) {
    for (const file of WAIVED_MANIFESTS) {
      test(`${file} on ${today}`, () => {
        const expected = onlyReport(cliCheck(file, ['--today', today]), file);
        assert.deepStrictEqual(check(read(file), { filename: file, today }), expected);
        // A Date late in that UTC day is the same day.
        const late = new Date(`${today}T23:59:59Z`);
        assert.deepStrictEqual(check(read(file), { filename: file, today: late }), expected);
      });
    }
  }
});

test('format: forcing the format equals the CLI --input-format', () => {
  const file = 'tests/fixtures/manifests/clean-minimal.json';
  const expected = onlyReport(cliCheck(file, ['--today', TODAY, '--input-format', 'yaml']), file);
  assert.deepStrictEqual(check(read(file), { filename: file, today: TODAY, format: 'yaml' }), expected);
});

test('external waivers: a waiver file of the CLI, given as `waivers`', () => {
  // tests/fixtures/waivers/team-waivers.yaml, without the CLI-only `file` glob: entry 0 (its
  // glob matches the manifest) and entry 2 (no glob); entry 1 names other files.
  const waiverFile = 'tests/fixtures/waivers/team-waivers.yaml';
  const file = 'tests/fixtures/waivers/accepted.yaml';
  const run = cliCheck(file, ['--today', TODAY, '--ignore-manifest-waivers', '--waivers', waiverFile]);
  const expected = run.files.find((r) => r.path === file);
  assert.ok(expected, 'the CLI reported the manifest');
  // The CLI computes where each waiver is written; take those origins from its report.
  const waived = expected.findings.filter((f) => f.waived?.origin.path === waiverFile);
  assert.equal(waived.length, 1, 'the team waiver applies once');
  const origin = waived[0].waived.origin;
  assert.equal(origin.pointer, '/waivers/0');
  const waivers = [
    {
      rule: 'PCHAT-FS-001',
      target: 'pchat-pool',
      reason: 'file store arrives with the SAN (CHG-2001)',
      expires: '2027-06-30',
      origin,
    },
    { rule: 'PCHAT-HA-002', target: 'pchat-pool', reason: 'lapsed', expires: '2025-12-31' },
  ];
  const actual = check(read(file), {
    filename: file,
    today: TODAY,
    ignoreManifestWaivers: true,
    waivers,
  });
  assert.deepStrictEqual(actual, expected);
});

describe('runReport() and sarif() equal the CLI’s --format json and --format sarif', () => {
  // Several files in one run, YAML and JSON, clean, broken and waived: the summary counts and
  // the SARIF results must come out as the CLI's over the same files.
  // Sorted by path, as the CLI orders its files.
  const files = [
    'examples/topologies/stretched-high-bandwidth.yaml',
    'examples/topologies/two-pools-two-sites.yaml',
    'tests/fixtures/manifests/dangling-ref-sql.json',
    ...WAIVED_MANIFESTS,
  ].sort();
  const reports = () => files.map((file) => check(read(file), { filename: file, today: TODAY }));

  test('runReport', () => {
    const expected = cliCheck(files, ['--today', TODAY]);
    assert.deepStrictEqual(runReport(reports()), expected);
  });

  test('sarif', () => {
    const expected = cliCheck(files, ['--today', TODAY], 'sarif');
    const actual = sarif(reports());
    assert.ok(actual.runs[0].results.length > 0, 'the run has results');
    assert.deepStrictEqual(actual, expected);
  });

  test('a single report is a run of one file', () => {
    const file = 'tests/fixtures/manifests/dangling-ref-sql.json';
    assert.deepStrictEqual(runReport(check(read(file), { filename: file, today: TODAY })), cliCheck(file, ['--today', TODAY]));
  });

  test('something that is not a report is refused', () => {
    assert.throws(() => runReport([{ path: 'x' }]), (e) => e instanceof PchatGuardError && e.kind === 'request');
  });
});

describe('diagram() draws the same SVG as `pchat-guard diagram`', () => {
  for (const file of [
    'examples/topologies/stretched-high-bandwidth.yaml',
    'examples/topologies/two-pools-two-sites.yaml',
    'tests/fixtures/manifests/dangling-ref-sql.json',
    'tests/fixtures/waivers/waived.yaml',
  ]) {
    test(file, () => {
      const expected = runCli(['diagram', '--today', TODAY, file]);
      const drawn = diagram(read(file), { filename: file, today: TODAY });
      assert.ok(expected.startsWith('<svg '), expected.slice(0, 80));
      assert.equal(drawn.svg, expected);
      for (const f of drawn.report.findings) assert.ok(drawn.svg.includes(f.fingerprint), f.code);
    });
  }

  test('one pool, and an unknown pool declined', () => {
    const file = 'examples/topologies/two-pools-two-sites.yaml';
    const one = diagram(read(file), { filename: file, today: TODAY, pool: 'pchat-ams' });
    assert.equal(one.svg, runCli(['diagram', '--today', TODAY, '--pool', 'pchat-ams', file]));
    assert.ok(!one.svg.includes('Persistent Chat pool pchat-nyc'));
    const none = diagram(read(file), { filename: file, pool: 'nope' });
    assert.equal(none.svg, undefined);
    assert.match(none.declined, /no Persistent Chat pool `nope`/);
  });
});
