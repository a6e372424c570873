//! The IR: compiled rules, the only contract between the rule compiler and the evaluator.
//!
//! A [`Bundle`] is plain data (serde), versioned by [`IR_FORMAT_VERSION`]; the evaluator
//! refuses any other version. Names are resolved (variables are slots), types were checked by
//! the compiler, helpers are inlined (an argument that is computed is bound once with
//! [`Expr::Let`]), and joins of the form `collection.any(x, x.key == e)` are lowered to indexed
//! lookups.

use serde::{Deserialize, Serialize};

use crate::report::Severity;

/// Version of the IR format.
pub const IR_FORMAT_VERSION: u32 = 3;

/// A compiled policy pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Must equal [`IR_FORMAT_VERSION`].
    pub format_version: u32,
    /// Name of the pack.
    pub name: String,
    /// Version of the pack.
    pub version: String,
    /// The rules, ordered by id.
    pub rules: Vec<Rule>,
    /// The facts the rules cite, as their packs declare them (`facts.toml`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<Fact>,
    /// The packs merged into this bundle (the shipped pack and its extensions), in load order;
    /// empty for a bundle compiled from one pack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<PackPart>,
}

/// A fact rules cite: an id (`F7`, `ACME1`), its title and where to read more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    /// The id rules cite.
    pub id: String,
    /// One line: what the fact says.
    pub title: String,
    /// Where the fact comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One pack of a merged bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackPart {
    /// The pack's name.
    pub name: String,
    /// The pack's version.
    pub version: String,
    /// `sha256:<hex>` of the pack's own IR.
    pub digest: String,
}

/// One compiled rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id, such as `PCHAT-HA-001`.
    pub id: String,
    /// Default severity.
    pub severity: Severity,
    /// One-line title.
    pub title: String,
    /// Facts the rule rests on (`F1`...).
    pub facts: Vec<String>,
    /// The doc comment, Markdown.
    pub doc: String,
    /// Number of variable slots the body uses.
    pub slots: u32,
    /// `for`, `let` and `where` clauses, in order.
    pub body: Vec<Clause>,
    /// What to report for each binding of the body, in order (at least one).
    pub reports: Vec<Report>,
    /// The file the rule is written in, as the compiler was given it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The pack it belongs to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pack: String,
}

/// One `report` clause: a finding (or one per item of `each`) for a binding of the body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// `each`: the slot bound to each item of the list, and the list.
    pub each: Option<(u32, Expr)>,
    /// `when`: the finding is made only when this holds.
    pub when: Option<Expr>,
    /// The value the finding is about.
    pub at: Expr,
    /// The message (a string expression, usually a template).
    pub message: Expr,
    /// How to fix it.
    pub help: Option<Expr>,
}

/// One step of a rule body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clause {
    /// Binds `slot` to each item of a list in turn.
    For {
        /// Variable slot.
        slot: u32,
        /// The list.
        source: Expr,
    },
    /// Binds `slot` to a value.
    Let {
        /// Variable slot.
        slot: u32,
        /// The value.
        value: Expr,
    },
    /// Goes on only when the condition holds.
    Where(Expr),
}

/// Text with interpolated expressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// The parts, in order.
    pub parts: Vec<Part>,
}

/// Part of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Literal text.
    Text(String),
    /// A value, rendered as text.
    Expr(Expr),
}

/// A literal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lit {
    /// Absence.
    None,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
}

/// Built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Builtin {
    /// `s.starts_with(p)`
    StartsWith,
    /// `s.ends_with(p)`
    EndsWith,
    /// `s.contains(p)`
    Contains,
    /// `s.lower()`
    Lower,
    /// `list.count()`: number of items (0 for absence).
    Count,
    /// `list.distinct()`: the distinct items, first occurrence kept.
    Distinct,
    /// `coalesce(a, b, ...)`: the first argument that is not absent.
    Coalesce,
}

/// List comprehensions and quantifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantKind {
    /// True when some item satisfies the body.
    Any,
    /// True when every item satisfies the body.
    All,
    /// Number of items that satisfy the body.
    Count,
    /// The items that satisfy the body.
    Filter,
    /// The body's value for each item.
    Map,
}

