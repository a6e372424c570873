//! The manifest as a tree of values, each carrying the span it was read from.

use std::sync::Arc;

use crate::source::Span;

/// An object key. The same few keys stand in every item of a collection, so a parse shares one
/// allocation per distinct key ([`Keys`]): on a large manifest, a tenth of the tree's memory
/// and an allocation and a free per key.
pub type Key = Arc<str>;

/// The keys of one parse, each allocated once. Looked up by [`same_key`] rather than `==`
/// (every key of the manifest passes through here; see [`Text`]).
#[derive(Debug, Default)]
pub struct Keys {
    known: hashbrown::HashTable<Key>,
}

/// The hash of a key in [`Keys`].
fn key_hash(key: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(key)
}

impl Keys {
    /// Distinct keys shared at most; past this (a manifest of made-up keys) each key gets its
    /// own allocation, so the set stays small whatever the input.
    const MAX_SHARED: usize = 4096;

    /// The shared key equal to `key`.
    pub fn get(&mut self, key: &str) -> Key {
        let hash = key_hash(key);
        if let Some(known) = self.known.find(hash, |known| same_key(known, key)) {
            return Arc::clone(known);
        }
        let key: Key = Arc::from(key);
        if self.known.len() < Self::MAX_SHARED {
            self.known
                .insert_unique(hash, Arc::clone(&key), |known| key_hash(known));
        }
        key
    }
}

/// A value of the manifest with its source span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value stands in the text.
    pub span: Span,
}

/// One key of an object with its span and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key, unescaped.
    pub key: Key,
    /// Where the key stands in the text.
    pub key_span: Span,
    /// The value under the key.
    pub value: Node,
}

/// A JSON data model value; objects keep their keys in source order, duplicates included.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A finite number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Node>),
    /// An object.
    Object(Vec<Entry>),
}

impl Node {
    /// The value as `serde_json`, for schema validation. A duplicated key keeps its last value.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Object(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for entry in entries {
                    map.insert(String::from(&*entry.key), entry.value.to_json());
                }
                serde_json::Value::Object(map)
            }
        }
    }

    /// The tree of a JSON value, without spans (JSON read by other means than this crate's
    /// parsers: settings files).
    pub fn from_json(json: &serde_json::Value) -> Node {
        let value = match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.clone()),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().map(Node::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| Entry {
                        key: Arc::from(key.as_str()),
                        key_span: Span::default(),
                        value: Node::from_json(value),
                    })
                    .collect(),
            ),
        };
        Node {
            value,
            span: Span::default(),
        }
    }

    /// The value under `key` (the last one where the key is duplicated).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Object(entries) => entries.iter().rev().find(|e| same_key(&e.key, key)),
            _ => None,
        }
    }

    /// The string, when the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Follows a JSON pointer (RFC 6901). Returns the node and, when the last step was an
    /// object key, the span of that key.
    pub fn lookup(&self, pointer: &str) -> Option<(&Node, Option<Span>)> {
        self.lookup_in(pointer, &mut Lookups::default())
    }

    /// [`Node::lookup`] for many pointers into one tree: an object with many keys is indexed
    /// the first time a pointer passes through it, so locating a finding under each of its
    /// keys is not a scan of all of them each time.
    pub fn lookup_in<'a>(
        &'a self,
        pointer: &str,
        lookups: &mut Lookups<'a>,
    ) -> Option<(&'a Node, Option<Span>)> {
        let mut node = self;
        let mut key_span = None;
        if pointer.is_empty() {
            return Some((node, None));
        }
        for raw in pointer.strip_prefix('/')?.split('/') {
            let token = unescape_token(raw);
            match &node.value {
                Value::Object(entries) => {
                    let entry = if entries.len() > Lookups::SCAN_UP_TO {
                        let index =
                            lookups
                                .objects
                                .entry(node as *const Node)
                                .or_insert_with(|| {
                                    // The last of duplicated keys wins, as in `get`.
                                    entries
                                        .iter()
                                        .enumerate()
                                        .map(|(i, e)| (&*e.key, i))
                                        .collect()
                                });
                        entries.get(*index.get(token.as_str())?)?
                    } else {
                        node.get(&token)?
                    };
                    key_span = Some(entry.key_span);
                    node = &entry.value;
                }
                Value::Array(items) => {
                    node = items.get(token.parse::<usize>().ok()?)?;
                    key_span = None;
                }
                _ => return None,
            }
        }
        Some((node, key_span))
    }
}

/// The key indexes of the large objects of one tree, for [`Node::lookup_in`].
#[derive(Debug, Default)]
pub struct Lookups<'a> {
    objects: rustc_hash::FxHashMap<*const Node, rustc_hash::FxHashMap<&'a str, usize>>,
}

impl Lookups<'_> {
    /// Objects up to this many keys are scanned, as `get` does; larger ones are indexed.
    const SCAN_UP_TO: usize = 32;
}

/// A borrowed string as the key of the engine's hash maps (ids, key paths, object keys), equal
/// by [`same_key`]: `==` on strings calls `memcmp`, which in the WebAssembly module compares byte
/// by byte, and these maps compare ids by the tens of thousands in a large manifest.
#[derive(Debug, Clone, Copy, Eq)]
pub struct Text<'a>(pub &'a str);

impl PartialEq for Text<'_> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        same_key(self.0, other.0)
    }
}

