//! Static types, from the manifest schema: what a schema node holds ([`Ty`]), the integers a
//! field allows ([`IntDomain`]), the schema seen as types ([`Types`]), and how diagnostics name
//! types. No diagnostics are made here.

use serde_json::Value as Json;

/// A static type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Boolean.
    Bool,
    /// Integer; maybe with the values the schema allows.
    Int(IntDomain),
    /// Any number.
    Num,
    /// String; maybe with allowed values, maybe a reference to a collection.
    Str {
        /// Allowed values, when the schema fixes them.
        allowed: Option<Vec<String>>,
        /// The collection the string names an entity of.
        refers: Option<String>,
    },
    /// An object, by the schema pointer of its subschema.
    Obj(String),
    /// A list.
    List(Box<Ty>),
    /// The `none` literal.
    NoneT,
    /// Unknown (after an error): accepted everywhere, so errors do not cascade.
    Unknown,
}

/// The integers a schema field may hold: an `enum`, or a `minimum`/`maximum` range.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntDomain {
    /// The allowed values, when the schema lists them.
    pub allowed: Option<Vec<i64>>,
    /// The smallest allowed value.
    pub minimum: Option<i64>,
    /// The largest allowed value.
    pub maximum: Option<i64>,
}

impl IntDomain {
    /// Any integer (a computed one, or a field without bounds).
    pub const ANY: IntDomain = IntDomain {
        allowed: None,
        minimum: None,
        maximum: None,
    };

    pub(crate) fn of(node: &Json) -> Self {
        IntDomain {
            allowed: node
                .get("enum")
                .and_then(Json::as_array)
                .map(|values| values.iter().filter_map(Json::as_i64).collect()),
            minimum: node.get("minimum").and_then(Json::as_i64),
            maximum: node.get("maximum").and_then(Json::as_i64),
        }
    }

    /// Whether the field can hold `value`.
    pub(crate) fn holds(&self, value: i64) -> bool {
        self.allowed.as_ref().is_none_or(|a| a.contains(&value))
            && self.minimum.is_none_or(|m| value >= m)
            && self.maximum.is_none_or(|m| value <= m)
    }

    /// What the field can hold, for a help text.
    pub(crate) fn describe(&self) -> String {
        match (&self.allowed, self.minimum, self.maximum) {
            (Some(a), _, _) => format!(
                "allowed: {}",
                a.iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, Some(lo), Some(hi)) => format!("the field holds {lo} to {hi}"),
            (None, Some(lo), None) => format!("the field holds {lo} or more"),
            (None, None, Some(hi)) => format!("the field holds {hi} or less"),
            (None, None, None) => String::new(),
        }
    }
}

pub(crate) fn plain_str() -> Ty {
    Ty::Str {
        allowed: None,
        refers: None,
    }
}

/// The manifest schema, seen as types.
pub struct Types<'s> {
    schema: &'s Json,
}

impl<'s> Types<'s> {
    /// Types from a JSON Schema document.
    pub fn new(schema: &'s Json) -> Self {
        Types { schema }
    }

    pub(crate) fn resolve(&self, pointer: &str) -> (String, Option<&'s Json>) {
        let mut pointer = pointer.to_string();
        for _ in 0..16 {
            let node = self.schema.pointer(&pointer);
            match node
                .and_then(|n| n.get("$ref"))
                .and_then(Json::as_str)
                .and_then(|r| r.strip_prefix('#'))
            {
                Some(target) => pointer = target.to_string(),
                None => return (pointer, node),
            }
        }
        (pointer, None)
    }

