//! The manifest schema: validation with readable findings, and the reference fields it declares.
//!
//! The schema is compiled once per [`crate::Checker`]; its `x-pchat-ref` keywords name the
//! collection a field refers to, and are read here into [`RefField`]s.

use serde_json::Value as Json;

use crate::report::Code;
use crate::value::{push_pointer, unescape_token};

/// The manifest schema text, embedded at build time.
pub const SCHEMA_TEXT: &str = include_str!("../../../schemas/topology.schema.json");

/// The keyword that marks a reference field and names its target collection.
pub const REF_KEYWORD: &str = "x-pchat-ref";

/// One step of a path through the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A key of an object.
    Key(String),
    /// Every item of an array.
    Items,
}

/// A field that holds the id of an entity of `collection`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefField {
    /// Where the field is.
    pub path: Vec<Step>,
    /// The top-level collection its value must name.
    pub collection: String,
}

/// A schema violation, still to be located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Kind of problem.
    pub code: Code,
    /// Pointer to the value.
    pub pointer: String,
    /// Whether the key at the pointer, rather than its value, is the problem.
    pub at_key: bool,
    /// What is wrong.
    pub message: String,
    /// Short label under the value.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Violation {
    /// Where the violation is in the tree: the key of an unknown field, else the value at the
    /// pointer (the whole document when the pointer names nothing).
    pub fn span(&self, root: &crate::Node) -> crate::Span {
        match root.lookup(&self.pointer) {
            Some((_, Some(key_span))) if self.at_key => key_span,
            Some((node, _)) => node.span,
            None => root.span,
        }
    }
}

/// The compiled schema.
pub struct Schema {
    document: Json,
    validator: jsonschema::Validator,
    refs: Vec<RefField>,
    collections: Vec<String>,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema")
            .field("refs", &self.refs)
            .finish_non_exhaustive()
    }
}

impl Schema {
    /// Compiles the embedded manifest schema.
    pub fn embedded() -> Result<Schema, String> {
        Schema::from_text(SCHEMA_TEXT)
    }