impl std::hash::Hash for Text<'_> {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// Escapes one reference token of a JSON pointer (`~` as `~0`, `/` as `~1`).
pub fn escape_token(token: &str) -> String {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1")
    } else {
        token.to_string()
    }
}

/// Unescapes one reference token of a JSON pointer.
pub fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Appends a token to a pointer.
pub fn push_pointer(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + 1 + token.len());
    out.push_str(pointer);
    out.push('/');
    if token.contains(['~', '/']) {
        out.push_str(&escape_token(token));
    } else {
        out.push_str(token);
    }
    out
}

/// Whether two keys are equal. Keys are short: compared here eight bytes at a time, inline,
/// rather than through a call to `memcmp` (in the WebAssembly module a function of its own,
/// which compares byte by byte).
#[inline]
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    while let (Some((x, rest_a)), Some((y, rest_b))) =
        (a.split_first_chunk::<8>(), b.split_first_chunk::<8>())
    {
        if x != y {
            return false;
        }
        a = rest_a;
        b = rest_b;
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Limits, parse_json, parse_json_reference, parse_yaml};

    fn keys_of(root: &Node, collection: &str) -> Vec<Key> {
        let Some(Value::Array(items)) = root.get(collection).map(|e| &e.value.value) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| item.get("id"))
            .map(|e| Arc::clone(&e.key))
            .collect()
    }

    #[test]
    fn every_parser_shares_one_allocation_per_distinct_key() {
        let json = r#"{"pools": [{"id": "a"}, {"id": "b"}, {"i\u0064": "c"}]}"#;
        let yaml = "pools:\n  - id: a\n  - id: b\n  - \"i\\x64\": c\n";
        let limits = Limits::default();
        let trees = [
            parse_json(json, &limits),
            parse_json_reference(json, &limits),
            parse_yaml(yaml, &limits),
        ];
        for tree in trees {
            let tree = tree.unwrap_or_else(|e| panic!("{e:?}"));
            let keys = keys_of(&tree, "pools");
            assert_eq!(keys.len(), 3);
            assert!(keys.iter().all(|k| Arc::ptr_eq(k, &keys[0])), "{keys:?}");
        }
    }

    #[test]
    fn a_large_object_is_indexed_once_and_answers_as_a_scan_does() {
        // 100 keys, `k7` given twice: the last one counts, as everywhere else.
        let mut text: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k7: last\nnested: {a: [1, {b: 2}]}\n");
        let tree = parse_yaml(&text, &Limits::default()).unwrap_or_else(|e| panic!("{e:?}"));
        let mut lookups = Lookups::default();
        for pointer in [
            "/k0",
            "/k7",
            "/k99",
            "/k100",
            "/nested/a/1/b",
            "",
            "/nested/x",
        ] {
            let indexed = tree.lookup_in(pointer, &mut lookups);
            let scanned = tree.lookup(pointer);
            assert_eq!(
                indexed.map(|(n, k)| (n.span, k)),
                scanned.map(|(n, k)| (n.span, k)),
                "{pointer}"
            );
        }
        assert_eq!(lookups.objects.len(), 1, "only the root is large");
        let last = tree
            .lookup_in("/k7", &mut lookups)
            .and_then(|(n, _)| n.as_str());
        assert_eq!(last, Some("last"));
    }

    #[test]
    fn made_up_keys_past_the_cap_are_not_kept() {
        let mut keys = Keys::default();
        for i in 0..Keys::MAX_SHARED + 10 {
            keys.get(&format!("k{i}"));
        }
        assert_eq!(keys.known.len(), Keys::MAX_SHARED);
        let late = format!("k{}", Keys::MAX_SHARED + 5);
        let (a, b) = (keys.get(&late), keys.get(&late));
        assert_eq!(a, b);
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(Arc::ptr_eq(&keys.get("k0"), &keys.get("k0")));
    }

    #[test]
    fn keys_compare_as_strings_do() {
        let words = [
            "",
            "a",
            "b",
            "id",
            "fqdn",
            "sql_instances",
            "sql_instance",
            "data_centers",
            "data_centerz",
            "ab\u{e9}",
            "ab\u{e8}",
            "0123456789abcdef",
            "0123456789abcdeF",
        ];
        for a in words {
            for b in words {
                assert_eq!(same_key(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn texts_and_the_key_table_find_what_strings_would() {
        use std::hash::BuildHasher;
        let hash = |t: &Text<'_>| rustc_hash::FxBuildHasher.hash_one(t);
        let words = [
            "",
            "id",
            "di",
            "pools",
            "poolz",
            "sql_instances",
            "sql_instance",
        ];
        let mut ids = rustc_hash::FxHashMap::default();
        let mut keys = Keys::default();
        for (i, w) in words.iter().enumerate() {
            ids.insert(Text(w), i);
            keys.get(w);
        }
        for a in words {
            for b in words {
                assert_eq!(Text(a) == Text(b), a == b, "{a:?} {b:?}");
                if a == b {
                    assert_eq!(hash(&Text(a)), hash(&Text(b)));
                }
            }
            // Built from another allocation, so found by content, not by address.
            let copy = String::from(a);
            assert_eq!(ids.get(&Text(&copy)).map(|&i| words[i]), Some(a));
            assert!(Arc::ptr_eq(&keys.get(&copy), &keys.get(a)));
        }
        assert_eq!(keys.known.len(), words.len());
        assert_eq!(ids.get(&Text("pool")), None);
    }
}
