//! Machine formats for pipelines, all made from the one run report: JUnit XML, and the
//! annotations of GitHub Actions, GitLab (Code Quality) and Azure Pipelines. SARIF is built by
//! the engine (`pchat_guard_engine::sarif`), so the module makes the same SARIF in a browser.

use pchat_guard_engine::{Finding, Severity};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};

pub use pchat_guard_engine::sarif::{RuleMeta, fingerprint, rule_metas, sarif};

use crate::render::RunReport;

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
