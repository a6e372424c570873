//! The report: findings as data, the one type that crosses every boundary.
//!
//! Rendering (human, JSON, SARIF...) happens in the hosts; this module only describes.

use serde::{Deserialize, Serialize};

use crate::source::Location;

/// Version of the report format; bumped on any incompatible change.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; does not fail a run by default.
    Info,
    /// Likely a problem.
    Warning,
    /// A requirement is not met.
    Error,
}

impl Severity {
    /// The lowercase name, as in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

crate::code_table! {
    /// A stable code for each kind of problem the engine itself finds; its properties are the
    /// severity of its findings and whether it means the file could not be checked at all.
    pub enum Code: (Severity, bool) {
        /// The file could not be read, or is not UTF-8 text (raised by hosts).
        Unreadable = "PCG-UNREADABLE", "the file could not be read, or is not UTF-8 text", (Severity::Error, true);
        /// The text is not well-formed JSON or YAML.
        Syntax = "PCG-SYNTAX", "the file is not well-formed JSON or YAML", (Severity::Error, true);
        /// The input passes a size, depth or alias limit.
        Limit = "PCG-LIMIT", "the file passes a size, nesting or alias limit", (Severity::Error, true);
        /// The input holds no manifest, or more than one document.
        Empty = "PCG-EMPTY", "the file holds no manifest, or more than one YAML document", (Severity::Error, true);
        /// An object has the same key twice.
        DuplicateKey = "PCG-DUPLICATE-KEY", "an object has the same key twice", (Severity::Error, false);
        /// Two entities of one collection share an id.
        DuplicateId = "PCG-DUPLICATE-ID", "two entities of one collection share an id", (Severity::Error, false);
        /// A reference names no entity.
        DanglingRef = "PCG-DANGLING-REF", "a reference names no entity of its collection", (Severity::Error, false);
        /// A value has the wrong type.
        SchemaType = "PCG-SCHEMA-TYPE", "a value has the wrong type", (Severity::Error, false);
        /// A required field is missing.
        SchemaRequired = "PCG-SCHEMA-REQUIRED", "a required field is missing", (Severity::Error, false);
        /// A field the schema does not know.
        SchemaUnknownField = "PCG-SCHEMA-UNKNOWN-FIELD", "a field the schema does not know", (Severity::Error, false);
        /// A value outside the allowed set.
        SchemaEnum = "PCG-SCHEMA-ENUM", "a value outside the allowed set", (Severity::Error, false);
        /// A string that does not match the expected format.
        SchemaFormat = "PCG-SCHEMA-FORMAT", "a string that does not match the expected format", (Severity::Error, false);
        /// A number outside its range.
        SchemaRange = "PCG-SCHEMA-RANGE", "a number outside its allowed range", (Severity::Error, false);
        /// Too few or too many items or characters.
        SchemaSize = "PCG-SCHEMA-SIZE", "too few or too many items or characters", (Severity::Error, false);
        /// Items that must be unique are not.
        SchemaUnique = "PCG-SCHEMA-UNIQUE", "items that must be unique are not", (Severity::Error, false);
        /// Any other schema violation.
        Schema = "PCG-SCHEMA", "another schema violation", (Severity::Error, false);
        /// A waiver names no rule of the pack (or a `PCG-*` code, which cannot be waived).
        WaiverUnknownRule = "PCG-WAIVER-UNKNOWN-RULE", "a waiver names no rule of the pack", (Severity::Error, false);
        /// A waiver has expired (or cannot be dated): it does not apply.
        WaiverExpired = "PCG-WAIVER-EXPIRED", "a waiver has expired and no longer applies", (Severity::Warning, false);
        /// A waiver waives no finding.
        WaiverUnused = "PCG-WAIVER-UNUSED", "a waiver waives no finding", (Severity::Warning, false);
        /// A waiver of the manifest is ignored because the host asked to apply only its own.
        WaiverIgnored = "PCG-WAIVER-IGNORED", "a manifest's waiver is ignored by the pipeline's settings", (Severity::Info, false);
        /// A waiver file is not a list of well-formed waivers (raised by hosts).
        WaiverFile = "PCG-WAIVER-FILE", "the waiver file is not a list of well-formed waivers", (Severity::Error, true);
        /// A baseline file is not a well-formed baseline (raised by hosts).
        BaselineFile = "PCG-BASELINE-FILE", "the baseline file is not a well-formed baseline", (Severity::Error, true);
    }
}

impl Code {
    /// The severity of a finding with this code.
    pub fn severity(self) -> Severity {
        self.props().0
    }

