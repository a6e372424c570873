// Schema-driven completion and hover for the manifest editor, in JSON and in YAML, from the
// JSON Schema that the checker's module returns (`schema()`, posted by the worker).
//
// It completes property names (those of the object at the cursor, less the ones it already has)
// and enum values, and explains a property key on hover. It does not validate anything: the
// module is the only linter, so the editor never disagrees with the report.
//
// The JSON pointer at the cursor comes from the Lezer syntax tree. YAML block collections need
// one more step: the tree does not cover a blank line, so the line's indentation says which
// mapping or sequence of the lines above it the cursor is in.
import { StateEffect, StateField } from '@codemirror/state';
import { hoverTooltip } from '@codemirror/view';
import { ensureSyntaxTree } from '@codemirror/language';
import { jsonLanguage } from '@codemirror/lang-json';
import { yamlLanguage } from '@codemirror/lang-yaml';

const MAX_DEPTH = 100; // tree levels walked up from the cursor (manifests nest about 7 deep)
const MAX_LINES_UP = 1000; // blank and comment lines skipped looking for the YAML line above
const MAX_SPACE = 4096; // whitespace skipped looking for the punctuation before the cursor
const MAX_INDENT = 200; // a longer run before the cursor is not a YAML line's indentation
const MAX_REF_HOPS = 32; // a `$ref` chain longer than this (a cycle) resolves to nothing
const PARSE_BUDGET_MS = 50; // parsing up to the cursor, when the editor has not got there yet

/** `view.dispatch({ effects: setSchema.of(schema) })` gives the editor its schema. */
export const setSchema = StateEffect.define();

const schemaField = StateField.define({
  create: () => null,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setSchema)) value = e.value;
    return value;
  },
});

/** Completion (Ctrl-Space, or as you type a name) and key hover, for JSON and YAML. */
export function schemaAssist() {
  return [
    schemaField,
    jsonLanguage.data.of({ autocomplete: (cx) => complete(cx, jsonContext) }),
    yamlLanguage.data.of({ autocomplete: (cx) => complete(cx, yamlContext) }),
    hoverTooltip(hover),
  ];
}

// ---------------------------------------------------------------- the schema

const isObject = (x) => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The value at a local JSON pointer (`#/$defs/x`, URI-escaped) inside `root`. */
function pointerGet(root, fragment) {
  let node = root;
  for (const raw of fragment.split('/').slice(1)) {
    const step = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    if (!Object.hasOwn(node, step)) return undefined;
    node = node[step];
  }
  return node;
}

/** `schema` with its local `$ref`s followed (their siblings win, as in draft 2020-12); null if none. */
function resolveRef(root, schema) {
  for (let hops = 0; isObject(schema) && typeof schema.$ref === 'string'; hops++) {
    if (hops === MAX_REF_HOPS || !schema.$ref.startsWith('#')) return null;
    const { $ref, ...siblings } = schema;
    let target;
    try {
      target = pointerGet(root, $ref.slice(1));
    } catch {
      return null; // a malformed %-escape
    }
    if (!isObject(target)) return null;
    schema = { ...target, ...siblings };
  }
  return isObject(schema) ? schema : null;
}

/** The subschema for a path of property names and array indices, or null. */
function schemaAt(root, path) {
  let schema = resolveRef(root, root);
  for (const step of path) {
    if (!schema) return null;
    let next;
    if (typeof step === 'number') next = schema.items;
    else if (isObject(schema.properties) && Object.hasOwn(schema.properties, step)) next = schema.properties[step];
    else next = schema.additionalProperties;
    schema = resolveRef(root, next);
  }
  return schema;
}

const typeList = (schema) => [].concat(schema.type ?? []).join(' | ');

/** A short type: `string`, `array of object`, `enum`... */
function typeSummary(root, schema) {
  if (Array.isArray(schema.enum)) return 'enum';
  if ('const' in schema) return 'constant';
  const items = typeList(schema) === 'array' ? resolveRef(root, schema.items) : null;
  return items && items.type ? `array of ${typeList(items)}` : typeList(schema);
}

