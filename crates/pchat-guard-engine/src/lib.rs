//! The pchat-guard engine: manifest text in, report out.
//!
//! It parses a topology manifest (JSON or YAML) into a value tree that keeps every value's
//! span, validates it against the embedded schema, checks ids and references, and returns a
//! [`FileReport`]. It does no I/O, reads no clock or environment and has no randomness: the same
//! request gives the same bytes on every host, natively and inside the WebAssembly module.

#[macro_use]
mod code_table;
pub mod checks;
pub mod describe;
pub mod diagram;
pub mod eval;
mod fast_json;
pub mod image;
mod instance;
pub mod ir;
pub mod parse;
pub mod report;
pub mod run;
pub mod sarif;
pub mod schema;
pub mod source;
pub mod value;
pub mod waiver;

use serde::{Deserialize, Serialize};

pub use parse::Limits;
pub use report::{Code, FileReport, Finding, InputFormat, Severity};
pub use source::{LineIndex, Location, Position, Span};
pub use value::Node;

/// Version of the engine, as in its `Cargo.toml`.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One manifest to check, as hosts send it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The manifest text.
    pub source: String,
    /// SHA-256 of `source` (64 lowercase hex digits), when the host has computed it: the report
    /// carries it and the module does not hash the text again. A native host hashes with the
    /// processor's SHA instructions, which WebAssembly does not have (57 MB: about 40 ms against
    /// about a second in the module).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "sha256_hex_digits"
    )]
    pub source_sha256: Option<String>,
    /// The file name to report (and to infer the format from).
    #[serde(default)]
    pub path: String,
    /// `json` or `yaml`; inferred from the path (then the content) when absent.
    #[serde(default)]
    pub input_format: Option<InputFormat>,
    /// Bounds on the cost of this manifest.
    #[serde(default)]
    pub limits: Limits,
    /// Whether the report should say what each rule did (`test --coverage`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub coverage: bool,
    /// Rules to evaluate instead of the module's own pack (`check --policies`, `test`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<ir::Bundle>,
    /// Today's date (`YYYY-MM-DD`), to tell whether waivers have expired; the engine reads no
    /// clock. Without it, a waiver with an `expires` date does not apply.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "today"
    )]
    pub today: Option<waiver::Date>,
    /// Waivers from outside the manifest (a waiver file), applied after the manifest's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<waiver::ExternalWaiver>,
    /// Ignore the manifest's own `waivers[]` (each gets a `PCG-WAIVER-IGNORED` note): only
    /// `waivers` apply.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_manifest_waivers: bool,
    /// The host gives the findings their fingerprints ([`FileReport::fill_fingerprints`], the
    /// same value): the module leaves them out. A native host hashes with the processor's SHA
    /// instructions, which WebAssembly does not have (a fingerprint hashes the finding's
    /// message, about 55 instructions a byte in the module). A drawing always has them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub host_fingerprints: bool,
}

/// The answer to a JSON request: a report, or why the request itself was unusable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Response {
    /// The manifest was read; the report says whether it could be checked.
    Ok {
        /// The report.
        report: FileReport,
    },
    /// The request was not understood (not JSON, unknown fields...).
    Error {
        /// What was wrong with the request.
        message: String,
    },
}

/// A request to draw a manifest (`pcg_diagram`): the manifest as for a check, and optionally the
/// one Persistent Chat pool to draw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagramRequest {
    /// The manifest and the options of its check; its findings are drawn.
    pub check: CheckRequest,
    /// The id of the one pool to draw; every pool when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
}

/// The answer to a diagram request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum DiagramResponse {
    /// The manifest was checked; `svg` is its picture, or `declined` says why there is none.
    Ok {
        /// The report of the check whose findings are drawn.
        report: FileReport,
        /// The SVG document.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        svg: Option<String>,
        /// Why no picture was drawn (the manifest cannot be read, it is too large, no such pool).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        declined: Option<String>,
    },
    /// The request was not understood.
    Error {
        /// What was wrong with the request.
        message: String,
    },
}

/// A checker: the compiled schema, built once and used for many manifests.
#[derive(Debug)]
pub struct Checker {
    schema: schema::Schema,
    bundle: Option<ir::Bundle>,
}

impl Checker {
    /// Compiles the embedded schema; no rules yet (see [`Checker::with_bundle`]).
    pub fn new() -> Result<Checker, String> {
        Ok(Checker {
            schema: schema::Schema::embedded()?,
            bundle: None,
        })
    }

