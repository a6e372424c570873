//! The evaluator: runs compiled rules ([`crate::ir`]) over a manifest tree.
//!
//! Values keep their origin (the tree node they came from), so a finding `at` a value gets
//! that value's pointer, line and column. Absence is a value: a missing field or a field of
//! absence is `none`, never an error. A lookup by an id that names no entity (a dangling
//! reference) is not absence: the structural checks report it at the referring field, and the
//! rule does not apply to the binding that needed it, so no finding follows from another
//! (no cascades). Every evaluation step is counted, so tests can show that joins are linear.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::rc::Rc;

use crate::ir::{
    ArithOp, Builtin, Bundle, Clause, CmpOp, Expr, Lit, Part, QuantKind, Report, Rule, Template,
};
use crate::report::Finding;
use crate::source::LineIndex;
use crate::value::{Node, Text, Value, push_pointer, same_key};

/// A runtime value.
#[derive(Debug, Clone)]
pub enum Val<'a> {
    /// Absence.
    None,
    /// A computed boolean.
    Bool(bool),
    /// A computed integer.
    Int(i64),
    /// A computed number.
    Num(f64),
    /// A computed string, with the node it was derived from.
    Str(Cow<'a, str>, Option<&'a Node>),
    /// A value of the manifest.
    Node(&'a Node),
    /// A computed list.
    List(Rc<Vec<Val<'a>>>),
}

/// A key of an index: the scalar values a join can match on. Strings of the manifest and of the
/// rules are borrowed; only computed ones are copied. Strings compare by [`same_key`], not
/// `memcmp` (see [`Text`]).
#[derive(Debug, Clone, Eq)]
enum Key<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Bool(bool),
}

impl PartialEq for Key<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Key::Str(a), Key::Str(b)) => same_key(a, b),
            (Key::Int(a), Key::Int(b)) => a == b,
            (Key::Bool(a), Key::Bool(b)) => a == b,
            _ => false,
        }
    }
}

impl std::hash::Hash for Key<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Key::Str(s) => s.hash(state),
            Key::Int(i) => i.hash(state),
            Key::Bool(b) => b.hash(state),
        }
    }
}

/// A key path of a join as the key of the index cache: its fields compared by [`same_key`].
#[derive(Debug, Clone, Copy, Eq)]
struct KeyPath<'a>(&'a [String]);

impl PartialEq for KeyPath<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(other.0).all(|(a, b)| same_key(a, b))
    }
}

impl std::hash::Hash for KeyPath<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// The items of a list value, read in place: a list of the manifest is not copied.
#[derive(Clone)]
enum Items<'a> {
    /// An array of the manifest.
    Nodes(&'a [Node]),
    /// A computed list.
    Vals(Rc<Vec<Val<'a>>>),
    /// The entries of an index under one key.
    Refs(Rc<[&'a Node]>),
}

impl<'a> Items<'a> {
    const NONE: Items<'static> = Items::Nodes(&[]);

    fn len(&self) -> usize {
        match self {
            Items::Nodes(nodes) => nodes.len(),
            Items::Vals(vals) => vals.len(),
            Items::Refs(refs) => refs.len(),
        }
    }

    fn get(&self, i: usize) -> Option<Val<'a>> {
        match self {
            Items::Nodes(nodes) => nodes.get(i).map(Val::Node),
            Items::Vals(vals) => vals.get(i).cloned(),
            Items::Refs(refs) => refs.get(i).map(|node| Val::Node(node)),
        }
    }

    fn iter(&self) -> impl Iterator<Item = Val<'a>> + '_ {
        (0..self.len()).map_while(|i| self.get(i))
    }
}

impl<'a> IntoIterator for Items<'a> {
    type Item = Val<'a>;
    type IntoIter = ItemsIter<'a>;

    fn into_iter(self) -> ItemsIter<'a> {
        ItemsIter {
            items: self,
            next: 0,
        }
    }
}

/// Iterates over [`Items`] by position.
struct ItemsIter<'a> {
    items: Items<'a>,
    next: usize,
}

impl<'a> Iterator for ItemsIter<'a> {
    type Item = Val<'a>;

    fn next(&mut self) -> Option<Val<'a>> {
        let item = self.items.get(self.next)?;
        self.next += 1;
        Some(item)
    }
}

