//! Policy directories: loading and compiling `*.rules` files, rendering compiler diagnostics,
//! and running policy tests (`pchat-guard test`).

use std::path::Path;

use annotate_snippets::Level;
use pchat_guard_lang::{Compiled, Source};

/// Reads and compiles the rule files of a directory, with its `facts.toml` and the shipped facts.
pub fn compile_dir(dir: &Path) -> Result<(Vec<Source>, Compiled), String> {
    pchat_guard_pack::compile_pack(dir, &pack_name(dir), "0.0.0-local", None)
}

/// The name of the pack in `dir`: the directory's name (`rules/` and `rules/.` name the same).
pub fn pack_name(dir: &Path) -> String {
    let named = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    named.file_name().map_or_else(
        || "policies".to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Renders compiler diagnostics in rustc style, as findings are.
pub fn render_diagnostics(sources: &[Source], compiled: &Compiled, color: bool) -> String {
    let renderer = crate::render::renderer(color);
    let mut out = String::new();
    for d in &compiled.diagnostics {
        let Some(source) = sources.get(d.file) else {
            continue;
        };
        let level = match d.level {
            pchat_guard_lang::Level::Error => Level::ERROR,
            pchat_guard_lang::Level::Warning => Level::WARNING,
        };
        let message = crate::render::Annotated {
            level,
            title: d.message.as_str().into(),
            code: d.code.as_str(),
            path: source.path.as_str(),
            source: Some(source.text.as_str()),
            span: (d.start, d.end),
            // Shown only when the span lies outside the text, which the compiler never makes.
            at: (1, 1),
            label: d.label.as_deref(),
            notes: d.help.iter().map(|h| (Level::HELP, h.clone())).collect(),
        };
        out.push_str(&message.render(&renderer));
    }
    out
}

/// One expected finding of a policy test: a code and a pointer.
pub type Expectation = (String, String);

/// A policy test case, read: the manifest to check and what it must give.
#[derive(Debug, Clone)]
pub struct Case {
    /// The manifest text to check.
    pub source: String,
    /// Its format, when the case says it (a patched base is checked as JSON); else by name.
    pub input_format: Option<pchat_guard_engine::InputFormat>,
    /// The findings it must give (code, pointer), sorted; empty: none.
    pub expected: Vec<Expectation>,
    /// The codes the case is about; empty: every finding counts.
    pub scope: Vec<String>,
    /// The date it is checked on, when it gives one.
    pub today: Option<pchat_guard_engine::waiver::Date>,
}

/// A case written as a patch (the `base:` form): a base topology, an RFC 6902 JSON Patch that
/// says what the case changes, and the findings the result must give.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchCase {
    /// The base manifest, relative to the case file.
    base: String,
    /// The codes the case is about.
    #[serde(default)]
    only: Vec<String>,
    /// The date the case is checked on.
    #[serde(default)]
    today: Option<pchat_guard_engine::waiver::Date>,
    /// What the case changes in the base.
    #[serde(default)]
    patch: json_patch::Patch,
    /// The findings, each `CODE POINTER`.
    #[serde(default)]
    expect: Vec<String>,
}

/// Reads a policy test case. A YAML or JSON file whose top level has a `base` key is a patch
/// case; any other is a manifest checked as it is, with `# only:`, `# expect:` and `# today:`
/// comments (or a `.expect` file beside it) saying what it must give.
pub fn read_case(path: &Path) -> Result<Case, String> {
    let text = pchat_guard_pack::read_text(path)?;
    if let Some(value) = parse_any(path, &text).filter(|v| v.get("base").is_some()) {
        return patch_case(path, value);
    }
    Ok(Case {
        expected: expectations(path, &text),
        scope: scope(path, &text),
        today: today(path, &text)?,
        source: text,
        input_format: None,
    })
}

/// Parses a JSON or YAML file (by its name) into a value; `None` when it does not parse.
fn parse_any(path: &Path, text: &str) -> Option<serde_json::Value> {
    let limits = pchat_guard_engine::Limits::default();
    let name = path.to_string_lossy();
    let node = match pchat_guard_engine::InputFormat::infer(&name, text) {
        pchat_guard_engine::InputFormat::Json => {
            pchat_guard_engine::parse::parse_json(text, &limits)
        }
        pchat_guard_engine::InputFormat::Yaml => {
            pchat_guard_engine::parse::parse_yaml(text, &limits)
        }
    };
    node.ok().map(|n| n.to_json())
}

fn patch_case(path: &Path, value: serde_json::Value) -> Result<Case, String> {
    let shown = path.display();
    let case: PatchCase =
        serde_json::from_value(value).map_err(|e| format!("`{shown}`: not a test case: {e}"))?;
    let base_path = path.parent().unwrap_or(Path::new(".")).join(&case.base);
    let base_text =
        pchat_guard_pack::read_text(&base_path).map_err(|e| format!("`{shown}`: its base: {e}"))?;
    let mut manifest = parse_any(&base_path, &base_text).ok_or_else(|| {
        format!(
            "`{shown}`: its base `{}` does not parse",
            base_path.display()
        )
    })?;
    json_patch::patch(&mut manifest, &case.patch)
        .map_err(|e| format!("`{shown}`: the patch does not apply to its base: {e}"))?;
    let mut expected = Vec::new();
    for line in &case.expect {
        let mut parts = line.split_whitespace();
        let (Some(code), pointer, None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("`{shown}`: `expect: {line}` is not `CODE POINTER`"));
        };
        expected.push((code.to_string(), pointer.unwrap_or("").to_string()));
    }
    expected.sort();
    let source = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    Ok(Case {
        source,
        input_format: Some(pchat_guard_engine::InputFormat::Json),
        expected,
        scope: case.only,
        today: case.today,
    })
}

