//! Reading the small files that steer a run (waiver files, baselines) with a location for every
//! problem: each problem becomes a finding of the file's own report, so it is shown, and fails
//! the run with exit 2, like any input that cannot be used.

use pchat_guard_engine::schema::Schema;
use pchat_guard_engine::value::Node;
use pchat_guard_engine::{Code, FileReport, Finding, InputFormat, Limits, LineIndex};

/// A settings file read and parsed, or the report saying why it could not be.
pub struct Parsed {
    /// The file as shown in reports.
    pub path: String,
    /// Its text.
    pub text: String,
    /// Its value tree.
    pub root: Node,
    /// How it was read.
    pub format: InputFormat,
}

/// A settings file that cannot be used: its report (`checked: false`) and its text, if read.
pub struct Unusable {
    /// The report with the problems found.
    pub report: FileReport,
    /// The text, to show the problems in context.
    pub text: Option<String>,
}

/// Parses the text of a JSON or YAML settings file shown as `path` (its extension, then its
/// text, tells which).
pub fn parse(path: &str, text: String, limits: &Limits) -> Result<Parsed, Box<Unusable>> {
    let format = InputFormat::infer(path, &text);
    let parsed = match format {
        InputFormat::Json => pchat_guard_engine::parse::parse_json(&text, limits),
        InputFormat::Yaml => pchat_guard_engine::parse::parse_yaml(&text, limits),
    };
    match parsed {
        Ok(root) => Ok(Parsed {
            path: path.to_string(),
            text,
            root,
            format,
        }),
        Err(e) => {
            let report = FileReport {
                format_version: pchat_guard_engine::report::REPORT_FORMAT_VERSION,
                path: path.to_string(),
                input_format: format,
                checked: false,
                findings: vec![e.into_finding(&LineIndex::new(&text))],
                sha256: None,
                coverage: None,
            };
            Err(Box::new(Unusable {
                report,
                text: Some(text),
            }))
        }
    }
}

/// The schema of waiver files (`pchat-guard schema waivers` prints it, for editors).
pub const WAIVERS_SCHEMA: &str = include_str!("../../../schemas/waivers.schema.json");

/// The schema of baseline files.
pub const BASELINE_SCHEMA: &str = include_str!("../../../schemas/baseline.schema.json");

/// Problems found in a settings file, each at its place.
pub struct Problems<'a> {
    index: LineIndex<'a>,
    root: &'a Node,
    code: Code,
    /// The findings so far.
    pub findings: Vec<Finding>,
}

impl<'a> Problems<'a> {
    /// Collects problems of a parsed file, all under one code.
    pub fn new(parsed: &'a Parsed, code: Code) -> Problems<'a> {
        Problems {
            index: LineIndex::new(&parsed.text),
            root: &parsed.root,
            code,
            findings: Vec::new(),
        }
    }

    /// Where the value at `pointer` is in the file (the whole file when nothing is there).
    pub fn location(&self, pointer: &str) -> pchat_guard_engine::Location {
        let span = self
            .root
            .lookup(pointer)
            .map_or(self.root.span, |(n, _)| n.span);
        self.index.location(span)
    }

    /// Records a problem at the value at `pointer`.
    pub fn push(&mut self, pointer: &str, message: String, help: Option<String>) {
        let location = self.location(pointer);
        self.findings
            .push(Finding::of(self.code, message, pointer.to_string(), location).with_help(help));
    }

    /// Checks the file against its JSON Schema (shape, types, unknown and missing fields,
    /// sizes), recording every violation at its place; returns the file as JSON.
    pub fn validate(&mut self, schema: &str) -> serde_json::Value {
        let json = self.root.to_json();
        match Schema::from_text(schema) {
            Ok(schema) => {
                for v in schema.validate(&json) {
                    let location = self.index.location(v.span(self.root));
                    self.findings.push(
                        Finding::of(self.code, v.message, v.pointer, location)
                            .with_label(v.label)
                            .with_help(v.help),
                    );
                }
            }
            Err(e) => self.push("", format!("the file's schema cannot be used: {e}"), None),
        }
        json
    }

    /// Whether a problem was recorded at `pointer` or below it.
    pub fn flawed(&self, pointer: &str) -> bool {
        self.findings.iter().any(|f| {
            f.pointer
                .strip_prefix(pointer)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// The items of the list at `pointer` in `json` that the schema found nothing wrong with,
    /// read as `T` with their index, so that what the schema cannot check is checked for them
    /// too and every problem of a file is reported at once.
    pub fn sound_items<T: serde::de::DeserializeOwned>(
        &self,
        json: &serde_json::Value,
        pointer: &str,
    ) -> Vec<(usize, T)> {
        let items = json.pointer(pointer).and_then(serde_json::Value::as_array);
        items
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(i, _)| !self.flawed(&format!("{pointer}/{i}")))
            .filter_map(|(i, item)| Some((i, serde_json::from_value(item.clone()).ok()?)))
            .collect()
    }

    /// The report of the file: unusable (exit 2) when any problem was found.
    pub fn into_report(mut self, path: &str, format: InputFormat) -> FileReport {
        self.findings
            .sort_by_key(|f| (f.location.start.offset, f.location.end.offset));
        FileReport {
            format_version: pchat_guard_engine::report::REPORT_FORMAT_VERSION,
            path: path.to_string(),
            input_format: format,
            checked: self.findings.is_empty(),
            findings: self.findings,
            sha256: None,
            coverage: None,
        }
    }
}