    /// Compiles a JSON Schema (draft 2020-12) whose violations are to be reported as the
    /// manifest schema's are (hosts check their own settings files with it).
    pub fn from_text(text: &str) -> Result<Schema, String> {
        let document: Json =
            serde_json::from_str(text).map_err(|e| format!("schema is not JSON: {e}"))?;
        let validator = jsonschema::draft202012::new(&document)
            .map_err(|e| format!("schema does not compile: {e}"))?;
        let mut refs = Vec::new();
        collect_refs(&document, &document, &mut Vec::new(), &mut refs, 0);
        let collections: Vec<String> = document
            .get("properties")
            .and_then(Json::as_object)
            .map(|props| {
                props
                    .iter()
                    .filter(|(_, s)| s.pointer("/items/properties/id").is_some())
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        for r in &refs {
            if !collections.contains(&r.collection) {
                return Err(format!(
                    "reference to unknown collection `{}`",
                    r.collection
                ));
            }
        }
        Ok(Schema {
            document,
            validator,
            refs,
            collections,
        })
    }

    /// The schema as JSON.
    pub fn document(&self) -> &Json {
        &self.document
    }

    /// Every reference field the schema declares.
    pub fn refs(&self) -> &[RefField] {
        &self.refs
    }

    /// Top-level collections whose entities carry an `id`.
    pub fn collections(&self) -> &[String] {
        &self.collections
    }

    /// Validates a manifest; violations come in document order of the validator.
    pub fn validate(&self, instance: &Json) -> Vec<Violation> {
        let mut out = Vec::new();
        for error in self.validator.iter_errors(instance) {
            let pointer = error.instance_path().as_str().to_string();
            let schema_path = error.schema_path().as_str().to_string();
            self.describe(
                &pointer,
                &schema_path,
                error.kind(),
                error.instance(),
                &error.to_string(),
                &mut out,
            );
        }
        out.dedup();
        out
    }

    /// The subschema at `schema_path` with its last keyword removed.
    fn parent_schema(&self, schema_path: &str) -> Option<&Json> {
        let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
        self.document.pointer(parent)
    }

    fn field_description(&self, schema_path: &str) -> Option<String> {
        self.parent_schema(schema_path)
            .and_then(|s| s.get("description"))
            .and_then(Json::as_str)
            .map(str::to_string)
    }

    fn describe(
        &self,
        pointer: &str,
        schema_path: &str,
        kind: &jsonschema::error::ValidationErrorKind,
        instance: &Json,
        fallback: &str,
        out: &mut Vec<Violation>,
    ) {
        use jsonschema::error::ValidationErrorKind as K;
        let field = field_name(pointer);
        let v = |code, message: String, label: Option<&str>, help: Option<String>| Violation {
            code,
            pointer: pointer.to_string(),
            at_key: false,
            message,
            label: label.map(str::to_string),
            help,
        };
        match kind {
            K::AdditionalProperties { unexpected } => {
                let allowed: Vec<String> = self
                    .parent_schema(schema_path)
                    .and_then(|s| s.get("properties"))
                    .and_then(Json::as_object)
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                for key in unexpected {
                    let help = match did_you_mean(key, allowed.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("allowed fields here: {}", backticked(&allowed)),
                    };
                    out.push(Violation {
                        code: Code::SchemaUnknownField,
                        pointer: push_pointer(pointer, key),
                        at_key: true,
                        message: format!("unknown field `{key}`"),
                        label: Some("not a field of this object".to_string()),
                        help: Some(help),
                    });
                }
            }
            K::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let description = self
                    .parent_schema(schema_path)
                    .and_then(|s| s.pointer(&format!("/properties/{}/description", name)))
                    .and_then(Json::as_str);
                out.push(v(
                    Code::SchemaRequired,
                    format!("missing required field `{name}`{}", in_field(&field)),
                    Some("this object"),
                    Some(match description {
                        Some(d) => format!("add `{name}`: {d}"),
                        None => format!("add `{name}`"),
                    }),
                ));
            }
            K::Type { kind } => {
                let expected = match kind {
                    jsonschema::error::TypeKind::Single(t) => with_article(&t.to_string()),
                    jsonschema::error::TypeKind::Multiple(_) => "another type".to_string(),
                };
                out.push(v(
                    Code::SchemaType,
                    format!(
                        "expected {expected}{}, found {}",
                        for_field(&field),
                        describe_value(instance)
                    ),
                    Some(&format!("expected {expected}")),
                    self.field_description(schema_path),
                ));
            }
            K::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| o.to_string().trim_matches('"').to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                let shown = instance
                    .as_str()
                    .map_or_else(|| instance.to_string(), str::to_string);
                let help = match instance
                    .as_str()
                    .and_then(|s| did_you_mean(s, options.iter().map(String::as_str)))
                {
                    Some(s) => format!(
                        "did you mean `{s}`? expected one of {}",
                        backticked(&options)
                    ),
                    None => format!("expected one of {}", backticked(&options)),
                };
                out.push(v(
                    Code::SchemaEnum,
                    format!("`{shown}` is not an allowed value{}", for_field(&field)),
                    Some("not allowed here"),
                    Some(help),
                ));
            }
            K::Pattern { .. } | K::Format { .. } => {
                out.push(v(
                    Code::SchemaFormat,
                    format!(
                        "{} does not have the expected form{}",
                        describe_value(instance),
                        for_field(&field)
                    ),
                    Some("unexpected form"),
                    self.field_description(schema_path),
                ));
            }
            K::Minimum { limit } | K::ExclusiveMinimum { limit } => out.push(v(
                Code::SchemaRange,
                format!(
                    "{instance} is below the minimum of {limit}{}",
                    for_field(&field)
                ),
                Some("too small"),
                self.field_description(schema_path),
            )),
            K::Maximum { limit } | K::ExclusiveMaximum { limit } => out.push(v(
                Code::SchemaRange,
                format!(
                    "{instance} is above the maximum of {limit}{}",
                    for_field(&field)
                ),
                Some("too large"),
                self.field_description(schema_path),
            )),
            K::MinItems { limit } => out.push(v(
                Code::SchemaSize,
                format!(
                    "expected at least {limit} item{}{}, found {}",
                    plural(*limit),
                    for_field(&field),
                    count(instance)
                ),
                Some("too few items"),
                self.field_description(schema_path),
            )),
            K::MaxItems { limit } => out.push(v(
                Code::SchemaSize,
                format!(
                    "expected at most {limit} item{}{}, found {}",
                    plural(*limit),
                    for_field(&field),
                    count(instance)
                ),
                Some("too many items"),
                self.field_description(schema_path),
            )),
            K::MinLength { limit } => out.push(v(
                Code::SchemaSize,
                format!(
                    "expected at least {limit} character{}{}",
                    plural(*limit),
                    for_field(&field)
                ),
                Some("too short"),
                self.field_description(schema_path),
            )),
            K::MaxLength { limit } => out.push(v(
                Code::SchemaSize,
                format!(
                    "expected at most {limit} character{}{}",
                    plural(*limit),
                    for_field(&field)
                ),
                Some("too long"),
                self.field_description(schema_path),
            )),
            K::UniqueItems => out.push(v(
                Code::SchemaUnique,
                format!("items{} must be unique", in_field(&field)),
                Some("repeated items"),
                Some("remove the repeated items".to_string()),
            )),
            _ => out.push(v(
                Code::Schema,
                lowercase_first(fallback),
                None,
                self.field_description(schema_path),
            )),
        }
    }
}

