//! Syntax tree to IR: name resolution, type checking against the manifest schema, lowering.
//!
//! Types come from the JSON Schema: objects know their fields (with "did you mean"), strings
//! know their enum values and the collection they refer to. Helper predicates are inlined at
//! each call (they cannot recurse). Joins `collection.any(x, x.key == e)` become index lookups.

use std::collections::HashMap;

use pchat_guard_engine::Severity;
use pchat_guard_engine::ir::{self, ArithOp, Builtin, CmpOp, Expr, Lit, QuantKind};
use serde_json::Value as Json;

use crate::diagnostic::Sink;
use crate::syntax::{BinOp, ClauseAst, E, EK, PredDecl, ReportAst, RuleDecl, Span, Tpl, TplPart};

/// A static type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Boolean.
    Bool,
    /// Integer; maybe with the values the schema allows.
    Int(IntDomain),
    /// Any number.
    Num,
    /// String; maybe with allowed values, maybe a reference to a collection.
    Str {
        /// Allowed values, when the schema fixes them.
        allowed: Option<Vec<String>>,
        /// The collection the string names an entity of.
        refers: Option<String>,
    },
    /// An object, by the schema pointer of its subschema.
    Obj(String),
    /// A list.
    List(Box<Ty>),
    /// The `none` literal.
    NoneT,
    /// Unknown (after an error): accepted everywhere, so errors do not cascade.
    Unknown,
}

/// The integers a schema field may hold: an `enum`, or a `minimum`/`maximum` range.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntDomain {
    /// The allowed values, when the schema lists them.
    pub allowed: Option<Vec<i64>>,
    /// The smallest allowed value.
    pub minimum: Option<i64>,
    /// The largest allowed value.
    pub maximum: Option<i64>,
}

impl IntDomain {
    /// Any integer (a computed one, or a field without bounds).
    pub const ANY: IntDomain = IntDomain {
        allowed: None,
        minimum: None,
        maximum: None,
    };

    fn of(node: &Json) -> Self {
        IntDomain {
            allowed: node
                .get("enum")
                .and_then(Json::as_array)
                .map(|values| values.iter().filter_map(Json::as_i64).collect()),
            minimum: node.get("minimum").and_then(Json::as_i64),
            maximum: node.get("maximum").and_then(Json::as_i64),
        }
    }

    /// Whether the field can hold `value`.
    fn holds(&self, value: i64) -> bool {
        self.allowed.as_ref().is_none_or(|a| a.contains(&value))
            && self.minimum.is_none_or(|m| value >= m)
            && self.maximum.is_none_or(|m| value <= m)
    }

    /// What the field can hold, for a help text.
    fn describe(&self) -> String {
        match (&self.allowed, self.minimum, self.maximum) {
            (Some(a), _, _) => format!(
                "allowed: {}",
                a.iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, Some(lo), Some(hi)) => format!("the field holds {lo} to {hi}"),
            (None, Some(lo), None) => format!("the field holds {lo} or more"),
            (None, None, Some(hi)) => format!("the field holds {hi} or less"),
            (None, None, None) => String::new(),
        }
    }
}

fn plain_str() -> Ty {
    Ty::Str {
        allowed: None,
        refers: None,
    }
}

/// The manifest schema, seen as types.
pub struct Types<'s> {
    schema: &'s Json,
}

impl<'s> Types<'s> {
    /// Types from a JSON Schema document.
    pub fn new(schema: &'s Json) -> Self {
        Types { schema }
    }

    fn resolve(&self, pointer: &str) -> (String, Option<&'s Json>) {
        let mut pointer = pointer.to_string();
        for _ in 0..16 {
            let node = self.schema.pointer(&pointer);
            match node
                .and_then(|n| n.get("$ref"))
                .and_then(Json::as_str)
                .and_then(|r| r.strip_prefix('#'))
            {
                Some(target) => pointer = target.to_string(),
                None => return (pointer, node),
            }
        }
        (pointer, None)
    }

    /// The type of the subschema at a pointer.
    pub fn at(&self, pointer: &str) -> Ty {
        let (pointer, node) = self.resolve(pointer);
        let Some(node) = node else { return Ty::Unknown };
        let allowed: Option<Vec<String>> =
            node.get("enum").and_then(Json::as_array).map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            });
        let enum_is_int = node
            .get("enum")
            .and_then(Json::as_array)
            .is_some_and(|v| v.iter().all(Json::is_i64));
        match node.get("type").and_then(Json::as_str) {
            Some("object") => Ty::Obj(pointer),
            Some("array") => Ty::List(Box::new(self.at(&format!("{pointer}/items")))),
            Some("string") => Ty::Str {
                allowed,
                refers: node
                    .get("x-pchat-ref")
                    .and_then(Json::as_str)
                    .map(str::to_string),
            },
            Some("integer") => Ty::Int(IntDomain::of(node)),
            Some("number") => Ty::Num,
            Some("boolean") => Ty::Bool,
            _ if enum_is_int => Ty::Int(IntDomain::of(node)),
            _ if allowed.is_some() => Ty::Str {
                allowed,
                refers: None,
            },
            _ if node.get("properties").is_some() => Ty::Obj(pointer),
            _ => Ty::Unknown,
        }
    }

    /// Field names of an object type.
    fn fields(&self, pointer: &str) -> Vec<String> {
        let (_, node) = self.resolve(pointer);
        node.and_then(|n| n.get("properties"))
            .and_then(Json::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The field names of every object of the schema, sorted.
    fn all_fields(&self) -> Vec<String> {
        let mut out = std::collections::BTreeSet::new();
        let mut pending = vec![self.schema];
        while let Some(node) = pending.pop() {
            match node {
                Json::Object(map) => {
                    if let Some(Json::Object(props)) = map.get("properties") {
                        out.extend(props.keys().cloned());
                    }
                    pending.extend(map.values());
                }
                Json::Array(items) => pending.extend(items),
                _ => {}
            }
        }
        out.into_iter().collect()
    }

    /// Top-level collections whose items carry an `id`.
    fn collections(&self) -> Vec<String> {
        self.fields("")
            .into_iter()
            .filter(|f| {
                self.schema
                    .pointer(&format!("/properties/{f}/items/properties/id"))
                    .is_some()
            })
            .collect()
    }
}

/// A readable name for an object type: `persistent_chat_pools[].servers[]`.
fn type_name(pointer: &str) -> String {
    if pointer.is_empty() {
        return "the manifest".to_string();
    }
    let mut name = String::new();
    for token in pointer.split('/').skip(1) {
        match token {
            "properties" => {}
            "items" => name.push_str("[]"),
            field => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(field);
            }
        }
    }
    format!("`{name}`")
}