impl<'a> Val<'a> {
    fn origin(&self) -> Option<&'a Node> {
        match self {
            Val::Node(n) => Some(n),
            Val::Str(_, origin) => *origin,
            _ => None,
        }
    }

    fn is_none(&self) -> bool {
        matches!(self, Val::None)
            || matches!(
                self,
                Val::Node(Node {
                    value: Value::Null,
                    ..
                })
            )
    }

    fn truthy(&self) -> bool {
        match self {
            Val::Bool(b) => *b,
            Val::Node(Node {
                value: Value::Bool(b),
                ..
            }) => *b,
            _ => false,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s, _) => Some(s),
            Val::Node(n) => n.as_str(),
            _ => None,
        }
    }

    fn as_num(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Num(f) => Some(*f),
            Val::Node(Node {
                value: Value::Number(n),
                ..
            }) => n.as_f64(),
            _ => None,
        }
    }

    fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Node(Node {
                value: Value::Number(n),
                ..
            }) => n.as_i64(),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            Val::Node(Node {
                value: Value::Bool(b),
                ..
            }) => Some(*b),
            _ => None,
        }
    }

    fn key(&self) -> Option<Key<'a>> {
        if let Val::Str(Cow::Borrowed(s), _) = self {
            Some(Key::Str(Cow::Borrowed(s)))
        } else if let Val::Node(Node {
            value: Value::String(s),
            ..
        }) = self
        {
            Some(Key::Str(Cow::Borrowed(s)))
        } else if let Some(s) = self.as_str() {
            Some(Key::Str(Cow::Owned(s.to_string())))
        } else if let Some(i) = self.as_int() {
            Some(Key::Int(i))
        } else {
            self.as_bool().map(Key::Bool)
        }
    }

    /// The items of a list (none for anything else).
    fn items(&self) -> Items<'a> {
        match self {
            Val::Node(Node {
                value: Value::Array(items),
                ..
            }) => Items::Nodes(items),
            Val::List(items) => Items::Vals(Rc::clone(items)),
            _ => Items::NONE,
        }
    }

    fn field(&self, name: &str) -> Val<'a> {
        match self {
            Val::Node(node) => node.get(name).map_or(Val::None, |e| Val::Node(&e.value)),
            _ => Val::None,
        }
    }

    fn render(&self) -> String {
        if let Some(s) = self.as_str() {
            return s.to_string();
        }
        if let Some(b) = self.as_bool() {
            return b.to_string();
        }
        if let Some(i) = self.as_int() {
            return i.to_string();
        }
        if let Some(f) = self.as_num() {
            return f.to_string();
        }
        match self {
            Val::List(_)
            | Val::Node(Node {
                value: Value::Array(_),
                ..
            }) => self
                .items()
                .iter()
                .map(|item| item.render())
                .collect::<Vec<_>>()
                .join(", "),
            Val::Node(
                node @ Node {
                    value: Value::Object(_),
                    ..
                },
            ) => node
                .get("id")
                .or_else(|| node.get("fqdn"))
                .and_then(|e| e.value.as_str())
                .unwrap_or("object")
                .to_string(),
            _ => "none".to_string(),
        }
    }
}

fn equal(a: &Val<'_>, b: &Val<'_>) -> bool {
    if a.is_none() || b.is_none() {
        return a.is_none() && b.is_none();
    }
    if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
        return same_key(x, y);
    }
    if let (Some(x), Some(y)) = (a.as_num(), b.as_num()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_bool(), b.as_bool()) {
        return x == y;
    }
    let is_list = |v: &Val<'_>| {
        matches!(
            v,
            Val::List(_)
                | Val::Node(Node {
                    value: Value::Array(_),
                    ..
                })
        )
    };
    match (a, b) {
        (Val::Node(x), Val::Node(y)) if matches!(x.value, Value::Object(_)) => std::ptr::eq(*x, *y),
        _ if is_list(a) && is_list(b) => {
            let (xs, ys) = (a.items(), b.items());
            xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| equal(&x, &y))
        }
        _ => false,
    }
}

/// What a rule did on one manifest: how many findings, and for each `where` clause and each
/// `report ... when` condition how often it held and how often it did not (the branches
/// `pchat-guard test --coverage` counts).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleCoverage {
    /// Findings the rule produced.
    pub findings: u64,
    /// Per `where` clause in body order, then per `when` of the reports in order:
    /// `[times true, times false]`.
    pub wheres: Vec<[u64; 2]>,
}

impl RuleCoverage {
    /// Nothing seen yet, for a rule: a pair of counts per `where` and per `report ... when`.
    pub fn none_for(rule: &Rule) -> Self {
        let wheres = rule
            .body
            .iter()
            .filter(|c| matches!(c, Clause::Where(_)))
            .count()
            + rule.reports.iter().filter(|r| r.when.is_some()).count();
        RuleCoverage {
            findings: 0,
            wheres: vec![[0, 0]; wheres],
        }
    }
}

