//! Helpers: a call of a helper is checked with the types of its arguments and replaced by the
//! helper's body (inlined), its parameters bound to the arguments. Helpers no rule calls are
//! checked too, with parameters of any type.

use pchat_guard_engine::ir::{self, Expr, Lit};

use crate::check::{Checker, did_you_mean};
use crate::diagnostic::Code;
use crate::joins::mentions;
use crate::resolve::Binding;
use crate::syntax::{E, PredDecl, Span};
use crate::types::Ty;

/// Deepest chain of helpers calling helpers: the compiler recurses once per level.
pub const MAX_HELPER_DEPTH: usize = 64;

/// Most helper calls inlined in one compilation: helpers that each call the next twice would
/// otherwise grow the rules (and the compile time) exponentially.
pub const MAX_INLINED: usize = 100_000;

impl<'a> Checker<'a> {
    /// Warns of the helpers no rule calls, and checks their bodies anyway (parameters of any
    /// type), so a mistake in a helper does not wait for its first caller.
    pub fn unused_helpers(&mut self) {
        let mut unused: Vec<(usize, &'a PredDecl)> = self
            .preds
            .iter()
            .filter(|(name, _)| !self.called.contains(*name))
            .map(|(_, helper)| *helper)
            .collect();
        unused.sort_by_key(|(file, p)| (*file, p.name_span));
        for (file, pred) in unused {
            self.sink
                .report(
                    Code::Unused,
                    file,
                    pred.name_span,
                    format!("helper `{}` is never used", pred.name),
                )
                .help("call it from a rule, or remove it");
            self.file = file;
            self.scopes.clear();
            self.next_slot = 0;
            self.loose_params.clear();
            for (param, span) in &pred.params {
                let slot = self.next_slot;
                self.next_slot += 1;
                self.loose_params.push(slot);
                self.scopes.push(Binding::Slot {
                    slot,
                    ty: Ty::Unknown,
                    used: true,
                    span: *span,
                    name: param.clone(),
                });
            }
            self.pred_stack.push(pred.name.clone());
            let _ = self.expr(&pred.body);
            self.pred_stack.pop();
            self.loose_params.clear();
        }
    }

    /// Checks a call of a helper and inlines it.
    pub(crate) fn helper(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[E],
        span: Span,
    ) -> (Expr, Ty) {
        let file = self.file;
        let Some(&(pred_file, pred)) = self.preds.get(name) else {
            let names: Vec<&str> = self.preds.keys().map(String::as_str).collect();
            let mut d = self.sink.report(
                Code::UnknownFunction,
                file,
                name_span,
                format!("unknown helper `{name}`"),
            );
            if let Some(s) = did_you_mean(name, names) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            drop(d);
            return (Expr::Lit(Lit::None), Ty::Unknown);
        };
        self.called.insert(name.to_string());
        if self.pred_stack.iter().any(|p| p == name) {
            self.sink
                .report(
                    Code::RecursiveHelper,
                    file,
                    name_span,
                    format!("helper `{name}` calls itself"),
                )
                .help("helpers cannot recurse: the language is total");
            return (Expr::Lit(Lit::None), Ty::Unknown);
        }
        if args.len() != pred.params.len() {
            self.sink.report(
                Code::UnknownFunction,
                file,
                span,
                format!(
                    "`{name}` takes {} argument{}, found {}",
                    pred.params.len(),
                    if pred.params.len() == 1 { "" } else { "s" },
                    args.len()
                ),
            );
            return (Expr::Lit(Lit::None), Ty::Unknown);
        }
        if self.pred_stack.len() >= MAX_HELPER_DEPTH || self.inlined >= MAX_INLINED {
            if !self.expansion_reported {
                self.expansion_reported = true;
                let message = if self.pred_stack.len() >= MAX_HELPER_DEPTH {
                    format!("helpers call helpers more than {MAX_HELPER_DEPTH} deep here")
                } else {
                    format!("helpers expand to more than {MAX_INLINED} calls")
                };
                self.sink
                    .report(Code::HelperExpansion, file, name_span, message)
                    .help("a helper's body is copied at each call: call fewer helpers from helpers, or pass a computed value once");
            }
            return (Expr::Lit(Lit::None), Ty::Unknown);
        }
        self.inlined += 1;
        // Inline: each parameter gets a fresh slot, and the body is checked with the types of
        // the arguments.
        let mut substitutions = Vec::new();
        for (arg, (param, _)) in args.iter().zip(&pred.params) {
            let (ir, ty) = self.expr(arg);
            substitutions.push((param.clone(), ir, ty));
        }
        let saved_scopes = std::mem::take(&mut self.scopes);
        let saved_file = self.file;
        self.file = pred_file;
        let mut slots = Vec::new();
        for (param, ir, ty) in &substitutions {
            let slot = self.next_slot;
            self.next_slot += 1;
            self.scopes.push(Binding::Slot {
                slot,
                ty: ty.clone(),
                used: true,
                span: name_span,
                name: param.clone(),
            });
            slots.push((slot, ir.clone()));
        }
        self.pred_stack.push(name.to_string());
        let (body, ty) = self.expr(&pred.body);
        self.pred_stack.pop();
        self.file = saved_file;
        self.scopes = saved_scopes;
        let body = slots
            .into_iter()
            .rev()
            .fold(body, |body, (slot, arg)| bind_argument(body, slot, arg));
        (body, ty)
    }
}

/// Puts a helper's argument in place of its parameter's slot in the inlined body, so that it
/// is evaluated once: a value that is only read (a literal, a variable, the manifest or one of
/// its top-level fields) is written at each use; anything computed is bound once with
/// `Expr::Let`; an argument the body does not use is left out (it has no effect: see
/// `ir::Expr::Let` for dangling references).
fn bind_argument(body: Expr, slot: u32, arg: Expr) -> Expr {
    if is_read(&arg) {
        substitute(body, slot, &arg)
    } else if !mentions(&body, slot) {
        body
    } else {
        Expr::Let {
            slot,
            value: Box::new(arg),
            body: Box::new(body),
        }
    }
}

/// Whether an expression only reads a value, at the cost of reading a slot.
fn is_read(expr: &Expr) -> bool {
    match expr {
        Expr::Lit(_) | Expr::Var(_) | Expr::Root => true,
        Expr::Field(object, _) => **object == Expr::Root,
        _ => false,
    }
}

/// Replaces `Var(slot)` with `arg`: a helper's argument in its body, or a `let` that the join
/// optimisation looks through.
pub(crate) fn substitute(expr: Expr, slot: u32, arg: &Expr) -> Expr {
    let s = |e: Box<Expr>| Box::new(substitute(*e, slot, arg));
    match expr {
        Expr::Var(v) if v == slot => arg.clone(),
        Expr::Field(o, f) => Expr::Field(s(o), f),
        Expr::Lookup {
            collection,
            key,
            probe,
        } => Expr::Lookup {
            collection,
            key: s(key),
            probe,
        },
        Expr::List(items) => Expr::List(
            items
                .into_iter()
                .map(|e| substitute(e, slot, arg))
                .collect(),
        ),
        Expr::Not(e) => Expr::Not(s(e)),
        Expr::And(items) => Expr::And(
            items
                .into_iter()
                .map(|e| substitute(e, slot, arg))
                .collect(),
        ),
        Expr::Or(items) => Expr::Or(
            items
                .into_iter()
                .map(|e| substitute(e, slot, arg))
                .collect(),
        ),
        Expr::Cmp(op, a, b) => Expr::Cmp(op, s(a), s(b)),
        Expr::Arith(op, a, b) => Expr::Arith(op, s(a), s(b)),
        Expr::In(a, b) => Expr::In(s(a), s(b)),
        Expr::Call(f, args) => Expr::Call(
            f,
            args.into_iter().map(|e| substitute(e, slot, arg)).collect(),
        ),
        Expr::If(c, a, b) => Expr::If(s(c), s(a), s(b)),
        Expr::Let {
            slot: bound,
            value,
            body,
        } => Expr::Let {
            slot: bound,
            value: s(value),
            body: s(body),
        },
        Expr::Format(t) => Expr::Format(ir::Template {
            parts: t
                .parts
                .into_iter()
                .map(|p| match p {
                    ir::Part::Expr(e) => ir::Part::Expr(substitute(e, slot, arg)),
                    text => text,
                })
                .collect(),
        }),
        Expr::Quant {
            kind,
            slot: q,
            source,
            body,
        } => Expr::Quant {
            kind,
            slot: q,
            source: s(source),
            body: s(body),
        },
        Expr::Join {
            kind,
            slot: q,
            collection,
            key_path,
            key,
            body,
        } => Expr::Join {
            kind,
            slot: q,
            collection,
            key_path,
            key: s(key),
            body: s(body),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use crate::{Source, compile};

    fn codes(text: String) -> Vec<String> {
        let compiled = compile(
            "t",
            "0",
            &[Source {
                path: "t.rules".to_string(),
                text,
            }],
        );
        compiled
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect()
    }

    fn rule(helper: &str) -> String {
        format!(
            "rule T-001 {{\n  severity error\n  title \"t\"\n  facts F1\n  for instance in sql_instances\n  where {helper}(instance)\n  report at instance\n    message \"m\"\n}}\n"
        )
    }

    #[test]
    fn helpers_that_double_at_each_level_are_refused_not_expanded() {
        // h30 calls h29 twice, ... : 2^30 copies of h0's body if nothing stopped it.
        let mut text = String::from("pred h0(i) = \"mgc\" in i.databases\n");
        for n in 1..=30 {
            let p = n - 1;
            text.push_str(&format!("pred h{n}(i) = h{p}(i) and h{p}(i)\n"));
        }
        text.push_str(&rule("h30"));
        let found = codes(text);
        assert_eq!(
            found.iter().filter(|c| *c == "PCL011").count(),
            1,
            "{found:?}"
        );
    }

    #[test]
    fn long_chains_of_helpers_are_refused_not_recursed_into() {
        let mut text = String::from("pred h0(i) = \"mgc\" in i.databases\n");
        for n in 1..=5000 {
            text.push_str(&format!("pred h{n}(i) = h{}(i)\n", n - 1));
        }
        text.push_str(&rule("h5000"));
        assert!(codes(text).contains(&"PCL011".to_string()));
    }

    #[test]
    fn ordinary_helper_chains_compile() {
        let mut text = String::from("pred h0(i) = \"mgc\" in i.databases\n");
        for n in 1..=10 {
            let p = n - 1;
            text.push_str(&format!("pred h{n}(i) = h{p}(i) and h{p}(i)\n"));
        }
        text.push_str(&rule("h10"));
        assert!(!codes(text).iter().any(|c| c.starts_with("PCL0")));
    }
}
