//! Reading the small files that steer a run (waiver files, baselines) with a location for every
//! problem: each problem becomes a finding of the file's own report, so it is shown, and fails
//! the run with exit 2, like any input that cannot be used.

use pchat_guard_engine::value::{Node, Value, push_pointer};
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

/// Reads and parses a JSON or YAML settings file.
pub fn parse(path: &str, limits: &Limits) -> Result<Parsed, Box<Unusable>> {
    let text =
        crate::input::read(path, path, limits).map_err(|report| Unusable { report, text: None })?;
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
                coverage: None,
            };
            Err(Box::new(Unusable {
                report,
                text: Some(text),
            }))
        }
    }
}

/// Problems found in a settings file, each at its place.
pub struct Problems<'a> {
    index: LineIndex<'a>,
    code: Code,
    /// The findings so far.
    pub findings: Vec<Finding>,
}

impl<'a> Problems<'a> {
    /// Collects problems of `text`, all under one code.
    pub fn new(text: &'a str, code: Code) -> Problems<'a> {
        Problems {
            index: LineIndex::new(text),
            code,
            findings: Vec::new(),
        }
    }

    /// Where `node` is in the file.
    pub fn location(&self, node: &Node) -> pchat_guard_engine::Location {
        self.index.location(node.span)
    }

    /// Records a problem at `node`.
    pub fn push(&mut self, node: &Node, pointer: &str, message: String, help: Option<String>) {
        self.findings.push(
            Finding::of(
                self.code,
                message,
                pointer.to_string(),
                self.index.location(node.span),
            )
            .with_help(help),
        );
    }

    /// The string field `name` of an object's `fields` under `pointer`, with its node; `None`
    /// when absent, or not a string (reported).
    pub fn string_field<'n>(
        &mut self,
        fields: &[(&str, &'n Node)],
        pointer: &str,
        name: &str,
    ) -> Option<(String, &'n Node)> {
        let node = field(fields, name)?;
        self.string(node, &push_pointer(pointer, name), name)
            .map(|s| (s.to_string(), node))
    }

    /// The fields of an object, after reporting unknown and missing ones; `None` (reported) when
    /// `node` is not an object.
    pub fn object<'n>(
        &mut self,
        node: &'n Node,
        pointer: &str,
        what: &str,
        required: &[&str],
        optional: &[&str],
    ) -> Option<Vec<(&'n str, &'n Node)>> {
        let Value::Object(entries) = &node.value else {
            self.push(node, pointer, format!("{what} must be an object"), None);
            return None;
        };
        let known = || required.iter().chain(optional).copied();
        let mut fields = Vec::new();
        for entry in entries {
            let at = push_pointer(pointer, &entry.key);
            if known().any(|k| k == entry.key) {
                fields.push((entry.key.as_str(), &entry.value));
            } else {
                let key = Node {
                    value: Value::Null,
                    span: entry.key_span,
                };
                let help = match pchat_guard_engine::schema::did_you_mean(&entry.key, known()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "the fields of {what} are {}",
                        known()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.push(
                    &key,
                    &at,
                    format!("unknown field `{}` in {what}", entry.key),
                    Some(help),
                );
            }
        }
        for name in required {
            if !fields.iter().any(|(k, _)| k == name) {
                self.push(
                    node,
                    pointer,
                    format!("{what} has no `{name}`"),
                    Some(format!("add `{name}`")),
                );
            }
        }
        Some(fields)
    }

    /// The string at `node`, or a reported problem.
    pub fn string<'n>(&mut self, node: &'n Node, pointer: &str, field: &str) -> Option<&'n str> {
        match node.as_str() {
            Some(s) => Some(s),
            None => {
                self.push(node, pointer, format!("`{field}` must be a string"), None);
                None
            }
        }
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
            coverage: None,
        }
    }
}

/// The field named `name` among `fields`.
pub fn field<'n>(fields: &[(&str, &'n Node)], name: &str) -> Option<&'n Node> {
    fields.iter().find(|(k, _)| *k == name).map(|(_, n)| *n)
}