/** The values a property may take, when the schema lists them. */
function scalarValues(schema) {
  let values = [];
  if (Array.isArray(schema.enum)) values = schema.enum;
  else if ('const' in schema) values = [schema.const];
  else if (schema.type === 'boolean') values = [true, false];
  return values.filter((v) => !isObject(v) && !Array.isArray(v));
}

/** A description's text, its `code` spans as <code> (the schema's descriptions use them). */
function descriptionDom(text) {
  const div = document.createElement('div');
  div.className = 'pcg-schema-desc';
  String(text)
    .split(/`([^`]+)`/)
    .forEach((part, i) => {
      if (i % 2 === 0) div.append(part);
      else div.append(Object.assign(document.createElement('code'), { textContent: part }));
    });
  return div;
}

// ---------------------------------------------------------------- scalars in either syntax

const jsonScalar = (value) => JSON.stringify(value);

/** A YAML scalar that reads back as `value`: plain when that is unambiguous, else quoted. */
function yamlScalar(value) {
  if (typeof value !== 'string') return String(value);
  const plain = /^[A-Za-z_$][\w$./-]*$/.test(value) && !/^(true|false|yes|no|on|off|y|n|null)$/i.test(value);
  return plain ? value : `'${value.replace(/'/g, "''")}'`;
}

/** A key's text: JSON strings and YAML quoted or plain scalars. */
function keyText(state, node) {
  const raw = state.sliceDoc(node.from, node.to).trim();
  if (raw.startsWith('"')) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw.slice(1, raw.length > 1 && raw.endsWith('"') ? -1 : undefined);
    }
  }
  if (raw.startsWith("'")) return raw.slice(1, raw.length > 1 && raw.endsWith("'") ? -1 : undefined).replace(/''/g, "'");
  return raw;
}

// ---------------------------------------------------------------- paths in the syntax tree

const PAIRS = new Set(['Property', 'Pair']); // JSON, YAML
const SEQUENCES = new Set(['Array', 'BlockSequence', 'FlowSequence']);

/** The index of the sequence item at `pos`: the separators (`,` or `-`) before it. */
function itemIndex(sequence, pos) {
  const separator = sequence.name === 'BlockSequence' ? '-' : ',';
  let count = 0;
  for (let c = sequence.firstChild; c && c.from < pos; c = c.nextSibling) if (c.name === separator) count++;
  return separator === '-' ? Math.max(0, count - 1) : count;
}

/** The path (property names, array indices) of the value that `node` is, or is inside; null if too deep. */
function pathOf(state, node) {
  const path = [];
  let child = null;
  for (let n = node, depth = 0; n; child = n, n = n.parent, depth++) {
    if (depth > MAX_DEPTH) return null;
    if (PAIRS.has(n.name)) {
      const key = n.getChild('PropertyName') || n.getChild('Key');
      if (!key) return null;
      path.push(keyText(state, key));
    } else if (SEQUENCES.has(n.name) && child) {
      path.push(itemIndex(n, child.from));
    }
  }
  return path.reverse();
}

const pointer = (path) => path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** The keys an object (JSON Object, YAML mapping) has, but the one at `except` (being typed). */
function keysOf(state, object, except) {
  const keys = new Set();
  for (let c = object ? object.firstChild : null; c; c = c.nextSibling) {
    if (!PAIRS.has(c.name) || (c.from <= except && except <= c.to)) continue;
    const key = c.getChild('PropertyName') || c.getChild('Key');
    if (key) keys.add(keyText(state, key));
  }
  return keys;
}

/** The word or string being typed at `pos` (a leaf node ending there), or null. */
function tokenAt(tree, pos) {
  const node = tree.resolveInner(pos, -1);
  if (node.from >= pos || node.firstChild || node.name === 'Comment') return null;
  return /^[{}[\],:-]$/.test(node.name) ? null : node;
}

