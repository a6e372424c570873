//! Rules: the header (id, severity, title, facts), the body clauses (`for`, `let`, `where`)
//! and the `report` clauses, checked and lowered to an [`ir::Rule`].

use pchat_guard_engine::Severity;
use pchat_guard_engine::ir::{self, Builtin, Expr, Lit};

use crate::check::Checker;
use crate::diagnostic::Code;
use crate::syntax::{ClauseAst, E, ReportAst, RuleDecl, Span};
use crate::types::{Ty, describe};

impl Checker<'_> {
    /// Checks a rule and lowers it; `None` when it has errors.
    pub fn rule(&mut self, file: usize, rule: &RuleDecl) -> Option<ir::Rule> {
        self.file = file;
        self.scopes.clear();
        self.next_slot = 0;
        let errors_before = self.sink.items.len();
        let severity = self.header(file, rule);
        let mut body = Vec::new();
        for clause in &rule.body {
            match clause {
                ClauseAst::For(name, span, source) => {
                    let (expr, item) = self.list_source(source, "for");
                    let slot = self.bind(name, *span, item);
                    body.push(ir::Clause::For { slot, source: expr });
                }
                ClauseAst::Let(name, span, value) => {
                    let (expr, ty) = self.expr(value);
                    let slot = self.bind(name, *span, ty);
                    body.push(ir::Clause::Let { slot, value: expr });
                }
                ClauseAst::Where(condition) => {
                    let expr = self.condition(condition, "`where`");
                    if matches!(expr, Expr::Lit(Lit::Bool(false))) {
                        self.sink
                            .report(
                                Code::NeverFires,
                                file,
                                condition.span,
                                format!("rule `{}` can never fire", rule.id),
                            )
                            .label("always false");
                    }
                    body.push(ir::Clause::Where(expr));
                }
            }
        }
        if rule.reports.is_empty() {
            self.sink
                .report(
                    Code::RuleHeader,
                    file,
                    rule.id_span,
                    format!("rule `{}` has no `report` clause", rule.id),
                )
                .help("end the rule with `report at <value> message \"...\"`");
            self.unused();
            return None;
        }
        let mut reports = Vec::new();
        for report in &rule.reports {
            reports.push(self.report(&rule.id, report));
        }
        self.unused();
        let failed = self
            .sink
            .items
            .iter()
            .skip(errors_before)
            .any(|d| d.level == crate::diagnostic::Level::Error);
        if failed {
            return None;
        }
        Some(ir::Rule {
            id: rule.id.clone(),
            severity: severity?,
            title: rule
                .title
                .as_ref()
                .map(|(t, _)| t.clone())
                .unwrap_or_default(),
            facts: rule.facts.iter().map(|(f, _)| f.clone()).collect(),
            doc: rule.doc.clone(),
            slots: self.next_slot,
            body,
            reports,
            // Filled in by `compile`, which knows the files and the pack.
            source: String::new(),
            pack: String::new(),
        })
    }

    /// Checks the header of a rule (id, severity, title, facts); the severity, when valid.
    fn header(&mut self, file: usize, rule: &RuleDecl) -> Option<Severity> {
        let severity = match rule.severity.as_ref().map(|(s, span)| (s.as_str(), *span)) {
            Some(("error", _)) => Some(Severity::Error),
            Some(("warning", _)) => Some(Severity::Warning),
            Some(("info", _)) => Some(Severity::Info),
            Some((other, span)) => {
                self.sink
                    .report(
                        Code::RuleHeader,
                        file,
                        span,
                        format!("unknown severity `{other}`"),
                    )
                    .help("use `error`, `warning` or `info`");
                None
            }
            None => {
                self.sink
                    .report(
                        Code::RuleHeader,
                        file,
                        rule.id_span,
                        format!("rule `{}` has no severity", rule.id),
                    )
                    .help("add `severity error` (or `warning`, `info`)");
                None
            }
        };
        if rule.title.is_none() {
            self.sink
                .report(
                    Code::RuleHeader,
                    file,
                    rule.id_span,
                    format!("rule `{}` has no title", rule.id),
                )
                .help("add `title \"...\"`: one line that says what the rule requires");
        }
        if rule.facts.is_empty() {
            self.sink
                .report(
                    Code::RuleHeader,
                    file,
                    rule.facts_span.unwrap_or(rule.id_span),
                    format!("rule `{}` cites no facts", rule.id),
                )
                .help("add `facts F1` with the facts the rule rests on");
        }
        let id_ok = rule.id.split('-').count() >= 2
            && rule.id.split('-').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            });
        if !id_ok {
            self.sink.report(Code::RuleHeader, file, rule.id_span, format!("`{}` is not a valid rule id", rule.id)).help("rule ids are uppercase words and numbers joined by `-`, such as `PCHAT-HA-001`");
        }
        severity
    }

    /// The list a `for` or `report each` goes through, and the type of its items.
    pub(crate) fn list_source(&mut self, source: &E, keyword: &str) -> (Expr, Ty) {
        let (expr, ty) = self.expr(source);
        let item = match ty {
            Ty::List(inner) => *inner,
            Ty::Unknown => Ty::Unknown,
            other => {
                self.sink
                    .report(
                        Code::TypeMismatch,
                        self.file,
                        source.span,
                        format!("`{keyword}` needs a list, found {}", describe(&other)),
                    )
                    .label("not a list");
                Ty::Unknown
            }
        };
        (expr, item)
    }

    /// Checks and lowers one `report` clause; an `each` variable is in scope in it alone.
    fn report(&mut self, rule_id: &str, report: &ReportAst) -> ir::Report {
        let scope = self.scopes.len();
        let each = report.each.as_ref().map(|(name, span, source)| {
            let (expr, item) = self.list_source(source, "each");
            (self.bind(name, *span, item), expr)
        });
        let when = report.when.as_ref().map(|c| {
            let expr = self.condition(c, "`when`");
            if matches!(expr, Expr::Lit(Lit::Bool(false))) {
                self.sink
                    .report(
                        Code::NeverFires,
                        self.file,
                        c.span,
                        format!("this report of rule `{rule_id}` can never fire"),
                    )
                    .label("always false");
            }
            expr
        });
        let at: Vec<Expr> = report.at.iter().map(|e| self.expr(e).0).collect();
        let at = match <[Expr; 1]>::try_from(at) {
            Ok([only]) => only,
            Err(several) => Expr::Call(Builtin::Coalesce, several),
        };
        let (message, message_ty) = self.expr(&report.message);
        self.expect_text(&message_ty, "message", report.message.span);
        let help = report.help.as_ref().map(|h| {
            let (help, help_ty) = self.expr(h);
            self.expect_text(&help_ty, "help", h.span);
            help
        });
        if each.is_some() {
            self.unused_from(scope);
        }
        ir::Report {
            each,
            when,
            at,
            message,
            help,
        }
    }

    /// A `message` or `help` must be text: a string, or a template.
    fn expect_text(&mut self, ty: &Ty, what: &str, span: Span) {
        if !matches!(ty, Ty::Str { .. } | Ty::Unknown) {
            self.sink
                .report(
                    Code::TypeMismatch,
                    self.file,
                    span,
                    format!("the {what} is {}, not text", describe(ty)),
                )
                .label("expected a string")
                .help(
                    "write a string; put values in it with `{...}`, such as \"pool `{pool.id}`\"",
                );
        }
    }
}