    /// The checker with a rule pack, refused when its IR format is not this engine's.
    pub fn with_bundle(mut self, bundle: ir::Bundle) -> Result<Checker, String> {
        check_bundle(&bundle)?;
        self.bundle = Some(bundle);
        Ok(self)
    }

    /// The rule pack, if any.
    pub fn bundle(&self) -> Option<&ir::Bundle> {
        self.bundle.as_ref()
    }

    /// The compiled schema.
    pub fn schema(&self) -> &schema::Schema {
        &self.schema
    }

    /// Checks one manifest.
    pub fn check(&self, request: &CheckRequest) -> FileReport {
        self.check_with(request, self.bundle.as_ref())
    }

    /// Checks one manifest with `pack` as the pack for a request that carries none (a host that
    /// loaded a pack once into an instance runs it this way for every file).
    pub fn check_with(&self, request: &CheckRequest, pack: Option<&ir::Bundle>) -> FileReport {
        self.check_leaving(request, pack).0
    }

    /// [`Checker::check_with`], handing the manifest's tree back instead of dropping it.
    fn check_leaving(
        &self,
        request: &CheckRequest,
        pack: Option<&ir::Bundle>,
    ) -> (FileReport, Option<Node>) {
        let text = request.source.as_str();
        let input_format = request
            .input_format
            .unwrap_or_else(|| InputFormat::infer(&request.path, text));
        let index = LineIndex::new(text);
        let mut findings = Vec::new();
        let mut coverage = None;
        let parsed = parse_source(text, input_format, &request.limits);
        let checked = match &parsed {
            Err(e) => {
                findings.push(e.clone().into_finding(&index));
                false
            }
            Ok(root) => {
                self.check_tree(root, &index, &mut findings);
                let bundle = request.bundle.as_ref().or(pack);
                if let Some(bundle) = bundle {
                    let mut evaluator = eval::Evaluator::new(root);
                    findings.extend(evaluator.run(bundle, &index));
                    if request.coverage {
                        coverage = Some(evaluator.coverage());
                    }
                }
                let rules: Vec<&str> = bundle
                    .iter()
                    .flat_map(|b| &b.rules)
                    .map(|r| r.id.as_str())
                    .collect();
                waiver::apply(
                    root,
                    &index,
                    &request.path,
                    &waiver::Context {
                        external: &request.waivers,
                        ignore_manifest: request.ignore_manifest_waivers,
                        rules: &rules,
                        today: request.today,
                    },
                    &mut findings,
                );
                true
            }
        };
        findings.sort_by(|a, b| {
            (a.location.start.offset, &a.code, &a.message, &a.pointer).cmp(&(
                b.location.start.offset,
                &b.code,
                &b.message,
                &b.pointer,
            ))
        });
        findings.dedup();
        let mut report = FileReport {
            format_version: report::REPORT_FORMAT_VERSION,
            path: request.path.clone(),
            input_format,
            checked,
            findings,
            sha256: Some(
                request
                    .source_sha256
                    .clone()
                    .unwrap_or_else(|| report::sha256_hex(text.as_bytes())),
            ),
            coverage,
        };
        if !request.host_fingerprints {
            report.fill_fingerprints();
        }
        (report, parsed.ok())
    }

    fn check_tree(&self, root: &Node, index: &LineIndex<'_>, findings: &mut Vec<Finding>) {
        let (ids, mut problems) = checks::index_ids(root, self.schema.collections());
        problems.extend(checks::duplicate_keys(root));
        problems.extend(checks::dangling_refs(root, self.schema.refs(), &ids));
        findings.extend(problems.into_iter().map(|p| {
            Finding::of(p.code, p.message, p.pointer, index.location(p.span))
                .with_label(Some(p.label))
                .with_help(Some(p.help))
                .with_related(p.related.map(|s| index.location(s)))
        }));
        let mut lookups = value::Lookups::default();
        findings.extend(self.schema.validate_tree(root).into_iter().map(|v| {
            let location = index.location(v.span_in(root, &mut lookups));
            Finding::of(v.code, v.message, v.pointer, location)
                .with_label(v.label)
                .with_help(v.help)
        }));
    }