/// The expectations of a test manifest: `# expect: CODE POINTER` lines in YAML, or the lines of
/// a `<name>.expect` file beside a JSON manifest. None means the manifest must be clean.
fn expectations(path: &Path, text: &str) -> Vec<Expectation> {
    let sidecar = path.with_extension("expect");
    let lines: Vec<String> = match std::fs::read_to_string(&sidecar) {
        Ok(sidecar) => sidecar
            .lines()
            .filter(|l| {
                let l = l.trim_start();
                !l.starts_with('#') && !l.starts_with("only:") && !l.starts_with("today:")
            })
            .map(str::to_string)
            .collect(),
        Err(_) => text
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("# expect:").map(str::to_string))
            .collect(),
    };
    let mut out: Vec<Expectation> = lines
        .iter()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let code = parts.next().filter(|c| *c != "only:")?;
            Some((code.to_string(), parts.next().unwrap_or("").to_string()))
        })
        .collect();
    out.sort();
    out
}

/// The values of a test case's `name:` directive: `# name: ...` lines in its text, then
/// `name: ...` lines of the `.expect` file beside it.
fn directives(path: &Path, text: &str, name: &str) -> Vec<String> {
    let sidecar = std::fs::read_to_string(path.with_extension("expect")).unwrap_or_default();
    let in_text = format!("# {name}:");
    let in_sidecar = format!("{name}:");
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix(in_text.as_str()))
        .chain(
            sidecar
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix(in_sidecar.as_str())),
        )
        .map(|v| v.trim().to_string())
        .collect()
}

/// The codes a test case is about (`# only: ID, ID` in YAML, `only: ID` in a `.expect` file);
/// empty means every finding counts.
fn scope(path: &Path, text: &str) -> Vec<String> {
    directives(path, text, "only")
        .iter()
        .flat_map(|l| l.split(','))
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The date a test case is checked on (`# today: YYYY-MM-DD` in YAML, `today: ...` in a
/// `.expect` file), so that cases with dated waivers do not depend on the day they run; `None`
/// when the case gives none (a dated waiver then does not apply).
fn today(path: &Path, text: &str) -> Result<Option<pchat_guard_engine::waiver::Date>, String> {
    directives(path, text, "today")
        .first()
        .map(|d| pchat_guard_engine::waiver::Date::parse(d))
        .transpose()
        .map_err(|e| format!("`{}`: `today`: {e}", path.display()))
}
