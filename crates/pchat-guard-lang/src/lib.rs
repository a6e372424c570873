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

use pchat_guard_engine::ir::{Bundle, IR_FORMAT_VERSION};

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

/// Compiles rule files against a given schema.
pub fn compile_with_schema(
    name: &str,
    version: &str,
    sources: &[Source],
    schema: &serde_json::Value,
) -> Compiled {
    let mut sink = diagnostic::Sink::default();
    let files: Vec<syntax::File> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| syntax::parse(&s.text, i, &mut sink))
        .collect();
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
        let mut rules: Vec<_> = rules.into_iter().map(|(_, _, r)| r).collect();
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Bundle {
            format_version: IR_FORMAT_VERSION,
            name: name.to_string(),
            version: version.to_string(),
            rules,
        }
    });
    Compiled {
        bundle,
        diagnostics,
    }
}
