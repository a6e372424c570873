//! The report of a run over any number of files, as the CLI's `--format json` prints it and the
//! module's `render` export builds it: one definition for every host.

use serde::{Deserialize, Serialize};

use crate::{FileReport, Severity};

/// Version of the JSON report of a run.
pub const RUN_REPORT_VERSION: u32 = 1;

/// The report of one run over any number of files (`--format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// Format version of this report.
    pub format_version: u32,
    /// The tool that made it.
    pub tool: Tool,
    /// One report per input, sorted by path.
    pub files: Vec<FileReport>,
    /// Counts over all files.
    pub summary: Summary,
}

/// Name and version of the tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// `pchat-guard`.
    pub name: String,
    /// The version of pchat-guard (the workspace's; the CLI and the module share it).
    pub version: String,
}

/// Counts over all files of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Inputs given.
    pub files: usize,
    /// Inputs fully checked.
    pub checked: usize,
    /// Findings of severity error, not waived.
    pub errors: usize,
    /// Findings of severity warning, not waived.
    pub warnings: usize,
    /// Findings of severity info, not waived.
    pub infos: usize,
    /// Findings a waiver accepts.
    pub waived: usize,
    /// Findings left out because the baseline records them.
    pub baselined: usize,
}

impl RunReport {
    /// Builds the report of a run from its file reports; `baselined` findings were left out.
    /// Every finding gets its fingerprint (the module's, or the same one computed here for the
    /// host's own findings).
    pub fn new(mut files: Vec<FileReport>, baselined: usize) -> RunReport {
        for file in &mut files {
            file.fill_fingerprints();
        }
        let mut summary = Summary {
            files: files.len(),
            baselined,
            ..Summary::default()
        };
        for file in &files {
            summary.checked += usize::from(file.checked);
            for finding in &file.findings {
                match finding.severity {
                    _ if finding.waived.is_some() => summary.waived += 1,
                    Severity::Error => summary.errors += 1,
                    Severity::Warning => summary.warnings += 1,
                    Severity::Info => summary.infos += 1,
                }
            }
        }
        RunReport {
            format_version: RUN_REPORT_VERSION,
            tool: Tool {
                name: "pchat-guard".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            files,
            summary,
        }
    }
}