    /// Answers a JSON check request with a JSON response, using the checker's own pack.
    pub fn handle_json(&self, request: &[u8]) -> String {
        self.handle_json_with(request, self.bundle.as_ref())
    }

    /// Answers a JSON check request with a JSON response; `pack` runs when the request carries
    /// no bundle of its own.
    pub fn handle_json_with(&self, request: &[u8], pack: Option<&ir::Bundle>) -> String {
        self.handle_json_leaving(request, pack).0
    }

    /// Answers a check request whose manifest text comes apart from it (`pcg_check_text`):
    /// `request` is the JSON request without `source`, `text` the manifest's UTF-8 bytes, which
    /// become its `source` without a copy. The text is neither escaped by the host nor
    /// unescaped here, which on a large manifest is a tenth of the check.
    pub fn handle_text_with(
        &self,
        request: &[u8],
        text: Vec<u8>,
        pack: Option<&ir::Bundle>,
    ) -> String {
        self.handle_text_leaving(request, text, pack).0
    }

    /// [`Checker::handle_json_with`], handing back what the check leaves instead of dropping it.
    pub fn handle_json_leaving(
        &self,
        request: &[u8],
        pack: Option<&ir::Bundle>,
    ) -> (String, Leftovers) {
        let request = serde_json::from_slice::<CheckRequest>(request)
            .map_err(|e| format!("the request is not valid: {e}"));
        self.answer_leaving(request, pack)
    }

    /// [`Checker::handle_text_with`], handing back what the check leaves instead of dropping it.
    pub fn handle_text_leaving(
        &self,
        request: &[u8],
        text: Vec<u8>,
        pack: Option<&ir::Bundle>,
    ) -> (String, Leftovers) {
        self.answer_leaving(text_request(request, text), pack)
    }

    fn answer_leaving(
        &self,
        request: Result<CheckRequest, String>,
        pack: Option<&ir::Bundle>,
    ) -> (String, Leftovers) {
        let mut leftovers = Leftovers::default();
        let response = match request {
            Ok(request) => match request.bundle.as_ref().map(check_bundle) {
                Some(Err(message)) => Response::Error { message },
                _ => {
                    let (report, tree) = self.check_leaving(&request, pack);
                    leftovers = Leftovers {
                        tree,
                        _request: Some(request),
                    };
                    Response::Ok { report }
                }
            },
            Err(message) => Response::Error { message },
        };
        (to_json(&response), leftovers)
    }

    /// Checks a manifest and draws it with its findings (`diagram`), with `pack` as for
    /// [`Checker::check_with`].
    pub fn diagram_with(
        &self,
        request: &DiagramRequest,
        pack: Option<&ir::Bundle>,
    ) -> DiagramResponse {
        if let Some(Err(message)) = request.check.bundle.as_ref().map(check_bundle) {
            return DiagramResponse::Error { message };
        }
        let mut report = self.check_with(&request.check, pack);
        // The drawing marks each finding's shape with its fingerprint.
        report.fill_fingerprints();
        let text = request.check.source.as_str();
        let drawn = if report.checked {
            parse_source(text, report.input_format, &request.check.limits)
                .map_err(|e| e.message)
                .and_then(|root| {
                    diagram::draw(&root.to_json(), &report, request.pool.as_deref())
                        .map_err(|d| d.0)
                })
        } else {
            Err("the manifest cannot be read, so it cannot be drawn: see its findings".to_string())
        };
        let (svg, declined) = match drawn {
            Ok(svg) => (Some(svg), None),
            Err(why) => (None, Some(why)),
        };
        DiagramResponse::Ok {
            report,
            svg,
            declined,
        }
    }

    /// Answers a JSON diagram request with a JSON response.
    pub fn handle_diagram_json_with(&self, request: &[u8], pack: Option<&ir::Bundle>) -> String {
        match serde_json::from_slice::<DiagramRequest>(request) {
            Ok(request) => to_json(&self.diagram_with(&request, pack)),
            Err(e) => to_json(&DiagramResponse::Error {
                message: format!("the request is not valid: {e}"),
            }),
        }
    }

    /// Reads a compiled pack (IR bundle JSON) and checks it can run, for a host to load once.
    pub fn read_bundle(json: &[u8]) -> Result<ir::Bundle, String> {
        let bundle: ir::Bundle = serde_json::from_slice(json)
            .map_err(|e| format!("the rule bundle is not valid: {e}"))?;
        check_bundle(&bundle)?;
        Ok(bundle)
    }
}

