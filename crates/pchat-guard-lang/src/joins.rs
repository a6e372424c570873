//! The join optimisation: a quantifier over a top-level collection whose condition equates a
//! field path of the item with a value free of the item (`C.any(x, x.key == e and ...)`, or
//! `e in x.list`) becomes an [`Expr::Join`], answered from an index built once per check.
//! A join answers exactly as the scan it replaces (see `ir::Expr::Join`).

use pchat_guard_engine::ir::{self, CmpOp, Expr, QuantKind};

use crate::inline::substitute;

/// Whether an expression reads a slot.
pub(crate) fn mentions(expr: &Expr, slot: u32) -> bool {
    match expr {
        Expr::Var(v) => *v == slot,
        Expr::Lit(_) | Expr::Root => false,
        Expr::Field(o, _) => mentions(o, slot),
        Expr::Lookup { key, .. } => mentions(key, slot),
        Expr::List(items) | Expr::And(items) | Expr::Or(items) | Expr::Call(_, items) => {
            items.iter().any(|e| mentions(e, slot))
        }
        Expr::Not(e) => mentions(e, slot),
        Expr::Cmp(_, a, b) | Expr::Arith(_, a, b) | Expr::In(a, b) => {
            mentions(a, slot) || mentions(b, slot)
        }
        Expr::If(c, a, b) => mentions(c, slot) || mentions(a, slot) || mentions(b, slot),
        Expr::Format(t) => t
            .parts
            .iter()
            .any(|p| matches!(p, ir::Part::Expr(e) if mentions(e, slot))),
        Expr::Quant { source, body, .. } => mentions(source, slot) || mentions(body, slot),
        Expr::Join { key, body, .. } => mentions(key, slot) || mentions(body, slot),
        Expr::Let { value, body, .. } => mentions(value, slot) || mentions(body, slot),
    }
}

/// `x.a.b` over `Var(slot)` as the path `[a, b]`.
pub(crate) fn var_path(expr: &Expr, slot: u32) -> Option<Vec<String>> {
    match expr {
        Expr::Var(v) if *v == slot => Some(Vec::new()),
        Expr::Field(o, f) => {
            let mut path = var_path(o, slot)?;
            path.push(f.clone());
            Some(path)
        }
        _ => None,
    }
}

/// Lowers `C.any/count/filter(x, x.k == e and rest)` over a top-level collection to a join.
///
/// The condition is read through the `let`s of inlined helpers: a `let` of a field path of `x`
/// is put back in place (reading a field is as cheap as reading a slot), and a `let` whose value
/// does not read `x` is moved out of the quantifier (its value is the same for every item; see
/// `ir::Expr::Let` for why this answers the same). When no join is found the quantifier is
/// left as it was.
pub fn lower_join(expr: Expr) -> Expr {
    let Expr::Quant {
        kind,
        slot,
        source,
        body,
    } = expr
    else {
        return expr;
    };
    let collection = match (&*source, kind) {
        (Expr::Field(root, c), QuantKind::Any | QuantKind::Count | QuantKind::Filter)
            if **root == Expr::Root =>
        {
            c.clone()
        }
        _ => {
            return Expr::Quant {
                kind,
                slot,
                source,
                body,
            };
        }
    };
    let mut hoisted = Vec::new();
    let mut conjuncts = Vec::new();
    flatten((*body).clone(), slot, &mut hoisted, &mut conjuncts);
    // The conjunct to index on: `x.k == e`, or `e in x.list`, with `e` free of `x`; one whose
    // key is computed (another entity's field) before one whose key is a literal, which
    // usually matches many items (`f.edition == "enterprise"`).
    let keyed = |c: &Expr| -> Option<(Vec<String>, Expr)> {
        match c {
            Expr::Cmp(CmpOp::Eq, a, b) => match (var_path(a, slot), var_path(b, slot)) {
                (Some(p), _) if !p.is_empty() && !mentions(b, slot) => Some((p, (**b).clone())),
                (_, Some(p)) if !p.is_empty() && !mentions(a, slot) => Some((p, (**a).clone())),
                _ => None,
            },
            Expr::In(e, list) => match var_path(list, slot) {
                Some(p) if !p.is_empty() && !mentions(e, slot) => Some((p, (**e).clone())),
                _ => None,
            },
            _ => None,
        }
    };
    let candidates: Vec<(Vec<String>, Expr)> = conjuncts.iter().filter_map(keyed).collect();
    let chosen = candidates
        .iter()
        .find(|(_, key)| !matches!(key, Expr::Lit(_)))
        .or_else(|| candidates.first())
        .cloned();
    let Some((key_path, key)) = chosen else {
        return Expr::Quant {
            kind,
            slot,
            source,
            body,
        };
    };
    let body = match <[Expr; 1]>::try_from(conjuncts) {
        Ok([only]) => only,
        Err(conjuncts) => Expr::And(conjuncts),
    };
    let join = Expr::Join {
        kind,
        slot,
        collection,
        key_path,
        key: Box::new(key),
        body: Box::new(body),
    };
    hoisted
        .into_iter()
        .rev()
        .fold(join, |body, (bound, value)| Expr::Let {
            slot: bound,
            value: Box::new(value),
            body: Box::new(body),
        })
}

/// The conjuncts of a condition on the item in `slot`, read through nested `and`s and the
/// `let`s of inlined helpers: a `let` of a field path of the item is substituted; one whose
/// value does not read the item goes to `hoisted` (outermost first); any other `let` is a
/// conjunct as it stands.
fn flatten(expr: Expr, slot: u32, hoisted: &mut Vec<(u32, Expr)>, out: &mut Vec<Expr>) {
    match expr {
        Expr::And(items) => {
            for item in items {
                flatten(item, slot, hoisted, out);
            }
        }
        Expr::Let {
            slot: bound,
            value,
            body,
        } if var_path(&value, slot).is_some() => {
            flatten(substitute(*body, bound, &value), slot, hoisted, out);
        }
        Expr::Let {
            slot: bound,
            value,
            body,
        } if !mentions(&value, slot) => {
            hoisted.push((bound, *value));
            flatten(*body, slot, hoisted, out);
        }
        other => out.push(other),
    }
}
