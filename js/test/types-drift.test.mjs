// The TypeScript types must say what the module answers:
// 1. src/report-types.ts is what scripts/gen-types.mjs makes of schemas/report.schema.json now;
// 2. independently of the generator, its interfaces (read with the TypeScript compiler) have
//    the properties, and the optional ones, of each object of the schema;
// 3. the hand-kept Description types (src/types.ts) have the keys `describe()` answers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import ts from 'typescript';
import { describe as describeModule, init } from '../dist/index.js';
import { generate, OUTPUT_PATH, SCHEMA_PATH } from '../scripts/gen-types.mjs';
import './helpers.mjs'; // fails without PCHAT_GUARD_CLI, like every test file

const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));

/** name -> Map(property -> { optional, type text }) of the interfaces of a TypeScript file. */
function interfaces(path) {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map();
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    const props = new Map();
    for (const m of node.members) {
      if (!ts.isPropertySignature(m)) continue;
      props.set(m.name.getText(source), { optional: !!m.questionToken, type: m.type.getText(source) });
    }
    out.set(node.name.text, props);
  });
  return out;
}

test('src/report-types.ts is generated from the current report schema', () => {
  const expected = generate(schema);
  const current = readFileSync(OUTPUT_PATH, 'utf8');
  assert.ok(
    current === expected,
    'src/report-types.ts differs from what schemas/report.schema.json gives: run `node scripts/gen-types.mjs` (in js/) and commit the result',
  );
});

test('report interfaces have the properties and required lists of the schema', () => {
  const types = interfaces(OUTPUT_PATH);
  const objects = {
    RunReport: schema,
    Position: schema.$defs.position,
    Location: schema.$defs.location,
    Finding: schema.$defs.finding,
    FileReport: schema.$defs.file_report,
    Waived: schema.$defs.waived,
    WaiverOrigin: schema.$defs.waived.properties.origin,
    Coverage: schema.$defs.coverage,
    Summary: schema.properties.summary,
    ToolInfo: schema.properties.tool,
  };
  for (const [name, def] of Object.entries(objects)) {
    const props = types.get(name);
    assert.ok(props, `report-types.ts has no interface ${name}`);
    assert.deepStrictEqual([...props.keys()].sort(), Object.keys(def.properties).sort(), `${name}: properties`);
    const optional = (p) => !(def.required ?? []).includes(p);
    for (const [prop, { optional: isOptional }] of props) {
      assert.equal(isOptional, optional(prop), `${name}.${prop}: optional in TS is ${isOptional}, in the schema ${optional(prop)}`);
    }
  }
  // Enumerations and references, where a mismatch would compile but mislead.
  const finding = types.get('Finding');
  assert.equal(finding.get('severity').type, schema.$defs.finding.properties.severity.enum.map((v) => JSON.stringify(v)).join(' | '));
  assert.equal(finding.get('location').type, 'Location');
  assert.equal(finding.get('waived').type, 'Waived');
  const report = types.get('FileReport');
  assert.equal(report.get('findings').type, 'Finding[]');
  assert.equal(report.get('input_format').type, '"json" | "yaml"');
});

test('the generator refuses a schema construct it does not know', () => {
  const changed = structuredClone(schema);
  changed.$defs.finding.properties.code.oneOf = [{ type: 'string' }];
  assert.throws(() => generate(changed), /oneOf/);
  const added = structuredClone(schema);
  added.$defs.finding.properties.rule_url = { type: 'string' };
  added.$defs.finding.required.push('rule_url');
  assert.match(generate(added), /\n  rule_url: string;\n/);
  assert.notEqual(generate(added), readFileSync(OUTPUT_PATH, 'utf8'));
});

before(async () => {
  await init();
});

test('Description, PackInfo, RuleInfo and CodeInfo have the keys describe() answers', () => {
  const types = interfaces(new URL('../src/types.ts', import.meta.url).pathname);
  const d = describeModule();
  const keysOf = (objects) => [...new Set(objects.flatMap((o) => Object.keys(o)))].sort();
  const expect = {
    Description: [d],
    PackInfo: [d.pack],
    RuleInfo: d.rules,
    CodeInfo: d.codes,
  };
  for (const [name, values] of Object.entries(expect)) {
    const props = types.get(name);
    assert.ok(props, `types.ts has no interface ${name}`);
    assert.deepStrictEqual([...props.keys()].sort(), keysOf(values), `${name}: keys`);
    // Every value has every key (none is optional in the module's answer).
    for (const v of values) assert.deepStrictEqual(Object.keys(v).sort(), [...props.keys()].sort());
    for (const [prop, { optional }] of props) assert.equal(optional, false, `${name}.${prop} is optional`);
  }
  const sev = new Set([...d.rules, ...d.codes].map((x) => x.severity));
  for (const s of sev) assert.ok(['error', 'warning', 'info'].includes(s), `severity ${s}`);
});
