//! Rule text to syntax tree: the lexer, the AST and a recursive-descent parser with error
//! recovery (every syntax error of a file is reported, not only the first).
//!
//! Nesting of expressions is bounded, so no rule text can exhaust the stack.

use crate::diagnostic::{Code, Sink};

/// A byte range in a rule file.
pub type Span = (usize, usize);

/// Deepest expression nesting the parser accepts.
const MAX_NESTING: usize = 64;

/// Longest chain of operators (`a + b + ...`) or postfix steps (`a.b.c...`) in one expression.
const MAX_CHAIN: usize = 256;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Int(i64),
    /// A string: the span of its raw contents (between the quotes), escapes and
    /// interpolations as written; the parser decodes them (`Parser::template`).
    Str(Span),
    Doc(String),
    Punct(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    span: Span,
}

const PUNCTS: [&str; 19] = [
    "==", "!=", "<=", ">=", "{", "}", "(", ")", "[", "]", ",", ".", ":", "=", "<", ">", "+", "-",
    "*",
];

/// The character that the escape `\c` in a string stands for, or `None` for an escape the
/// language does not have. The one definition of the escapes: the lexer checks them with it,
/// the parser decodes them with it.
fn unescape(c: char) -> Option<char> {
    match c {
        'n' => Some('\n'),
        '"' | '\\' | '{' | '}' => Some(c),
        _ => None,
    }
}

fn lex(text: &str, base: usize, file: usize, sink: &mut Sink) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes.get(i).copied().unwrap_or(0);
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if text.get(i..).is_some_and(|r| r.starts_with("///")) {
            let end = text
                .get(i..)
                .and_then(|r| r.find('\n'))
                .map_or(bytes.len(), |n| i + n);
            let line = text.get(i + 3..end).unwrap_or("");
            tokens.push(Token {
                tok: Tok::Doc(line.strip_prefix(' ').unwrap_or(line).to_string()),
                span: (base + i, base + end),
            });
            i = end;
        } else if text.get(i..).is_some_and(|r| r.starts_with("//")) {
            i = text
                .get(i..)
                .and_then(|r| r.find('\n'))
                .map_or(bytes.len(), |n| i + n);
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while bytes
                .get(i)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                i += 1;
            }
            tokens.push(Token {
                tok: Tok::Ident(text.get(start..i).unwrap_or("").to_string()),
                span: (base + start, base + i),
            });
        } else if c.is_ascii_digit() {
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let digits = text.get(start..i).unwrap_or("0");
            match digits.parse::<i64>() {
                Ok(n) => tokens.push(Token {
                    tok: Tok::Int(n),
                    span: (base + start, base + i),
                }),
                Err(_) => {
                    sink.report(
                        Code::Syntax,
                        file,
                        (base + start, base + i),
                        format!("the number `{digits}` is too large"),
                    );
                }
            }
        } else if c == b'"' {
            // Finds where the string ends and checks its escapes; its value is decoded once,
            // by the parser, which also parses its interpolations.
            i += 1;
            let content_start = i;
            let mut closed = false;
            // Depth of `{...}` interpolations: a `"` inside one starts a nested string, whose
            // escapes are checked when the interpolation is lexed.
            let mut braces = 0usize;
            while let Some(ch) = text.get(i..).and_then(|r| r.chars().next()) {
                match ch {
                    '"' if braces > 0 => {
                        i += 1;
                        while let Some(inner) = text.get(i..).and_then(|r| r.chars().next()) {
                            if inner == '\n' {
                                break;
                            }
                            i += inner.len_utf8();
                            if inner == '\\' {
                                if let Some(escaped) = text.get(i..).and_then(|r| r.chars().next())
                                {
                                    i += escaped.len_utf8();
                                }
                            } else if inner == '"' {
                                break;
                            }
                        }
                    }
                    '{' => {
                        braces += 1;
                        i += 1;
                    }
                    '}' => {
                        braces = braces.saturating_sub(1);
                        i += 1;
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\n' => break,
                    '\\' => {
                        let next = text.get(i + 1..).and_then(|r| r.chars().next());
                        if next.and_then(unescape).is_none() {
                            sink.report(
                                Code::Syntax,
                                file,
                                (base + i, base + i + 2),
                                "unknown escape in a string",
                            )
                            .help("strings know `\\\"`, `\\\\`, `\\n`, `\\{` and `\\}`");
                        }
                        i += 1 + next.map_or(0, char::len_utf8);
                    }
                    other => {
                        i += other.len_utf8();
                    }
                }
            }
            if !closed {
                sink.report(
                    Code::Syntax,
                    file,
                    (base + start, base + i),
                    "unterminated string",
                )
                .help("close it with `\"` on the same line");
            }
            let content_end = i;
            if closed {
                i += 1;
            }
            tokens.push(Token {
                tok: Tok::Str((base + content_start, base + content_end)),
                span: (base + start, base + i),
            });
        } else if let Some(p) = PUNCTS
            .iter()
            .find(|p| text.get(i..).is_some_and(|r| r.starts_with(**p)))
        {
            i += p.len();
            tokens.push(Token {
                tok: Tok::Punct(p),
                span: (base + start, base + i),
            });
        } else {
            let ch = text.get(i..).and_then(|r| r.chars().next()).unwrap_or('?');
            i += ch.len_utf8();
            sink.report(
                Code::Syntax,
                file,
                (base + start, base + i),
                format!("unexpected character `{ch}`"),
            );
        }
    }
    tokens.push(Token {
        tok: Tok::Eof,
        span: (base + bytes.len(), base + bytes.len()),
    });
    tokens
}

