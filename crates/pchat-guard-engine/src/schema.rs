//! The manifest schema: validation with readable findings, and the reference fields it declares.
//!
//! The schema is compiled once per [`crate::Checker`]; its `x-pchat-ref` keywords name the
//! collection a field refers to, and are read here into [`RefField`]s.

use serde_json::Value as Json;

use crate::instance::Tree;
use crate::report::Code;
use crate::value::{Entry, Lookups, Node, Value as NodeValue, push_pointer, unescape_token};

/// A compiled validator of manifest trees.
type Validator = jsonschema::Validator<Tree>;

/// Compiles a schema (draft 2020-12) into a validator of trees.
fn compile(schema: &Json) -> Result<Validator, jsonschema::ValidationError<'static>> {
    jsonschema::options_for::<Tree>()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(schema)
}

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
        self.span_in(root, &mut Lookups::default())
    }

    /// [`Violation::span`] for many violations of one tree, sharing the key indexes.
    pub fn span_in<'a>(&self, root: &'a crate::Node, lookups: &mut Lookups<'a>) -> crate::Span {
        match root.lookup_in(&self.pointer, lookups) {
            Some((_, Some(key_span))) if self.at_key => key_span,
            Some((node, _)) => node.span,
            None => root.span,
        }
    }
}

/// The compiled schema.
pub struct Schema {
    document: Json,
    validation: Validation,
    refs: Vec<RefField>,
    collections: Vec<String>,
}

/// How a schema is validated: whole, or cut at its top-level collections ([`Split`]; the whole
/// validator is then not compiled at all, which keeps it out of the module's snapshot).
enum Validation {
    Whole(Validator),
    Split(Split),
}

/// The schema cut at its top-level collections, so that a manifest tree is validated one item
/// at a time: a valid item is only checked with `is_valid`, which builds no errors, and an
/// invalid one is validated again alone for its errors, not the whole manifest.
struct Split {
    /// The schema without the `items` of the split collections.
    root: Validator,
    /// Per split collection: its key, the schema path of its `items`, and their validator.
    items: Vec<(String, String, Validator)>,
}

impl Split {
    /// Whether the collection under `key` is validated item by item.
    fn cuts(&self, key: &str) -> bool {
        self.items.iter().any(|(k, _, _)| k == key)
    }
}