/// Reads a manifest's text into a value tree, or says why it cannot be read (too big, empty,
/// malformed, past a limit).
fn parse_source(
    text: &str,
    input_format: InputFormat,
    limits: &Limits,
) -> Result<Node, parse::InputError> {
    if text.len() > limits.max_bytes {
        Err(parse::InputError {
            code: Code::Limit,
            message: format!(
                "the file is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
            span: Span::new(0, 0),
            help: Some("split the manifest, or raise the size limit".to_string()),
        })
    } else if text.trim_start_matches('\u{feff}').trim().is_empty() {
        Err(parse::InputError {
                code: Code::Empty,
                message: "the file is empty".to_string(),
                span: Span::new(0, 0),
                help: Some("a manifest is an object with at least `product`, `data_centers` and `persistent_chat_pools`".to_string()),
            })
    } else {
        match input_format {
            InputFormat::Json => parse::parse_json(text, limits),
            InputFormat::Yaml => parse::parse_yaml(text, limits),
        }
    }
}

/// Refuses a bundle of another IR format version, or one that would make the evaluator allocate
/// without bound.
fn check_bundle(bundle: &ir::Bundle) -> Result<(), String> {
    // A compiled rule uses a handful of slots; a bundle from elsewhere must not make the
    // evaluator allocate without bound.
    if let Some(rule) = bundle.rules.iter().find(|r| r.slots > 4096) {
        return Err(format!(
            "rule `{}` of the bundle uses {} variable slots, more than 4096",
            rule.id, rule.slots
        ));
    }
    if bundle.format_version == ir::IR_FORMAT_VERSION {
        Ok(())
    } else {
        Err(format!(
            "the rule bundle has IR format version {}; this engine reads version {}",
            bundle.format_version,
            ir::IR_FORMAT_VERSION
        ))
    }
}

/// Reads `today`, saying which field a date that does not exist came in.
fn today<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<waiver::Date>, D::Error> {
    let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
    text.map(|t| {
        waiver::Date::parse(&t).map_err(|e| serde::de::Error::custom(format!("`today`: {e}")))
    })
    .transpose()
}

/// The request of `pcg_check_text`: its JSON fields, with the text apart as `source`. The text is
/// moved into the request, not copied (serde_json hands a `Value`'s string over as is).
fn text_request(request: &[u8], text: Vec<u8>) -> Result<CheckRequest, String> {
    let text = String::from_utf8(text).map_err(|e| {
        format!(
            "the manifest text is not UTF-8: invalid byte at offset {}",
            e.utf8_error().valid_up_to()
        )
    })?;
    let mut fields = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(request)
        .map_err(|e| format!("the request is not valid: {e}"))?;
    if fields.contains_key("source") {
        return Err(
            "the request is not valid: `source` comes apart from the request, not in it"
                .to_string(),
        );
    }
    fields.insert("source".to_string(), serde_json::Value::String(text));
    serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| format!("the request is not valid: {e}"))
}

/// What a check leaves behind once its answer is written: the manifest's tree and the request
/// with its text. Dropping them walks every value of the manifest (7% of a native check of
/// 1,000 pools), so the module keeps them until its next call: a host that discards the
/// instance after its last check (the CLI) never pays for it, and one that goes on checking
/// frees them before the next check, so they never add to its peak.
#[derive(Debug, Default)]
pub struct Leftovers {
    tree: Option<Node>,
    /// Held only to be dropped later.
    _request: Option<CheckRequest>,
}

impl Leftovers {
    /// Whether a manifest's tree is held (the manifest was read).
    pub fn holds_tree(&self) -> bool {
        self.tree.is_some()
    }
}

/// Reads `source_sha256`: 64 lowercase hex digits, as `sha256` is written in reports.
fn sha256_hex_digits<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let text = <Option<String>>::deserialize(deserializer)?;
    match text {
        Some(t) if t.len() != 64 || !t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {
            Err(serde::de::Error::custom(
                "`source_sha256`: expected 64 lowercase hexadecimal digits",
            ))
        }
        other => Ok(other),
    }
}

/// Encodes a response; a failure (which serde_json cannot have for these types) is itself an
/// error response, never a panic.
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| {
        format!("{{\"status\":\"error\",\"message\":\"the response could not be encoded: {e}\"}}")
    })
}
