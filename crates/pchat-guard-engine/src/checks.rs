//! Structural checks beyond the schema: duplicate keys, duplicate ids, dangling references.

use std::collections::HashMap;

use crate::report::Code;
use crate::schema::{RefField, Step, did_you_mean};
use crate::source::Span;
use crate::value::{Node, Value, push_pointer};

/// A structural problem, located by pointer and span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Kind of problem.
    pub code: Code,
    /// Pointer to the offending value.
    pub pointer: String,
    /// Its span.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// Label under the value.
    pub label: String,
    /// How to fix it.
    pub help: String,
    /// Another place that explains this one (the first definition).
    pub related: Option<Span>,
}

/// Finds keys that appear twice in one object, reported at the second occurrence.
pub fn duplicate_keys(root: &Node) -> Vec<Problem> {
    let mut out = Vec::new();
    // Iterative walk: the tree's depth is bounded by the parser, but no recursion is needed.
    let mut pending: Vec<(&Node, String)> = vec![(root, String::new())];
    while let Some((node, pointer)) = pending.pop() {
        match &node.value {
            Value::Object(entries) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for entry in entries {
                    let child = push_pointer(&pointer, &entry.key);
                    if let Some(first) = seen.get(entry.key.as_str()) {
                        out.push(Problem {
                            code: Code::DuplicateKey,
                            pointer: child.clone(),
                            span: entry.key_span,
                            message: format!("the key `{}` appears twice in one object", entry.key),
                            label: "duplicate key".to_string(),
                            help: "remove one of the two; readers disagree on which one wins"
                                .to_string(),
                            related: Some(*first),
                        });
                    } else {
                        seen.insert(&entry.key, entry.key_span);
                    }
                    pending.push((&entry.value, child));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    pending.push((item, format!("{pointer}/{i}")));
                }
            }
            _ => {}
        }
    }
    out
}

/// The ids of each collection, mapped to their first pointer.
pub type IdIndex<'a> = HashMap<&'a str, HashMap<&'a str, String>>;

/// Indexes the ids of every collection and reports ids used twice in one collection.
pub fn index_ids<'a>(root: &'a Node, collections: &'a [String]) -> (IdIndex<'a>, Vec<Problem>) {
    let mut index: IdIndex<'a> = HashMap::new();
    let mut out = Vec::new();
    for collection in collections {
        let ids = index.entry(collection.as_str()).or_default();
        let Some(Value::Array(items)) = root.get(collection).map(|e| &e.value.value) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let Some(id_entry) = item.get("id") else {
                continue;
            };
            let Some(id) = id_entry.value.as_str() else {
                continue;
            };
            let pointer = format!("/{collection}/{i}/id");
            if let Some(first) = ids.get(id) {
                out.push(Problem {
                    code: Code::DuplicateId,
                    pointer,
                    span: id_entry.value.span,
                    message: format!("the id `{id}` is used twice in `{collection}`"),
                    label: "duplicate id".to_string(),
                    help: format!(
                        "ids must be unique within `{collection}`; the first `{id}` is at `{first}`"
                    ),
                    related: root.lookup(first).map(|(n, _)| n.span),
                });
            } else {
                ids.insert(id, pointer);
            }
        }
    }
    (index, out)
}

/// Reports every reference field whose value names no entity of its collection.
pub fn dangling_refs(root: &Node, refs: &[RefField], ids: &IdIndex<'_>) -> Vec<Problem> {
    let mut out = Vec::new();
    for field in refs {
        let empty = HashMap::new();
        let known = ids.get(field.collection.as_str()).unwrap_or(&empty);
        for (pointer, node) in follow(root, &field.path) {
            let Some(target) = node.as_str() else {
                continue;
            };
            if known.contains_key(target) {
                continue;
            }
            let mut names: Vec<&str> = known.keys().copied().collect();
            names.sort_unstable();
            let help = match did_you_mean(target, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if names.is_empty() => {
                    format!("`{}` is empty; add the entity there", field.collection)
                }
                None => format!(
                    "known ids in `{}`: {}",
                    field.collection,
                    names
                        .iter()
                        .take(8)
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            out.push(Problem {
                code: Code::DanglingRef,
                pointer,
                span: node.span,
                message: format!("`{target}` names no entry of `{}`", field.collection),
                label: format!("no such id in `{}`", field.collection),
                help,
                related: None,
            });
        }
    }
    out
}

/// Every node at `path`, with its pointer, fanning out over arrays.
fn follow<'a>(root: &'a Node, path: &[Step]) -> Vec<(String, &'a Node)> {
    let mut current: Vec<(String, &'a Node)> = vec![(String::new(), root)];
    for step in path {
        let mut next = Vec::new();
        for (pointer, node) in current {
            match (step, &node.value) {
                (Step::Key(key), Value::Object(_)) => {
                    if let Some(entry) = node.get(key) {
                        next.push((push_pointer(&pointer, key), &entry.value));
                    }
                }
                (Step::Items, Value::Array(items)) => {
                    next.extend(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, n)| (format!("{pointer}/{i}"), n)),
                    );
                }
                _ => {}
            }
        }
        current = next;
    }
    current
}
