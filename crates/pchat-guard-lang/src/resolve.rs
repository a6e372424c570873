//! Names: the variables in scope ([`Binding`]), binding and looking up names, and the
//! warnings about variables never used.

use pchat_guard_engine::ir::{Expr, Lit};

use crate::check::{Checker, did_you_mean};
use crate::diagnostic::Code;
use crate::syntax::Span;
use crate::types::Ty;

/// A variable in scope.
pub(crate) enum Binding {
    /// A variable held in a slot of the rule.
    Slot {
        /// The slot.
        slot: u32,
        /// Its type.
        ty: Ty,
        /// Whether it was read.
        used: bool,
        /// Where it is bound.
        span: Span,
        /// Its name.
        name: String,
    },
}

impl Checker<'_> {
    /// Warns about the bindings of the rule that were never used, and ends their scope.
    pub(crate) fn unused(&mut self) {
        self.unused_from(0);
    }

    /// Warns about the bindings from `scope` on that were never used, and ends their scope.
    pub(crate) fn unused_from(&mut self, scope: usize) {
        let mut unused = Vec::new();
        for Binding::Slot {
            used, span, name, ..
        } in self.scopes.iter().skip(scope)
        {
            if !used && !name.starts_with('_') {
                unused.push((name.clone(), *span));
            }
        }
        for (name, span) in unused {
            self.sink
                .report(
                    Code::Unused,
                    self.file,
                    span,
                    format!("`{name}` is never used"),
                )
                .help(format!("remove it, or name it `_{name}`"));
        }
        self.scopes.truncate(scope);
    }

    /// Binds a name to a fresh slot, in scope until its scope ends.
    pub(crate) fn bind(&mut self, name: &str, span: Span, ty: Ty) -> u32 {
        let slot = self.next_slot;
        self.next_slot += 1;
        self.scopes.push(Binding::Slot {
            slot,
            ty,
            used: false,
            span,
            name: name.to_string(),
        });
        slot
    }
    /// The variable a name stands for, marked as used.
    fn lookup_name(&mut self, name: &str) -> Option<(Expr, Ty)> {
        for binding in self.scopes.iter_mut().rev() {
            match binding {
                Binding::Slot {
                    slot,
                    ty,
                    used,
                    name: n,
                    ..
                } if n == name => {
                    *used = true;
                    return Some((Expr::Var(*slot), ty.clone()));
                }
                Binding::Slot { .. } => {}
            }
        }
        None
    }
    /// The type of the variable in a slot.
    pub(crate) fn slot_type(&self, slot: u32) -> Option<Ty> {
        self.scopes
            .iter()
            .find_map(|Binding::Slot { slot: s, ty, .. }| (*s == slot).then(|| ty.clone()))
    }

    /// Closes a lambda's scope, warning when its variable went unused.
    pub(crate) fn end_lambda(&mut self, slot: u32) {
        if let Some(pos) = self
            .scopes
            .iter()
            .rposition(|b| matches!(b, Binding::Slot { slot: s, .. } if *s == slot))
        {
            let Binding::Slot {
                used, span, name, ..
            } = self.scopes.remove(pos);
            if !used && !name.starts_with('_') {
                self.sink
                    .report(
                        Code::Unused,
                        self.file,
                        span,
                        format!("`{name}` is never used"),
                    )
                    .help(format!("name it `_{name}`, or use `.count()`"));
            }
        }
    }

    /// Resolves a name: a variable in scope (innermost first), else a top-level field of the
    /// manifest.
    pub(crate) fn name(&mut self, name: &str, span: Span) -> (Expr, Ty) {
        if let Some(found) = self.lookup_name(name) {
            return found;
        }
        let fields = self.types.fields("");
        if fields.iter().any(|f| f == name) {
            let ty = self.types.at(&format!("/properties/{name}"));
            return (Expr::Field(Box::new(Expr::Root), name.to_string()), ty);
        }
        let mut candidates: Vec<String> = fields;
        candidates.extend(
            self.scopes
                .iter()
                .map(|Binding::Slot { name, .. }| name.clone()),
        );
        let mut d = self
            .sink
            .report(
                Code::UnknownName,
                self.file,
                span,
                format!("unknown name `{name}`"),
            )
            .label("not a variable or a top-level field");
        if let Some(s) = did_you_mean(name, candidates.iter().map(String::as_str)) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        drop(d);
        (Expr::Lit(Lit::None), Ty::Unknown)
    }
}
