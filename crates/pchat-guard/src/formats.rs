//! Machine formats for pipelines, all made from the one run report: SARIF 2.1.0 (GitHub code
//! scanning), JUnit XML, and GitHub Actions workflow annotations.

use pchat_guard_engine::describe::Description;
use pchat_guard_engine::{Finding, Severity};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};

use crate::render::RunReport;

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
        .unwrap_or_else(|| pchat_guard_engine::report::fingerprint(path, finding))
}

/// Escapes workflow-command data (the message).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value (file, title).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow annotations, one line per finding.
pub fn github(report: &RunReport) -> String {
    let mut out = String::new();
    for file in &report.files {
        for f in &file.findings {
            let command = match f.severity {
                _ if f.waived.is_some() => "notice",
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut message = match &f.help {
                Some(help) => format!("{}\n{help}", f.message),
                None => f.message.clone(),
            };
            let mut title = f.code.clone();
            if let Some(w) = &f.waived {
                title.push_str(" (waived)");
                message.push_str(&format!("\nWaived: {}", w.reason));
            }
            out.push_str(&format!(
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
                escape_property(&file.path),
                f.location.start.line,
                f.location.start.column,
                f.location.end.line,
                f.location.end.column,
                escape_property(&title),
                escape_data(&message)
            ));
        }
    }
    out
}

/// GitLab code quality (a subset of Code Climate's JSON, as GitLab reads it for merge-request
/// widgets): one issue per finding that is not waived, with the baseline fingerprint so that
/// GitLab tells new findings from old across pipelines.
pub fn gitlab(report: &RunReport) -> Value {
    let issues: Vec<Value> = report
        .files
        .iter()
        .flat_map(|file| {
            file.findings
                .iter()
                .filter(|f| f.waived.is_none())
                .map(move |f| {
                    let severity = match f.severity {
                        Severity::Error => "critical",
                        Severity::Warning => "major",
                        Severity::Info => "info",
                    };
                    json!({
                        "description": f.message,
                        "check_name": f.code,
                        "fingerprint": fingerprint(&file.path, f),
                        "severity": severity,
                        "location": {
                            "path": pchat_guard_engine::report::normalize_path(&file.path),
                            "lines": { "begin": f.location.start.line.max(1) },
                        },
                    })
                })
        })
        .collect();
    Value::Array(issues)
}

/// Escapes the message of an Azure Pipelines logging command.
fn escape_azure_data(text: &str) -> String {
    text.replace('%', "%AZP25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of an Azure Pipelines logging command.
fn escape_azure_property(text: &str) -> String {
    escape_azure_data(text)
        .replace(';', "%3B")
        .replace(']', "%5D")
}

/// Azure Pipelines logging commands: a `task.logissue` per error or warning (Azure has no other
/// levels), with file, line, column and code; info and waived findings as plain lines, so
/// they are in the log without marking the run.
pub fn azure(report: &RunReport) -> String {
    let mut out = String::new();
    for file in &report.files {
        for f in &file.findings {
            let kind = match f.severity {
                _ if f.waived.is_some() => None,
                Severity::Error => Some("error"),
                Severity::Warning => Some("warning"),
                Severity::Info => None,
            };
            let message = match &f.help {
                Some(help) => format!("{} (help: {help})", f.message),
                None => f.message.clone(),
            };
            match kind {
                Some(kind) => out.push_str(&format!(
                    "##vso[task.logissue type={kind};sourcepath={};linenumber={};columnnumber={};code={}]{}\n",
                    escape_azure_property(&file.path),
                    f.location.start.line,
                    f.location.start.column,
                    escape_azure_property(&f.code),
                    escape_azure_data(&message)
                )),
                None => {
                    let waived = f
                        .waived
                        .as_ref()
                        .map_or_else(String::new, |w| format!(" (waived: {})", w.reason));
                    out.push_str(&format!(
                        "{}:{}:{}: {} {}{waived}\n",
                        file.path,
                        f.location.start.line,
                        f.location.start.column,
                        f.code,
                        message.replace(['\r', '\n'], " ")
                    ));
                }
            }
        }
    }
    out
}

/// JUnit XML: one suite per file, one test case per rule (or code) and file; a finding is a
/// failure of its case, a file that could not be checked an error, and a case whose findings are
/// all waived is skipped.
pub fn junit(report: &RunReport, rules: &[RuleMeta]) -> Result<String, String> {
    let mut junit = quick_junit::Report::new("pchat-guard");
    for file in &report.files {
        let mut suite = TestSuite::new(file.path.as_str());
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        for f in &file.findings {
            if !ids.contains(&f.code.as_str()) {
                ids.push(&f.code);
            }
        }
        for id in ids {
            let findings: Vec<&Finding> = file.findings.iter().filter(|f| f.code == id).collect();
            let open: Vec<&Finding> = findings
                .iter()
                .copied()
                .filter(|f| f.waived.is_none())
                .collect();
            let status = if !findings.is_empty() && open.is_empty() {
                let mut status = TestCaseStatus::skipped();
                let reasons: Vec<&str> = findings
                    .iter()
                    .filter_map(|f| f.waived.as_ref())
                    .map(|w| w.reason.as_str())
                    .collect();
                status.set_message(format!("waived: {}", reasons.join("; ")));
                status
            } else if findings.is_empty() {
                if file.checked {
                    TestCaseStatus::success()
                } else {
                    TestCaseStatus::skipped()
                }
            } else {
                let kind = if file.checked {
                    NonSuccessKind::Failure
                } else {
                    NonSuccessKind::Error
                };
                let mut status = TestCaseStatus::non_success(kind);
                let first = open.first().map_or(String::new(), |f| f.message.clone());
                status.set_message(format!(
                    "{} finding{}: {first}",
                    open.len(),
                    if open.len() == 1 { "" } else { "s" }
                ));
                status.set_description(
                    findings
                        .iter()
                        .map(|f| {
                            format!(
                                "{}:{}:{}: {}{} {} ({})",
                                file.path,
                                f.location.start.line,
                                f.location.start.column,
                                f.severity.as_str(),
                                if f.waived.is_some() { " (waived)" } else { "" },
                                f.message,
                                f.pointer
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                status
            };
            let mut case = TestCase::new(id, status);
            case.set_classname(file.path.as_str());
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .map_err(|e| format!("cannot write JUnit XML: {e}"))
}
