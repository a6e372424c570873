//! A fast path for strict JSON: text straight to a [`Node`] tree with spans, in one pass.
//!
//! It reads only the plain, valid JSON that nearly every manifest is, and declines everything
//! else (`None`): a syntax error, a control character or lone surrogate in a string, a number
//! out of range, nesting past the depth limit, more values than the node budget, an empty text.
//! [`crate::parse::parse_json`] then runs the reference parser (jsonc-parser), which gives the
//! same tree for what this path reads and the located error for what it declines. So this path
//! decides nothing on its own: it must give exactly the reference's tree or nothing, which the
//! differential tests in `parse.rs` and the `manifest` fuzz target check.
//!
//! Going through jsonc-parser's AST and converting it cost about a third of a one-pool check;
//! this path reads the bytes once and allocates only the tree.

use crate::parse::Limits;
use crate::source::Span;
use std::borrow::Cow;

use crate::value::{Entry, Keys, Node, Value};

/// Parses `body` (the text after any byte order mark, which starts at `base` in the file), or
/// declines.
pub fn parse(body: &str, base: usize, limits: &Limits) -> Option<Node> {
    let mut reader = Reader {
        text: body,
        bytes: body.as_bytes(),
        at: 0,
        base,
        budget: limits.max_nodes,
        max_depth: limits.max_depth.min(MAX_RECURSION),
        entries: Vec::new(),
        items: Vec::new(),
        keys: Keys::default(),
    };
    reader.skip_whitespace();
    let node = reader.value(0)?;
    reader.skip_whitespace();
    (reader.at == reader.bytes.len()).then_some(node)
}

