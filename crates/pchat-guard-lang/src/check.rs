//! The checker: type checking against the manifest schema and lowering of expressions to IR.
//!
//! The work is shared by the modules around this one, each an `impl Checker` block or free
//! functions with one job: [`crate::types`] (the schema as types), [`crate::resolve`] (scopes
//! and names), [`crate::rule`] (rule headers, clauses and reports), [`crate::inline`] (helper
//! calls) and [`crate::joins`] (the join optimisation). This module holds the checker's state
//! and the expressions: fields, lookups, methods, operators.

use std::collections::{HashMap, HashSet};

use pchat_guard_engine::ir::{self, ArithOp, Builtin, CmpOp, Expr, Lit, QuantKind};
use serde_json::Value as Json;

use crate::diagnostic::{Code, Sink};
use crate::resolve::Binding;
use crate::syntax::{BinOp, E, EK, PredDecl, Span, Tpl, TplPart};
use crate::types::{compatible, describe, join_types, plain_str, type_name};

// Public here as before the split, so `check::Ty` and `check::lower_join` still name them.
pub use crate::joins::lower_join;
pub use crate::types::{IntDomain, Ty, Types};

/// Closest candidate, when close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    pchat_guard_engine::schema::did_you_mean(word, candidates)
}

/// Checks and lowers the rules of a set of files.
pub struct Checker<'a> {
    /// The schema, as types.
    pub(crate) types: Types<'a>,
    /// The helpers of every file, by name, with the file each is in.
    pub(crate) preds: HashMap<String, (usize, &'a PredDecl)>,
    /// Where diagnostics go.
    pub(crate) sink: &'a mut Sink,
    /// The file being checked (a helper's body is checked in the helper's file).
    pub(crate) file: usize,
    /// The variables in scope, innermost last.
    pub(crate) scopes: Vec<Binding>,
    /// The next free variable slot of the rule being checked.
    pub(crate) next_slot: u32,
    /// The helpers being inlined, outermost first (to refuse recursion).
    pub(crate) pred_stack: Vec<String>,
    /// The helpers some rule calls.
    pub(crate) called: HashSet<String>,
    /// Parameter slots of a helper no rule calls: of no known type, so a field read on one
    /// is checked against every object of the schema instead.
    pub(crate) loose_params: Vec<u32>,
    /// Helper calls inlined so far (bounded by `inline::MAX_INLINED`).
    pub(crate) inlined: usize,
    /// Whether PCL011 was reported (once per compilation is enough).
    pub(crate) expansion_reported: bool,
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
            called: HashSet::new(),
            loose_params: Vec::new(),
            inlined: 0,
            expansion_reported: false,
        }
    }

    pub(crate) fn template(&mut self, tpl: &Tpl) -> ir::Template {
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

    /// The number of errors reported so far.
    pub(crate) fn errors(&self) -> usize {
        self.sink
            .items
            .iter()
            .filter(|d| d.level == crate::diagnostic::Level::Error)
            .count()
    }

    /// Checks a condition: a boolean (or unknown) expression.
    pub(crate) fn condition(&mut self, e: &E, what: &str) -> Expr {
        let (expr, ty) = self.expr(e);
        if !matches!(ty, Ty::Bool | Ty::Unknown) {
            self.sink
                .report(
                    Code::TypeMismatch,
                    self.file,
                    e.span,
                    format!("{what} needs a condition, found {}", describe(&ty)),
                )
                .label("not a boolean");
        }
        expr
    }

    /// Checks an expression; returns its IR and type.
    pub fn expr(&mut self, e: &E) -> (Expr, Ty) {
        let file = self.file;
        match &e.kind {
            EK::Int(n) => (Expr::Lit(Lit::Int(*n)), Ty::Int(IntDomain::ANY)),
            EK::Str(s) => (Expr::Lit(Lit::Str(s.clone())), plain_str()),
            EK::Bool(b) => (Expr::Lit(Lit::Bool(*b)), Ty::Bool),
            EK::None => (Expr::Lit(Lit::None), Ty::NoneT),
            EK::Name(name) => self.name(name, e.span),
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
                                .report(
                                    Code::UnknownField,
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
                                .report(
                                    Code::UnknownField,
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
                            .report(Code::TypeMismatch, file, *field_span, format!("`{field}` is read from a list"))
                            .label("a list has no fields")
                            .help("go through the items: `.any(x, ...)`, `.all(x, ...)`, `.map(x, x.field)`, or `for x in ...`");
                        (Expr::Lit(Lit::None), Ty::Unknown)
                    }
                    other => {
                        self.sink
                            .report(
                                Code::TypeMismatch,
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
                    self.sink.report(
                        Code::TypeMismatch,
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
                    .report(
                        Code::TypeMismatch,
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
                    .report(
                        Code::WrongCollection,
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
                    .report(
                        Code::TypeMismatch,
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
            // A helper named `coalesce` replaces the built-in.
            EK::Name(name) if name == "coalesce" && !self.preds.contains_key(name) => {
                self.coalesce(args, span)
            }
            EK::Name(name) => self.helper(name, callee.span, args, span),
            EK::Field(receiver, method, method_span) => {
                let errors_before = self.errors();
                let (receiver_ir, receiver_ty) = self.expr(receiver);
                match receiver_ty {
                    Ty::List(item) => {
                        self.list_method(receiver, receiver_ir, *item, method, *method_span, args)
                    }
                    Ty::Str { .. } => self.str_method(receiver_ir, method, *method_span, args),
                    // Of no known type (a schema node without one, a parameter of a helper no
                    // rule calls, an item of an empty list, or after an error): string and list
                    // methods have distinct names, so the name says which one is meant. Lowering
                    // it to `none` instead would make the rule silently never fire.
                    Ty::Unknown if METHODS_STR.contains(&method.as_str()) => {
                        self.str_method(receiver_ir, method, *method_span, args)
                    }
                    Ty::Unknown if METHODS_LIST.contains(&method.as_str()) => self.list_method(
                        receiver,
                        receiver_ir,
                        Ty::Unknown,
                        method,
                        *method_span,
                        args,
                    ),
                    Ty::Unknown => {
                        // After an error in the receiver, that error is the one to fix.
                        if self.errors() == errors_before {
                            let known = METHODS_STR.iter().chain(METHODS_LIST).copied();
                            let mut d = self.sink.report(
                                Code::UnknownFunction,
                                file,
                                *method_span,
                                format!("no value has a method `{method}`"),
                            );
                            if let Some(s) = did_you_mean(method, known) {
                                d = d.help(format!("did you mean `{s}`?"));
                            }
                            drop(d);
                        }
                        (Expr::Lit(Lit::None), Ty::Unknown)
                    }
                    other => {
                        self.sink.report(
                            Code::UnknownFunction,
                            file,
                            *method_span,
                            format!("{} has no method `{method}`", describe(&other)),
                        );
                        (Expr::Lit(Lit::None), Ty::Unknown)
                    }
                }
            }
            _ => {
                self.sink.report(
                    Code::UnknownFunction,
                    file,
                    callee.span,
                    "only helpers and methods can be called",
                );
                (Expr::Lit(Lit::None), Ty::Unknown)
            }
        }
    }

    /// `coalesce(a, b, ...)`: the first argument that is present.
    fn coalesce(&mut self, args: &[E], span: Span) -> (Expr, Ty) {
        let file = self.file;
        if args.len() < 2 {
            self.sink.report(
                Code::UnknownFunction,
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
                self.sink.report(
                    Code::TypeMismatch,
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
        (Expr::Call(Builtin::Coalesce, lowered), ty)
    }

    fn str_method(&mut self, receiver: Expr, method: &str, span: Span, args: &[E]) -> (Expr, Ty) {
        let file = self.file;
        let builtin = match method {
            "starts_with" => Builtin::StartsWith,
            "ends_with" => Builtin::EndsWith,
            "contains" => Builtin::Contains,
            "lower" => Builtin::Lower,
            _ => {
                let mut d = self.sink.report(
                    Code::UnknownFunction,
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
            self.sink.report(
                Code::UnknownFunction,
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
                self.sink.report(
                    Code::TypeMismatch,
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
                let mut d = self.sink.report(
                    Code::UnknownFunction,
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
            self.sink.report(
                Code::UnknownFunction,
                file,
                span,
                format!("`{method}` takes a variable and an expression: `{method}(x, ...)`"),
            );
            return (Expr::Lit(Lit::None), Ty::Unknown);
        };
        let EK::Name(var_name) = &var.kind else {
            self.sink
                .report(
                    Code::UnknownFunction,
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
            self.sink.report(
                Code::TypeMismatch,
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
                                        .report(
                                            Code::NotAllowed,
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
                            self.sink.report(
                                Code::TypeMismatch,
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
                            .report(
                                Code::TypeMismatch,
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
                // Integers only: the evaluator's arithmetic is on integers, and gives absence
                // for anything else, which would silently make a condition false.
                for (ty, e) in [(&a_ty, lhs), (&b_ty, rhs)] {
                    if !matches!(ty, Ty::Int(_) | Ty::Unknown) {
                        self.sink
                            .report(
                                Code::TypeMismatch,
                                file,
                                e.span,
                                format!("arithmetic needs integers, found {}", describe(ty)),
                            )
                            .label("not an integer");
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
                        .report(
                            Code::NotAllowed,
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
                    .report(
                        Code::TypeMismatch,
                        file,
                        span,
                        format!("cannot order {} and {}", describe(a), describe(b)),
                    )
                    .help("`<`, `<=`, `>`, `>=` compare numbers (or strings)");
            }
        } else if !compatible(a, b) {
            self.sink
                .report(
                    Code::TypeMismatch,
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
                .report(
                    Code::NotAllowed,
                    self.file,
                    span,
                    format!("`{value}` is not an allowed value of this field"),
                )
                .label("the field never holds this value")
                .help(help);
        }
    }
}