fn describe(ty: &Ty) -> String {
    match ty {
        Ty::Bool => "a boolean".to_string(),
        Ty::Int(_) => "an integer".to_string(),
        Ty::Num => "a number".to_string(),
        Ty::Str {
            refers: Some(c), ..
        } => format!("a string (an id in `{c}`)"),
        Ty::Str { .. } => "a string".to_string(),
        Ty::Obj(p) => format!("an object ({})", type_name(p).trim_matches('`')),
        Ty::List(inner) => format!(
            "a list of {}",
            describe(inner)
                .trim_start_matches("a ")
                .trim_start_matches("an ")
        ),
        Ty::NoneT => "`none`".to_string(),
        Ty::Unknown => "a value".to_string(),
    }
}

/// Closest candidate, when close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    pchat_guard_engine::schema::did_you_mean(word, candidates)
}

enum Binding {
    Slot {
        slot: u32,
        ty: Ty,
        used: bool,
        span: Span,
        name: String,
    },
}

/// Checks and lowers the rules of a set of files.
pub struct Checker<'a> {
    types: Types<'a>,
    preds: HashMap<String, (usize, &'a PredDecl)>,
    sink: &'a mut Sink,
    file: usize,
    scopes: Vec<Binding>,
    next_slot: u32,
    pred_stack: Vec<String>,
    called: std::collections::HashSet<String>,
    /// Parameter slots of a helper no rule calls: of no known type, so a field read on one
    /// is checked against every object of the schema instead.
    loose_params: Vec<u32>,
}

const METHODS_LIST: &[&str] = &["any", "all", "count", "filter", "map", "distinct"];
const METHODS_STR: &[&str] = &["starts_with", "ends_with", "contains", "lower"];

impl<'a> Checker<'a> {
    /// A checker over the schema and the helpers of every file.
    pub fn new(
        schema: &'a Json,
        preds: HashMap<String, (usize, &'a PredDecl)>,
        sink: &'a mut Sink,
    ) -> Self {
        Checker {
            types: Types::new(schema),
            preds,
            sink,
            file: 0,
            scopes: Vec::new(),
            next_slot: 0,
            pred_stack: Vec::new(),
            called: std::collections::HashSet::new(),
            loose_params: Vec::new(),
        }
    }

    /// Warns of the helpers no rule calls, and checks their bodies anyway (parameters of any
    /// type), so a mistake in a helper does not wait for its first caller.
    pub fn unused_helpers(&mut self) {
        let mut unused: Vec<(usize, &'a PredDecl)> = self
            .preds
            .iter()
            .filter(|(name, _)| !self.called.contains(*name))
            .map(|(_, helper)| *helper)
            .collect();
        unused.sort_by_key(|(file, p)| (*file, p.name_span));
        for (file, pred) in unused {
            self.sink
                .warning(
                    "PCL101",
                    file,
                    pred.name_span,
                    format!("helper `{}` is never used", pred.name),
                )
                .help("call it from a rule, or remove it");
            self.file = file;
            self.scopes.clear();
            self.next_slot = 0;
            self.loose_params.clear();
            for (param, span) in &pred.params {
                let slot = self.next_slot;
                self.next_slot += 1;
                self.loose_params.push(slot);
                self.scopes.push(Binding::Slot {
                    slot,
                    ty: Ty::Unknown,
                    used: true,
                    span: *span,
                    name: param.clone(),
                });
            }
            self.pred_stack.push(pred.name.clone());
            let _ = self.expr(&pred.body);
            self.pred_stack.pop();
            self.loose_params.clear();
        }
    }

    /// Checks a rule and lowers it; `None` when it has errors.
    pub fn rule(&mut self, file: usize, rule: &RuleDecl) -> Option<ir::Rule> {
        self.file = file;
        self.scopes.clear();
        self.next_slot = 0;
        let errors_before = self.sink.items.len();
        let severity = match rule.severity.as_ref().map(|(s, span)| (s.as_str(), *span)) {
            Some(("error", _)) => Some(Severity::Error),
            Some(("warning", _)) => Some(Severity::Warning),
            Some(("info", _)) => Some(Severity::Info),
            Some((other, span)) => {
                self.sink
                    .error("PCL009", file, span, format!("unknown severity `{other}`"))
                    .help("use `error`, `warning` or `info`");
                None
            }
            None => {
                self.sink
                    .error(
                        "PCL009",
                        file,
                        rule.id_span,
                        format!("rule `{}` has no severity", rule.id),
                    )
                    .help("add `severity error` (or `warning`, `info`)");
                None
            }
        };
        if rule.title.is_none() {
            self.sink
                .error(
                    "PCL009",
                    file,
                    rule.id_span,
                    format!("rule `{}` has no title", rule.id),
                )
                .help("add `title \"...\"`: one line that says what the rule requires");
        }
        if rule.facts.is_empty() {
            self.sink
                .error(
                    "PCL009",
                    file,
                    rule.facts_span.unwrap_or(rule.id_span),
                    format!("rule `{}` cites no facts", rule.id),
                )
                .help("add `facts F1` with the facts the rule rests on");
        }
        for (fact, span) in &rule.facts {
            let valid = fact
                .strip_prefix('F')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !valid {
                self.sink
                    .error("PCL009", file, *span, format!("`{fact}` is not a fact id"))
                    .help("fact ids are `F` and a number, such as `F7`");
            }
        }
        let id_ok = rule.id.split('-').count() >= 2
            && rule.id.split('-').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            });
        if !id_ok {
            self.sink.error("PCL009", file, rule.id_span, format!("`{}` is not a valid rule id", rule.id)).help("rule ids are uppercase words and numbers joined by `-`, such as `PCHAT-HA-001`");
        }
        let mut body = Vec::new();
        for clause in &rule.body {
            match clause {
                ClauseAst::For(name, span, source) => {
                    let (expr, item) = self.list_source(source, "for");
                    let slot = self.bind(name, *span, item);
                    body.push(ir::Clause::For { slot, source: expr });
                }
                ClauseAst::Let(name, span, value) => {
                    let (expr, ty) = self.expr(value);
                    let slot = self.bind(name, *span, ty);
                    body.push(ir::Clause::Let { slot, value: expr });
                }
                ClauseAst::Where(condition) => {
                    let expr = self.condition(condition, "`where`");
                    if matches!(expr, Expr::Lit(Lit::Bool(false))) {
                        self.sink
                            .warning(
                                "PCL102",
                                file,
                                condition.span,
                                format!("rule `{}` can never fire", rule.id),
                            )
                            .label("always false");
                    }
                    body.push(ir::Clause::Where(expr));
                }
            }
        }
        if rule.reports.is_empty() {
            self.sink
                .error(
                    "PCL009",
                    file,
                    rule.id_span,
                    format!("rule `{}` has no `report` clause", rule.id),
                )
                .help("end the rule with `report at <value> message \"...\"`");
            self.unused();
            return None;
        }
        let mut reports = Vec::new();
        for report in &rule.reports {
            reports.push(self.report(&rule.id, report));
        }
        self.unused();
        let failed = self
            .sink
            .items
            .iter()
            .skip(errors_before)
            .any(|d| d.level == crate::diagnostic::Level::Error);
        if failed {
            return None;
        }
        Some(ir::Rule {
            id: rule.id.clone(),
            severity: severity?,
            title: rule
                .title
                .as_ref()
                .map(|(t, _)| t.clone())
                .unwrap_or_default(),
            facts: rule.facts.iter().map(|(f, _)| f.clone()).collect(),
            doc: rule.doc.clone(),
            slots: self.next_slot,
            body,
            reports,
        })
    }

