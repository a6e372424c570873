// Generates src/report-types.ts from the report schema (schemas/report.schema.json), so the
// TypeScript types of a report cannot drift from what the CLI and the module write.
//
//   node scripts/gen-types.mjs            rewrite src/report-types.ts
//   node scripts/gen-types.mjs --check    exit 1 when src/report-types.ts is not up to date
//
// The generator knows only the schema constructs the report schema uses; any other construct
// stops it, so that a schema change cannot be silently mistyped.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SCHEMA_PATH = fileURLToPath(new URL('../../schemas/report.schema.json', import.meta.url));
export const OUTPUT_PATH = fileURLToPath(new URL('../src/report-types.ts', import.meta.url));

/** Names of the interfaces for inline objects, by schema location; the rest are derived. */
const NAMES = {
  '#': 'RunReport',
  '#/properties/tool': 'ToolInfo',
  '#/properties/summary': 'Summary',
  '#/$defs/file_report': 'FileReport',
  '#/$defs/waived/properties/origin': 'WaiverOrigin',
};

/** Keywords that only constrain values, not their TypeScript type. */
const VALUE_ONLY = new Set([
  'description', 'title', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern',
  'minItems', 'maxItems', '$schema', '$id', '$defs',
]);

const pascal = (s) => s.split(/[_\-\s]+/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');

function comment(text, indent) {
  if (!text) return '';
  const lines = text.split('\n');
  if (lines.length === 1) return `${indent}/** ${text.replace(/\*\//g, '*\\/')} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l.replace(/\*\//g, '*\\/')}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

export function generate(schema) {
  const interfaces = []; // [name, text] in order of first use
  const named = new Map(); // location -> name

  function known(node, location, allowed) {
    for (const key of Object.keys(node)) {
      if (!allowed.includes(key) && !VALUE_ONLY.has(key)) {
        throw new Error(`${location}: the type generator does not know the keyword \`${key}\``);
      }
    }
  }

  function refName(ref) {
    const m = /^#\/\$defs\/([A-Za-z0-9_]+)$/.exec(ref);
    if (!m) throw new Error(`unsupported $ref ${ref}`);
    const def = schema.$defs?.[m[1]];
    if (!def) throw new Error(`dangling $ref ${ref}`);
    return objectName(def, ref, m[1]);
  }

  function objectName(node, location, hint) {
    if (named.has(location)) return named.get(location);
    const name = NAMES[location] ?? pascal(hint);
    if ([...named.values()].includes(name)) throw new Error(`${location}: the name ${name} is taken`);
    named.set(location, name);
    const slot = interfaces.length;
    interfaces.push(null);
    interfaces[slot] = emitInterface(node, location, name);
    return name;
  }

  function typeOf(node, location, hint) {
    if (node.$ref !== undefined) {
      known(node, location, ['$ref']);
      return refName(node.$ref);
    }
    if (node.const !== undefined) {
      known(node, location, ['const']);
      return JSON.stringify(node.const);
    }
    if (node.enum !== undefined) {
      known(node, location, ['enum']);
      return node.enum.map((v) => JSON.stringify(v)).join(' | ');
    }
    switch (node.type) {
      case 'string':
        known(node, location, ['type']);
        return 'string';
      case 'integer':
      case 'number':
        known(node, location, ['type']);
        return 'number';
      case 'boolean':
        known(node, location, ['type']);
        return 'boolean';
      case 'array': {
        known(node, location, ['type', 'items', 'prefixItems']);
        if (node.prefixItems) {
          const n = node.prefixItems.length;
          if (node.minItems !== n || node.maxItems !== n) {
            throw new Error(`${location}: only fixed-length tuples are supported`);
          }
          const items = node.prefixItems.map((p, i) => typeOf(p, `${location}/prefixItems/${i}`, `${hint}_${i}`));
          return `[${items.join(', ')}]`;
        }
        const item = typeOf(node.items, `${location}/items`, hint);
        return /[ |]/.test(item) ? `Array<${item}>` : `${item}[]`;
      }
      case 'object': {
        known(node, location, ['type', 'properties', 'required', 'additionalProperties']);
        if (node.properties) return objectName(node, location, hint);
        if (node.additionalProperties && typeof node.additionalProperties === 'object') {
          return `Record<string, ${typeOf(node.additionalProperties, `${location}/additionalProperties`, hint)}>`;
        }
        throw new Error(`${location}: an object with neither properties nor a value schema`);
      }
      default:
        throw new Error(`${location}: unsupported type ${JSON.stringify(node.type)}`);
    }
  }

  function emitInterface(node, location, name) {
    if (node.type !== 'object' || !node.properties) throw new Error(`${location}: not an object type`);
    if (node.additionalProperties !== false) {
      throw new Error(`${location}: objects with properties must have additionalProperties: false`);
    }
    known(node, location, ['type', 'properties', 'required', 'additionalProperties']);
    const required = new Set(node.required ?? []);
    for (const r of required) {
      if (!(r in node.properties)) throw new Error(`${location}: required \`${r}\` is not a property`);
    }
    let body = '';
    for (const [prop, sub] of Object.entries(node.properties)) {
      const type = typeOf(sub, `${location}/properties/${prop}`, `${name}_${prop}`);
      body += comment(sub.description, '  ');
      body += `  ${prop}${required.has(prop) ? '' : '?'}: ${type};\n`;
    }
    return `${comment(node.description ?? (location === '#' ? node.title : undefined), '')}export interface ${name} {\n${body}}\n`;
  }

  typeOf(schema, '#', 'run_report');
  for (const [def, node] of Object.entries(schema.$defs ?? {})) {
    typeOf(node, `#/$defs/${def}`, def);
  }
  return (
    '// Generated by scripts/gen-types.mjs from schemas/report.schema.json: do not edit.\n' +
    '// `node --test` (test/types-drift.test.mjs) fails when this file and the schema disagree.\n\n' +
    interfaces.join('\n')
  );
}

function main() {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));
  const text = generate(schema);
  if (process.argv.includes('--check')) {
    const current = readFileSync(OUTPUT_PATH, 'utf8');
    if (current !== text) {
      console.error(`${OUTPUT_PATH} is out of date with ${SCHEMA_PATH}: run node scripts/gen-types.mjs`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(OUTPUT_PATH, text);
  console.log(`wrote ${OUTPUT_PATH}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
