//! Baselines: adopting pchat-guard on a repository that already has findings.
//!
//! `--write-baseline FILE` records the findings of a run; `--baseline FILE` leaves out the
//! findings it records, so only new ones are reported. A finding is recorded by rule, file,
//! pointer and a fingerprint of those and its message; a finding recorded once matches once, so
//! a second identical problem is still new.

use std::collections::BTreeMap;

use pchat_guard_engine::{Code, FileReport, Finding, Limits};
use serde::{Deserialize, Serialize};

use crate::settings::{self, Problems, Unusable};
use crate::waivers::normalize;

/// Version of the baseline format.
pub const BASELINE_VERSION: u64 = 1;

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version, [`BASELINE_VERSION`].
    pub version: u64,
    /// The tool that wrote it.
    #[serde(default)]
    pub tool: String,
    /// The recorded findings, sorted.
    pub findings: Vec<Entry>,
}

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// Rule id or `PCG-*` code.
    pub rule: String,
    /// The file, as given on the command line (forward slashes, no leading `./`).
    pub file: String,
    /// JSON pointer of the value.
    pub pointer: String,
    /// `formats::fingerprint` of the finding.
    pub fingerprint: String,
}

impl Entry {
    /// The entry recording `finding` of the file at `path`.
    fn of(path: &str, finding: &Finding) -> Entry {
        Entry {
            rule: finding.code.clone(),
            file: normalize(path),
            pointer: finding.pointer.clone(),
            fingerprint: pchat_guard_engine::sarif::fingerprint(path, finding),
        }
    }
}

impl Baseline {
    /// The findings of a run's files that are neither waived nor in files that could not be
    /// checked.
    pub fn record(files: &[FileReport]) -> Baseline {
        let mut findings: Vec<Entry> = files
            .iter()
            .filter(|f| f.checked)
            .flat_map(|file| {
                file.findings
                    .iter()
                    .filter(|f| f.waived.is_none())
                    .map(|f| Entry::of(&file.path, f))
            })
            .collect();
        findings.sort();
        Baseline {
            version: BASELINE_VERSION,
            tool: "pchat-guard".to_string(),
            findings,
        }
    }

    /// The baseline as pretty JSON, one finding per entry, ending in a newline.
    pub fn to_json(&self) -> Result<String, String> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| format!("cannot encode the baseline: {e}"))
    }

    /// Reads a baseline file from its text; any problem (syntax, shape against `schemas/baseline.schema.json`,
    /// a rule or code this run does not know) makes it unusable, with every problem at its place.
    pub fn load(
        path: &str,
        text: String,
        known: &[&str],
        limits: &Limits,
    ) -> Result<Baseline, Box<Unusable>> {
        let parsed = settings::parse(path, text, limits)?;
        let mut problems = Problems::new(&parsed, Code::BaselineFile);
        let json = problems.validate(settings::BASELINE_SCHEMA);
        let mut findings = Vec::new();
        for (i, mut entry) in problems.sound_items::<Entry>(&json, "/findings") {
            let rule = entry.rule.as_str();
            if known.contains(&rule) {
                entry.file = normalize(&entry.file);
                findings.push(entry);
                continue;
            }
            let help = match pchat_guard_engine::schema::did_you_mean(rule, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "`pchat-guard rules` lists the rules of the pack".to_string(),
            };
            problems.push(
                &format!("/findings/{i}/rule"),
                format!(
                    "the baseline records `{rule}`, which is neither a rule of the pack nor a `PCG-*` code"
                ),
                Some(help),
            );
        }
        if problems.findings.is_empty() {
            findings.sort();
            Ok(Baseline {
                version: BASELINE_VERSION,
                tool: json
                    .get("tool")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("pchat-guard")
                    .to_string(),
                findings,
            })
        } else {
            let report = problems.into_report(path, parsed.format);
            Err(Box::new(Unusable {
                report,
                text: Some(parsed.text),
            }))
        }
    }

    /// Removes from `files` the findings this baseline records (each entry matches one finding);
    /// returns how many were removed. Waived findings and unchecked files are left alone.
    pub fn apply(&self, files: &mut [FileReport]) -> usize {
        let mut left: BTreeMap<&Entry, usize> = BTreeMap::new();
        for entry in &self.findings {
            *left.entry(entry).or_default() += 1;
        }
        let mut removed = 0;
        for file in files.iter_mut().filter(|f| f.checked) {
            let path = file.path.as_str();
            file.findings.retain(|finding| {
                if finding.waived.is_some() {
                    return true;
                }
                match left.get_mut(&Entry::of(path, finding)) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        removed += 1;
                        false
                    }
                    _ => true,
                }
            });
        }
        removed
    }
}