/** Whether a colon follows `to` on its line (then a completed key needs none). */
function colonAfter(state, to) {
  return /^\s*:/.test(state.sliceDoc(to, Math.min(to + MAX_SPACE, state.doc.lineAt(to).to)));
}

/**
 * The context from the punctuation before `from` (JSON, and YAML flow collections): after `{`
 * or `,` in an object, a key; after `:`, the property's value; after `[` or `,` in an array, an
 * item. `minPos` bounds the search (YAML: the line's start).
 */
function punctuationContext(state, tree, from, to, minPos) {
  const start = Math.max(minPos, from - MAX_SPACE);
  const q = start + state.sliceDoc(start, from).trimEnd().length - 1;
  if (q < start) return null;
  const mark = tree.resolveInner(q, 1);
  const holder = mark.parent;
  if (mark.from !== q || !holder) return null;
  if (mark.name === ':' && PAIRS.has(holder.name)) {
    return { kind: 'value', path: pathOf(state, holder), from, to };
  }
  if ((mark.name === '{' || mark.name === ',') && (holder.name === 'Object' || holder.name === 'FlowMapping')) {
    const present = keysOf(state, holder, from);
    return { kind: 'key', path: pathOf(state, holder), from, to, present, hasColon: colonAfter(state, to) };
  }
  if ((mark.name === '[' || mark.name === ',') && SEQUENCES.has(holder.name)) {
    const path = pathOf(state, holder);
    return { kind: 'value', path: path && [...path, itemIndex(holder, from)], from, to };
  }
  return null;
}

/**
 * The syntax tree up to `pos`, parsing on for a moment if the editor has not got there yet (a
 * large text just pasted); null if it takes longer.
 */
const treeUpTo = (state, pos) => ensureSyntaxTree(state, pos, PARSE_BUDGET_MS);

function jsonContext(state, pos) {
  const tree = treeUpTo(state, pos);
  if (!tree) return null;
  const token = tokenAt(tree, pos);
  const from = token ? token.from : pos;
  const to = token ? Math.min(token.to, state.doc.lineAt(pos).to) : pos;
  const at = punctuationContext(state, tree, from, to, 0);
  return at && { ...at, scalar: jsonScalar };
}

// ---------------------------------------------------------------- YAML block collections

/** Whether `pos` is inside a YAML flow collection (`{...}`, `[...]`). */
function inFlow(tree, pos) {
  for (let n = tree.resolveInner(pos, -1), depth = 0; n && depth < MAX_DEPTH; n = n.parent, depth++) {
    if (n.name !== 'FlowMapping' && n.name !== 'FlowSequence') continue;
    const closed = n.lastChild && /^[}\]]$/.test(n.lastChild.name);
    if (n.from < pos && (pos < n.to || !closed)) return true;
  }
  return false;
}

/** The column of a block collection's entries (its first key or dash), or null. */
function columnOf(state, collection) {
  const first = collection.getChild(collection.name === 'BlockMapping' ? 'Pair' : '-');
  return first ? first.from - state.doc.lineAt(first.from).from : null;
}

/**
 * The nearest line above `line` with something other than blanks or a comment: null when there
 * is none, undefined when MAX_LINES_UP lines did not reach one.
 */
