//! Compiler diagnostics: data with a code, a span and help; rendered by the CLI.

use serde::{Deserialize, Serialize};

/// Whether a diagnostic stops compilation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Compilation fails.
    Error,
    /// Worth fixing; compilation goes on.
    Warning,
}

/// One problem in a rule file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Stable code (`PCL...`).
    pub code: String,
    /// Error or warning.
    pub level: Level,
    /// What is wrong; lowercase, user input in backticks.
    pub message: String,
    /// Index of the source file in the compiled set.
    pub file: usize,
    /// Byte range in that file.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// Label under the span.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
}

/// The diagnostic codes, with their meaning (documented in `docs/rules-language.md`).
pub const CODES: &[(&str, &str)] = &[
    ("PCL001", "syntax error"),
    ("PCL002", "unknown field"),
    ("PCL003", "unknown name"),
    ("PCL004", "type mismatch"),
    ("PCL005", "value outside the field's allowed values"),
    ("PCL006", "unknown function or method, or wrong arguments"),
    ("PCL007", "duplicate rule id"),
    (
        "PCL008",
        "lookup in a collection the field does not refer to",
    ),
    ("PCL009", "missing or invalid rule header"),
    ("PCL010", "helper predicate that calls itself"),
    ("PCL101", "unused binding or helper (warning)"),
    ("PCL102", "rule that can never fire (warning)"),
];

/// Collects diagnostics for one file.
#[derive(Debug, Default)]
pub struct Sink {
    /// The diagnostics so far.
    pub items: Vec<Diagnostic>,
}

impl Sink {
    /// Records an error (pushed when the returned builder is dropped).
    pub fn error(
        &mut self,
        code: &str,
        file: usize,
        span: (usize, usize),
        message: impl Into<String>,
    ) -> Pending<'_> {
        self.push(code, Level::Error, file, span, message)
    }

    /// Records a warning (pushed when the returned builder is dropped).
    pub fn warning(
        &mut self,
        code: &str,
        file: usize,
        span: (usize, usize),
        message: impl Into<String>,
    ) -> Pending<'_> {
        self.push(code, Level::Warning, file, span, message)
    }

    fn push(
        &mut self,
        code: &str,
        level: Level,
        file: usize,
        span: (usize, usize),
        message: impl Into<String>,
    ) -> Pending<'_> {
        Pending {
            sink: self,
            diagnostic: Some(Diagnostic {
                code: code.to_string(),
                level,
                message: message.into(),
                file,
                start: span.0,
                end: span.1.max(span.0),
                label: None,
                help: None,
            }),
        }
    }
}

/// A diagnostic being built; it lands in the sink when dropped.
pub struct Pending<'s> {
    sink: &'s mut Sink,
    diagnostic: Option<Diagnostic>,
}

impl Pending<'_> {
    /// Adds a label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        if let Some(d) = self.diagnostic.as_mut() {
            d.label = Some(label.into());
        }
        self
    }

    /// Adds help.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        if let Some(d) = self.diagnostic.as_mut() {
            d.help = Some(help.into());
        }
        self
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(d) = self.diagnostic.take() {
            self.sink.items.push(d);
        }
    }
}
