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

/// Defines [`Code`] from one table: each code's variant, report text, severity, whether it means
/// the file could not be checked, and its one-line summary. A new code is one line here.
macro_rules! codes {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $text:literal, $severity:ident, input_error: $input:literal, $summary:literal;
    )*) => {
        /// A stable code for each kind of problem the engine itself finds.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable code as it appears in reports.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            /// What the code means, in one line.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => $summary,)*
                }
            }

            /// The severity of a finding with this code.
            pub fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }

            /// Whether a finding with this code means the file could not be checked at all.
            pub fn is_input_error(self) -> bool {
                match self {
                    $(Code::$variant => $input,)*
                }
            }
        }
    };
}

codes! {
    /// The file could not be read, or is not UTF-8 text (raised by hosts).
    Unreadable = "PCG-UNREADABLE", Error, input_error: true, "the file could not be read, or is not UTF-8 text";
    /// The text is not well-formed JSON or YAML.
    Syntax = "PCG-SYNTAX", Error, input_error: true, "the file is not well-formed JSON or YAML";
    /// The input passes a size, depth or alias limit.
    Limit = "PCG-LIMIT", Error, input_error: true, "the file passes a size, nesting or alias limit";
    /// The input holds no manifest, or more than one document.
    Empty = "PCG-EMPTY", Error, input_error: true, "the file holds no manifest, or more than one YAML document";
    /// An object has the same key twice.
    DuplicateKey = "PCG-DUPLICATE-KEY", Error, input_error: false, "an object has the same key twice";
    /// Two entities of one collection share an id.
    DuplicateId = "PCG-DUPLICATE-ID", Error, input_error: false, "two entities of one collection share an id";
    /// A reference names no entity.
    DanglingRef = "PCG-DANGLING-REF", Error, input_error: false, "a reference names no entity of its collection";
    /// A value has the wrong type.
    SchemaType = "PCG-SCHEMA-TYPE", Error, input_error: false, "a value has the wrong type";
    /// A required field is missing.
    SchemaRequired = "PCG-SCHEMA-REQUIRED", Error, input_error: false, "a required field is missing";
    /// A field the schema does not know.
    SchemaUnknownField = "PCG-SCHEMA-UNKNOWN-FIELD", Error, input_error: false, "a field the schema does not know";
    /// A value outside the allowed set.
    SchemaEnum = "PCG-SCHEMA-ENUM", Error, input_error: false, "a value outside the allowed set";
    /// A string that does not match the expected format.
    SchemaFormat = "PCG-SCHEMA-FORMAT", Error, input_error: false, "a string that does not match the expected format";
    /// A number outside its range.
    SchemaRange = "PCG-SCHEMA-RANGE", Error, input_error: false, "a number outside its allowed range";
    /// Too few or too many items or characters.
    SchemaSize = "PCG-SCHEMA-SIZE", Error, input_error: false, "too few or too many items or characters";
    /// Items that must be unique are not.
    SchemaUnique = "PCG-SCHEMA-UNIQUE", Error, input_error: false, "items that must be unique are not";
    /// Any other schema violation.
    Schema = "PCG-SCHEMA", Error, input_error: false, "another schema violation";
    /// A waiver names no rule of the pack (or a `PCG-*` code, which cannot be waived).
    WaiverUnknownRule = "PCG-WAIVER-UNKNOWN-RULE", Error, input_error: false, "a waiver names no rule of the pack";
    /// A waiver has expired (or cannot be dated): it does not apply.
    WaiverExpired = "PCG-WAIVER-EXPIRED", Warning, input_error: false, "a waiver has expired and no longer applies";
    /// A waiver waives no finding.
    WaiverUnused = "PCG-WAIVER-UNUSED", Warning, input_error: false, "a waiver waives no finding";
    /// A waiver of the manifest is ignored because the host asked to apply only its own.
    WaiverIgnored = "PCG-WAIVER-IGNORED", Info, input_error: false, "a manifest's waiver is ignored by the pipeline's settings";
    /// A waiver file is not a list of well-formed waivers (raised by hosts).
    WaiverFile = "PCG-WAIVER-FILE", Error, input_error: true, "the waiver file is not a list of well-formed waivers";
    /// A baseline file is not a well-formed baseline (raised by hosts).
    BaselineFile = "PCG-BASELINE-FILE", Error, input_error: true, "the baseline file is not a well-formed baseline";
}

impl Code {
    /// The code with this report text.
    pub fn from_text(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == text)
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