/// Walks the schema, following local `$ref`s, and records every `x-pchat-ref` field.
fn collect_refs(
    schema: &Json,
    root: &Json,
    path: &mut Vec<Step>,
    out: &mut Vec<RefField>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    if let Some(resolved) = schema
        .get("$ref")
        .and_then(Json::as_str)
        .and_then(|target| target.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
    {
        collect_refs(resolved, root, path, out, depth + 1);
    }
    if let Some(collection) = schema.get(REF_KEYWORD).and_then(Json::as_str) {
        out.push(RefField {
            path: path.clone(),
            collection: collection.to_string(),
        });
    }
    if let Some(props) = schema.get("properties").and_then(Json::as_object) {
        for (key, sub) in props {
            path.push(Step::Key(key.clone()));
            collect_refs(sub, root, path, out, depth + 1);
            path.pop();
        }
    }
    if let Some(items) = schema.get("items") {
        path.push(Step::Items);
        collect_refs(items, root, path, out, depth + 1);
        path.pop();
    }
}

/// The last token of a pointer, unless it is an array index.
fn field_name(pointer: &str) -> Option<String> {
    let last = pointer.rsplit('/').next().filter(|_| !pointer.is_empty())?;
    if last.bytes().all(|b| b.is_ascii_digit()) {
        None
    } else {
        Some(unescape_token(last))
    }
}

fn for_field(field: &Option<String>) -> String {
    field
        .as_ref()
        .map_or_else(String::new, |f| format!(" for `{f}`"))
}

fn in_field(field: &Option<String>) -> String {
    field
        .as_ref()
        .map_or_else(String::new, |f| format!(" in `{f}`"))
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn count(instance: &Json) -> usize {
    instance.as_array().map_or(0, Vec::len)
}

fn with_article(kind: &str) -> String {
    match kind {
        "array" | "integer" | "object" => format!("an {kind}"),
        "null" => "null".to_string(),
        _ => format!("a {kind}"),
    }
}

/// "the string `yes`", "the number 5", "an object".
fn describe_value(value: &Json) -> String {
    match value {
        Json::Null => "null".to_string(),
        Json::Bool(b) => format!("the boolean `{b}`"),
        Json::Number(n) => format!("the number `{n}`"),
        Json::String(s) => format!("the string `{}`", truncate(s, 60)),
        Json::Array(_) => "an array".to_string(),
        Json::Object(_) => "an object".to_string(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn backticked(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The closest candidate by edit distance, when it is close enough to be a typo. Both sides are
/// cut to 256 characters first, so a hostile value costs a bounded amount of work.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let clip = |s: &str| s.chars().take(256).collect::<String>().to_lowercase();
    let word_lower = clip(word);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&word_lower, &clip(c)), c))
        .filter(|(d, c)| *d <= (c.chars().count().max(word.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_schema_compiles_and_declares_references() {
        let schema = Schema::embedded();
        assert!(schema.is_ok(), "{:?}", schema.err());
        let schema = schema.ok();
        let refs = schema.as_ref().map_or(0, |s| s.refs().len());
        assert!(refs >= 15, "only {refs} reference fields found");
    }

    #[test]
    fn the_embedded_schema_is_valid_against_its_meta_schema() {
        let document: Json = serde_json::from_str(SCHEMA_TEXT).unwrap_or_default();
        assert!(jsonschema::meta::is_valid(&document));
    }

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(
            did_you_mean("data_centre", ["data_center", "site"]),
            Some("data_center")
        );
        assert_eq!(did_you_mean("zzz", ["data_center", "site"]), None);
    }
}
