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

/// Defines [`Code`] from one table: each diagnostic's variant, code, level and meaning (the
/// meanings are documented in `docs/rules-language.md`). A new diagnostic is one line here.
macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal, $level:ident, $summary:literal;)*) => {
        /// A compiler diagnostic's stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as diagnostics show it (`PCL001`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            /// Whether it stops compilation.
            pub fn level(self) -> Level {
                match self {
                    $(Code::$variant => Level::$level,)*
                }
            }

            /// What it means, in a few words.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => $summary,)*
                }
            }
        }
    };
}

codes! {
    /// Syntax error.
    Syntax = "PCL001", Error, "syntax error";
    /// Unknown field.
    UnknownField = "PCL002", Error, "unknown field";
    /// Unknown name.
    UnknownName = "PCL003", Error, "unknown name";
    /// Type mismatch.
    TypeMismatch = "PCL004", Error, "type mismatch";
    /// Value outside the field's allowed values.
    NotAllowed = "PCL005", Error, "value outside the field's allowed values";
    /// Unknown function or method, or wrong arguments.
    UnknownFunction = "PCL006", Error, "unknown function or method, or wrong arguments";
    /// Duplicate rule id.
    DuplicateRule = "PCL007", Error, "duplicate rule id";
    /// Lookup in a collection the field does not refer to.
    WrongCollection = "PCL008", Error, "lookup in a collection the field does not refer to";
    /// Missing or invalid rule header.
    RuleHeader = "PCL009", Error, "missing or invalid rule header";
    /// Helper predicate that calls itself.
    RecursiveHelper = "PCL010", Error, "helper predicate that calls itself";
    /// Unused binding or helper.
    Unused = "PCL101", Warning, "unused binding or helper";
    /// Rule that can never fire.
    NeverFires = "PCL102", Warning, "rule that can never fire";
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
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == text)
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
