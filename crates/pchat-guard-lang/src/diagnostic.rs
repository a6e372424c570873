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
    pub code: Code,
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

pchat_guard_engine::code_table! {
    /// A compiler diagnostic's stable code; its property is whether it stops compilation. The
    /// meanings are documented in `docs/rules-language.md` (a test checks every row is there).
    pub enum Code: Level {
        /// Syntax error.
        Syntax = "PCL001", "syntax error", Level::Error;
        /// Unknown field.
        UnknownField = "PCL002", "unknown field", Level::Error;
        /// Unknown name.
        UnknownName = "PCL003", "unknown name", Level::Error;
        /// Type mismatch.
        TypeMismatch = "PCL004", "type mismatch", Level::Error;
        /// Value outside the field's allowed values.
        NotAllowed = "PCL005", "value outside the field's allowed values", Level::Error;
        /// Unknown function or method, or wrong arguments.
        UnknownFunction = "PCL006", "unknown function or method, or wrong arguments", Level::Error;
        /// Duplicate rule id.
        DuplicateRule = "PCL007", "duplicate rule id", Level::Error;
        /// Lookup in a collection the field does not refer to.
        WrongCollection = "PCL008", "lookup in a collection the field does not refer to", Level::Error;
        /// Missing or invalid rule header.
        RuleHeader = "PCL009", "missing or invalid rule header", Level::Error;
        /// Helper predicate that calls itself.
        RecursiveHelper = "PCL010", "helper predicate that calls itself", Level::Error;
        /// Helpers that call each other too deep or expand too far.
        HelperExpansion = "PCL011", "helpers nested too deep or expanded too often", Level::Error;
        /// Unused binding or helper.
        Unused = "PCL101", "unused binding or helper", Level::Warning;
        /// Rule that can never fire.
        NeverFires = "PCL102", "rule that can never fire", Level::Warning;
    }
}

impl Code {
    /// Whether it stops compilation.
    pub fn level(self) -> Level {
        self.props()
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Code, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Code::from_text(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("no diagnostic code `{text}`")))
    }
}

/// Collects diagnostics for one file.
#[derive(Debug, Default)]
pub struct Sink {
    /// The diagnostics so far.
    pub items: Vec<Diagnostic>,
}

impl Sink {
    /// Records a diagnostic of `code` (its level is the code's), pushed when the returned
    /// builder is dropped.
    pub fn report(
        &mut self,
        code: Code,
        file: usize,
        span: (usize, usize),
        message: impl Into<String>,
    ) -> Pending<'_> {
        Pending {
            sink: self,
            diagnostic: Some(Diagnostic {
                code,
                level: code.level(),
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
