//! Structural checks beyond the schema: duplicate keys, duplicate ids, dangling references.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use crate::report::Code;
use crate::schema::{RefField, Step, did_you_mean};
use crate::source::Span;
use crate::value::{Node, Text, Value, push_pointer, same_key};

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
    // The path to the node is kept as tokens; a pointer is only written for a problem.
    let mut path: Vec<Token<'_>> = Vec::new();
    let mut pending: Vec<(&Node, usize, Option<Token<'_>>)> = vec![(root, 0, None)];
    while let Some((node, depth, token)) = pending.pop() {
        path.truncate(depth);
        path.extend(token);
        match &node.value {
            Value::Object(entries) => {
                let mut seen: HashMap<Text<'_>, Span> = HashMap::default();
                for (i, entry) in entries.iter().enumerate() {
                    // Small objects (nearly all) are searched; large ones hashed.
                    let first = if entries.len() <= 16 {
                        entries
                            .get(..i)
                            .and_then(|before| {
                                before.iter().find(|e| {
                                    Arc::ptr_eq(&e.key, &entry.key) || same_key(&e.key, &entry.key)
                                })
                            })
                            .map(|e| e.key_span)
                    } else {
                        let first = seen.get(&Text(&entry.key)).copied();
                        seen.entry(Text(&entry.key)).or_insert(entry.key_span);
                        first
                    };
                    if let Some(first) = first {
                        out.push(Problem {
                            code: Code::DuplicateKey,
                            pointer: push_pointer(&pointer_of(&path), &entry.key),
                            span: entry.key_span,
                            message: format!("the key `{}` appears twice in one object", entry.key),
                            label: "duplicate key".to_string(),
                            help: "remove one of the two; readers disagree on which one wins"
                                .to_string(),
                            related: Some(first),
                        });
                    }
                    pending.push((&entry.value, path.len(), Some(Token::Key(&entry.key))));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    pending.push((item, path.len(), Some(Token::Index(i))));
                }
            }
            _ => {}
        }
    }
    out
}

/// One step of a path into the tree.
#[derive(Debug, Clone, Copy)]
enum Token<'a> {
    Key(&'a str),
    Index(usize),
}

/// The JSON pointer of a path.
fn pointer_of(path: &[Token<'_>]) -> String {
    let mut pointer = String::new();
    for token in path {
        match token {
            Token::Key(key) => pointer = push_pointer(&pointer, key),
            Token::Index(i) => pointer = format!("{pointer}/{i}"),
        }
    }
    pointer
}

/// The ids of each collection, mapped to the position of their first item.
pub type IdIndex<'a> = HashMap<Text<'a>, HashMap<Text<'a>, usize>>;

/// Indexes the ids of every collection and reports ids used twice in one collection.
pub fn index_ids<'a>(root: &'a Node, collections: &'a [String]) -> (IdIndex<'a>, Vec<Problem>) {
    let mut index: IdIndex<'a> = HashMap::default();
    let mut out = Vec::new();
    for collection in collections {
        let ids = index.entry(Text(collection)).or_default();
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
            if let Some(first) = ids.get(&Text(id)) {
                // Pointers are written only for a problem: one per id was 4% of a check.
                let first = format!("/{collection}/{first}/id");
                out.push(Problem {
                    code: Code::DuplicateId,
                    pointer: format!("/{collection}/{i}/id"),
                    span: id_entry.value.span,
                    message: format!("the id `{id}` is used twice in `{collection}`"),
                    label: "duplicate id".to_string(),
                    help: format!(
                        "ids must be unique within `{collection}`; the first `{id}` is at `{first}`"
                    ),
                    related: root.lookup(&first).map(|(n, _)| n.span),
                });
            } else {
                ids.insert(Text(id), i);
            }
        }
    }
    (index, out)
}

/// Reports every reference field whose value names no entity of its collection.
pub fn dangling_refs(root: &Node, refs: &[RefField], ids: &IdIndex<'_>) -> Vec<Problem> {
    let mut out = Vec::new();
    for field in refs {
        let empty = HashMap::default();
        let known = ids.get(&Text(&field.collection)).unwrap_or(&empty);
        for (followed, node) in follow(root, &field.path) {
            let Some(target) = node.as_str() else {
                continue;
            };
            if known.contains_key(&Text(target)) {
                continue;
            }
            let mut names: Vec<&str> = known.keys().map(|t| t.0).collect();
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
                pointer: followed.pointer(&field.path),
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

/// Every node at `path`, with its pointer, fanning out over arrays. The pointer is written
/// only when asked for (for a problem), from the array indices taken on the way.
fn follow<'a>(root: &'a Node, path: &'a [Step]) -> Vec<(Followed, &'a Node)> {
    let mut current: Vec<(Followed, &'a Node)> = vec![(Followed::default(), root)];
    for step in path {
        let mut next = Vec::with_capacity(current.len());
        for (followed, node) in current {
            match (step, &node.value) {
                (Step::Key(key), Value::Object(_)) => {
                    if let Some(entry) = node.get(key) {
                        next.push((followed, &entry.value));
                    }
                }
                (Step::Items, Value::Array(items)) => {
                    next.extend(items.iter().enumerate().map(|(i, n)| {
                        let mut f = followed.clone();
                        f.indices.push(i);
                        (f, n)
                    }));
                }
                _ => {}
            }
        }
        current = next;
    }
    current
}

/// The array indices a [`follow`] took, in order. Held inline (a reference field's path has
/// few arrays), so that following a path through thousands of items allocates nothing per item.
#[derive(Debug, Clone, Default)]
struct Followed {
    indices: smallvec::SmallVec<[usize; 4]>,
}

impl Followed {
    /// The JSON pointer of the node reached by `path` through these indices.
    fn pointer(&self, path: &[Step]) -> String {
        let mut indices = self.indices.iter();
        let tokens: Vec<Token<'_>> = path
            .iter()
            .filter_map(|step| match step {
                Step::Key(key) => Some(Token::Key(key)),
                Step::Items => indices.next().map(|i| Token::Index(*i)),
            })
            .collect();
        pointer_of(&tokens)
    }
}
