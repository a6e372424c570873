//! Manifest text to a [`Node`] tree with spans: strict JSON and YAML 1.2.
//!
//! Both parsers bound nesting depth and node count before anything recursive runs, so no input
//! can exhaust the stack, and YAML aliases cannot expand past the node budget.

use std::collections::HashMap;

use jsonc_parser::ast;
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError};
use serde::{Deserialize, Serialize};

use crate::report::Code;
use crate::source::{LineIndex, Span};
use crate::value::{Entry, Keys, Node, Value};

/// Bounds on what one manifest may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest manifest accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of arrays and objects; at most [`MAX_DEPTH`].
    #[serde(deserialize_with = "depth_within_ceiling")]
    pub max_depth: usize,
    /// Most values in the document, YAML aliases counted as expanded.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 4_000_000,
        }
    }
}

/// The deepest nesting a request may allow: the reference parsers recurse, and in the module a
/// stack overflow is a trap. Deeper manifests are refused as over the limit, with a location.
pub const MAX_DEPTH: usize = 256;

fn depth_within_ceiling<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<usize, D::Error> {
    let depth = usize::deserialize(deserializer)?;
    if depth > MAX_DEPTH {
        return Err(serde::de::Error::custom(format!(
            "`max_depth`: at most {MAX_DEPTH}, the deepest nesting the parsers read safely \
             (got {depth})"
        )));
    }
    Ok(depth)
}

/// Why a text could not be read as a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// [`Code::Syntax`], [`Code::Limit`] or [`Code::Empty`].
    pub code: Code,
    /// What is wrong, lowercase, no final period.
    pub message: String,
    /// Where.
    pub span: Span,
    /// How to fix it.
    pub help: Option<String>,
}

impl InputError {
    /// The error as the finding that reports it.
    pub fn into_finding(self, index: &crate::LineIndex<'_>) -> crate::Finding {
        crate::Finding::of(
            self.code,
            self.message,
            String::new(),
            index.location(self.span),
        )
        .with_help(self.help)
    }
}