/// An expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    /// A literal.
    Lit(Lit),
    /// A variable slot.
    Var(u32),
    /// The manifest's top-level object.
    Root,
    /// A field of an object (absence when missing).
    Field(Box<Expr>, String),
    /// The entity of a top-level collection with the given id. Absence when the id is absent;
    /// when an id is given but names no entity (a dangling reference, which the structural
    /// checks report), the rule does not apply to the binding being evaluated, unless the
    /// lookup is a probe.
    Lookup {
        /// The collection.
        collection: String,
        /// The id.
        key: Box<Expr>,
        /// A probe (`collection[id] == none` written out): a dangling id gives absence.
        probe: bool,
    },
    /// A list of values.
    List(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// Conjunction (short-circuit).
    And(Vec<Expr>),
    /// Disjunction (short-circuit).
    Or(Vec<Expr>),
    /// A comparison.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// Integer arithmetic.
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// Membership of a value in a list.
    In(Box<Expr>, Box<Expr>),
    /// A built-in function; the receiver is the first argument.
    Call(Builtin, Vec<Expr>),
    /// `if c then a else b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// A string with interpolated values.
    Format(Template),
    /// Binds `slot` to the value of `value`, computed once, for the evaluation of `body` (an
    /// argument of an inlined helper). It answers as `body` with `value` written in place of
    /// each read of the slot: when computing `value` met a dangling reference (see
    /// [`Expr::Lookup`]), each read of the slot does, and a `body` that never reads the slot
    /// is not affected.
    Let {
        /// The variable slot.
        slot: u32,
        /// Its value.
        value: Box<Expr>,
        /// The expression the slot is bound in.
        body: Box<Expr>,
    },
    /// A quantifier or comprehension over a list.
    Quant {
        /// Which one.
        kind: QuantKind,
        /// The variable slot bound to each item.
        slot: u32,
        /// The list.
        source: Box<Expr>,
        /// The condition (or, for `map`, the value).
        body: Box<Expr>,
    },
    /// A quantifier over the items of a top-level collection whose field path equals a key
    /// (or, for a list field, holds it as an item): answered from an index built once per
    /// check.
    Join {
        /// Which one (not `map`).
        kind: QuantKind,
        /// The variable slot bound to each matching item.
        slot: u32,
        /// The top-level collection.
        collection: String,
        /// Field path from an item to its key.
        key_path: Vec<String>,
        /// The key to match.
        key: Box<Expr>,
        /// The whole condition (the equality included): re-checked on each candidate, and used
        /// to scan every item when the key is not a single value (absent, a list), so that a
        /// join always answers as the scan it replaces.
        body: Box<Expr>,
    },
}

impl Bundle {
    /// Merges packs into one bundle: their rules, facts and names, in order. Rule ids must be
    /// unique across every pack (the error names both files); a fact id cited by two packs must
    /// say the same. One pack comes back as it is.
    pub fn merge(parts: Vec<Bundle>) -> Result<Bundle, String> {
        if parts.len() == 1 {
            return parts
                .into_iter()
                .next()
                .ok_or_else(|| "no pack to merge".to_string());
        }
        let Some(first) = parts.first() else {
            return Err("no pack to merge".to_string());
        };
        let mut merged = Bundle {
            format_version: IR_FORMAT_VERSION,
            name: parts
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join("+"),
            version: first.version.clone(),
            rules: Vec::new(),
            facts: Vec::new(),
            packs: Vec::new(),
        };
        for part in parts {
            let json = crate::to_json(&part);
            merged.packs.push(PackPart {
                name: part.name.clone(),
                version: part.version.clone(),
                digest: format!("sha256:{}", crate::report::sha256_hex(json.as_bytes())),
            });
            for rule in part.rules {
                if let Some(other) = merged.rules.iter().find(|r| r.id == rule.id) {
                    return Err(format!(
                        "rule id `{}` is defined twice: in `{}` (pack {}) and in `{}` (pack {}); rule ids must be unique across the packs loaded",
                        rule.id, other.source, other.pack, rule.source, part.name
                    ));
                }
                merged.rules.push(rule);
            }
            for fact in part.facts {
                match merged.facts.iter().find(|f| f.id == fact.id) {
                    Some(known) if *known == fact => {}
                    Some(_) => {
                        return Err(format!(
                            "fact `{}` of pack {} differs from the one another pack declares; give it another id",
                            fact.id, part.name
                        ));
                    }
                    None => merged.facts.push(fact),
                }
            }
        }
        merged.rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(merged)
    }
}
