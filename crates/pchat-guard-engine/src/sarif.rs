//! SARIF 2.1.0 of a run, as GitHub code scanning accepts it. Built here, in the engine, so that
//! the CLI (`--format sarif`) and the module (`render`, for browsers) make the same document.

use serde_json::{Value, json};

use crate::describe::Description;
use crate::run::RunReport;
use crate::{Finding, Severity};

/// What a report format needs to know of a rule or code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMeta {
    /// Rule id or `PCG-*` code.
    pub id: String,
    /// Default severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Markdown documentation (may be empty).
    pub doc: String,
}

/// Rules and codes from the module's `describe` answer.
pub fn rule_metas(described: &Description) -> Vec<RuleMeta> {
    let codes = described.codes.iter().map(|c| RuleMeta {
        id: c.code.clone(),
        severity: c.severity,
        title: c.summary.clone(),
        doc: String::new(),
    });
    let rules = described.rules.iter().map(|r| RuleMeta {
        id: r.id.clone(),
        severity: r.severity,
        title: r.title.clone(),
        doc: r.doc.clone(),
    });
    codes.chain(rules).collect()
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a repository-relative URI: forward slashes, no `./`.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.trim_start_matches("./");
    path.chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '%' => "%25".to_string(),
            '#' => "%23".to_string(),
            '?' => "%3F".to_string(),
            other => other.to_string(),
        })
        .collect()
}

/// SARIF 2.1.0, as GitHub code scanning accepts it. Waived findings carry a suppression
/// (`inSource` for the manifest's own waivers, `external` for a waiver file); with a baseline,
/// every result reported is `new`.
pub fn sarif(report: &RunReport, rules: &[RuleMeta], with_baseline: bool) -> Value {
    let driver_rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            let first_paragraph = r.doc.split("\n\n").next().unwrap_or_default().replace('\n', " ");
            json!({
                "id": r.id,
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": if first_paragraph.is_empty() { r.title.clone() } else { first_paragraph } },
                "help": { "text": if r.doc.is_empty() { r.title.clone() } else { r.doc.clone() }, "markdown": if r.doc.is_empty() { r.title.clone() } else { r.doc.clone() } },
                "defaultConfiguration": { "level": sarif_level(r.severity) },
            })
        })
        .collect();
    let mut results = Vec::new();
    for file in &report.files {
        for f in &file.findings {
            let mut result = json!({
                "ruleId": f.code,
                "level": sarif_level(f.severity),
                "message": { "text": match &f.help { Some(help) => format!("{}\n\nHelp: {help}", f.message), None => f.message.clone() } },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&file.path) },
                        "region": {
                            "startLine": f.location.start.line,
                            "startColumn": f.location.start.column,
                            "endLine": f.location.end.line.max(f.location.start.line),
                            "endColumn": if f.location.end.line > f.location.start.line { f.location.end.column } else { f.location.end.column.max(f.location.start.column + 1) },
                        }
                    },
                    "logicalLocations": [{ "fullyQualifiedName": f.pointer, "kind": "element" }],
                }],
                "partialFingerprints": { "pchatGuard/v1": fingerprint(&file.path, f) },
            });
            if let Some(map) = result.as_object_mut() {
                if let Some(index) = rules.iter().position(|r| r.id == f.code) {
                    map.insert("ruleIndex".to_string(), json!(index));
                }
                if let Some(w) = &f.waived {
                    let kind = if w.origin.path == file.path {
                        "inSource"
                    } else {
                        "external"
                    };
                    map.insert(
                        "suppressions".to_string(),
                        json!([{
                            "kind": kind,
                            "status": "accepted",
                            "justification": w.reason,
                            "location": { "physicalLocation": {
                                "artifactLocation": { "uri": uri(&w.origin.path) },
                                "region": { "startLine": w.origin.location.start.line, "startColumn": w.origin.location.start.column },
                            }},
                        }]),
                    );
                }
                if with_baseline {
                    map.insert("baselineState".to_string(), json!("new"));
                }
            }
            results.push(result);
        }
    }
    let mut driver = json!({
        "name": "pchat-guard",
        "version": report.tool.version,
        "rules": driver_rules,
    });
    // The project's home, once it has one (`repository` in Cargo.toml); never a placeholder.
    let home = env!("CARGO_PKG_REPOSITORY");
    if let (false, Some(map)) = (home.is_empty(), driver.as_object_mut()) {
        map.insert("informationUri".to_string(), json!(home));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// A stable identity of a finding of the file at `path` across runs (the engine's: rule, file,
/// pointer and message), the one the module already gave it when it has one.
pub fn fingerprint(path: &str, finding: &Finding) -> String {
    finding
        .fingerprint
        .clone()
        .unwrap_or_else(|| crate::report::fingerprint(path, finding))
}