    /// Whether a finding with this code means the file could not be checked at all.
    pub fn is_input_error(self) -> bool {
        self.props().1
    }
}

/// One problem found in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable code (`PCG-...`) or rule id.
    pub code: String,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong, in one sentence; user values in backticks.
    pub message: String,
    /// JSON pointer (RFC 6901) to the value the finding is about; empty for the whole document.
    pub pointer: String,
    /// Where that value is in the file.
    pub location: Location,
    /// A short label shown under the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Another place that explains this one, such as the first of two duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related: Option<Location>,
    /// Set when a waiver accepts the finding: it is still reported, but does not fail the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived: Option<crate::waiver::Waived>,
    /// A stable identity across runs ([`fingerprint`]): the same value in the JSON report,
    /// baselines, SARIF `partialFingerprints` and GitLab code quality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl Finding {
    /// A finding of one of the engine's own codes, with that code's severity.
    pub fn of(code: Code, message: String, pointer: String, location: Location) -> Finding {
        Finding {
            code: code.as_str().to_string(),
            severity: code.severity(),
            message,
            pointer,
            location,
            label: None,
            help: None,
            related: None,
            waived: None,
            fingerprint: None,
        }
    }

    /// The same finding with a label under the value.
    pub fn with_label(mut self, label: Option<String>) -> Finding {
        self.label = label;
        self
    }

    /// The same finding with how to fix it.
    pub fn with_help(mut self, help: Option<String>) -> Finding {
        self.help = help;
        self
    }

    /// The same finding with a related location (a first definition).
    pub fn with_related(mut self, related: Option<Location>) -> Finding {
        self.related = related;
        self
    }
}

/// The result of checking one manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileReport {
    /// Format version of this report.
    pub format_version: u32,
    /// The file name the host gave.
    pub path: String,
    /// `json` or `yaml`: how the text was read.
    pub input_format: InputFormat,
    /// False when the file could not be checked (syntax error, limit): the run must fail.
    pub checked: bool,
    /// The findings, ordered by position, then code.
    pub findings: Vec<Finding>,
    /// SHA-256 (hex) of the text that was checked, so a pipeline can tell which version of the
    /// file a report speaks of; absent when the text could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// What each rule did, by rule id, when the request asked for coverage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<std::collections::BTreeMap<String, crate::eval::RuleCoverage>>,
}

/// The formats a manifest can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// Strict JSON (RFC 8259).
    Json,
    /// YAML 1.2, one document.
    Yaml,
}

impl InputFormat {
    /// Chooses the format from the file name, falling back to the first significant character.
    pub fn infer(path: &str, text: &str) -> InputFormat {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            InputFormat::Yaml
        } else if lower.ends_with(".json") {
            InputFormat::Json
        } else {
            match text
                .trim_start_matches('\u{feff}')
                .trim_start()
                .chars()
                .next()
            {
                Some('{') | Some('[') => InputFormat::Json,
                _ => InputFormat::Yaml,
            }
        }
    }
}

/// A path as reports, fingerprints and waiver globs see it: forward slashes, no leading `./`.
pub fn normalize_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut rest = path.as_str();
    while let Some(r) = rest.strip_prefix("./") {
        rest = r;
    }
    rest.to_string()
}

/// A stable identity of a finding of the file at `path` across runs: the first 32 hex digits
/// of the SHA-256 of its code, file, pointer and message. Moving the value to another line
/// keeps it; changing what is wrong changes it.
pub fn fingerprint(path: &str, finding: &Finding) -> String {
    let text = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        finding.code,
        normalize_path(path),
        finding.pointer,
        finding.message
    );
    let mut hex = sha256_hex(text.as_bytes());
    hex.truncate(32);
    hex
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

impl FileReport {
    /// Gives every finding without one its fingerprint.
    pub fn fill_fingerprints(&mut self) {
        for finding in &mut self.findings {
            if finding.fingerprint.is_none() {
                finding.fingerprint = Some(fingerprint(&self.path, finding));
            }
        }
    }
}