/// The items of a collection grouped by the value at a field path.
type Index<'a> = HashMap<Key<'a>, Rc<[&'a Node]>>;

/// Runs rules over one manifest.
pub struct Evaluator<'a> {
    root: &'a Node,
    steps: u64,
    /// By rule, in the order the rules ran; `current` is the one running.
    coverage: Vec<(&'a str, RuleCoverage)>,
    current: usize,
    ids: HashMap<Text<'a>, Rc<HashMap<Text<'a>, &'a Node>>>,
    /// By collection, then by key path.
    indexes: HashMap<Text<'a>, HashMap<KeyPath<'a>, Rc<Index<'a>>>>,
    pointers: Option<HashMap<usize, String>>,
    /// Set when a lookup met a dangling reference; the binding being evaluated is dropped.
    dangling: bool,
    /// The slots bound by an `Expr::Let` whose value met a dangling reference: reading one
    /// sets `dangling`, as reading the value in its place would.
    tainted: Vec<u32>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator over a manifest tree.
    pub fn new(root: &'a Node) -> Self {
        Evaluator {
            root,
            steps: 0,
            coverage: Vec::new(),
            current: 0,
            ids: HashMap::default(),
            indexes: HashMap::default(),
            pointers: None,
            dangling: false,
            tainted: Vec::new(),
        }
    }

    /// Evaluation steps taken so far (each expression evaluated, each item indexed).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Runs every rule of a bundle; returns the findings.
    pub fn run(&mut self, bundle: &'a Bundle, index: &LineIndex<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for rule in &bundle.rules {
            // A rule run again (another run with the same pack) starts its counts afresh.
            let fresh = (rule.id.as_str(), RuleCoverage::none_for(rule));
            self.current = match self.coverage.iter().position(|(id, _)| *id == rule.id) {
                Some(i) => {
                    if let Some(place) = self.coverage.get_mut(i) {
                        *place = fresh;
                    }
                    i
                }
                None => {
                    self.coverage.push(fresh);
                    self.coverage.len() - 1
                }
            };
            self.dangling = false;
            self.tainted.clear();
            let mut env = vec![Val::None; rule.slots as usize];
            let before = out.len();
            self.clauses(rule, 0, 0, &mut env, None, index, &mut out);
            if let Some((_, c)) = self.coverage.get_mut(self.current) {
                c.findings = (out.len() - before) as u64;
            }
        }
        out
    }

    /// What each rule did in the runs so far, by rule id.
    pub fn coverage(&self) -> std::collections::BTreeMap<String, RuleCoverage> {
        self.coverage
            .iter()
            .map(|(id, c)| (id.to_string(), c.clone()))
            .collect()
    }

    /// Runs the body from clause `i` on; `wheres` is the number of `where` clauses before it.
    #[allow(clippy::too_many_arguments)]
    fn clauses(
        &mut self,
        rule: &'a Rule,
        i: usize,
        wheres: usize,
        env: &mut Vec<Val<'a>>,
        subject: Option<&'a Node>,
        index: &LineIndex<'_>,
        out: &mut Vec<Finding>,
    ) {
        match rule.body.get(i) {
            None => self.reports(rule, wheres, env, subject, index, out),
            Some(Clause::For { slot, source }) => {
                let items = self.eval(source, env).items();
                if self.take_dangling() {
                    return;
                }
                for item in items {
                    let origin = item.origin().or(subject);
                    set(env, *slot, item);
                    self.clauses(rule, i + 1, wheres, env, origin, index, out);
                }
            }
            Some(Clause::Let { slot, value }) => {
                let v = self.eval(value, env);
                if self.take_dangling() {
                    return;
                }
                set(env, *slot, v);
                self.clauses(rule, i + 1, wheres, env, subject, index, out);
            }
            Some(Clause::Where(condition)) => {
                let held = self.eval(condition, env).truthy();
                if self.take_dangling() {
                    return;
                }
                self.count_branch(wheres, held);
                if held {
                    self.clauses(rule, i + 1, wheres + 1, env, subject, index, out);
                }
            }
        }
    }

    /// Marks a slot as tainted (or not) by a dangling reference; whether it was.
    fn taint(&mut self, slot: u32, tainted: bool) -> bool {
        let position = self.tainted.iter().position(|s| *s == slot);
        match (position, tainted) {
            (None, true) => self.tainted.push(slot),
            (Some(i), false) => {
                self.tainted.swap_remove(i);
            }
            _ => {}
        }
        position.is_some()
    }

    /// Whether a dangling reference was met since the last call (and forgets it).
    fn take_dangling(&mut self) -> bool {
        std::mem::take(&mut self.dangling)
    }

    /// Counts the `nth` branch of the running rule.
    fn count_branch(&mut self, nth: usize, held: bool) {
        if let Some([held_count, failed_count]) = self
            .coverage
            .get_mut(self.current)
            .and_then(|(_, c)| c.wheres.get_mut(nth))
        {
            if held {
                *held_count += 1;
            } else {
                *failed_count += 1;
            }
        }
    }

    /// The findings of every `report` clause for one binding of the body.
    /// `wheres` is the number of the body's `where` clauses.
    fn reports(
        &mut self,
        rule: &'a Rule,
        wheres: usize,
        env: &mut [Val<'a>],
        subject: Option<&'a Node>,
        index: &LineIndex<'_>,
        out: &mut Vec<Finding>,
    ) {
        // The `when` branches are counted after the body's `where` clauses.
        let mut nth = wheres;
        for report in &rule.reports {
            let branch = report.when.as_ref().map(|_| {
                nth += 1;
                nth - 1
            });
            // One round per item of `each`, or one round without an item (no allocation).
            let (each_slot, items) = match &report.each {
                Some((slot, source)) => {
                    let items = self.eval(source, env).items();
                    if self.take_dangling() {
                        continue;
                    }
                    (Some(*slot), items)
                }
                None => (None, Items::NONE),
            };
            let mut items = items.into_iter();
            let mut rounds = 0usize;
            loop {
                let item = match each_slot {
                    Some(slot) => match items.next() {
                        Some(value) => Some((slot, value)),
                        None => break,
                    },
                    None if rounds == 0 => None,
                    None => break,
                };
                rounds += 1;
                let mut item_subject = subject;
                if let Some((slot, value)) = item {
                    item_subject = value.origin().or(subject);
                    set(env, slot, value);
                }
                if let (Some(condition), Some(branch)) = (&report.when, branch) {
                    let held = self.eval(condition, env).truthy();
                    if self.take_dangling() {
                        continue;
                    }
                    self.count_branch(branch, held);
                    if !held {
                        continue;
                    }
                }
                let finding = self.finding(rule, report, env, item_subject, index);
                if !self.take_dangling() {
                    out.push(finding);
                }
            }
        }
    }

    fn finding(
        &mut self,
        rule: &'a Rule,
        report: &'a Report,
        env: &mut [Val<'a>],
        subject: Option<&'a Node>,
        index: &LineIndex<'_>,
    ) -> Finding {
        let at = self.eval(&report.at, env);
        let node = at.origin().or(subject).unwrap_or(self.root);
        let message = self.eval(&report.message, env).render();
        let help = report.help.as_ref().map(|h| self.eval(h, env).render());
        Finding {
            code: rule.id.clone(),
            severity: rule.severity,
            message,
            pointer: self.pointer_of(node),
            location: index.location(node.span),
            label: Some(rule.title.clone()),
            help,
            related: None,
            waived: None,
            fingerprint: None,
        }
    }

    fn template(&mut self, template: &'a Template, env: &mut [Val<'a>]) -> String {
        let mut text = String::new();
        for part in &template.parts {
            match part {
                Part::Text(t) => text.push_str(t),
                Part::Expr(e) => text.push_str(&self.eval(e, env).render()),
            }
        }
        text
    }

    /// The JSON pointer of a node of the tree. The node is found by descending from the root
    /// through the children whose span holds its span (a few steps); where that does not reach
    /// it (a YAML alias copies its anchor's spans), a map of every node's pointer is built once.
    fn pointer_of(&mut self, node: &Node) -> String {
        if let Some(pointer) = pointer_by_span(self.root, node) {
            return pointer;
        }
        let root = self.root;
        let pointers = self.pointers.get_or_insert_with(|| {
            let mut map = HashMap::default();
            let mut pending = vec![(root, String::new())];
            while let Some((n, pointer)) = pending.pop() {
                match &n.value {
                    Value::Object(entries) => {
                        for e in entries {
                            pending.push((&e.value, push_pointer(&pointer, &e.key)));
                        }
                    }
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            pending.push((item, format!("{pointer}/{i}")));
                        }
                    }
                    _ => {}
                }
                map.insert(n as *const Node as usize, pointer);
            }
            map
        });
        pointers
            .get(&(node as *const Node as usize))
            .cloned()
            .unwrap_or_default()
    }

    fn ids(&mut self, collection: &'a str) -> Rc<HashMap<Text<'a>, &'a Node>> {
        if let Some(ids) = self.ids.get(&Text(collection)) {
            return Rc::clone(ids);
        }
        let mut map = HashMap::default();
        for item in Val::Node(self.root).field(collection).items() {
            self.steps += 1;
            if let Val::Node(node) = item
                && let Some(id) = node.get("id").and_then(|e| e.value.as_str())
            {
                map.entry(Text(id)).or_insert(node);
            }
        }
        let map = Rc::new(map);
        self.ids.insert(Text(collection), Rc::clone(&map));
        map
    }

    fn index(&mut self, collection: &'a str, path: &'a [String]) -> Rc<Index<'a>> {
        if let Some(index) = self
            .indexes
            .get(&Text(collection))
            .and_then(|by_path| by_path.get(&KeyPath(path)))
        {
            return Rc::clone(index);
        }
        let mut map: HashMap<Key<'a>, Vec<&'a Node>> = HashMap::default();
        for item in Val::Node(self.root).field(collection).items() {
            self.steps += 1;
            let Val::Node(node) = item else { continue };
            let value = path.iter().fold(Val::Node(node), |v, f| v.field(f));
            // A list is indexed by each of its items (for `e in x.list`); an item whose list
            // holds a key twice is listed once. Every candidate is checked against the whole
            // condition, so an index only ever narrows a scan.
            let keys = match &value {
                Val::Node(Node {
                    value: Value::Array(_),
                    ..
                }) => value.items().iter().filter_map(|item| item.key()).collect(),
                _ => value.key().into_iter().collect::<Vec<_>>(),
            };
            for key in keys {
                let nodes = map.entry(key).or_default();
                if nodes.last().is_none_or(|last| !std::ptr::eq(*last, node)) {
                    nodes.push(node);
                }
            }
        }
        let map: Rc<Index<'a>> = Rc::new(
            map.into_iter()
                .map(|(key, nodes)| (key, Rc::from(nodes)))
                .collect(),
        );
        self.indexes
            .entry(Text(collection))
            .or_default()
            .insert(KeyPath(path), Rc::clone(&map));
        map
    }

    /// The node an expression names when it is a variable, the root or a field of one (`None`
    /// inside for absence or a value that is not the manifest's), found without copying a
    /// value, and with the steps and the dangling references `eval` would count. `None` when
    /// the expression is anything else; nothing is evaluated then.
    fn place(&mut self, expr: &'a Expr, env: &[Val<'a>]) -> Option<Option<&'a Node>> {
        match expr {
            Expr::Var(slot) => {
                self.steps += 1;
                if self.tainted.contains(slot) {
                    self.dangling = true;
                }
                Some(match env.get(*slot as usize) {
                    Some(Val::Node(node)) => Some(*node),
                    _ => None,
                })
            }
            Expr::Root => {
                self.steps += 1;
                Some(Some(self.root))
            }
            Expr::Field(object, name) => {
                let object = self.place(object, env)?;
                self.steps += 1;
                Some(object.and_then(|n| n.get(name)).map(|e| &e.value))
            }
            _ => None,
        }
    }

    /// Evaluates an expression.
    pub fn eval(&mut self, expr: &'a Expr, env: &mut [Val<'a>]) -> Val<'a> {
        self.steps += 1;
        match expr {
            Expr::Lit(Lit::None) => Val::None,
            Expr::Lit(Lit::Bool(b)) => Val::Bool(*b),
            Expr::Lit(Lit::Int(i)) => Val::Int(*i),
            Expr::Lit(Lit::Str(s)) => Val::Str(Cow::Borrowed(s), None),
            Expr::Var(slot) => {
                if self.tainted.contains(slot) {
                    self.dangling = true;
                }
                env.get(*slot as usize).cloned().unwrap_or(Val::None)
            }
            Expr::Root => Val::Node(self.root),
            Expr::Field(object, name) => match self.place(object, env) {
                Some(node) => node
                    .and_then(|n| n.get(name))
                    .map_or(Val::None, |e| Val::Node(&e.value)),
                None => self.eval(object, env).field(name),
            },
            Expr::Lookup {
                collection,
                key,
                probe,
            } => {
                let key = self.eval(key, env);
                if key.is_none() {
                    return Val::None;
                }
                let found = key
                    .as_str()
                    .and_then(|id| self.ids(collection).get(&Text(id)).copied());
                match found {
                    Some(node) => Val::Node(node),
                    None => {
                        // INVARIANT: an id that names nothing is reported by the structural
                        // checks; the rule must not also fire on its account.
                        self.dangling |= !probe;
                        Val::None
                    }
                }
            }
            Expr::List(items) => {
                Val::List(Rc::new(items.iter().map(|e| self.eval(e, env)).collect()))
            }
            Expr::Not(e) => Val::Bool(!self.eval(e, env).truthy()),
            Expr::And(es) => Val::Bool(es.iter().all(|e| self.eval(e, env).truthy())),
            Expr::Or(es) => Val::Bool(es.iter().any(|e| self.eval(e, env).truthy())),
            Expr::Cmp(op, a, b) => {
                let (a, b) = (self.eval(a, env), self.eval(b, env));
                Val::Bool(compare(*op, &a, &b))
            }
            Expr::Arith(op, a, b) => {
                let (a, b) = (self.eval(a, env), self.eval(b, env));
                match (a.as_int(), b.as_int()) {
                    (Some(x), Some(y)) => match op {
                        ArithOp::Add => x.checked_add(y),
                        ArithOp::Sub => x.checked_sub(y),
                        ArithOp::Mul => x.checked_mul(y),
                    }
                    .map_or(Val::None, Val::Int),
                    _ => Val::None,
                }
            }
            Expr::In(item, list) => {
                let item = self.eval(item, env);
                if let Expr::List(items) = &**list {
                    // A list written out: each item evaluated (as building the list would) and
                    // compared, without building it.
                    self.steps += 1;
                    let mut found = false;
                    for e in items {
                        let value = self.eval(e, env);
                        found = found || equal(&item, &value);
                    }
                    return Val::Bool(found);
                }
                let list = self.eval(list, env);
                Val::Bool(match &list {
                    Val::List(items) => items.iter().any(|x| equal(&item, x)),
                    Val::Node(Node {
                        value: Value::Array(items),
                        ..
                    }) => items.iter().any(|x| equal(&item, &Val::Node(x))),
                    _ => false,
                })
            }
            Expr::Format(template) => Val::Str(Cow::Owned(self.template(template, env)), None),
            Expr::If(condition, then, otherwise) => {
                if self.eval(condition, env).truthy() {
                    self.eval(then, env)
                } else {
                    self.eval(otherwise, env)
                }
            }
            Expr::Call(Builtin::Coalesce, args) => {
                for arg in args {
                    let value = self.eval(arg, env);
                    if !value.is_none() {
                        return value;
                    }
                }
                Val::None
            }
            Expr::Call(builtin, args) => {
                // Every argument is evaluated; the built-ins other than `coalesce` read two.
                let mut args = args.iter();
                let receiver = args.next().map_or(Val::None, |a| self.eval(a, env));
                let argument = args.next().map_or(Val::None, |a| self.eval(a, env));
                for rest in args {
                    self.eval(rest, env);
                }
                call(*builtin, receiver, argument)
            }
            Expr::Let { slot, value, body } => {
                // The value is computed once, but a dangling reference in it counts only where
                // the body reads the slot: the same answer as the value written at each read.
                let outer = self.take_dangling();
                let bound = self.eval(value, env);
                let dangled = std::mem::replace(&mut self.dangling, outer);
                let saved = env.get(*slot as usize).cloned().unwrap_or(Val::None);
                let was_tainted = self.taint(*slot, dangled);
                set(env, *slot, bound);
                let result = self.eval(body, env);
                set(env, *slot, saved);
                self.taint(*slot, was_tainted);
                result
            }
            Expr::Quant {
                kind,
                slot,
                source,
                body,
            } => {
                let items = self.eval(source, env).items();
                self.quantify(*kind, *slot, items, body, env)
            }
            Expr::Join {
                kind,
                slot,
                collection,
                key_path,
                key,
                body,
            } => {
                let key = self.eval(key, env).key();
                let candidates = match key {
                    Some(k) => self
                        .index(collection, key_path)
                        .get(&k)
                        .map_or(Items::NONE, |nodes| Items::Refs(Rc::clone(nodes))),
                    None => Val::Node(self.root).field(collection).items(),
                };
                self.quantify(*kind, *slot, candidates, body, env)
            }
        }
    }

    fn quantify(
        &mut self,
        kind: QuantKind,
        slot: u32,
        items: Items<'a>,
        body: &'a Expr,
        env: &mut [Val<'a>],
    ) -> Val<'a> {
        let saved = env.get(slot as usize).cloned().unwrap_or(Val::None);
        let mut result = match kind {
            QuantKind::Any => Val::Bool(false),
            QuantKind::All => Val::Bool(true),
            QuantKind::Count => Val::Int(0),
            QuantKind::Filter | QuantKind::Map => Val::List(Rc::new(Vec::new())),
        };
        let mut collected = Vec::new();
        let mut count = 0i64;
        for item in items {
            set(env, slot, item.clone());
            let value = self.eval(body, env);
            match kind {
                QuantKind::Any if value.truthy() => {
                    result = Val::Bool(true);
                    break;
                }
                QuantKind::All if !value.truthy() => {
                    result = Val::Bool(false);
                    break;
                }
                QuantKind::Count if value.truthy() => count += 1,
                QuantKind::Filter if value.truthy() => collected.push(item),
                QuantKind::Map => collected.push(value),
                _ => {}
            }
        }
        match kind {
            QuantKind::Count => result = Val::Int(count),
            QuantKind::Filter | QuantKind::Map => result = Val::List(Rc::new(collected)),
            _ => {}
        }
        set(env, slot, saved);
        result
    }
}