    /// The list a `for` or `report each` goes through, and the type of its items.
    fn list_source(&mut self, source: &E, keyword: &str) -> (Expr, Ty) {
        let (expr, ty) = self.expr(source);
        let item = match ty {
            Ty::List(inner) => *inner,
            Ty::Unknown => Ty::Unknown,
            other => {
                self.sink
                    .error(
                        "PCL004",
                        self.file,
                        source.span,
                        format!("`{keyword}` needs a list, found {}", describe(&other)),
                    )
                    .label("not a list");
                Ty::Unknown
            }
        };
        (expr, item)
    }

    /// Checks and lowers one `report` clause; an `each` variable is in scope in it alone.
    fn report(&mut self, rule_id: &str, report: &ReportAst) -> ir::Report {
        let scope = self.scopes.len();
        let each = report.each.as_ref().map(|(name, span, source)| {
            let (expr, item) = self.list_source(source, "each");
            (self.bind(name, *span, item), expr)
        });
        let when = report.when.as_ref().map(|c| {
            let expr = self.condition(c, "`when`");
            if matches!(expr, Expr::Lit(Lit::Bool(false))) {
                self.sink
                    .warning(
                        "PCL102",
                        self.file,
                        c.span,
                        format!("this report of rule `{rule_id}` can never fire"),
                    )
                    .label("always false");
            }
            expr
        });
        let mut at: Vec<Expr> = report.at.iter().map(|e| self.expr(e).0).collect();
        let at = if at.len() == 1 {
            at.pop().unwrap_or(Expr::Root)
        } else {
            Expr::Call(Builtin::Coalesce, at)
        };
        let (message, message_ty) = self.expr(&report.message);
        self.expect_text(&message_ty, "message", report.message.span);
        let help = report.help.as_ref().map(|h| {
            let (help, help_ty) = self.expr(h);
            self.expect_text(&help_ty, "help", h.span);
            help
        });
        if each.is_some() {
            self.unused_from(scope);
        }
        ir::Report {
            each,
            when,
            at,
            message,
            help,
        }
    }

    /// A `message` or `help` must be text: a string, or a template.
    fn expect_text(&mut self, ty: &Ty, what: &str, span: Span) {
        if !matches!(ty, Ty::Str { .. } | Ty::Unknown) {
            self.sink
                .error(
                    "PCL004",
                    self.file,
                    span,
                    format!("the {what} is {}, not text", describe(ty)),
                )
                .label("expected a string")
                .help(
                    "write a string; put values in it with `{...}`, such as \"pool `{pool.id}`\"",
                );
        }
    }

    fn unused(&mut self) {
        self.unused_from(0);
    }

    /// Warns about the bindings from `scope` on that were never used, and ends their scope.
    fn unused_from(&mut self, scope: usize) {
        let mut unused = Vec::new();
        for Binding::Slot {
            used, span, name, ..
        } in self.scopes.iter().skip(scope)
        {
            if !used && !name.starts_with('_') {
                unused.push((name.clone(), *span));
            }
        }
        for (name, span) in unused {
            self.sink
                .warning("PCL101", self.file, span, format!("`{name}` is never used"))
                .help(format!("remove it, or name it `_{name}`"));
        }
        self.scopes.truncate(scope);
    }

    fn bind(&mut self, name: &str, span: Span, ty: Ty) -> u32 {
        let slot = self.next_slot;
        self.next_slot += 1;
        self.scopes.push(Binding::Slot {
            slot,
            ty,
            used: false,
            span,
            name: name.to_string(),
        });
        slot
    }

    fn template(&mut self, tpl: &Tpl) -> ir::Template {
        let parts = tpl
            .parts
            .iter()
            .map(|p| match p {
                TplPart::Text(t) => ir::Part::Text(t.clone()),
                TplPart::Expr(e) => ir::Part::Expr(self.expr(e).0),
            })
            .collect();
        ir::Template { parts }
    }

    fn condition(&mut self, e: &E, what: &str) -> Expr {
        let (expr, ty) = self.expr(e);
        if !matches!(ty, Ty::Bool | Ty::Unknown) {
            self.sink
                .error(
                    "PCL004",
                    self.file,
                    e.span,
                    format!("{what} needs a condition, found {}", describe(&ty)),
                )
                .label("not a boolean");
        }
        expr
    }

    fn lookup_name(&mut self, name: &str) -> Option<(Expr, Ty)> {
        for binding in self.scopes.iter_mut().rev() {
            match binding {
                Binding::Slot {
                    slot,
                    ty,
                    used,
                    name: n,
                    ..
                } if n == name => {
                    *used = true;
                    return Some((Expr::Var(*slot), ty.clone()));
                }
                Binding::Slot { .. } => {}
            }
        }
        None
    }