/// A parsed rule file.
#[derive(Debug, Clone, Default)]
pub struct File {
    /// Rules and helpers, in order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Debug, Clone)]
pub enum Item {
    /// A rule.
    Rule(Box<RuleDecl>),
    /// A helper predicate.
    Pred(PredDecl),
}

/// `rule ID { ... }`
#[derive(Debug, Clone)]
pub struct RuleDecl {
    /// The rule id.
    pub id: String,
    /// Its span.
    pub id_span: Span,
    /// The doc comment.
    pub doc: String,
    /// `severity` value and span.
    pub severity: Option<(String, Span)>,
    /// `title` value and span.
    pub title: Option<(String, Span)>,
    /// `facts` values and spans.
    pub facts: Vec<(String, Span)>,
    /// Span of the `facts` keyword, if present.
    pub facts_span: Option<Span>,
    /// Body clauses.
    pub body: Vec<ClauseAst>,
    /// The `report` clauses, in order: each is evaluated for every binding of the body.
    pub reports: Vec<ReportAst>,
    /// The whole rule.
    pub span: Span,
}

/// `pred name(params) = expr`
#[derive(Debug, Clone)]
pub struct PredDecl {
    /// Name.
    pub name: String,
    /// Its span.
    pub name_span: Span,
    /// Parameter names and spans.
    pub params: Vec<(String, Span)>,
    /// The body.
    pub body: E,
}

/// A body clause.
#[derive(Debug, Clone)]
pub enum ClauseAst {
    /// `for name in expr`
    For(String, Span, E),
    /// `let name = expr`
    Let(String, Span, E),
    /// `where expr`
    Where(E),
}

/// `report [each name in expr] [when expr] at expr, ... message "..." help "..."`
#[derive(Debug, Clone)]
pub struct ReportAst {
    /// Where the `report` keyword stands.
    pub span: Span,
    /// `each name in list`: one finding per item of the list, `name` bound to it.
    pub each: Option<(String, Span, E)>,
    /// `when condition`: the finding is made only when it holds.
    pub when: Option<E>,
    /// The value the finding is about: the first of these that is present.
    pub at: Vec<E>,
    /// The message (any string expression; usually a template).
    pub message: E,
    /// How to fix it.
    pub help: Option<E>,
}

/// A string with `{expr}` interpolations.
#[derive(Debug, Clone)]
pub struct Tpl {
    /// Parts.
    pub parts: Vec<TplPart>,
}

/// Part of a template.
#[derive(Debug, Clone)]
pub enum TplPart {
    /// Text.
    Text(String),
    /// An interpolated expression.
    Expr(E),
}

/// An expression with its span.
#[derive(Debug, Clone)]
pub struct E {
    /// What it is.
    pub kind: EK,
    /// Where it is.
    pub span: Span,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `and`
    And,
    /// `or`
    Or,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
}

/// Expression kinds.
#[derive(Debug, Clone)]
pub enum EK {
    /// Integer literal.
    Int(i64),
    /// String literal.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `none`.
    None,
    /// A name.
    Name(String),
    /// `expr.field` (the span is the field's).
    Field(Box<E>, String, Span),
    /// `collection[key]`.
    Index(Box<E>, Box<E>),
    /// `callee(args)`; a method call has a `Field` callee.
    Call(Box<E>, Vec<E>),
    /// `not expr`.
    Not(Box<E>),
    /// A binary operation.
    Binary(BinOp, Box<E>, Box<E>),
    /// `[a, b]`.
    List(Vec<E>),
    /// `if c then a else b`.
    If(Box<E>, Box<E>, Box<E>),
    /// A string with `{expr}` interpolations.
    Template(Tpl),
}

const KEYWORDS: &[&str] = &[
    "rule", "pred", "for", "in", "let", "where", "report", "at", "message", "help", "severity",
    "title", "facts", "each", "when", "and", "or", "not", "true", "false", "none", "if", "then",
    "else",
];

struct Parser<'s> {
    tokens: Vec<Token>,
    pos: usize,
    file: usize,
    text: &'s str,
    sink: &'s mut Sink,
    depth: usize,
}

