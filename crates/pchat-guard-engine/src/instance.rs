//! The manifest tree as jsonschema's instance representation ([`Tree`]), so the schema
//! validates the tree where it stands: no `serde_json::Value` copy of the manifest (on a large
//! manifest that copy, its hashing and its drop were a sixth of a check).
//!
//! Objects answer as the `serde_json` copy would: a duplicated key counts once, at its first
//! position, with its last value (the duplicate itself is a finding of its own).

use std::borrow::Cow;

use jsonschema::JsonType;
use jsonschema::json::{Array, Json, Node as JsonNode, NodeIdentity, Object, cmp};
use rustc_hash::FxHashMap;
use serde_json::Value as Json_;

use crate::value::{Entry, Node, Text, Value, same_key};

/// The manifest tree (`&Node`) as a representation jsonschema validates.
pub struct Tree;

impl Json for Tree {
    type Node<'a> = &'a Node;
    type PreparedKey = String;
    type StringBuffer = Option<Node>;

    // Small objects are searched, not hashed: a pass over the members costs about what a
    // lookup does.
    const KEYS_PER_LOOKUP: usize = 2;
    // A node owns its children.
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>(
        buffer: &mut Option<Node>,
        string: &str,
        f: impl FnOnce(&Node) -> T,
    ) -> T {
        let node = buffer.insert(Node {
            value: Value::String(string.to_owned()),
            span: Default::default(),
        });
        f(node)
    }
}

impl<'a> JsonNode<'a, Tree> for &'a Node {
    type Object = Members<'a>;
    type Array = &'a [Node];
    type Number = &'a serde_json::Number;

    fn as_object(&self) -> Option<Members<'a>> {
        match &self.value {
            Value::Object(entries) => Some(Members::of(entries)),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&'a [Node]> {
        match &self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match &self.value {
            Value::String(s) => Some(Cow::Borrowed(s)),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a serde_json::Number> {
        match &self.value {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    fn json_type(&self) -> JsonType {
        match self.value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    fn string_length_within(&self, min: u64, max: u64) -> Option<bool> {
        let Value::String(s) = &self.value else {
            return None;
        };
        // A character is one to four bytes: the byte length often decides without counting.
        let bytes = s.len() as u64;
        if bytes < min || bytes.div_ceil(4) > max {
            return Some(false);
        }
        if min <= bytes.div_ceil(4) && bytes <= max {
            return Some(true);
        }
        Some((min..=max).contains(&(s.chars().count() as u64)))
    }

    fn equals_value(&self, expected: &Json_) -> bool {
        // `enum` and `const` on scalars (all this schema has) without copying the value.
        match (&self.value, expected) {
            (Value::String(s), Json_::String(e)) => s == e,
            (Value::String(_), _) => false,
            (Value::Bool(b), Json_::Bool(e)) => b == e,
            (Value::Null, Json_::Null) => true,
            (Value::Bool(_) | Value::Null, _) => false,
            _ => cmp::equal(&self.to_json(), expected),
        }
    }

    fn to_value(&self) -> Cow<'a, Json_> {
        Cow::Owned(self.to_json())
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(std::ptr::from_ref::<Node>(*self) as usize))
    }
}

/// An object's members, each key once.
#[derive(Clone, Copy)]
pub struct Members<'a> {
    entries: &'a [Entry],
}

impl<'a> Members<'a> {
    fn of(entries: &'a [Entry]) -> Self {
        Members { entries }
    }

    /// Whether a key stands twice (rare: the manifest has a duplicate-key finding). Asked only
    /// by the passes over all members, not by lookups (`get` takes the last one anyway).
    fn repeats(&self) -> bool {
        let entries = self.entries;
        let same = |a: &Entry, b: &Entry| {
            std::sync::Arc::ptr_eq(&a.key, &b.key) || same_key(&a.key, &b.key)
        };
        if entries.len() <= 16 {
            entries.iter().enumerate().any(|(i, e)| {
                entries
                    .get(..i)
                    .is_some_and(|before| before.iter().any(|b| same(b, e)))
            })
        } else {
            let mut seen = rustc_hash::FxHashSet::default();
            !entries.iter().all(|e| seen.insert(Text(&e.key)))
        }
    }

    /// Per entry, the index of the entry whose value counts when the entry is the key's first
    /// (the key's last entry), else none.
    fn firsts(&self) -> Vec<Option<usize>> {
        let mut last: FxHashMap<Text<'_>, usize> = FxHashMap::default();
        for (i, e) in self.entries.iter().enumerate() {
            last.insert(Text(&e.key), i);
        }
        let mut seen = rustc_hash::FxHashSet::default();
        self.entries
            .iter()
            .map(|e| {
                seen.insert(Text(&e.key))
                    .then(|| last.get(&Text(&e.key)).copied())
                    .flatten()
            })
            .collect()
    }
}

impl<'a> Object<'a, Tree> for Members<'a> {
    type Node = &'a Node;
    type MemberName = &'a str;
    type MembersIter = MembersIter<'a>;

    fn len(&self) -> usize {
        if self.repeats() {
            self.firsts().iter().flatten().count()
        } else {
            self.entries.len()
        }
    }

    fn get(&self, key: &String) -> Option<&'a Node> {
        // The last of a duplicated key.
        self.entries
            .iter()
            .rev()
            .find(|e| *e.key == **key)
            .map(|e| &e.value)
    }

    fn members(&self) -> MembersIter<'a> {
        MembersIter {
            entries: self.entries,
            at: 0,
            firsts: self.repeats().then(|| self.firsts()),
        }
    }
}

/// The members of an object in order, each key once.
pub struct MembersIter<'a> {
    entries: &'a [Entry],
    at: usize,
    firsts: Option<Vec<Option<usize>>>,
}

impl<'a> Iterator for MembersIter<'a> {
    type Item = (&'a str, &'a Node);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let entry = self.entries.get(self.at)?;
            let i = self.at;
            self.at += 1;
            let counted = match &self.firsts {
                None => Some(entry),
                Some(firsts) => firsts
                    .get(i)
                    .copied()
                    .flatten()
                    .and_then(|last| self.entries.get(last)),
            };
            if let Some(counted) = counted {
                return Some((&entry.key, &counted.value));
            }
        }
    }
}

impl<'a> Array<'a, Tree> for &'a [Node] {
    type Node = &'a Node;
    type ElementsIter = std::slice::Iter<'a, Node>;

    fn len(&self) -> usize {
        <[Node]>::len(self)
    }

    fn elements(&self) -> std::slice::Iter<'a, Node> {
        self.iter()
    }
}