/// The pointer of `target` found by descending from `root` through the children whose span
/// holds the target's, or none when that path does not reach this very node.
fn pointer_by_span(root: &Node, target: &Node) -> Option<String> {
    let holds = |n: &Node| n.span.start <= target.span.start && target.span.end <= n.span.end;
    let mut node = root;
    let mut pointer = String::new();
    // Bounded by the tree's depth; each step goes one level down.
    while !std::ptr::eq(node, target) {
        match &node.value {
            Value::Object(entries) => {
                // Keys in source order: the last one starting at or before the target.
                let i = entries.partition_point(|e| e.value.span.start <= target.span.start);
                let entry = entries.get(i.checked_sub(1)?).filter(|e| holds(&e.value))?;
                pointer = push_pointer(&pointer, &entry.key);
                node = &entry.value;
            }
            Value::Array(items) => {
                let i = items.partition_point(|n| n.span.start <= target.span.start);
                let i = i.checked_sub(1)?;
                let item = items.get(i).filter(|n| holds(n))?;
                pointer = format!("{pointer}/{i}");
                node = item;
            }
            _ => return None,
        }
    }
    Some(pointer)
}

fn set<'a>(env: &mut [Val<'a>], slot: u32, value: Val<'a>) {
    if let Some(place) = env.get_mut(slot as usize) {
        *place = value;
    }
}