/// Where the plain run of a string's text that starts at `at` ends: at the first quote,
/// backslash or control character, or at the end of the text. Eight bytes are tested at a
/// time (most of a manifest's bytes are in its strings); in a word holding one of them, the
/// lowest marked byte is the first one exactly (a borrow only marks bytes above a true one).
fn plain_run(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // A byte of `x` is zero exactly when `zero(x)` is not: a borrow may mark bytes above a
    // zero byte too, but never marks a word without one.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    while let Some(word) = bytes
        .get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map(u64::from_le_bytes)
    {
        let quote = zero(word ^ (ONES * u64::from(b'"')));
        let backslash = zero(word ^ (ONES * u64::from(b'\\')));
        // A byte below 0x20, the same way (exact for any bound up to 0x80).
        let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
        let marked = quote | backslash | control;
        if marked != 0 {
            return at + (marked.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&b) = bytes.get(at) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

/// The deepest nesting this path reads (it recurses): the ceiling of the depth limit.
const MAX_RECURSION: usize = crate::parse::MAX_DEPTH;

struct Reader<'t> {
    text: &'t str,
    bytes: &'t [u8],
    at: usize,
    base: usize,
    budget: usize,
    max_depth: usize,
    /// The entries of the objects being read, innermost last: an object's entries are moved
    /// out into a vector of their exact size when it closes, so a container costs one
    /// allocation rather than one per doubling.
    entries: Vec<Entry>,
    /// The same for the items of arrays.
    items: Vec<Node>,
    /// The keys read so far, each allocated once.
    keys: Keys,
}

impl<'t> Reader<'t> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn span(&self, start: usize) -> Span {
        Span::new(self.base + start, self.base + self.at)
    }

    /// One value at nesting `depth` (the number of arrays and objects around it).
    fn value(&mut self, depth: usize) -> Option<Node> {
        let start = self.at;
        let value = match self.peek()? {
            b'{' => self.object(depth + 1)?,
            b'[' => self.array(depth + 1)?,
            b'"' => Value::String(self.string()?.into_owned()),
            b't' => self.word(b"true", Value::Bool(true))?,
            b'f' => self.word(b"false", Value::Bool(false))?,
            b'n' => self.word(b"null", Value::Null)?,
            b'-' | b'0'..=b'9' => Value::Number(self.number()?),
            _ => return None,
        };
        // The reference counts a value once its children are read; so does this path.
        self.budget = self.budget.checked_sub(1)?;
        Some(Node {
            value,
            span: self.span(start),
        })
    }

    fn word(&mut self, word: &[u8], value: Value) -> Option<Value> {
        let end = self.at + word.len();
        if self.bytes.get(self.at..end)? != word {
            return None;
        }
        self.at = end;
        // `nullx` is one bad word, not `null` and garbage.
        match self.peek() {
            Some(b) if b.is_ascii_alphanumeric() || b == b'_' => None,
            _ => Some(value),
        }
    }

    fn object(&mut self, depth: usize) -> Option<Value> {
        if depth > self.max_depth {
            return None;
        }
        self.at += 1;
        let base = self.entries.len();
        self.skip_whitespace();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(Value::Object(Vec::new()));
        }
        loop {
            self.skip_whitespace();
            if self.peek()? != b'"' {
                return None;
            }
            let key_start = self.at;
            let key = self.string()?;
            let key = self.keys.get(&key);
            let key_span = self.span(key_start);
            self.skip_whitespace();
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            self.skip_whitespace();
            let value = self.value(depth)?;
            self.entries.push(Entry {
                key,
                key_span,
                value,
            });
            self.skip_whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(Value::Object(self.entries.drain(base..).collect()));
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<Value> {
        if depth > self.max_depth {
            return None;
        }
        self.at += 1;
        let base = self.items.len();
        self.skip_whitespace();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(Value::Array(Vec::new()));
        }
        loop {
            self.skip_whitespace();
            let item = self.value(depth)?;
            self.items.push(item);
            self.skip_whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(Value::Array(self.items.drain(base..).collect()));
                }
                _ => return None,
            }
        }
    }

    /// A string, the opening quote at `at`; declines control characters, unknown escapes and
    /// lone surrogates.
    fn string(&mut self) -> Option<Cow<'t, str>> {
        self.at += 1;
        let run_start = self.at;
        // The common case: no escape, so the text between the quotes is the string.
        self.at = plain_run(self.bytes, self.at);
        match self.peek()? {
            b'"' => {
                // Quotes and backslashes are ASCII, so these slices fall on char boundaries.
                let text = self.text.get(run_start..self.at)?;
                self.at += 1;
                return Some(Cow::Borrowed(text));
            }
            b'\\' => {}
            _ => return None,
        }
        let mut out = self.text.get(run_start..self.at)?.to_string();
        loop {
            let run = self.at;
            self.at = plain_run(self.bytes, self.at);
            out.push_str(self.text.get(run..self.at)?);
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    self.at += 1;
                    let escaped = self.peek()?;
                    self.at += 1;
                    match escaped {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// The character of a `\u` escape (after the `u`), a surrogate pair read whole.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.at..self.at + 2)? != b"\\u" {
                    return None;
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return None;
                }
                char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            }
            0xDC00..=0xDFFF => None,
            _ => char::from_u32(first),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    /// A number as RFC 8259 writes it (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
    fn number(&mut self) -> Option<serde_json::Number> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        // `01`, `1.5.2`, `1x` are one bad token to the reference; decline them.
        match self.peek() {
            Some(b) if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' => return None,
            _ => {}
        }
        self.text
            .get(start..self.at)?
            .parse::<serde_json::Number>()
            .ok()
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plain_run;

    fn byte_by_byte(bytes: &[u8], at: usize) -> usize {
        bytes
            .get(at..)
            .and_then(|rest| {
                rest.iter()
                    .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            })
            .map_or(bytes.len(), |i| at + i)
    }

    /// Every byte value at every place of words and their tails, among fillers on both sides
    /// of each bound the test uses (0x20, 0x80), and after an earlier stop byte.
    #[test]
    fn a_plain_run_ends_where_a_byte_by_byte_scan_ends() {
        for len in 0..20 {
            for place in 0..len {
                for stop in 0..=255u8 {
                    for filler in [b'a', b' ', b'!', 0x7f, 0x80, 0xc3, 0xff] {
                        let mut bytes = vec![filler; len];
                        bytes[place] = stop;
                        for start in 0..=len.min(9) {
                            assert_eq!(
                                plain_run(&bytes, start),
                                byte_by_byte(&bytes, start),
                                "{bytes:?} from {start}"
                            );
                        }
                        if place > 0 {
                            bytes[place - 1] = b'"';
                            assert_eq!(plain_run(&bytes, 0), byte_by_byte(&bytes, 0));
                        }
                    }
                }
            }
        }
    }
}
