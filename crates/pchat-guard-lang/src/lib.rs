//! The pchat-guard rule language: rule files in, a typed IR bundle (or diagnostics) out.
//!
//! `compile` parses every file (all syntax errors, with recovery), checks each rule against the
//! manifest schema, and lowers it to [`pchat_guard_engine::ir`]. No I/O: callers pass the texts.

pub mod check;
pub mod diagnostic;
pub mod docs;
mod inline;
mod joins;
mod resolve;
mod rule;
pub mod syntax;
mod types;

use std::collections::HashMap;

use pchat_guard_engine::ir::{Bundle, Fact, IR_FORMAT_VERSION};

pub use diagnostic::{Code, Diagnostic, Level};

/// One rule file to compile.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its name, as diagnostics show it.
    pub path: String,
    /// Its text.
    pub text: String,
}

/// What compiling gives: the bundle (when there is no error) and every diagnostic.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The bundle, unless some diagnostic is an error.
    pub bundle: Option<Bundle>,
    /// Errors and warnings, ordered by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

/// Compiles rule files against the embedded manifest schema.
pub fn compile(name: &str, version: &str, sources: &[Source]) -> Compiled {
    let schema: serde_json::Value =
        serde_json::from_str(pchat_guard_engine::schema::SCHEMA_TEXT).unwrap_or_default();
    compile_with_schema(name, version, sources, &schema)
}

/// Compiles rule files against the embedded manifest schema, with the facts the rules may cite:
/// a citation of any other fact is an error, and the bundle carries the facts cited.
pub fn compile_with_facts(
    name: &str,
    version: &str,
    sources: &[Source],
    facts: &[Fact],
) -> Compiled {
    let schema: serde_json::Value =
        serde_json::from_str(pchat_guard_engine::schema::SCHEMA_TEXT).unwrap_or_default();
    compile_inner(name, version, sources, &schema, Some(facts))
}

/// Compiles rule files against a given schema. Fact ids are only checked for their form.
pub fn compile_with_schema(
    name: &str,
    version: &str,
    sources: &[Source],
    schema: &serde_json::Value,
) -> Compiled {
    compile_inner(name, version, sources, schema, None)
}

/// Whether `id` has the form of a fact id: an uppercase letter, then uppercase letters, digits
/// and `_` (`F7`, `ACME1`, `NET_DNS2`).
pub fn is_fact_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_uppercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks every rule's `facts` against the facts it may cite (or, with none given, their form).
fn check_facts(files: &[syntax::File], facts: Option<&[Fact]>, sink: &mut diagnostic::Sink) {
    for (i, file) in files.iter().enumerate() {
        for item in &file.items {
            let syntax::Item::Rule(rule) = item else {
                continue;
            };
            for (fact, span) in &rule.facts {
                if !is_fact_id(fact) {
                    sink.report(
                        Code::RuleHeader,
                        i,
                        *span,
                        format!("`{fact}` is not a fact id"),
                    )
                    .help(
                        "fact ids are uppercase letters, digits and `_`, such as `F7` or `ACME1`",
                    );
                    continue;
                }
                let Some(known) = facts else { continue };
                if known.iter().any(|f| f.id == *fact) {
                    continue;
                }
                let hint = pchat_guard_engine::schema::did_you_mean(
                    fact,
                    known.iter().map(|f| f.id.as_str()),
                )
                .map_or_else(String::new, |s| format!("did you mean `{s}`? "));
                sink.report(
                    Code::RuleHeader,
                    i,
                    *span,
                    format!("rule `{}` cites `{fact}`, which no `facts.toml` declares", rule.id),
                )
                .label("unknown fact")
                .help(format!(
                    "{hint}declare it in the pack's `facts.toml` (`[{fact}]` with `title = \"...\"`), or cite a fact of the shipped pack (`F1`-`F23`)"
                ));
            }
        }
    }
}

fn compile_inner(
    name: &str,
    version: &str,
    sources: &[Source],
    schema: &serde_json::Value,
    facts: Option<&[Fact]>,
) -> Compiled {
    let mut sink = diagnostic::Sink::default();
    let files: Vec<syntax::File> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| syntax::parse(&s.text, i, &mut sink))
        .collect();
    check_facts(&files, facts, &mut sink);
    let mut preds = HashMap::new();
    for (i, file) in files.iter().enumerate() {
        for item in &file.items {
            if let syntax::Item::Pred(p) = item {
                if preds.contains_key(&p.name) {
                    sink.report(
                        Code::DuplicateRule,
                        i,
                        p.name_span,
                        format!("helper `{}` is defined twice", p.name),
                    );
                } else {
                    preds.insert(p.name.clone(), (i, p));
                }
            }
        }
    }
    let mut rules = Vec::new();
    let mut seen: HashMap<String, (usize, syntax::Span)> = HashMap::new();
    {
        let mut checker = check::Checker::new(schema, preds, &mut sink);
        for (i, file) in files.iter().enumerate() {
            for item in &file.items {
                if let syntax::Item::Rule(rule) = item
                    && let Some(rule_ir) = checker.rule(i, rule)
                {
                    rules.push((i, rule.id_span, rule_ir));
                }
            }
        }
        checker.unused_helpers();
    }
    for (i, file) in files.iter().enumerate() {
        for item in &file.items {
            if let syntax::Item::Rule(rule) = item {
                if let Some((first_file, _)) = seen.get(&rule.id) {
                    let first = sources.get(*first_file).map_or("", |s| s.path.as_str());
                    sink.report(
                        Code::DuplicateRule,
                        i,
                        rule.id_span,
                        format!("rule id `{}` is used twice", rule.id),
                    )
                    .label("duplicate id")
                    .help(format!(
                        "it is first defined in `{first}`; rule ids must be unique"
                    ));
                } else {
                    seen.insert(rule.id.clone(), (i, rule.id_span));
                }
            }
        }
    }
    let mut diagnostics = sink.items;
    diagnostics.sort_by(|a, b| (a.file, a.start, &a.code).cmp(&(b.file, b.start, &b.code)));
    let failed = diagnostics.iter().any(|d| d.level == Level::Error);
    let bundle = (!failed).then(|| {
        let mut rules: Vec<_> = rules
            .into_iter()
            .map(|(i, _, mut r)| {
                r.source = sources.get(i).map(|s| s.path.clone()).unwrap_or_default();
                r.pack = name.to_string();
                r
            })
            .collect();
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        // The facts the rules cite, in the order they are declared.
        let cited: Vec<Fact> = facts
            .unwrap_or_default()
            .iter()
            .filter(|f| rules.iter().any(|r| r.facts.contains(&f.id)))
            .cloned()
            .collect();
        Bundle {
            format_version: IR_FORMAT_VERSION,
            name: name.to_string(),
            version: version.to_string(),
            rules,
            facts: cited,
            packs: Vec::new(),
        }
    });
    Compiled {
        bundle,
        diagnostics,
    }
}