function lineAbove(state, line) {
  const stop = Math.max(1, line.number - MAX_LINES_UP);
  for (let n = line.number - 1; n >= stop; n--) {
    const above = state.doc.line(n);
    if (!/^\s*(#.*)?$/.test(above.text)) return above;
  }
  return stop === 1 ? null : undefined;
}

/** `node`, or the first sibling after it that is not a comment; null if none. */
function skipComments(node) {
  while (node && node.name === 'Comment') node = node.nextSibling;
  return node || null;
}

/** The value of a mapping's pair or a sequence's item (or a document), or null. */
function valueOf(entry) {
  return skipComments(entry.name === 'Pair' ? entry.getChild(':')?.nextSibling : entry.firstChild);
}

/** The last pair or item of a block collection that starts before `pos`. */
function lastEntryBefore(collection, pos) {
  const name = collection.name === 'BlockMapping' ? 'Pair' : 'Item';
  let c = collection.enter(pos, -1) || collection.childBefore(pos);
  while (c && (c.name !== name || c.from >= pos)) c = c.prevSibling;
  return c;
}

/**
 * Which collection a line whose entry starts at column `col` belongs to, walking up from the
 * line above: the nearest block collection at that column (a mapping for a key, a sequence
 * for `- `), else the value of the last entry of the nearest one left of it (the line is
 * nested in it). Returns { path, holder }: the path of that collection or value, and its node
 * (null when the tree has none yet), whose entries are the line's siblings.
 */
function blockParent(state, start, col, dashed, lineFrom) {
  for (let n = start, depth = 0; n; n = n.parent, depth++) {
    if (depth > MAX_DEPTH) return null;
    if (n.name !== 'BlockMapping' && n.name !== 'BlockSequence') continue;
    const c = columnOf(state, n);
    if (c === null || c > col) continue;
    if (c === col) {
      if (n.name === (dashed ? 'BlockSequence' : 'BlockMapping')) return { path: pathOf(state, n), holder: n };
      // A key at a sequence's dash column is a key of the mapping around it.
      if (n.name === 'BlockSequence') continue;
      // `- ` at a key's column starts a sequence that is the value of the key above.
    }
    const entry = lastEntryBefore(n, lineFrom);
    return entry && { path: pathOf(state, entry), holder: valueOf(entry) };
  }
  return null;
}

/** A key at the start of a block line: `indent` spaces, then `dashes` (0 or 1) `- `. */
function blockKeyContext(state, tree, line, indent, dashes, from, to) {
  const col = indent.length;
  const above = lineAbove(state, line);
  if (above === undefined) return null;
  const found = above
    ? blockParent(state, tree.resolveInner(above.to, -1), col, dashes > 0, line.from)
    : { path: [], holder: valueOf(tree.topNode.getChild('Document') || tree.topNode) };
  if (!found || !found.path) return null;
  let { path, holder } = found;
  if (dashes) {
    // A new or existing item of the sequence: its index is the dashes before this one.
    const dashPos = line.from + col;
    const sequence = holder && holder.name === 'BlockSequence' ? holder : null;
    path = [...path, sequence ? itemIndex(sequence, dashPos + 1) : 0];
    const dash = sequence ? sequence.enter(dashPos, 1) : null;
    holder = dash && dash.name === '-' && dash.nextSibling ? valueOf(dash.nextSibling) : null;
  }
  const mapping = holder && holder.name === 'BlockMapping' ? holder : null;
  return { kind: 'key', path, from, to, present: keysOf(state, mapping, from), hasColon: colonAfter(state, to) };
}

function yamlContext(state, pos) {
  const tree = treeUpTo(state, pos);
  if (!tree) return null;
  const line = state.doc.lineAt(pos);
  const token = tokenAt(tree, pos);
  const from = token ? Math.max(token.from, line.from) : pos;
  const to = token ? Math.min(token.to, line.to) : pos;
  const lead = from - line.from <= MAX_INDENT && /^(\s*)((?:-[ \t]+)*)$/.exec(state.sliceDoc(line.from, from));
  let at;
  if (lead && !inFlow(tree, pos)) {
    const dashes = (lead[2].match(/-/g) || []).length;
    if (dashes > 1) return null; // `- - key`: manifests have no sequences of sequences
    at = blockKeyContext(state, tree, line, lead[1], dashes, from, to);
  } else {
    at = punctuationContext(state, tree, from, to, line.from);
  }
  if (!at) return null;
  // `key:value` is one plain scalar in YAML: a value completed right after the colon needs a space.
  const prefix = at.kind === 'value' && state.sliceDoc(from - 1, from) === ':' ? ' ' : '';
  return { ...at, scalar: yamlScalar, prefix };
}

// ---------------------------------------------------------------- completion and hover

function keyOptions(root, target, at) {
  if (!isObject(target.properties)) return [];
  const required = new Set(Array.isArray(target.required) ? target.required : []);
  return Object.keys(target.properties)
    .filter((name) => !at.present.has(name))
    .map((name) => {
      const schema = resolveRef(root, target.properties[name]) || {};
      const label = at.scalar(name);
      return {
        label,
        apply: at.hasColon ? label : `${label}: `,
        type: 'property',
        detail: typeSummary(root, schema) + (required.has(name) ? ' (required)' : ''),
        info: schema.description ? () => descriptionDom(schema.description) : undefined,
        boost: required.has(name) ? 1 : 0,
      };
    });
}

function valueOptions(target, at) {
  return scalarValues(target).map((value) => {
    const label = at.scalar(value);
    return {
      label,
      apply: (at.prefix || '') + label,
      type: 'enum',
      info: target.description ? () => descriptionDom(target.description) : undefined,
    };
  });
}

function complete(cx, contextAt) {
  const root = cx.state.field(schemaField, false);
  if (!root) return null;
  let at;
  try {
    at = contextAt(cx.state, cx.pos);
  } catch {
    return null; // odd trees (or a parser out of stack): no completion rather than an error
  }
  // Unasked, only once something is typed; Ctrl-Space always.
  if (!at || !at.path || (!cx.explicit && at.from === cx.pos)) return null;
  const target = schemaAt(root, at.path);
  if (!target) return null;
  const options = at.kind === 'key' ? keyOptions(root, target, at) : valueOptions(target, at);
  return options.length ? { from: at.from, to: at.to, options, validFor: /^["']?[\w$./-]*["']?$/ } : null;
}

/** The key node (JSON PropertyName, YAML Key) at `pos`, or null. */
function keyAt(tree, pos, side) {
  let node = tree.resolveInner(pos, side);
  for (let i = 0; node && i < 3; node = node.parent, i++) {
    if (node.name === 'PropertyName' || node.name === 'Key') return node;
  }
  return null;
}

function hoverDom(root, path, schema) {
  const div = document.createElement('div');
  div.className = 'pcg-schema-tip';
  const head = document.createElement('div');
  head.append(Object.assign(document.createElement('strong'), { textContent: String(path[path.length - 1]) }));
  const type = typeSummary(root, schema);
  if (type) head.append(' ', Object.assign(document.createElement('span'), { className: 'pcg-schema-type', textContent: type }));
  div.append(head);
  if (schema.description) div.append(descriptionDom(schema.description));
  const values = scalarValues(schema);
  if (values.length && schema.type !== 'boolean') {
    const list = values.map((v) => JSON.stringify(v)).join(', ');
    div.append(Object.assign(document.createElement('div'), { className: 'pcg-schema-values', textContent: `one of: ${list}` }));
  }
  div.append(Object.assign(document.createElement('div'), { className: 'pcg-schema-path', textContent: pointer(path) }));
  return div;
}

function hover(view, pos, side) {
  const { state } = view;
  const root = state.field(schemaField, false);
  if (!root) return null;
  let key;
  let path;
  try {
    const tree = treeUpTo(state, pos);
    key = tree && keyAt(tree, pos, side);
    path = key && pathOf(state, key);
  } catch {
    return null; // odd trees (or a parser out of stack): no tooltip rather than an error
  }
  const schema = path && path.length ? schemaAt(root, path) : null;
  if (!schema) return null;
  return { pos: key.from, end: key.to, above: true, create: () => ({ dom: hoverDom(root, path, schema) }) };
}