impl InputError {
    fn new(code: Code, message: impl Into<String>, span: Span) -> Self {
        InputError {
            code,
            message: message.into(),
            span,
            help: None,
        }
    }

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

fn depth_error(limits: &Limits, at: usize) -> InputError {
    InputError::new(
        Code::Limit,
        format!("nesting is deeper than {} levels", limits.max_depth),
        Span::new(at, at + 1),
    )
    .with_help("a topology manifest nests a few levels deep; flatten the structure")
}

fn nodes_error(limits: &Limits, span: Span) -> InputError {
    InputError::new(
        Code::Limit,
        format!("the document has more than {} values", limits.max_nodes),
        span,
    )
    .with_help("split the manifest, or raise the node limit")
}

/// How many values YAML aliases may add, beyond [`ALIAS_ALLOWANCE`], per value written out in the
/// document: shared templates stay well below it, while an alias bomb (aliases of aliases) is
/// refused after a few thousand copies instead of being expanded up to the node limit.
pub const ALIAS_RATIO: usize = 100;

/// Values aliases may add whatever the document's size.
pub const ALIAS_ALLOWANCE: usize = 10_000;

fn alias_error(span: Span) -> InputError {
    InputError::new(
        Code::Limit,
        format!(
            "YAML aliases expand to more than {ALIAS_RATIO} times the values written in the document"
        ),
        span,
    )
    .with_help("write the values out, or use fewer levels of aliases (aliases of aliases multiply)")
}

const BOM: &str = "\u{feff}";

/// Parses strict JSON (RFC 8259): no comments, no trailing commas.
///
/// The fast path ([`crate::fast_json`]) reads plain valid JSON in one pass; whatever it
/// declines goes to [`parse_json_reference`], which gives the located error (or, should the
/// fast path ever decline valid JSON, the same tree).
pub fn parse_json(text: &str, limits: &Limits) -> Result<Node, InputError> {
    let base = if text.starts_with(BOM) { BOM.len() } else { 0 };
    let body = text.get(base..).unwrap_or("");
    match crate::fast_json::parse(body, base, limits) {
        Some(node) => Ok(node),
        None => parse_json_reference(text, limits),
    }
}

/// Parses strict JSON through jsonc-parser's syntax tree: the reference the fast path is
/// tested against, and the one that says where and why a text is not JSON.
pub fn parse_json_reference(text: &str, limits: &Limits) -> Result<Node, InputError> {
    let base = if text.starts_with(BOM) { BOM.len() } else { 0 };
    let body = text.get(base..).unwrap_or("");
    check_json_depth(body, base, limits)?;
    let options = jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed = jsonc_parser::parse_to_ast(body, &Default::default(), &options).map_err(|e| {
        let range = e.range();
        InputError::new(
            Code::Syntax,
            format!("invalid JSON: {}", lowercase_first(&e.kind().to_string())),
            Span::new(base + range.start, base + range.end.max(range.start + 1)),
        )
    })?;
    let Some(value) = parsed.value else {
        return Err(empty_error(text));
    };
    let mut budget = limits.max_nodes;
    json_node(&value, base, &mut budget, limits, &mut Keys::default())
}

/// Rejects nesting past the limit before the recursive parser sees it.
fn check_json_depth(body: &str, base: usize, limits: &Limits) -> Result<(), InputError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in body.bytes().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(depth_error(limits, base + i));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn take_budget(budget: &mut usize, limits: &Limits, span: Span) -> Result<(), InputError> {
    match budget.checked_sub(1) {
        Some(rest) => {
            *budget = rest;
            Ok(())
        }
        None => Err(nodes_error(limits, span)),
    }
}

fn json_node(
    value: &ast::Value<'_>,
    base: usize,
    budget: &mut usize,
    limits: &Limits,
    keys: &mut Keys,
) -> Result<Node, InputError> {
    let span_of = |r: jsonc_parser::common::Range| Span::new(base + r.start, base + r.end);
    let (value, span) = match value {
        ast::Value::NullKeyword(n) => (Value::Null, span_of(n.range)),
        ast::Value::BooleanLit(b) => (Value::Bool(b.value), span_of(b.range)),
        ast::Value::StringLit(s) => (Value::String(s.value.to_string()), span_of(s.range)),
        ast::Value::NumberLit(n) => {
            let span = span_of(n.range);
            let number = n.value.parse::<serde_json::Number>().map_err(|_| {
                InputError::new(
                    Code::Syntax,
                    format!("the number `{}` is out of range", n.value),
                    span,
                )
            })?;
            (Value::Number(number), span)
        }
        ast::Value::Array(a) => {
            let span = span_of(a.range);
            let mut items = Vec::with_capacity(a.elements.len());
            for element in &a.elements {
                items.push(json_node(element, base, budget, limits, keys)?);
            }
            (Value::Array(items), span)
        }
        ast::Value::Object(o) => {
            let span = span_of(o.range);
            let mut entries = Vec::with_capacity(o.properties.len());
            for prop in &o.properties {
                let (key, key_range) = match &prop.name {
                    ast::ObjectPropName::String(s) => (s.value.to_string(), s.range),
                    ast::ObjectPropName::Word(w) => (w.value.to_string(), w.range),
                };
                entries.push(Entry {
                    key: keys.get(&key),
                    key_span: span_of(key_range),
                    value: json_node(&prop.value, base, budget, limits, keys)?,
                });
            }
            (Value::Object(entries), span)
        }
    };
    take_budget(budget, limits, span)?;
    Ok(Node { value, span })
}

fn empty_error(text: &str) -> InputError {
    InputError::new(
        Code::Empty,
        "the file holds no manifest",
        Span::new(0, text.len().min(1)),
    )
    .with_help("a manifest is an object with at least `product`, `data_centers` and `persistent_chat_pools`")
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An open collection while YAML events stream in.
enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
        budget_at_start: usize,
    },
    Map {
        entries: Vec<Entry>,
        key: Option<(String, Span)>,
        start: usize,
        anchor: usize,
        budget_at_start: usize,
    },
}