    /// The type of the subschema at a pointer.
    pub fn at(&self, pointer: &str) -> Ty {
        let (pointer, node) = self.resolve(pointer);
        let Some(node) = node else { return Ty::Unknown };
        let allowed: Option<Vec<String>> =
            node.get("enum").and_then(Json::as_array).map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            });
        let enum_is_int = node
            .get("enum")
            .and_then(Json::as_array)
            .is_some_and(|v| v.iter().all(Json::is_i64));
        match node.get("type").and_then(Json::as_str) {
            Some("object") => Ty::Obj(pointer),
            Some("array") => Ty::List(Box::new(self.at(&format!("{pointer}/items")))),
            Some("string") => Ty::Str {
                allowed,
                refers: node
                    .get("x-pchat-ref")
                    .and_then(Json::as_str)
                    .map(str::to_string),
            },
            Some("integer") => Ty::Int(IntDomain::of(node)),
            Some("number") => Ty::Num,
            Some("boolean") => Ty::Bool,
            _ if enum_is_int => Ty::Int(IntDomain::of(node)),
            _ if allowed.is_some() => Ty::Str {
                allowed,
                refers: None,
            },
            _ if node.get("properties").is_some() => Ty::Obj(pointer),
            _ => Ty::Unknown,
        }
    }

    /// Field names of an object type.
    pub(crate) fn fields(&self, pointer: &str) -> Vec<String> {
        let (_, node) = self.resolve(pointer);
        node.and_then(|n| n.get("properties"))
            .and_then(Json::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The field names of every object of the schema, sorted.
    pub(crate) fn all_fields(&self) -> Vec<String> {
        let mut out = std::collections::BTreeSet::new();
        let mut pending = vec![self.schema];
        while let Some(node) = pending.pop() {
            match node {
                Json::Object(map) => {
                    if let Some(Json::Object(props)) = map.get("properties") {
                        out.extend(props.keys().cloned());
                    }
                    pending.extend(map.values());
                }
                Json::Array(items) => pending.extend(items),
                _ => {}
            }
        }
        out.into_iter().collect()
    }

    /// Top-level collections whose items carry an `id`.
    pub(crate) fn collections(&self) -> Vec<String> {
        self.fields("")
            .into_iter()
            .filter(|f| {
                self.schema
                    .pointer(&format!("/properties/{f}/items/properties/id"))
                    .is_some()
            })
            .collect()
    }
}

/// A readable name for an object type: `persistent_chat_pools[].servers[]`.
pub(crate) fn type_name(pointer: &str) -> String {
    if pointer.is_empty() {
        return "the manifest".to_string();
    }
    let mut name = String::new();
    for token in pointer.split('/').skip(1) {
        match token {
            "properties" => {}
            "items" => name.push_str("[]"),
            field => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(field);
            }
        }
    }
    format!("`{name}`")
}

/// A type as diagnostics name it, such as "a string (an id in `sites`)".
pub(crate) fn describe(ty: &Ty) -> String {
    match ty {
        Ty::Bool => "a boolean".to_string(),
        Ty::Int(_) => "an integer".to_string(),
        Ty::Num => "a number".to_string(),
        Ty::Str {
            refers: Some(c), ..
        } => format!("a string (an id in `{c}`)"),
        Ty::Str { .. } => "a string".to_string(),
        Ty::Obj(p) => format!("an object ({})", type_name(p).trim_matches('`')),
        Ty::List(inner) => format!(
            "a list of {}",
            describe(inner)
                .trim_start_matches("a ")
                .trim_start_matches("an ")
        ),
        Ty::NoneT => "`none`".to_string(),
        Ty::Unknown => "a value".to_string(),
    }
}

/// The more specific of two compatible types (`none`, unknown and empty lists give way).
pub(crate) fn join_types(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Unknown | Ty::NoneT, other) => other,
        (Ty::List(x), Ty::List(y)) => Ty::List(Box::new(join_types(*x, *y))),
        (a, _) => a,
    }
}

/// Whether values of two types can be equal (`none` and unknown fit anything).
pub(crate) fn compatible(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Unknown, _) | (_, Ty::Unknown) | (Ty::NoneT, _) | (_, Ty::NoneT) => true,
        (Ty::Int(_) | Ty::Num, Ty::Int(_) | Ty::Num) => true,
        (Ty::Str { .. }, Ty::Str { .. }) => true,
        (Ty::Bool, Ty::Bool) => true,
        (Ty::Obj(_), Ty::Obj(_)) => true,
        (Ty::List(x), Ty::List(y)) => compatible(x, y),
        _ => false,
    }
}
