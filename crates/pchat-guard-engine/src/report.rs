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

/// A stable code for each kind of problem the engine itself finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The file could not be read, or is not UTF-8 text (raised by hosts).
    Unreadable,
    /// The text is not well-formed JSON or YAML.
    Syntax,
    /// The input passes a size, depth or alias limit.
    Limit,
    /// The input holds no manifest, or more than one document.
    Empty,
    /// An object has the same key twice.
    DuplicateKey,
    /// Two entities of one collection share an id.
    DuplicateId,
    /// A reference names no entity.
    DanglingRef,
    /// A value has the wrong type.
    SchemaType,
    /// A required field is missing.
    SchemaRequired,
    /// A field the schema does not know.
    SchemaUnknownField,
    /// A value outside the allowed set.
    SchemaEnum,
    /// A string that does not match the expected format.
    SchemaFormat,
    /// A number outside its range.
    SchemaRange,
    /// Too few or too many items or characters.
    SchemaSize,
    /// Items that must be unique are not.
    SchemaUnique,
    /// Any other schema violation.
    Schema,
    /// A waiver names no rule of the pack (or a `PCG-*` code, which cannot be waived).
    WaiverUnknownRule,
    /// A waiver has expired (or cannot be dated): it does not apply.
    WaiverExpired,
    /// A waiver waives no finding.
    WaiverUnused,
    /// A waiver file is not a list of well-formed waivers (raised by hosts).
    WaiverFile,
    /// A baseline file is not a well-formed baseline (raised by hosts).
    BaselineFile,
}

impl Code {
    /// Every code, in documentation order.
    pub const ALL: [Code; 21] = [
        Code::Unreadable,
        Code::Syntax,
        Code::Limit,
        Code::Empty,
        Code::DuplicateKey,
        Code::DuplicateId,
        Code::DanglingRef,
        Code::SchemaType,
        Code::SchemaRequired,
        Code::SchemaUnknownField,
        Code::SchemaEnum,
        Code::SchemaFormat,
        Code::SchemaRange,
        Code::SchemaSize,
        Code::SchemaUnique,
        Code::Schema,
        Code::WaiverUnknownRule,
        Code::WaiverExpired,
        Code::WaiverUnused,
        Code::WaiverFile,
        Code::BaselineFile,
    ];

    /// The stable code as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unreadable => "PCG-UNREADABLE",
            Code::Syntax => "PCG-SYNTAX",
            Code::Limit => "PCG-LIMIT",
            Code::Empty => "PCG-EMPTY",
            Code::DuplicateKey => "PCG-DUPLICATE-KEY",
            Code::DuplicateId => "PCG-DUPLICATE-ID",
            Code::DanglingRef => "PCG-DANGLING-REF",
            Code::SchemaType => "PCG-SCHEMA-TYPE",
            Code::SchemaRequired => "PCG-SCHEMA-REQUIRED",
            Code::SchemaUnknownField => "PCG-SCHEMA-UNKNOWN-FIELD",
            Code::SchemaEnum => "PCG-SCHEMA-ENUM",
            Code::SchemaFormat => "PCG-SCHEMA-FORMAT",
            Code::SchemaRange => "PCG-SCHEMA-RANGE",
            Code::SchemaSize => "PCG-SCHEMA-SIZE",
            Code::SchemaUnique => "PCG-SCHEMA-UNIQUE",
            Code::Schema => "PCG-SCHEMA",
            Code::WaiverUnknownRule => "PCG-WAIVER-UNKNOWN-RULE",
            Code::WaiverExpired => "PCG-WAIVER-EXPIRED",
            Code::WaiverUnused => "PCG-WAIVER-UNUSED",
            Code::WaiverFile => "PCG-WAIVER-FILE",
            Code::BaselineFile => "PCG-BASELINE-FILE",
        }
    }

    /// What the code means, in one line.
    pub fn summary(self) -> &'static str {
        match self {
            Code::Unreadable => "the file could not be read, or is not UTF-8 text",
            Code::Syntax => "the file is not well-formed JSON or YAML",
            Code::Limit => "the file passes a size, nesting or alias limit",
            Code::Empty => "the file holds no manifest, or more than one YAML document",
            Code::DuplicateKey => "an object has the same key twice",
            Code::DuplicateId => "two entities of one collection share an id",
            Code::DanglingRef => "a reference names no entity of its collection",
            Code::SchemaType => "a value has the wrong type",
            Code::SchemaRequired => "a required field is missing",
            Code::SchemaUnknownField => "a field the schema does not know",
            Code::SchemaEnum => "a value outside the allowed set",
            Code::SchemaFormat => "a string that does not match the expected format",
            Code::SchemaRange => "a number outside its allowed range",
            Code::SchemaSize => "too few or too many items or characters",
            Code::SchemaUnique => "items that must be unique are not",
            Code::Schema => "another schema violation",
            Code::WaiverUnknownRule => "a waiver names no rule of the pack",
            Code::WaiverExpired => "a waiver has expired and no longer applies",
            Code::WaiverUnused => "a waiver waives no finding",
            Code::WaiverFile => "the waiver file is not a list of well-formed waivers",
            Code::BaselineFile => "the baseline file is not a well-formed baseline",
        }
    }

    /// The severity of a finding with this code.
    pub fn severity(self) -> Severity {
        match self {
            Code::WaiverExpired | Code::WaiverUnused => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// Whether a finding with this code means the file could not be checked at all.
    pub fn is_input_error(self) -> bool {
        matches!(
            self,
            Code::Unreadable
                | Code::Syntax
                | Code::Limit
                | Code::Empty
                | Code::WaiverFile
                | Code::BaselineFile
        )
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
        }
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