/// Parses one YAML 1.2 document (core schema). Anchors and aliases are expanded within the
/// node budget; tags other than `!!str` are read as plain scalars.
pub fn parse_yaml(text: &str, limits: &Limits) -> Result<Node, InputError> {
    let index = LineIndex::new(text);
    let offset = |m: &Marker| index.offset_of(m.line(), m.col());
    let scan_error = |e: ScanError| {
        let at = offset(e.marker());
        if e.info().contains("recursion limit") {
            return depth_error(limits, at);
        }
        InputError::new(
            Code::Syntax,
            format!("invalid YAML: {}", e.info()),
            Span::new(at, at + 1),
        )
    };
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    let mut keys = Keys::default();
    let mut budget = limits.max_nodes;
    // Values written out in the text, and values copied by aliases.
    let (mut written, mut copied) = (0usize, 0usize);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(scan_error)?;
        let start = offset(&span.start);
        let end = offset(&span.end);
        let finished: Option<(Node, usize, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => None,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(InputError::new(
                        Code::Empty,
                        "the file holds more than one YAML document",
                        Span::new(start, end.max(start + 1)),
                    )
                    .with_help("put one manifest in each file"));
                }
                None
            }
            Event::Scalar(value, style, anchor, tag) => {
                let span = Span::new(start, end);
                take_budget(&mut budget, limits, span)?;
                written += 1;
                let is_str_tag = tag
                    .as_ref()
                    .is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                let value = if style == ScalarStyle::Plain && !is_str_tag {
                    resolve_plain(&value).map_err(|m| InputError::new(Code::Syntax, m, span))?
                } else {
                    Value::String(value.into_owned())
                };
                Some((Node { value, span }, anchor, 1))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= limits.max_depth {
                    return Err(depth_error(limits, start));
                }
                take_budget(&mut budget, limits, Span::new(start, end))?;
                written += 1;
                let budget_at_start = budget;
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        start,
                        anchor,
                        budget_at_start,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        start,
                        anchor,
                        budget_at_start,
                    }
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    start,
                    anchor,
                    budget_at_start,
                }) => Some((
                    Node {
                        value: Value::Array(items),
                        span: Span::new(start, end),
                    },
                    anchor,
                    budget_at_start - budget + 1,
                )),
                Some(Frame::Map {
                    entries,
                    start,
                    anchor,
                    budget_at_start,
                    ..
                }) => Some((
                    Node {
                        value: Value::Object(entries),
                        span: Span::new(start, end),
                    },
                    anchor,
                    budget_at_start - budget + 1,
                )),
                None => None,
            },
            Event::Alias(id) => {
                let span = Span::new(start, end.max(start + 1));
                let Some((node, size)) = anchors.get(&id) else {
                    return Err(InputError::new(
                        Code::Syntax,
                        "invalid YAML: unknown anchor",
                        span,
                    ));
                };
                copied = copied.saturating_add(*size);
                if copied > ALIAS_ALLOWANCE.saturating_add(written.saturating_mul(ALIAS_RATIO)) {
                    return Err(alias_error(span));
                }
                budget = budget.checked_sub(*size).ok_or_else(|| {
                    nodes_error(limits, span).with_help(
                        "YAML aliases expand past the node limit; write the values out or drop the aliases",
                    )
                })?;
                let mut node = node.clone();
                node.span = span;
                Some((node, 0, *size))
            }
        };
        let Some((node, anchor, size)) = finished else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, (node.clone(), size));
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    let text = match node.value {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => "null".to_string(),
                        Value::Array(_) | Value::Object(_) => {
                            return Err(InputError::new(
                                Code::Syntax,
                                "a mapping key must be a plain value, not a collection",
                                node.span,
                            ));
                        }
                    };
                    *key = Some((text, node.span));
                }
                Some((k, key_span)) => entries.push(Entry {
                    key: keys.get(&k),
                    key_span,
                    value: node,
                }),
            },
        }
    }
    root.ok_or_else(|| empty_error(text))
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Result<Value, String> {
    Ok(match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            return Err(format!("the number `{text}` is not finite"));
        }
        _ => {
            if let Some(n) = resolve_int(text) {
                n
            } else if is_float(text) {
                let f: f64 = text
                    .parse()
                    .map_err(|_| format!("the number `{text}` is out of range"))?;
                match serde_json::Number::from_f64(f) {
                    Some(n) if f.is_finite() => Value::Number(n),
                    _ => return Err(format!("the number `{text}` is out of range")),
                }
            } else {
                Value::String(text.to_string())
            }
        }
    })
}

