//! What a checker knows, as hosts read it: versions, the pack and its rules, the codes.
//!
//! The manifest schema is not part of it (hosts that want it ask for it on its own), so a host
//! that only needs rule titles for a report does not receive and parse the whole schema.

use serde::{Deserialize, Serialize};

use crate::ir;
use crate::report::{Code, Severity};

/// The answer to `describe`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Description {
    /// The module's ABI version (0 when described natively).
    pub abi_version: u32,
    /// The engine's version.
    pub engine_version: String,
    /// The version of the report format.
    pub report_format_version: u32,
    /// The pack the checker runs, if any.
    pub pack: Option<PackInfo>,
    /// The pack's rules, in pack order.
    pub rules: Vec<RuleInfo>,
    /// The engine's own finding codes (`PCG-*`).
    pub codes: Vec<CodeInfo>,
    /// The facts the rules cite, with their titles and sources.
    #[serde(default)]
    pub facts: Vec<ir::Fact>,
    /// The packs the checker runs, in load order: the pack alone, or the shipped pack and its
    /// extensions.
    #[serde(default)]
    pub packs: Vec<PackInfo>,
}

/// Which pack a checker runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackInfo {
    /// The pack's name.
    pub name: String,
    /// The pack's version.
    pub version: String,
    /// `sha256:<hex>` of the pack's IR, when the module knows it (embedded or injected packs).
    pub digest: Option<String>,
}

/// A rule, as reports and `rules`/`explain` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// Stable id, such as `PCHAT-HA-001`.
    pub id: String,
    /// Default severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// The facts it rests on.
    pub facts: Vec<String>,
    /// Markdown documentation.
    pub doc: String,
    /// The pack it belongs to.
    #[serde(default)]
    pub pack: String,
}

impl RuleInfo {
    /// The description of a compiled rule.
    pub fn of(rule: &ir::Rule) -> RuleInfo {
        RuleInfo {
            id: rule.id.clone(),
            severity: rule.severity,
            title: rule.title.clone(),
            facts: rule.facts.clone(),
            doc: rule.doc.clone(),
            pack: rule.pack.clone(),
        }
    }
}

/// A code of the engine's own findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeInfo {
    /// `PCG-*`.
    pub code: String,
    /// One line.
    pub summary: String,
    /// Its severity.
    pub severity: Severity,
    /// Whether it means the input could not be checked.
    pub input_error: bool,
}

impl Description {
    /// The description of a checker running `bundle` (with its digest, when known).
    pub fn new(abi_version: u32, bundle: Option<&ir::Bundle>, digest: Option<&str>) -> Description {
        Description {
            abi_version,
            engine_version: crate::ENGINE_VERSION.to_string(),
            report_format_version: crate::report::REPORT_FORMAT_VERSION,
            pack: bundle.map(|b| PackInfo {
                name: b.name.clone(),
                version: b.version.clone(),
                digest: digest.map(|d| format!("sha256:{d}")),
            }),
            rules: bundle
                .iter()
                .flat_map(|b| &b.rules)
                .map(RuleInfo::of)
                .collect(),
            codes: Code::ALL
                .iter()
                .map(|c| CodeInfo {
                    code: c.as_str().to_string(),
                    summary: c.summary().to_string(),
                    severity: c.severity(),
                    input_error: c.is_input_error(),
                })
                .collect(),
            facts: bundle.map(|b| b.facts.clone()).unwrap_or_default(),
            packs: bundle.map_or_else(Vec::new, |b| {
                if b.packs.is_empty() {
                    vec![PackInfo {
                        name: b.name.clone(),
                        version: b.version.clone(),
                        digest: digest.map(|d| format!("sha256:{d}")),
                    }]
                } else {
                    b.packs
                        .iter()
                        .map(|p| PackInfo {
                            name: p.name.clone(),
                            version: p.version.clone(),
                            digest: Some(p.digest.clone()),
                        })
                        .collect()
                }
            }),
        }
    }
}