    /// Checks an expression; returns its IR and type.
    pub fn expr(&mut self, e: &E) -> (Expr, Ty) {
        let file = self.file;
        match &e.kind {
            EK::Error => (Expr::Lit(Lit::None), Ty::Unknown),
            EK::Int(n) => (Expr::Lit(Lit::Int(*n)), Ty::Int(IntDomain::ANY)),
            EK::Str(s) => (Expr::Lit(Lit::Str(s.clone())), plain_str()),
            EK::Bool(b) => (Expr::Lit(Lit::Bool(*b)), Ty::Bool),
            EK::None => (Expr::Lit(Lit::None), Ty::NoneT),
            EK::Name(name) => {
                if let Some(found) = self.lookup_name(name) {
                    return found;
                }
                let fields = self.types.fields("");
                if fields.iter().any(|f| f == name) {
                    let ty = self.types.at(&format!("/properties/{name}"));
                    return (Expr::Field(Box::new(Expr::Root), name.clone()), ty);
                }
                let mut candidates: Vec<String> = fields;
                candidates.extend(
                    self.scopes
                        .iter()
                        .map(|Binding::Slot { name, .. }| name.clone()),
                );
                let mut d = self
                    .sink
                    .error("PCL003", file, e.span, format!("unknown name `{name}`"))
                    .label("not a variable or a top-level field");
                if let Some(s) = did_you_mean(name, candidates.iter().map(String::as_str)) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                drop(d);
                (Expr::Lit(Lit::None), Ty::Unknown)
            }
            EK::Field(object, field, field_span) => {
                let (object_ir, object_ty) = self.expr(object);
                match object_ty {
                    Ty::Obj(pointer) => {
                        let fields = self.types.fields(&pointer);
                        if fields.iter().any(|f| f == field) {
                            let ty = self.types.at(&format!(
                                "{}/properties/{field}",
                                self.types.resolve(&pointer).0
                            ));
                            (Expr::Field(Box::new(object_ir), field.clone()), ty)
                        } else {
                            let help = match did_you_mean(field, fields.iter().map(String::as_str))
                            {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!(
                                    "fields of {}: {}",
                                    type_name(&pointer),
                                    fields
                                        .iter()
                                        .map(|f| format!("`{f}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            };
                            self.sink
                                .error(
                                    "PCL002",
                                    file,
                                    *field_span,
                                    format!("unknown field `{field}` on {}", type_name(&pointer)),
                                )
                                .label("no such field in the schema")
                                .help(help);
                            (Expr::Lit(Lit::None), Ty::Unknown)
                        }
                    }
                    // A parameter of a helper no rule calls: some object of the schema must
                    // have the field.
                    Ty::Unknown if matches!(&object_ir, Expr::Var(slot) if self.loose_params.contains(slot)) =>
                    {
                        let known = self.types.all_fields();
                        if !known.contains(field) {
                            let mut d = self
                                .sink
                                .error(
                                    "PCL002",
                                    file,
                                    *field_span,
                                    format!("no object of the schema has a field `{field}`"),
                                )
                                .label("no such field in the schema");
                            if let Some(s) = did_you_mean(field, known.iter().map(String::as_str)) {
                                d = d.help(format!("did you mean `{s}`?"));
                            }
                            let _ = d;
                        }
                        (Expr::Field(Box::new(object_ir), field.clone()), Ty::Unknown)
                    }
                    // Unknown after an error, or an item of an empty list: still read the field.
                    Ty::Unknown => (Expr::Field(Box::new(object_ir), field.clone()), Ty::Unknown),
                    Ty::List(_) => {
                        self.sink
                            .error("PCL004", file, *field_span, format!("`{field}` is read from a list"))
                            .label("a list has no fields")
                            .help("go through the items: `.any(x, ...)`, `.all(x, ...)`, `.map(x, x.field)`, or `for x in ...`");
                        (Expr::Lit(Lit::None), Ty::Unknown)
                    }
                    other => {
                        self.sink
                            .error(
                                "PCL004",
                                file,
                                *field_span,
                                format!("`{field}` is read from {}", describe(&other)),
                            )
                            .label("only objects have fields");
                        (Expr::Lit(Lit::None), Ty::Unknown)
                    }
                }
            }
            EK::Index(base, key) => self.index(base, key, e.span),
            EK::Call(callee, args) => self.call(callee, args, e.span),
            EK::Not(inner) => (
                Expr::Not(Box::new(self.condition(inner, "`not`"))),
                Ty::Bool,
            ),
            EK::List(items) => {
                let mut lowered = Vec::new();
                let mut item_ty = Ty::Unknown;
                for item in items {
                    let (ir, ty) = self.expr(item);
                    if item_ty == Ty::Unknown {
                        item_ty = ty;
                    }
                    lowered.push(ir);
                }
                (Expr::List(lowered), Ty::List(Box::new(item_ty)))
            }
            EK::Binary(op, lhs, rhs) => self.binary(*op, lhs, rhs, e.span),
            EK::Template(tpl) => (Expr::Format(self.template(tpl)), plain_str()),
            EK::If(condition, then, otherwise) => {
                let c = self.condition(condition, "`if`");
                let (a, a_ty) = self.expr(then);
                let (b, b_ty) = self.expr(otherwise);
                if !compatible(&a_ty, &b_ty) {
                    self.sink.error(
                        "PCL004",
                        file,
                        e.span,
                        format!(
                            "the branches of `if` differ: {} and {}",
                            describe(&a_ty),
                            describe(&b_ty)
                        ),
                    );
                }
                let ty = join_types(a_ty, b_ty);
                (Expr::If(Box::new(c), Box::new(a), Box::new(b)), ty)
            }
        }
    }

    fn index(&mut self, base: &E, key: &E, span: Span) -> (Expr, Ty) {
        let file = self.file;
        let collections = self.types.collections();
        let collection = match &base.kind {
            EK::Name(n)
                if collections.contains(n)
                    && self
                        .scopes
                        .iter()
                        .all(|b| !matches!(b, Binding::Slot { name, .. } if name == n)) =>
            {
                n.clone()
            }
            _ => {
                self.sink
                    .error(
                        "PCL004",
                        file,
                        base.span,
                        "lookups by id take a top-level collection",
                    )
                    .label("not a collection")
                    .help(format!(
                        "collections: {}",
                        collections
                            .iter()
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                return (Expr::Lit(Lit::None), Ty::Unknown);
            }
        };
        let (key_ir, key_ty) = self.expr(key);
        match &key_ty {
            Ty::Str {
                refers: Some(target),
                ..
            } if *target != collection => {
                self.sink
                    .error(
                        "PCL008",
                        file,
                        key.span,
                        format!("this field refers to `{target}`, not `{collection}`"),
                    )
                    .label(format!("an id in `{target}`"))
                    .help(format!("look it up in `{target}`: `{target}[...]`"));
            }
            Ty::Str { .. } | Ty::Unknown => {}
            other => {
                self.sink
                    .error(
                        "PCL004",
                        file,
                        key.span,
                        format!("an id is a string, found {}", describe(other)),
                    )
                    .label("not an id");
            }
        }
        let _ = span;
        (
            Expr::Lookup {
                collection: collection.clone(),
                key: Box::new(key_ir),
                probe: false,
            },
            self.types.at(&format!("/properties/{collection}/items")),
        )
    }

    fn call(&mut self, callee: &E, args: &[E], span: Span) -> (Expr, Ty) {
        let file = self.file;
        match &callee.kind {
            EK::Name(name) => self.helper(name, callee.span, args, span),
            EK::Field(receiver, method, method_span) => {
                let (receiver_ir, receiver_ty) = self.expr(receiver);
                match receiver_ty {
                    Ty::List(item) => {
                        self.list_method(receiver, receiver_ir, *item, method, *method_span, args)
                    }
                    Ty::Str { .. } => self.str_method(receiver_ir, method, *method_span, args),
                    Ty::Unknown => (Expr::Lit(Lit::None), Ty::Unknown),
                    other => {
                        self.sink.error(
                            "PCL006",
                            file,
                            *method_span,
                            format!("{} has no method `{method}`", describe(&other)),
                        );
                        (Expr::Lit(Lit::None), Ty::Unknown)
                    }
                }
            }
            _ => {
                self.sink.error(
                    "PCL006",
                    file,
                    callee.span,
                    "only helpers and methods can be called",
                );
                (Expr::Lit(Lit::None), Ty::Unknown)
            }
        }
    }

    fn str_method(&mut self, receiver: Expr, method: &str, span: Span, args: &[E]) -> (Expr, Ty) {
        let file = self.file;
        let builtin = match method {
            "starts_with" => Builtin::StartsWith,
            "ends_with" => Builtin::EndsWith,
            "contains" => Builtin::Contains,
            "lower" => Builtin::Lower,
            _ => {
                let mut d = self.sink.error(
                    "PCL006",
                    file,
                    span,
                    format!("strings have no method `{method}`"),
                );
                if let Some(s) = did_you_mean(method, METHODS_STR.iter().copied()) {
                    d = d.help(format!("did you mean `{s}`?"));
                } else {
                    d = d.help("string methods: `starts_with`, `ends_with`, `contains`, `lower`");
                }
                drop(d);
                return (Expr::Lit(Lit::None), Ty::Unknown);
            }
        };
        let wanted = usize::from(builtin != Builtin::Lower);
        if args.len() != wanted {
            self.sink.error(
                "PCL006",
                file,
                span,
                format!(
                    "`{method}` takes {wanted} argument{}",
                    if wanted == 1 { "" } else { "s" }
                ),
            );
            return (Expr::Lit(Lit::None), Ty::Unknown);
        }
        let mut lowered = vec![receiver];
        for arg in args {
            let (ir, ty) = self.expr(arg);
            if !matches!(ty, Ty::Str { .. } | Ty::Unknown) {
                self.sink.error(
                    "PCL004",
                    file,
                    arg.span,
                    format!("`{method}` takes a string, found {}", describe(&ty)),
                );
            }
            lowered.push(ir);
        }
        let ty = if builtin == Builtin::Lower {
            plain_str()
        } else {
            Ty::Bool
        };
        (Expr::Call(builtin, lowered), ty)
    }

    fn list_method(
        &mut self,
        receiver: &E,
        receiver_ir: Expr,
        item: Ty,
        method: &str,
        span: Span,
        args: &[E],
    ) -> (Expr, Ty) {
        let file = self.file;
        let kind = match method {
            "any" => QuantKind::Any,
            "all" => QuantKind::All,
            "count" if args.is_empty() => {
                return (
                    Expr::Call(Builtin::Count, vec![receiver_ir]),
                    Ty::Int(IntDomain::ANY),
                );
            }
            "count" => QuantKind::Count,
            "filter" => QuantKind::Filter,
            "map" => QuantKind::Map,
            "distinct" if args.is_empty() => {
                return (
                    Expr::Call(Builtin::Distinct, vec![receiver_ir]),
                    Ty::List(Box::new(item)),
                );
            }
            _ => {
                let mut d = self.sink.error(
                    "PCL006",
                    file,
                    span,
                    format!("lists have no method `{method}`"),
                );
                d = match did_you_mean(method, METHODS_LIST.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help("list methods: `any(x, cond)`, `all(x, cond)`, `count()`, `count(x, cond)`, `filter(x, cond)`, `map(x, value)`, `distinct()`"),
                };
                drop(d);
                return (Expr::Lit(Lit::None), Ty::Unknown);
            }
        };
        let (Some(var), Some(body), 2) = (args.first(), args.get(1), args.len()) else {
            self.sink.error(
                "PCL006",
                file,
                span,
                format!("`{method}` takes a variable and an expression: `{method}(x, ...)`"),
            );
            return (Expr::Lit(Lit::None), Ty::Unknown);
        };
        let EK::Name(var_name) = &var.kind else {
            self.sink
                .error(
                    "PCL006",
                    file,
                    var.span,
                    format!("the first argument of `{method}` names the item variable"),
                )
                .label("expected a name");
            return (Expr::Lit(Lit::None), Ty::Unknown);
        };
        let slot = self.bind(var_name, var.span, item);
        let (body_ir, body_ty) = self.expr(body);
        if kind != QuantKind::Map && !matches!(body_ty, Ty::Bool | Ty::Unknown) {
            self.sink.error(
                "PCL004",
                file,
                body.span,
                format!(
                    "the condition of `{method}` is {}, not a boolean",
                    describe(&body_ty)
                ),
            );
        }
        let result_ty = match kind {
            QuantKind::Any | QuantKind::All => Ty::Bool,
            QuantKind::Count => Ty::Int(IntDomain::ANY),
            QuantKind::Filter => match self.slot_type(slot) {
                Some(t) => Ty::List(Box::new(t)),
                None => Ty::Unknown,
            },
            QuantKind::Map => Ty::List(Box::new(body_ty)),
        };
        self.end_lambda(slot);
        let _ = receiver;
        let quant = Expr::Quant {
            kind,
            slot,
            source: Box::new(receiver_ir),
            body: Box::new(body_ir),
        };
        (lower_join(quant), result_ty)
    }

    fn slot_type(&self, slot: u32) -> Option<Ty> {
        self.scopes
            .iter()
            .find_map(|Binding::Slot { slot: s, ty, .. }| (*s == slot).then(|| ty.clone()))
    }

    /// Closes a lambda's scope, warning when its variable went unused.
    fn end_lambda(&mut self, slot: u32) {
        if let Some(pos) = self
            .scopes
            .iter()
            .rposition(|b| matches!(b, Binding::Slot { slot: s, .. } if *s == slot))
        {
            let Binding::Slot {
                used, span, name, ..
            } = self.scopes.remove(pos);
            if !used && !name.starts_with('_') {
                self.sink
                    .warning("PCL101", self.file, span, format!("`{name}` is never used"))
                    .help(format!("name it `_{name}`, or use `.count()`"));
            }
        }
    }

    fn helper(&mut self, name: &str, name_span: Span, args: &[E], span: Span) -> (Expr, Ty) {
        let file = self.file;
        if name == "coalesce" && !self.preds.contains_key(name) {
            if args.len() < 2 {
                self.sink.error(
                    "PCL006",
                    file,
                    span,
                    "`coalesce` takes two or more arguments",
                );
                return (Expr::Lit(Lit::None), Ty::Unknown);
            }
            let mut lowered = Vec::new();
            let mut ty = Ty::NoneT;
            for arg in args {
                let (ir, arg_ty) = self.expr(arg);
                if !compatible(&ty, &arg_ty) {
                    self.sink.error(
                        "PCL004",
                        file,
                        arg.span,
                        format!(
                            "`coalesce` mixes {} and {}",
                            describe(&ty),
                            describe(&arg_ty)
                        ),
                    );
                }
                if matches!(ty, Ty::NoneT | Ty::Unknown) {
                    ty = arg_ty;
                }
                lowered.push(ir);
            }
            return (Expr::Call(Builtin::Coalesce, lowered), ty);
        }
        let Some(&(pred_file, pred)) = self.preds.get(name) else {
            let names: Vec<&str> = self.preds.keys().map(String::as_str).collect();
            let mut d = self.sink.error(
                "PCL006",
                file,
                name_span,
                format!("unknown helper `{name}`"),
            );
            if let Some(s) = did_you_mean(name, names) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            drop(d);
            return (Expr::Lit(Lit::None), Ty::Unknown);
        };
        self.called.insert(name.to_string());
        if self.pred_stack.iter().any(|p| p == name) {
            self.sink
                .error(
                    "PCL010",
                    file,
                    name_span,
                    format!("helper `{name}` calls itself"),
                )
                .help("helpers cannot recurse: the language is total");
            return (Expr::Lit(Lit::None), Ty::Unknown);
        }
        if args.len() != pred.params.len() {
            self.sink.error(
                "PCL006",
                file,
                span,
                format!(
                    "`{name}` takes {} argument{}, found {}",
                    pred.params.len(),
                    if pred.params.len() == 1 { "" } else { "s" },
                    args.len()
                ),
            );
            return (Expr::Lit(Lit::None), Ty::Unknown);
        }
        // Inline: bind each parameter to a fresh slot through `let`-like substitution.
        let mut substitutions = Vec::new();
        for (arg, (param, _)) in args.iter().zip(&pred.params) {
            let (ir, ty) = self.expr(arg);
            substitutions.push((param.clone(), ir, ty));
        }
        let saved_scopes = std::mem::take(&mut self.scopes);
        let saved_file = self.file;
        self.file = pred_file;
        let mut slots = Vec::new();
        for (param, ir, ty) in &substitutions {
            let slot = self.next_slot;
            self.next_slot += 1;
            self.scopes.push(Binding::Slot {
                slot,
                ty: ty.clone(),
                used: true,
                span: name_span,
                name: param.clone(),
            });
            slots.push((slot, ir.clone()));
        }
        self.pred_stack.push(name.to_string());
        let (body, ty) = self.expr(&pred.body);
        self.pred_stack.pop();
        self.file = saved_file;
        self.scopes = saved_scopes;
        let body = slots
            .into_iter()
            .rev()
            .fold(body, |body, (slot, arg)| substitute(body, slot, &arg));
        (body, ty)
    }

    fn binary(&mut self, op: BinOp, lhs: &E, rhs: &E, span: Span) -> (Expr, Ty) {
        let file = self.file;
        match op {
            BinOp::And | BinOp::Or => {
                let what = if op == BinOp::And { "`and`" } else { "`or`" };
                let (a, b) = (self.condition(lhs, what), self.condition(rhs, what));
                let flat = |e: Expr, out: &mut Vec<Expr>| match (op, e) {
                    (BinOp::And, Expr::And(items)) | (BinOp::Or, Expr::Or(items)) => {
                        out.extend(items)
                    }
                    (_, other) => out.push(other),
                };
                let mut items = Vec::new();
                flat(a, &mut items);
                flat(b, &mut items);
                (
                    if op == BinOp::And {
                        Expr::And(items)
                    } else {
                        Expr::Or(items)
                    },
                    Ty::Bool,
                )
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (a, a_ty) = self.expr(lhs);
                let (b, b_ty) = self.expr(rhs);
                let ordered = !matches!(op, BinOp::Eq | BinOp::Ne);
                self.check_comparable(&a_ty, &b_ty, lhs, rhs, &b, &a, ordered, span);
                let cmp = match op {
                    BinOp::Eq => CmpOp::Eq,
                    BinOp::Ne => CmpOp::Ne,
                    BinOp::Lt => CmpOp::Lt,
                    BinOp::Le => CmpOp::Le,
                    BinOp::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                // `collection[id] == none` written out asks whether the entity exists: a
                // probe, true also when `id` dangles (see `ir::Expr::Lookup`).
                let probe = |e: Expr, other: &Expr| match e {
                    Expr::Lookup {
                        collection, key, ..
                    } if !ordered && matches!(other, Expr::Lit(Lit::None)) => Expr::Lookup {
                        collection,
                        key,
                        probe: true,
                    },
                    e => e,
                };
                let a = probe(a, &b);
                let b = probe(b, &a);
                (Expr::Cmp(cmp, Box::new(a), Box::new(b)), Ty::Bool)
            }
            BinOp::In | BinOp::NotIn => {
                let (a, a_ty) = self.expr(lhs);
                let (b, b_ty) = self.expr(rhs);
                match &b_ty {
                    Ty::List(item) => {
                        if let (
                            Ty::Str {
                                allowed: Some(allowed),
                                ..
                            },
                            Expr::List(items),
                        ) = (&a_ty, &b)
                        {
                            let literals: Vec<&E> = match &rhs.kind {
                                EK::List(es) => es.iter().collect(),
                                _ => Vec::new(),
                            };
                            for (item_ir, item_e) in items.iter().zip(literals) {
                                self.check_enum_literal(allowed, item_ir, item_e.span);
                            }
                        } else if let (Ty::Int(domain), Expr::List(items), EK::List(es)) =
                            (&a_ty, &b, &rhs.kind)
                        {
                            for (item_ir, item_e) in items.iter().zip(es) {
                                if let Expr::Lit(Lit::Int(value)) = item_ir
                                    && !domain.holds(*value)
                                {
                                    self.sink
                                        .error(
                                            "PCL005",
                                            file,
                                            item_e.span,
                                            format!(
                                                "`{value}` is not an allowed value of this field"
                                            ),
                                        )
                                        .label("the field never holds this value")
                                        .help(domain.describe());
                                }
                            }
                        } else if !compatible(&a_ty, item) {
                            self.sink.error(
                                "PCL004",
                                file,
                                span,
                                format!(
                                    "{} cannot be in a list of {}",
                                    describe(&a_ty),
                                    describe(item)
                                        .trim_start_matches("a ")
                                        .trim_start_matches("an ")
                                ),
                            );
                        }
                    }
                    Ty::Unknown => {}
                    other => {
                        self.sink
                            .error(
                                "PCL004",
                                file,
                                rhs.span,
                                format!(
                                    "`in` needs a list on its right, found {}",
                                    describe(other)
                                ),
                            )
                            .label("not a list");
                    }
                }
                let test = Expr::In(Box::new(a), Box::new(b));
                (
                    if op == BinOp::NotIn {
                        Expr::Not(Box::new(test))
                    } else {
                        test
                    },
                    Ty::Bool,
                )
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul => {
                let (a, a_ty) = self.expr(lhs);
                let (b, b_ty) = self.expr(rhs);
                for (ty, e) in [(&a_ty, lhs), (&b_ty, rhs)] {
                    if !matches!(ty, Ty::Int(_) | Ty::Num | Ty::Unknown) {
                        self.sink
                            .error(
                                "PCL004",
                                file,
                                e.span,
                                format!("arithmetic needs numbers, found {}", describe(ty)),
                            )
                            .label("not a number");
                    }
                }
                let arith = match op {
                    BinOp::Add => ArithOp::Add,
                    BinOp::Sub => ArithOp::Sub,
                    _ => ArithOp::Mul,
                };
                (
                    Expr::Arith(arith, Box::new(a), Box::new(b)),
                    Ty::Int(IntDomain::ANY),
                )
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_comparable(
        &mut self,
        a: &Ty,
        b: &Ty,
        lhs: &E,
        rhs: &E,
        b_ir: &Expr,
        a_ir: &Expr,
        ordered: bool,
        span: Span,
    ) {
        let file = self.file;
        if !ordered {
            for (ty, literal, literal_span) in [(a, b_ir, rhs.span), (b, a_ir, lhs.span)] {
                if let (Ty::Int(domain), Expr::Lit(Lit::Int(value))) = (ty, literal)
                    && !domain.holds(*value)
                {
                    self.sink
                        .error(
                            "PCL005",
                            file,
                            literal_span,
                            format!("`{value}` is not an allowed value of this field"),
                        )
                        .label("the field never holds this value")
                        .help(domain.describe());
                    return;
                }
            }
        }
        if let (
            Ty::Str {
                allowed: Some(allowed),
                ..
            },
            Expr::Lit(Lit::Str(_)),
        ) = (a, b_ir)
        {
            self.check_enum_literal(allowed, b_ir, rhs.span);
            return;
        }
        if let (
            Ty::Str {
                allowed: Some(allowed),
                ..
            },
            Expr::Lit(Lit::Str(_)),
        ) = (b, a_ir)
        {
            self.check_enum_literal(allowed, a_ir, lhs.span);
            return;
        }
        if ordered {
            let ok = matches!(
                (a, b),
                (
                    Ty::Int(_) | Ty::Num | Ty::Unknown,
                    Ty::Int(_) | Ty::Num | Ty::Unknown
                ) | (Ty::Str { .. }, Ty::Str { .. })
                    | (Ty::Unknown, _)
                    | (_, Ty::Unknown)
            );
            if !ok {
                self.sink
                    .error(
                        "PCL004",
                        file,
                        span,
                        format!("cannot order {} and {}", describe(a), describe(b)),
                    )
                    .help("`<`, `<=`, `>`, `>=` compare numbers (or strings)");
            }
        } else if !compatible(a, b) {
            self.sink
                .error(
                    "PCL004",
                    file,
                    span,
                    format!("{} is compared with {}", describe(a), describe(b)),
                )
                .label("these can never be equal")
                .help("compare values of the same type, or with `none` to test absence");
        }
    }

    fn check_enum_literal(&mut self, allowed: &[String], literal: &Expr, span: Span) {
        if let Expr::Lit(Lit::Str(value)) = literal
            && !allowed.iter().any(|a| a == value)
        {
            let list = allowed
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let help = match did_you_mean(value, allowed.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`? allowed: {list}"),
                None => format!("allowed: {list}"),
            };
            self.sink
                .error(
                    "PCL005",
                    self.file,
                    span,
                    format!("`{value}` is not an allowed value of this field"),
                )
                .label("the field never holds this value")
                .help(help);
        }
    }
}

/// The more specific of two compatible types (`none`, unknown and empty lists give way).
fn join_types(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Unknown | Ty::NoneT, other) => other,
        (Ty::List(x), Ty::List(y)) => Ty::List(Box::new(join_types(*x, *y))),
        (a, _) => a,
    }
}

fn compatible(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Unknown, _) | (_, Ty::Unknown) | (Ty::NoneT, _) | (_, Ty::NoneT) => true,
        (Ty::Int(_) | Ty::Num, Ty::Int(_) | Ty::Num) => true,
        (Ty::Str { .. }, Ty::Str { .. }) => true,
        (Ty::Bool, Ty::Bool) => true,
        (Ty::Obj(_), Ty::Obj(_)) => true,
        (Ty::List(x), Ty::List(y)) => compatible(x, y),
        _ => false,
    }
}

/// Replaces `Var(slot)` with `arg` (helper inlining).
fn substitute(expr: Expr, slot: u32, arg: &Expr) -> Expr {
    let s = |e: Box<Expr>| Box::new(substitute(*e, slot, arg));
    match expr {
        Expr::Var(v) if v == slot => arg.clone(),
        Expr::Field(o, f) => Expr::Field(s(o), f),
        Expr::Lookup {
            collection,
            key,
            probe,
        } => Expr::Lookup {
            collection,
            key: s(key),
            probe,
        },
        Expr::List(items) => Expr::List(
            items
                .into_iter()
                .map(|e| substitute(e, slot, arg))
                .collect(),
        ),
        Expr::Not(e) => Expr::Not(s(e)),
        Expr::And(items) => Expr::And(
            items
                .into_iter()
                .map(|e| substitute(e, slot, arg))
                .collect(),
        ),
        Expr::Or(items) => Expr::Or(
            items
                .into_iter()
                .map(|e| substitute(e, slot, arg))
                .collect(),
        ),
        Expr::Cmp(op, a, b) => Expr::Cmp(op, s(a), s(b)),
        Expr::Arith(op, a, b) => Expr::Arith(op, s(a), s(b)),
        Expr::In(a, b) => Expr::In(s(a), s(b)),
        Expr::Call(f, args) => Expr::Call(
            f,
            args.into_iter().map(|e| substitute(e, slot, arg)).collect(),
        ),
        Expr::If(c, a, b) => Expr::If(s(c), s(a), s(b)),
        Expr::Format(t) => Expr::Format(ir::Template {
            parts: t
                .parts
                .into_iter()
                .map(|p| match p {
                    ir::Part::Expr(e) => ir::Part::Expr(substitute(e, slot, arg)),
                    text => text,
                })
                .collect(),
        }),
        Expr::Quant {
            kind,
            slot: q,
            source,
            body,
        } => Expr::Quant {
            kind,
            slot: q,
            source: s(source),
            body: s(body),
        },
        Expr::Join {
            kind,
            slot: q,
            collection,
            key_path,
            key,
            body,
        } => Expr::Join {
            kind,
            slot: q,
            collection,
            key_path,
            key: s(key),
            body: s(body),
        },
        other => other,
    }
}

/// Whether an expression reads a slot.
fn mentions(expr: &Expr, slot: u32) -> bool {
    match expr {
        Expr::Var(v) => *v == slot,
        Expr::Lit(_) | Expr::Root => false,
        Expr::Field(o, _) => mentions(o, slot),
        Expr::Lookup { key, .. } => mentions(key, slot),
        Expr::List(items) | Expr::And(items) | Expr::Or(items) | Expr::Call(_, items) => {
            items.iter().any(|e| mentions(e, slot))
        }
        Expr::Not(e) => mentions(e, slot),
        Expr::Cmp(_, a, b) | Expr::Arith(_, a, b) | Expr::In(a, b) => {
            mentions(a, slot) || mentions(b, slot)
        }
        Expr::If(c, a, b) => mentions(c, slot) || mentions(a, slot) || mentions(b, slot),
        Expr::Format(t) => t
            .parts
            .iter()
            .any(|p| matches!(p, ir::Part::Expr(e) if mentions(e, slot))),
        Expr::Quant { source, body, .. } => mentions(source, slot) || mentions(body, slot),
        Expr::Join { key, body, .. } => mentions(key, slot) || mentions(body, slot),
    }
}

/// `x.a.b` over `Var(slot)` as the path `[a, b]`.
fn var_path(expr: &Expr, slot: u32) -> Option<Vec<String>> {
    match expr {
        Expr::Var(v) if *v == slot => Some(Vec::new()),
        Expr::Field(o, f) => {
            let mut path = var_path(o, slot)?;
            path.push(f.clone());
            Some(path)
        }
        _ => None,
    }
}

/// Lowers `C.any/count/filter(x, x.k == e and rest)` over a top-level collection to a join.
pub fn lower_join(expr: Expr) -> Expr {
    let Expr::Quant {
        kind,
        slot,
        source,
        body,
    } = expr
    else {
        return expr;
    };
    let collection = match (&*source, kind) {
        (Expr::Field(root, c), QuantKind::Any | QuantKind::Count | QuantKind::Filter)
            if **root == Expr::Root =>
        {
            c.clone()
        }
        _ => {
            return Expr::Quant {
                kind,
                slot,
                source,
                body,
            };
        }
    };
    let mut conjuncts = match *body {
        Expr::And(items) => items,
        other => vec![other],
    };
    // The conjunct to index on: `x.k == e`, or `e in x.list`, with `e` free of `x`; one whose
    // key is computed (another entity's field) before one whose key is a literal, which
    // usually matches many items (`f.edition == "enterprise"`).
    let keyed = |c: &Expr| -> Option<(Vec<String>, Expr)> {
        match c {
            Expr::Cmp(CmpOp::Eq, a, b) => match (var_path(a, slot), var_path(b, slot)) {
                (Some(p), _) if !p.is_empty() && !mentions(b, slot) => Some((p, (**b).clone())),
                (_, Some(p)) if !p.is_empty() && !mentions(a, slot) => Some((p, (**a).clone())),
                _ => None,
            },
            Expr::In(e, list) => match var_path(list, slot) {
                Some(p) if !p.is_empty() && !mentions(e, slot) => Some((p, (**e).clone())),
                _ => None,
            },
            _ => None,
        }
    };
    let candidates: Vec<(Vec<String>, Expr)> = conjuncts.iter().filter_map(keyed).collect();
    let chosen = candidates
        .iter()
        .find(|(_, key)| !matches!(key, Expr::Lit(_)))
        .or_else(|| candidates.first())
        .cloned();
    let Some((key_path, key)) = chosen else {
        let body = if conjuncts.len() == 1 {
            conjuncts.pop().unwrap_or(Expr::Lit(Lit::Bool(true)))
        } else {
            Expr::And(conjuncts)
        };
        return Expr::Quant {
            kind,
            slot,
            source,
            body: Box::new(body),
        };
    };
    let body = if conjuncts.len() == 1 {
        conjuncts.pop().unwrap_or(Expr::Lit(Lit::Bool(true)))
    } else {
        Expr::And(conjuncts)
    };
    Expr::Join {
        kind,
        slot,
        collection,
        key_path,
        key: Box::new(key),
        body: Box::new(body),
    }
}