fn resolve_int(text: &str) -> Option<Value> {
    let (digits, radix) = if let Some(h) = text.strip_prefix("0x") {
        (h, 16)
    } else if let Some(o) = text.strip_prefix("0o") {
        (o, 8)
    } else {
        let body = text.strip_prefix(['-', '+']).unwrap_or(text);
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return match text.parse::<i64>() {
            Ok(i) => Some(Value::Number(i.into())),
            Err(_) => text
                .parse::<u64>()
                .ok()
                .map(|u| Value::Number(u.into()))
                .or_else(|| Some(Value::String(text.to_string()))),
        };
    };
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .map(|u| Value::Number(u.into()))
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (s.get(..i).unwrap_or(""), Some(s.get(i + 1..).unwrap_or(""))),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast JSON path and the reference agree: the same tree, or the fast path declines
    /// and the answer is the reference's (its error included).
    /// Returns whether the reference read the text and whether the fast path did.
    fn agree(text: &str, limits: &Limits) -> (bool, bool) {
        let reference = parse_json_reference(text, limits);
        let base = if text.starts_with(BOM) { BOM.len() } else { 0 };
        let body = text.get(base..).unwrap_or("");
        let fast = crate::fast_json::parse(body, base, limits);
        if let Some(fast) = &fast {
            assert_eq!(Ok(fast), reference.as_ref(), "fast path on {text:?}");
        }
        assert_eq!(parse_json(text, limits), reference, "{text:?}");
        (reference.is_ok(), fast.is_some())
    }

    #[test]
    fn the_fast_json_path_agrees_with_the_reference_on_edge_cases() {
        let cases = [
            "{}",
            "[]",
            " {\"a\" : [ 1 , -0, 0.5, 1e3, 1E+2, -1.25e-7, 12345678901234567890 ] } ",
            "\u{feff}{\"bom\": true}",
            "{\"a\":1,\"a\":2}",
            r#"{"s":"\"\\\/\b\f\n\r\t"}"#,
            r#"{"u":"\u00e9\u20ac\ud83d\ude00"}"#,
            r#"{"lone":"\ud800"}"#,
            r#"{"low":"\udc00"}"#,
            r#"{"bad":"\x"}"#,
            "{\"ctl\":\"a\u{1}b\"}",
            "{\"tab\":\"a\tb\"}",
            r#"{"é€😀":"ü"}"#,
            "01",
            "1.",
            ".5",
            "-",
            "+1",
            "1e",
            "1e+",
            "0x10",
            "1.5.2",
            "1e400",
            "-1e400",
            "NaN",
            "Infinity",
            "true",
            "false",
            "null",
            "nullx",
            "tru",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{a:1}",
            "{'a':1}",
            "[1]x",
            "[1] [2]",
            "",
            "   ",
            "\u{a0}[]",
            "[\u{c}]",
            "// c\n{}",
            "/* c */{}",
            "\"str\"",
            "[[[]]]",
            "{\"a\":{\"b\":{\"c\":[null]}}}",
            "[\"unterminated",
            "{\"a\":",
            "[1,2",
            "\r\n{\r\n\"a\"\t:\t1\r\n}\r\n",
        ];
        let mut fast_reads = 0;
        for text in cases {
            fast_reads += usize::from(agree(text, &Limits::default()).1);
        }
        assert!(
            fast_reads >= 12,
            "the fast path read {fast_reads} of the valid cases"
        );
        // Depth and node limits, at and past the line.
        let tight = Limits {
            max_depth: 3,
            max_nodes: 5,
            ..Limits::default()
        };
        for text in [
            "[[[1]]]",
            "[[[[1]]]]",
            "[1,2,3,4]",
            "[1,2,3,4,5]",
            "{\"a\":{\"b\":[1]}}",
        ] {
            agree(text, &tight);
        }
        agree(
            &"[".repeat(300),
            &Limits {
                max_depth: 1000,
                ..Limits::default()
            },
        );
    }

    #[test]
    fn the_fast_json_path_agrees_with_the_reference_on_every_shipped_json_file() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut pending = vec![
            root.join("examples"),
            root.join("tests"),
            root.join("schemas"),
            root.join("crates/pchat-guard/tests"),
        ];
        let mut seen = 0;
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "json")
                    && let Ok(text) = std::fs::read_to_string(&path)
                {
                    let (read, fast) = agree(&text, &Limits::default());
                    // Valid JSON takes the fast path: the reference is for errors, and for
                    // the control characters it lets through in strings (the fast path
                    // declines them; `bad-input/nul-bytes.json`).
                    let controls = text.bytes().any(|b| b < 0x20 && !b" \t\n\r".contains(&b));
                    assert_eq!(fast, read && !controls, "{}", path.display());
                    seen += 1;
                }
            }
        }
        assert!(seen > 20, "only {seen} JSON files found");
    }

    #[test]
    fn the_fast_json_path_agrees_with_the_reference_on_generated_documents() {
        // A fixed-seed generator of JSON-ish texts: valid documents in varied layouts, and the
        // same with one byte changed, so that both paths and their errors are compared.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        fn generate(next: &mut impl FnMut(u64) -> u64, depth: u32, out: &mut String) {
            let space = |next: &mut dyn FnMut(u64) -> u64, out: &mut String| {
                for _ in 0..next(3) {
                    out.push([' ', '\n', '\t', '\r'][next(4) as usize]);
                }
            };
            let pick = if depth > 4 { next(5) } else { next(7) };
            match pick {
                0 => out.push_str(["true", "false", "null"][next(3) as usize]),
                1 => out.push_str(
                    ["0", "-7", "3.25", "1e9", "-0.5E-3", "18446744073709551616"][next(6) as usize],
                ),
                2..=4 => {
                    out.push('"');
                    for _ in 0..next(6) {
                        out.push_str(
                            [
                                "a",
                                "é",
                                "\\n",
                                "\\u0041",
                                "\\\"",
                                "😀",
                                "\\ud83d\\ude00",
                                " ",
                            ][next(8) as usize],
                        );
                    }
                    out.push('"');
                }
                5 => {
                    out.push('[');
                    for i in 0..next(4) {
                        if i > 0 {
                            out.push(',');
                        }
                        space(next, out);
                        generate(next, depth + 1, out);
                        space(next, out);
                    }
                    out.push(']');
                }
                _ => {
                    out.push('{');
                    for i in 0..next(4) {
                        if i > 0 {
                            out.push(',');
                        }
                        space(next, out);
                        out.push_str(["\"id\"", "\"a/b\"", "\"~x\"", "\"k\""][next(4) as usize]);
                        space(next, out);
                        out.push(':');
                        generate(next, depth + 1, out);
                    }
                    out.push('}');
                }
            }
        }
        let mut fast_reads = 0;
        for _ in 0..3000 {
            let mut text = String::new();
            generate(&mut next, 0, &mut text);
            let (read, fast) = agree(&text, &Limits::default());
            assert!(read && fast, "a generated document is valid JSON: {text:?}");
            fast_reads += 1;
            let mut bytes = text.into_bytes();
            let at = next(bytes.len() as u64) as usize;
            if let Some(b) = bytes.get_mut(at) {
                *b = b"{}[],:\"\\ 0e.-x"[next(14) as usize];
            }
            if let Ok(changed) = String::from_utf8(bytes) {
                agree(&changed, &Limits::default());
            }
        }
        assert_eq!(fast_reads, 3000);
    }

    #[test]
    fn yaml_scalars_follow_the_core_schema() {
        assert_eq!(resolve_plain("~"), Ok(Value::Null));
        assert_eq!(resolve_plain("True"), Ok(Value::Bool(true)));
        assert_eq!(resolve_plain("5041"), Ok(Value::Number(5041.into())));
        assert_eq!(resolve_plain("0x10"), Ok(Value::Number(16.into())));
        assert!(matches!(resolve_plain("1.5e3"), Ok(Value::Number(_))));
        assert_eq!(resolve_plain("yes"), Ok(Value::String("yes".into())));
        assert_eq!(resolve_plain("2008r2"), Ok(Value::String("2008r2".into())));
        assert!(resolve_plain(".nan").is_err());
    }

    #[test]
    fn deep_json_is_a_limit_error_not_a_stack_overflow() {
        let text = "[".repeat(100_000);
        let err = parse_json(&text, &Limits::default()).err();
        assert_eq!(err.map(|e| e.code), Some(Code::Limit));
    }

    #[test]
    fn deep_yaml_is_a_limit_error() {
        let text = "[".repeat(100_000);
        let err = parse_yaml(&text, &Limits::default()).err();
        assert_eq!(err.map(|e| e.code), Some(Code::Limit));
    }

    #[test]
    fn yaml_alias_bombs_hit_the_node_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_yaml(&text, &Limits::default()).err();
        assert_eq!(err.map(|e| e.code), Some(Code::Limit));
    }

    #[test]
    fn yaml_alias_bombs_are_refused_before_they_grow() {
        // 9^8 values from a few hundred bytes: refused by the ratio, long before the node
        // limit, and at the alias that crossed it.
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (name, prev) in [
            ("b", "a"),
            ("c", "b"),
            ("d", "c"),
            ("e", "d"),
            ("f", "e"),
            ("g", "f"),
        ] {
            let items = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{items}]\n"));
        }
        let err = parse_yaml(&text, &Limits::default()).err();
        assert_eq!(err.as_ref().map(|e| e.code), Some(Code::Limit));
        let err = err.unwrap();
        assert!(err.message.contains("aliases expand"), "{}", err.message);
        assert!(
            text[err.span.start..].starts_with("*"),
            "at an alias: {:?}",
            err.span
        );
    }

    #[test]
    fn shared_templates_stay_within_the_alias_ratio() {
        // A 40-value template used 2,000 times: 80,000 copies for about 4,000 written values.
        let mut text = String::from(
            "template: &t {a: 1, b: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37]}\nitems:\n",
        );
        for i in 0..2000 {
            text.push_str(&format!("  - {{id: {i}, t: *t}}\n"));
        }
        let node = parse_yaml(&text, &Limits::default());
        assert!(node.is_ok(), "{:?}", node.err());
    }

    #[test]
    fn json_spans_cover_the_value() {
        let text = "{\"a\": [1, \"x\"]}";
        let node = parse_json(text, &Limits::default()).ok();
        let found = node
            .as_ref()
            .and_then(|n| n.lookup("/a/1"))
            .map(|(n, _)| n.span);
        assert_eq!(found, Some(Span::new(10, 13)));
    }
}