/// Keywords that let one part of a schema constrain another, or an array's items as a whole:
/// a schema using them at the root or on a collection is validated whole.
const UNSPLITTABLE: &[&str] = &[
    "$ref",
    "$dynamicRef",
    "$defs",
    "definitions",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "patternProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "prefixItems",
    "contains",
    "uniqueItems",
];

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
        let validation = match split(&document)? {
            Some(split) => Validation::Split(split),
            None => Validation::Whole(
                compile(&document).map_err(|e| format!("schema does not compile: {e}"))?,
            ),
        };
        Ok(Schema {
            document,
            validation,
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

    /// Validates a manifest given as JSON (settings files); the same violations as
    /// [`Schema::validate_tree`] of the tree it reads as.
    pub fn validate(&self, instance: &Json) -> Vec<Violation> {
        self.validate_tree(&Node::from_json(instance))
    }

    /// Validates a manifest tree in place; violations come in document order of the validator.
    /// Where the schema allows it, the top-level collections are validated item by item.
    pub fn validate_tree(&self, root: &Node) -> Vec<Violation> {
        let mut out = Vec::new();
        let (Validation::Split(split), NodeValue::Object(entries)) =
            (&self.validation, &root.value)
        else {
            match &self.validation {
                Validation::Whole(validator) => {
                    self.validate_with(validator, root, "", "", &mut out);
                }
                // Not an object: the collections' items do not come into it.
                Validation::Split(split) => {
                    self.validate_with(&split.root, root, "", "", &mut out);
                }
            }
            out.dedup();
            return out;
        };
        // The root, with each split collection's items as nulls: its own size and type
        // constraints still see an array of the right length. Only the top level is copied.
        let shallow = Node {
            value: NodeValue::Object(
                entries
                    .iter()
                    .map(|entry| match &entry.value.value {
                        NodeValue::Array(items) if split.cuts(&entry.key) => Entry {
                            key: std::sync::Arc::clone(&entry.key),
                            key_span: entry.key_span,
                            value: Node {
                                value: NodeValue::Array(vec![
                                    Node {
                                        value: NodeValue::Null,
                                        span: entry.value.span,
                                    };
                                    items.len()
                                ]),
                                span: entry.value.span,
                            },
                        },
                        _ => entry.clone(),
                    })
                    .collect(),
            ),
            span: root.span,
        };
        self.validate_with(&split.root, &shallow, "", "", &mut out);
        drop(shallow);
        for (key, schema_path, validator) in &split.items {
            // A duplicated key counts with its last value, as in a `serde_json` copy.
            let Some(NodeValue::Array(items)) = root.get(key).map(|e| &e.value.value) else {
                continue;
            };
            let prefix = push_pointer("", key);
            for (i, item) in items.iter().enumerate() {
                if !validator.is_valid(item) {
                    let pointer = format!("{prefix}/{i}");
                    self.validate_with(validator, item, &pointer, schema_path, &mut out);
                }
            }
        }
        out.dedup();
        out
    }

    /// Describes the errors of one validator, their paths prefixed with where its instance and
    /// its schema stand in the whole.
    fn validate_with<'i, F: jsonschema::json::Json>(
        &self,
        validator: &'i jsonschema::Validator<F>,
        instance: F::Node<'i>,
        pointer_prefix: &str,
        schema_prefix: &str,
        out: &mut Vec<Violation>,
    ) {
        for error in validator.iter_errors(instance) {
            let pointer = format!("{pointer_prefix}{}", error.instance_path().as_str());
            let schema_path = format!("{schema_prefix}{}", error.schema_path().as_str());
            self.describe(
                &pointer,
                &schema_path,
                error.kind(),
                error.instance(),
                &error.to_string(),
                out,
            );
        }
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
                let listed = backticked(&allowed);
                for key in unexpected {
                    let help = match did_you_mean(key, allowed.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("allowed fields here: {listed}"),
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

/// Cuts a schema at its top-level collections, when nothing in it reaches across the cut.
fn split(document: &Json) -> Result<Option<Split>, String> {
    fn uses_any(schema: &Json, keywords: &[&str]) -> bool {
        match schema {
            Json::Object(map) => map
                .iter()
                .any(|(k, v)| keywords.contains(&k.as_str()) || uses_any(v, keywords)),
            Json::Array(items) => items.iter().any(|v| uses_any(v, keywords)),
            _ => false,
        }
    }
    let local = |schema: &Json| {
        schema
            .as_object()
            .is_some_and(|m| !m.keys().any(|k| UNSPLITTABLE.contains(&k.as_str())))
    };
    // A reference could cross the cut; an item schema compiled alone would not resolve it.
    if uses_any(
        document,
        &["$ref", "$dynamicRef", "$anchor", "$dynamicAnchor"],
    ) || !local(document)
    {
        return Ok(None);
    }
    let Some(properties) = document.get("properties").and_then(Json::as_object) else {
        return Ok(None);
    };
    let mut root = document.clone();
    let mut items = Vec::new();
    for (key, property) in properties {
        let Some(item_schema) = property.get("items").filter(|i| i.is_object()) else {
            continue;
        };
        if !local(property) {
            continue;
        }
        let schema_path = format!("{}/items", push_pointer("/properties", key));
        let validator = compile(item_schema)
            .map_err(|e| format!("schema does not compile at {schema_path}: {e}"))?;
        if let Some(Json::Object(p)) = root.pointer_mut(&push_pointer("/properties", key)) {
            p.remove("items");
        }
        items.push((key.clone(), schema_path, validator));
    }
    if items.is_empty() {
        return Ok(None);
    }
    let root = compile(&root).map_err(|e| format!("schema does not compile: {e}"))?;
    Ok(Some(Split { root, items }))
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

    /// Every example topology, and each of them broken in ways that hit the root and the items
    /// of several collections: the item-by-item validation of the tree in place must give what
    /// validating a whole `serde_json` copy gives.
    #[test]
    fn validating_item_by_item_gives_what_validating_the_whole_copy_gives() {
        let schema = Schema::embedded().unwrap_or_else(|e| panic!("{e}"));
        let split = match &schema.validation {
            Validation::Split(split) => split.items.len(),
            Validation::Whole(_) => 0,
        };
        assert!(
            split >= 8,
            "only {split} collections validated item by item"
        );
        let whole_validator =
            jsonschema::draft202012::new(&schema.document).unwrap_or_else(|e| panic!("{e}"));
        let examples = [
            include_str!("../../../examples/topologies/stretched-high-bandwidth.json"),
            include_str!("../../../examples/topologies/stretched-low-bandwidth.json"),
        ];
        let breakages: [(&str, Json); 9] = [
            ("/persistent_chat_pools/0/servers", Json::from("not a list")),
            ("/persistent_chat_pools/0/bogus_field", Json::from(1)),
            ("/sql_instances/1/version", Json::from("sql2099")),
            ("/sql_instances/0/databases", serde_json::json!(["a", "a"])),
            ("/data_centers/0", Json::from(7)),
            ("/data_centers", serde_json::json!({"not": "a list"})),
            ("/persistent_chat_pools", serde_json::json!([])),
            ("/extra_top_level", serde_json::json!([1, 2])),
            ("/product", serde_json::json!(["lync2013"])),
        ];
        let mut broken_manifests = 0;
        for example in examples {
            let whole: Json = serde_json::from_str(example).unwrap_or_default();
            let mut cases = vec![whole.clone()];
            for (pointer, value) in &breakages {
                let mut broken = whole.clone();
                let (parent, key) = pointer.rsplit_once('/').unwrap_or_default();
                if let Some(Json::Object(map)) = broken.pointer_mut(parent) {
                    map.insert(key.to_string(), value.clone());
                } else if let Some(Json::Array(items)) = broken.pointer_mut(parent) {
                    let i: usize = key.parse().unwrap_or_default();
                    if i < items.len() {
                        items[i] = value.clone();
                    }
                }
                cases.push(broken);
            }
            for case in cases {
                let text = serde_json::to_string_pretty(&case).unwrap_or_default();
                let tree = crate::parse::parse_json(&text, &crate::parse::Limits::default())
                    .unwrap_or_else(|e| panic!("{e:?}"));
                let mut by_items = schema.validate_tree(&tree);
                let mut by_items_json = schema.validate(&tree.to_json());
                let mut whole = Vec::new();
                schema.validate_with(&whole_validator, &tree.to_json(), "", "", &mut whole);
                whole.dedup();
                if !whole.is_empty() {
                    broken_manifests += 1;
                }
                let key = |v: &Violation| (v.pointer.clone(), v.message.clone());
                by_items.sort_by_key(key);
                by_items_json.sort_by_key(key);
                whole.sort_by_key(key);
                assert_eq!(by_items, whole, "{text}");
                assert_eq!(by_items_json, whole, "{text}");
            }
        }
        assert_eq!(broken_manifests, 2 * breakages.len());
    }

    /// A key twice in one object counts once, at its first place, with its last value: as in
    /// a `serde_json` copy of the tree (the duplicate is a finding of its own).
    #[test]
    fn duplicated_keys_are_validated_as_a_copy_would_be() {
        let schema = Schema::embedded().unwrap_or_else(|e| panic!("{e}"));
        let whole_validator =
            jsonschema::draft202012::new(&schema.document).unwrap_or_else(|e| panic!("{e}"));
        let example = include_str!("../../../examples/topologies/stretched-high-bandwidth.json");
        let cases = [
            // The last value is wrong.
            (
                "\"product\": ",
                "\"product\": \"lync2013\", \"product\": 5, \"product\": ",
            ),
            // The first value is wrong, the last right.
            ("\"product\": ", "\"product\": 5, \"product\": "),
            // An unknown field twice.
            ("\"product\": ", "\"bogus\": 1, \"bogus\": 2, \"product\": "),
            // A collection twice: its last list counts.
            (
                "\"data_centers\": ",
                "\"data_centers\": 7, \"data_centers\": ",
            ),
            (
                "\"data_centers\": ",
                "\"data_centers\": [], \"data_centers\": ",
            ),
        ];
        // The violations of `text` in place, checked against the whole copy's; how many.
        let compare = |text: &str| {
            let tree = crate::parse::parse_json(text, &crate::parse::Limits::default())
                .unwrap_or_else(|e| panic!("{e:?}"));
            let mut in_place = schema.validate_tree(&tree);
            let mut whole = Vec::new();
            schema.validate_with(&whole_validator, &tree.to_json(), "", "", &mut whole);
            whole.dedup();
            let key = |v: &Violation| (v.pointer.clone(), v.message.clone());
            in_place.sort_by_key(key);
            whole.sort_by_key(key);
            assert_eq!(in_place, whole, "{text}");
            whole.len()
        };
        for (from, to) in cases {
            let text = example.replacen(from, to, 1);
            assert_ne!(text, example);
            compare(&text);
        }
        // Inside an item, too, and with more than sixteen keys (hashed, not searched).
        let mut pool = String::from("{");
        for i in 0..20 {
            pool.push_str(&format!("\"x{i}\": {i}, "));
        }
        pool.push_str("\"x3\": \"again\", \"id\": 1, \"id\": \"pc1\"}");
        let text = example.replacen(
            "\"persistent_chat_pools\": [",
            &format!("\"persistent_chat_pools\": [{pool}, "),
            1,
        );
        assert!(compare(&text) > 20);
    }

    #[test]
    fn a_schema_with_references_is_validated_whole() {
        let schema = Schema::from_text(
            r##"{"type": "object", "$defs": {"n": {"type": "integer"}},
                "properties": {"xs": {"type": "array", "items": {"$ref": "#/$defs/n"}}}}"##,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(schema.validation, Validation::Whole(_)));
        let tree = crate::parse::parse_json(r#"{"xs": [1, "two"]}"#, &Default::default())
            .unwrap_or_else(|e| panic!("{e:?}"));
        let pointers: Vec<String> = schema
            .validate_tree(&tree)
            .into_iter()
            .map(|v| v.pointer)
            .collect();
        assert_eq!(pointers, ["/xs/1"]);
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