/// Parses one rule file; errors go to `sink`.
pub fn parse(text: &str, file: usize, sink: &mut Sink) -> File {
    let tokens = lex(text, 0, file, sink);
    let mut parser = Parser {
        tokens,
        pos: 0,
        file,
        text,
        sink,
        depth: 0,
    };
    parser.file()
}

struct Failed;

type R<T> = Result<T, Failed>;

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.tokens.get(self.pos).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn span(&self) -> Span {
        self.tokens
            .get(self.pos)
            .map_or((self.text.len(), self.text.len()), |t| t.span)
    }

    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.tokens.get(p))
            .map_or(0, |t| t.span.1)
    }

    fn bump(&mut self) -> Token {
        let token = self.tokens.get(self.pos).cloned().unwrap_or(Token {
            tok: Tok::Eof,
            span: (self.text.len(), self.text.len()),
        });
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn describe(tok: &Tok) -> String {
        match tok {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int(n) => format!("`{n}`"),
            Tok::Str(..) => "a string".to_string(),
            Tok::Doc(_) => "a doc comment".to_string(),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "the end of the file".to_string(),
        }
    }

    fn expected(&mut self, what: &str) -> Failed {
        let found = Self::describe(self.peek());
        let span = self.span();
        self.sink
            .report(
                Code::Syntax,
                self.file,
                span,
                format!("expected {what}, found {found}"),
            )
            .label(format!("expected {what}"));
        Failed
    }

    fn expect_punct(&mut self, p: &str) -> R<Span> {
        if self.is_punct(p) {
            Ok(self.bump().span)
        } else {
            Err(self.expected(&format!("`{p}`")))
        }
    }

    fn expect_kw(&mut self, kw: &str) -> R<Span> {
        if self.is_kw(kw) {
            Ok(self.bump().span)
        } else {
            Err(self.expected(&format!("`{kw}`")))
        }
    }

    fn ident(&mut self, what: &str) -> R<(String, Span)> {
        match self.peek().clone() {
            Tok::Ident(s) if !KEYWORDS.contains(&s.as_str()) => Ok((s, self.bump().span)),
            _ => Err(self.expected(what)),
        }
    }

    fn string(&mut self, what: &str) -> R<(Span, Span)> {
        match self.peek().clone() {
            Tok::Str(raw) => Ok((raw, self.bump().span)),
            _ => Err(self.expected(what)),
        }
    }

    fn file(&mut self) -> File {
        let mut file = File::default();
        loop {
            let mut doc = Vec::new();
            while let Tok::Doc(line) = self.peek().clone() {
                doc.push(line);
                self.bump();
            }
            if matches!(self.peek(), Tok::Eof) {
                break;
            }
            let result = if self.is_kw("rule") {
                self.rule(doc.join("\n")).map(|r| Item::Rule(Box::new(r)))
            } else if self.is_kw("pred") {
                self.pred().map(Item::Pred)
            } else {
                Err(self.expected("`rule` or `pred`"))
            };
            match result {
                Ok(item) => file.items.push(item),
                Err(Failed) => self.recover_top(),
            }
        }
        file
    }

    /// Skips to the next `rule` or `pred` at the start of a line.
    fn recover_top(&mut self) {
        self.bump();
        while !matches!(self.peek(), Tok::Eof) {
            if (self.is_kw("rule") || self.is_kw("pred") || matches!(self.peek(), Tok::Doc(_)))
                && self.at_line_start()
            {
                return;
            }
            self.bump();
        }
    }

    fn at_line_start(&self) -> bool {
        let start = self.span().0;
        self.text.get(..start).is_none_or(|before| {
            before
                .rsplit('\n')
                .next()
                .is_none_or(|l| l.trim().is_empty())
        })
    }

    /// Rule ids are written bare (`PCHAT-HA-001`): adjacent identifiers, numbers and dashes.
    fn rule_id(&mut self) -> R<(String, Span)> {
        let start = self.span();
        let mut id = String::new();
        let mut end = start.0;
        loop {
            let span = self.span();
            if !id.is_empty() && span.0 != end {
                break;
            }
            match self.peek().clone() {
                Tok::Ident(s) => id.push_str(&s),
                Tok::Int(_) => id.push_str(self.text.get(span.0..span.1).unwrap_or("")),
                Tok::Punct("-") if !id.is_empty() => id.push('-'),
                _ => break,
            }
            end = span.1;
            self.bump();
        }
        if id.is_empty() {
            return Err(self.expected("a rule id such as `PCHAT-HA-001`"));
        }
        Ok((id, (start.0, end)))
    }

    fn rule(&mut self, doc: String) -> R<RuleDecl> {
        let start = self.expect_kw("rule")?.0;
        let (id, id_span) = self.rule_id()?;
        self.expect_punct("{")?;
        let mut rule = RuleDecl {
            id,
            id_span,
            doc,
            severity: None,
            title: None,
            facts: Vec::new(),
            facts_span: None,
            body: Vec::new(),
            reports: Vec::new(),
            span: (start, start),
        };
        loop {
            let outcome = self.rule_part(&mut rule);
            if outcome.is_err() {
                // Skip to the next clause keyword or the closing brace.
                while !matches!(self.peek(), Tok::Eof)
                    && !self.is_punct("}")
                    && !self.at_clause_start()
                {
                    self.bump();
                }
            }
            if self.is_punct("}") {
                let end = self.bump().span.1;
                rule.span = (start, end);
                return Ok(rule);
            }
            if matches!(self.peek(), Tok::Eof) {
                return Err(self.expected("`}` closing the rule"));
            }
            if self.is_kw("rule") || self.is_kw("pred") {
                return Err(self.expected("`}` closing the rule"));
            }
        }
    }

    fn at_clause_start(&self) -> bool {
        [
            "for", "let", "where", "report", "severity", "title", "facts",
        ]
        .iter()
        .any(|k| self.is_kw(k))
            && self.at_line_start()
    }

    fn rule_part(&mut self, rule: &mut RuleDecl) -> R<()> {
        let Tok::Ident(kw) = self.peek().clone() else {
            return Err(
                self.expected("`severity`, `title`, `facts`, `for`, `let`, `where` or `report`")
            );
        };
        // A header clause given twice would silently replace the first.
        let once = |given: Option<Span>, sink: &mut Sink, file: usize, at: Span| {
            if given.is_some() {
                sink.report(
                    Code::RuleHeader,
                    file,
                    at,
                    format!("`{kw}` is given twice in this rule"),
                )
                .label("given again here")
                .help(format!("a rule has one `{kw}`: keep one of them"));
            }
        };
        match kw.as_str() {
            "severity" => {
                let at = self.bump().span;
                once(
                    rule.severity.as_ref().map(|s| s.1),
                    self.sink,
                    self.file,
                    at,
                );
                let (value, span) = self.ident("`error`, `warning` or `info`")?;
                rule.severity = Some((value, span));
            }
            "title" => {
                let at = self.bump().span;
                once(rule.title.as_ref().map(|t| t.1), self.sink, self.file, at);
                let (raw, span) = self.string("a title string")?;
                let text = match self.template(raw)?.parts.as_slice() {
                    [] => String::new(),
                    [TplPart::Text(t)] => t.clone(),
                    _ => {
                        self.sink
                            .report(Code::RuleHeader, self.file, span, "a title is plain text")
                            .label("`{...}` here")
                            .help("values go in the `message`; escape a brace as `\\{`");
                        return Err(Failed);
                    }
                };
                rule.title = Some((text, span));
            }
            "facts" => {
                once(rule.facts_span, self.sink, self.file, self.span());
                rule.facts_span = Some(self.bump().span);
                loop {
                    let (fact, span) = self.ident("a fact id such as `F1`")?;
                    rule.facts.push((fact, span));
                    if self.is_punct(",") {
                        self.bump();
                    } else {
                        break;
                    }
                }
            }
            "for" => {
                self.bump();
                let (name, span) = self.ident("a variable name")?;
                self.expect_kw("in")?;
                let source = self.expr()?;
                rule.body.push(ClauseAst::For(name, span, source));
            }
            "let" => {
                self.bump();
                let (name, span) = self.ident("a variable name")?;
                self.expect_punct("=")?;
                let value = self.expr()?;
                rule.body.push(ClauseAst::Let(name, span, value));
            }
            "where" => {
                self.bump();
                let condition = self.expr()?;
                rule.body.push(ClauseAst::Where(condition));
            }
            "report" => {
                let span = self.bump().span;
                let each = if self.is_kw("each") {
                    self.bump();
                    let (name, name_span) = self.ident("a variable name")?;
                    self.expect_kw("in")?;
                    Some((name, name_span, self.expr()?))
                } else {
                    None
                };
                let when = if self.is_kw("when") {
                    self.bump();
                    Some(self.expr()?)
                } else {
                    None
                };
                self.expect_kw("at")?;
                let mut at = vec![self.expr()?];
                while self.is_punct(",") {
                    self.bump();
                    at.push(self.expr()?);
                }
                self.expect_kw("message")?;
                let message = self.expr()?;
                let help = if self.is_kw("help") {
                    self.bump();
                    Some(self.expr()?)
                } else {
                    None
                };
                if !rule.reports.is_empty() && each.is_none() && when.is_none() {
                    // Two unconditional reports would say two things about one binding.
                    self.sink
                        .report(
                            Code::RuleHeader,
                            self.file,
                            span,
                            "a second `report` needs `when` or `each`",
                        )
                        .label("reported for every binding, like the first")
                        .help("say when this finding is made (`report when <condition> at ...`), or merge the two reports");
                }
                rule.reports.push(ReportAst {
                    span,
                    each,
                    when,
                    at,
                    message,
                    help,
                });
            }
            _ => {
                return Err(self
                    .expected("`severity`, `title`, `facts`, `for`, `let`, `where` or `report`"));
            }
        }
        Ok(())
    }

    fn pred(&mut self) -> R<PredDecl> {
        self.expect_kw("pred")?;
        let (name, name_span) = self.ident("a helper name")?;
        self.expect_punct("(")?;
        let mut params = Vec::new();
        while !self.is_punct(")") {
            params.push(self.ident("a parameter name")?);
            if !self.is_punct(",") {
                break;
            }
            self.bump();
        }
        self.expect_punct(")")?;
        self.expect_punct("=")?;
        let body = self.expr()?;
        Ok(PredDecl {
            name,
            name_span,
            params,
            body,
        })
    }

    /// Parses a string's raw text into a template: `{expr}` interpolates, `\{` is a brace.
    fn template(&mut self, raw: Span) -> R<Tpl> {
        let text = self.text.get(raw.0..raw.1).unwrap_or("");
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, ch)) = chars.next() {
            match ch {
                // An unknown escape was reported by the lexer; it stands for its character.
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        literal.push(unescape(escaped).unwrap_or(escaped));
                    }
                }
                '{' => {
                    let Some(close) = text.get(i..).and_then(closing_brace) else {
                        self.sink
                            .report(
                                Code::Syntax,
                                self.file,
                                (raw.0 + i, raw.0 + i + 1),
                                "unclosed `{` in a string",
                            )
                            .help("write `\\{` for a brace");
                        return Err(Failed);
                    };
                    if !literal.is_empty() {
                        parts.push(TplPart::Text(std::mem::take(&mut literal)));
                    }
                    let inner = text.get(i + 1..i + close).unwrap_or("");
                    let tokens = lex(inner, raw.0 + i + 1, self.file, self.sink);
                    let mut sub = Parser {
                        tokens,
                        pos: 0,
                        file: self.file,
                        text: self.text,
                        sink: self.sink,
                        depth: self.depth,
                    };
                    let e = sub.expr()?;
                    if !matches!(sub.peek(), Tok::Eof) {
                        return Err(sub.expected("`}` ending the interpolation"));
                    }
                    parts.push(TplPart::Expr(e));
                    while chars.peek().is_some_and(|(j, _)| *j <= i + close) {
                        chars.next();
                    }
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            parts.push(TplPart::Text(literal));
        }
        Ok(Tpl { parts })
    }

    fn expr(&mut self) -> R<E> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            let span = self.span();
            self.sink.report(
                Code::Syntax,
                self.file,
                span,
                format!("expressions nest deeper than {MAX_NESTING} levels"),
            );
            self.depth -= 1;
            return Err(Failed);
        }
        let result = self.or();
        self.depth -= 1;
        result
    }

    /// Bounds the length of operator and postfix chains, which build trees as deep as they are
    /// long (the checker walks them recursively).
    fn chain_step(&mut self, length: &mut usize) -> R<()> {
        *length += 1;
        if *length > MAX_CHAIN {
            let span = self.span();
            self.sink.report(
                Code::Syntax,
                self.file,
                span,
                format!("an expression chains more than {MAX_CHAIN} operations"),
            );
            return Err(Failed);
        }
        Ok(())
    }

    fn binary(lhs: E, op: BinOp, rhs: E) -> E {
        let span = (lhs.span.0, rhs.span.1);
        E {
            kind: EK::Binary(op, Box::new(lhs), Box::new(rhs)),
            span,
        }
    }

    fn or(&mut self) -> R<E> {
        let mut length = 0;
        let mut lhs = self.and()?;
        while self.is_kw("or") {
            self.chain_step(&mut length)?;
            self.bump();
            let rhs = self.and()?;
            lhs = Self::binary(lhs, BinOp::Or, rhs);
        }
        Ok(lhs)
    }

    fn and(&mut self) -> R<E> {
        let mut length = 0;
        let mut lhs = self.not()?;
        while self.is_kw("and") {
            self.chain_step(&mut length)?;
            self.bump();
            let rhs = self.not()?;
            lhs = Self::binary(lhs, BinOp::And, rhs);
        }
        Ok(lhs)
    }

    fn not(&mut self) -> R<E> {
        if self.is_kw("not") {
            let start = self.bump().span.0;
            self.depth += 1;
            if self.depth > MAX_NESTING {
                self.depth -= 1;
                return Err(self.expected("an expression"));
            }
            let inner = self.not();
            self.depth -= 1;
            let inner = inner?;
            let span = (start, inner.span.1);
            return Ok(E {
                kind: EK::Not(Box::new(inner)),
                span,
            });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> R<E> {
        let lhs = self.additive()?;
        let op = match self.peek() {
            Tok::Punct("==") => BinOp::Eq,
            Tok::Punct("!=") => BinOp::Ne,
            Tok::Punct("<") => BinOp::Lt,
            Tok::Punct("<=") => BinOp::Le,
            Tok::Punct(">") => BinOp::Gt,
            Tok::Punct(">=") => BinOp::Ge,
            Tok::Ident(s) if s == "in" => BinOp::In,
            Tok::Ident(s) if s == "not" => {
                if matches!(self.tokens.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Ident(s)) if s == "in")
                {
                    self.bump();
                    BinOp::NotIn
                } else {
                    return Ok(lhs);
                }
            }
            _ => return Ok(lhs),
        };
        self.bump();
        let rhs = self.additive()?;
        Ok(Self::binary(lhs, op, rhs))
    }

    fn additive(&mut self) -> R<E> {
        let mut length = 0;
        let mut lhs = self.multiplicative()?;
        loop {
            self.chain_step(&mut length)?;
            let op = match self.peek() {
                Tok::Punct("+") => BinOp::Add,
                Tok::Punct("-") => BinOp::Sub,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.multiplicative()?;
            lhs = Self::binary(lhs, op, rhs);
        }
    }

    fn multiplicative(&mut self) -> R<E> {
        let mut length = 0;
        let mut lhs = self.postfix()?;
        while self.is_punct("*") {
            self.chain_step(&mut length)?;
            self.bump();
            let rhs = self.postfix()?;
            lhs = Self::binary(lhs, BinOp::Mul, rhs);
        }
        Ok(lhs)
    }

    fn postfix(&mut self) -> R<E> {
        let mut length = 0;
        let mut e = self.primary()?;
        loop {
            self.chain_step(&mut length)?;
            if self.is_punct(".") {
                self.bump();
                let (name, span) = match self.peek().clone() {
                    Tok::Ident(s) => (s, self.bump().span),
                    _ => return Err(self.expected("a field or method name")),
                };
                let whole = (e.span.0, span.1);
                e = E {
                    kind: EK::Field(Box::new(e), name, span),
                    span: whole,
                };
            } else if self.is_punct("[") {
                self.bump();
                let key = self.expr()?;
                let end = self.expect_punct("]")?.1;
                let whole = (e.span.0, end);
                e = E {
                    kind: EK::Index(Box::new(e), Box::new(key)),
                    span: whole,
                };
            } else if self.is_punct("(") {
                self.bump();
                let mut args = Vec::new();
                while !self.is_punct(")") {
                    args.push(self.expr()?);
                    if !self.is_punct(",") {
                        break;
                    }
                    self.bump();
                }
                let end = self.expect_punct(")")?.1;
                let whole = (e.span.0, end);
                e = E {
                    kind: EK::Call(Box::new(e), args),
                    span: whole,
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> R<E> {
        let span = self.span();
        let kind = match self.peek().clone() {
            Tok::Int(n) => {
                self.bump();
                EK::Int(n)
            }
            Tok::Punct("-") => {
                self.bump();
                match self.peek().clone() {
                    Tok::Int(n) => {
                        let end = self.bump().span.1;
                        return Ok(E {
                            kind: EK::Int(-n),
                            span: (span.0, end),
                        });
                    }
                    _ => return Err(self.expected("a number after `-`")),
                }
            }
            Tok::Str(raw) => {
                self.bump();
                let template = self.template(raw)?;
                match template.parts.as_slice() {
                    [] => EK::Str(String::new()),
                    [TplPart::Text(t)] => EK::Str(t.clone()),
                    _ => EK::Template(template),
                }
            }
            Tok::Ident(s) if s == "true" || s == "false" => {
                self.bump();
                EK::Bool(s == "true")
            }
            Tok::Ident(s) if s == "none" => {
                self.bump();
                EK::None
            }
            Tok::Ident(s) if s == "if" => {
                self.bump();
                let condition = self.expr()?;
                self.expect_kw("then")?;
                let then = self.expr()?;
                self.expect_kw("else")?;
                let otherwise = self.expr()?;
                let end = otherwise.span.1;
                return Ok(E {
                    kind: EK::If(Box::new(condition), Box::new(then), Box::new(otherwise)),
                    span: (span.0, end),
                });
            }
            Tok::Ident(s) if !KEYWORDS.contains(&s.as_str()) => {
                self.bump();
                EK::Name(s)
            }
            Tok::Punct("(") => {
                self.bump();
                let inner = self.expr()?;
                self.expect_punct(")")?;
                return Ok(inner);
            }
            Tok::Punct("[") => {
                self.bump();
                let mut items = Vec::new();
                while !self.is_punct("]") {
                    items.push(self.expr()?);
                    if !self.is_punct(",") {
                        break;
                    }
                    self.bump();
                }
                let end = self.expect_punct("]")?.1;
                return Ok(E {
                    kind: EK::List(items),
                    span: (span.0, end),
                });
            }
            _ => return Err(self.expected("an expression")),
        };
        Ok(E {
            kind,
            span: (span.0, self.prev_end().max(span.1)),
        })
    }
}

/// The offset of the `}` that closes the interpolation opened at the start of `text`, skipping
/// strings inside it.
fn closing_brace(text: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    let mut depth = 0usize;
    for (i, ch) in text.char_indices() {
        if in_string {
            match (escaped, ch) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}