fn compare(op: CmpOp, a: &Val<'_>, b: &Val<'_>) -> bool {
    match op {
        CmpOp::Eq => equal(a, b),
        CmpOp::Ne => !equal(a, b),
        _ => {
            let ordering = match (a.as_num(), b.as_num(), a.as_str(), b.as_str()) {
                (Some(x), Some(y), _, _) => x.partial_cmp(&y),
                (_, _, Some(x), Some(y)) => Some(x.cmp(y)),
                _ => None,
            };
            match ordering {
                Some(o) => match op {
                    CmpOp::Lt => o.is_lt(),
                    CmpOp::Le => o.is_le(),
                    CmpOp::Gt => o.is_gt(),
                    CmpOp::Ge => o.is_ge(),
                    CmpOp::Eq | CmpOp::Ne => false,
                },
                None => false,
            }
        }
    }
}

fn call<'a>(builtin: Builtin, receiver: Val<'a>, argument: Val<'a>) -> Val<'a> {
    match builtin {
        Builtin::StartsWith | Builtin::EndsWith | Builtin::Contains => {
            match (receiver.as_str(), argument.as_str()) {
                (Some(s), Some(p)) => Val::Bool(match builtin {
                    Builtin::StartsWith => s.starts_with(p),
                    Builtin::EndsWith => s.ends_with(p),
                    _ => s.contains(p),
                }),
                _ => Val::Bool(false),
            }
        }
        Builtin::Lower => match receiver.as_str() {
            Some(s) => Val::Str(Cow::Owned(s.to_lowercase()), receiver.origin()),
            None => Val::None,
        },
        Builtin::Count => Val::Int(receiver.items().len() as i64),
        Builtin::Distinct => {
            let mut out: Vec<Val<'a>> = Vec::new();
            for item in receiver.items() {
                if !item.is_none() && !out.iter().any(|x| equal(x, &item)) {
                    out.push(item);
                }
            }
            Val::List(Rc::new(out))
        }
        // Answered in `eval`, which evaluates the arguments only up to the first present one.
        Builtin::Coalesce => {
            if receiver.is_none() {
                argument
            } else {
                receiver
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Limits, parse_json};

    fn lit(i: i64) -> Box<Expr> {
        Box::new(Expr::Lit(Lit::Int(i)))
    }

    fn lookup(key: &str) -> Box<Expr> {
        Box::new(Expr::Lookup {
            collection: "sql_instances".into(),
            key: Box::new(Expr::Lit(Lit::Str(key.into()))),
            probe: false,
        })
    }

    const MANIFEST: &str = r#"{"sql_instances": [{"id": "sql", "port": 1433}]}"#;

    #[test]
    fn a_let_binds_its_value_for_its_body_and_restores_the_slot() {
        let root = parse_json(MANIFEST, &Limits::default()).unwrap();
        let mut evaluator = Evaluator::new(&root);
        let mut env = vec![Val::Int(7)];
        let expr = Expr::Let {
            slot: 0,
            value: Box::new(Expr::Arith(ArithOp::Add, lit(1), lit(2))),
            body: Box::new(Expr::Arith(
                ArithOp::Mul,
                Box::new(Expr::Var(0)),
                Box::new(Expr::Var(0)),
            )),
        };
        assert!(matches!(evaluator.eval(&expr, &mut env), Val::Int(9)));
        assert!(matches!(env[0], Val::Int(7)));
        assert!(!evaluator.take_dangling());
    }

    #[test]
    fn a_dangling_value_counts_only_where_the_body_reads_it() {
        let root = parse_json(MANIFEST, &Limits::default()).unwrap();
        let mut evaluator = Evaluator::new(&root);
        let mut env = vec![Val::None];
        let unread = Expr::Let {
            slot: 0,
            value: lookup("nowhere"),
            body: lit(1),
        };
        assert!(matches!(evaluator.eval(&unread, &mut env), Val::Int(1)));
        assert!(!evaluator.take_dangling(), "the slot was never read");
        let read = Expr::Let {
            slot: 0,
            value: lookup("nowhere"),
            body: Box::new(Expr::Cmp(CmpOp::Eq, Box::new(Expr::Var(0)), lit(1))),
        };
        evaluator.eval(&read, &mut env);
        assert!(evaluator.take_dangling(), "the slot was read");
        let found = Expr::Let {
            slot: 0,
            value: lookup("sql"),
            body: Box::new(Expr::Field(Box::new(Expr::Var(0)), "port".into())),
        };
        assert_eq!(evaluator.eval(&found, &mut env).as_int(), Some(1433));
        assert!(!evaluator.take_dangling());
        // Read through a field (the path found without copying the value), it counts too.
        let through_field = Expr::Let {
            slot: 0,
            value: lookup("nowhere"),
            body: Box::new(Expr::Field(Box::new(Expr::Var(0)), "port".into())),
        };
        assert!(matches!(
            evaluator.eval(&through_field, &mut env),
            Val::None
        ));
        assert!(
            evaluator.take_dangling(),
            "the slot was read through a field"
        );
        // A list written out in `in` has every item evaluated, also after one that matched.
        let listed = Expr::In(
            lit(1),
            Box::new(Expr::List(vec![Expr::Lit(Lit::Int(1)), *lookup("nowhere")])),
        );
        let steps = evaluator.steps();
        assert!(evaluator.eval(&listed, &mut env).truthy());
        assert!(
            evaluator.take_dangling(),
            "the item after the match was evaluated"
        );
        assert_eq!(
            evaluator.steps() - steps,
            6,
            "in, 1, the list, 1, lookup, its key"
        );
        // A dangling reference met before the `let` is kept.
        evaluator.dangling = true;
        evaluator.eval(&unread, &mut env);
        assert!(evaluator.take_dangling());
    }

    fn arith(op: ArithOp, a: i64, b: i64) -> Option<i64> {
        let root = parse_json("{}", &Limits::default()).unwrap();
        let expr = Expr::Arith(op, lit(a), lit(b));
        match Evaluator::new(&root).eval(&expr, &mut []) {
            Val::Int(i) => Some(i),
            Val::None => None,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn arithmetic_is_checked_and_gives_absence_on_overflow() {
        assert_eq!(arith(ArithOp::Add, 2, 3), Some(5));
        assert_eq!(arith(ArithOp::Sub, 2, 3), Some(-1));
        assert_eq!(arith(ArithOp::Mul, -4, 3), Some(-12));
        assert_eq!(arith(ArithOp::Add, i64::MAX, 0), Some(i64::MAX));
        assert_eq!(arith(ArithOp::Add, i64::MAX, 1), None);
        assert_eq!(arith(ArithOp::Sub, i64::MIN, 1), None);
        assert_eq!(arith(ArithOp::Sub, 0, i64::MIN), None);
        assert_eq!(arith(ArithOp::Mul, i64::MAX, 2), None);
        assert_eq!(arith(ArithOp::Mul, i64::MIN, -1), None);
    }

    #[test]
    fn arithmetic_on_anything_but_integers_is_absent() {
        let root = parse_json(r#"{"f": 1.5, "i": 2}"#, &Limits::default()).unwrap();
        let field = |name: &str| Box::new(Expr::Field(Box::new(Expr::Root), name.into()));
        let mut evaluator = Evaluator::new(&root);
        let with_int = Expr::Arith(ArithOp::Add, field("i"), lit(1));
        assert_eq!(evaluator.eval(&with_int, &mut []).as_int(), Some(3));
        let exprs: Vec<Expr> = [
            field("f"),
            field("missing"),
            Box::new(Expr::Lit(Lit::Str("1".into()))),
            Box::new(Expr::Lit(Lit::None)),
        ]
        .into_iter()
        .map(|operand| Expr::Arith(ArithOp::Add, operand, lit(1)))
        .collect();
        for expr in &exprs {
            assert!(matches!(evaluator.eval(expr, &mut []), Val::None));
        }
    }
}
