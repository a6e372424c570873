//! Policy directories: loading and compiling `*.rules` files, rendering compiler diagnostics,
//! and running policy tests (`pchat-guard test`).

use std::path::Path;

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use pchat_guard_engine::ir::Bundle;
use pchat_guard_lang::{Compiled, Source};

/// Reads and compiles the rule files of a directory.
pub fn compile_dir(dir: &Path) -> Result<(Vec<Source>, Compiled), String> {
    let sources = pchat_guard_pack::read_sources(dir, None)?;
    let name = dir.file_name().map_or_else(
        || "policies".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let compiled = pchat_guard_lang::compile(&name, "0.0.0-local", &sources);
    Ok((sources, compiled))
}

/// Renders compiler diagnostics in rustc style.
pub fn render_diagnostics(sources: &[Source], compiled: &Compiled, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
    .decor_style(DecorStyle::Ascii);
    let mut out = String::new();
    for d in &compiled.diagnostics {
        let Some(source) = sources.get(d.file) else {
            continue;
        };
        let level = match d.level {
            pchat_guard_lang::Level::Error => Level::ERROR,
            pchat_guard_lang::Level::Warning => Level::WARNING,
        };
        let Some((window, line, range)) = crate::render::line_window(&source.text, d.start, d.end)
        else {
            continue;
        };
        let mut annotation = AnnotationKind::Primary.span(range);
        if let Some(label) = &d.label {
            annotation = annotation.label(label.as_str());
        }
        let mut group: Group<'_> = level
            .primary_title(d.message.as_str())
            .id(d.code.as_str())
            .element(
                Snippet::source(window)
                    .line_start(line)
                    .path(source.path.as_str())
                    .annotation(annotation),
            );
        if let Some(help) = &d.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    out
}

/// One expected finding of a policy test: a code and a pointer.
pub type Expectation = (String, String);

/// The expectations of a test manifest: `# expect: CODE POINTER` lines in YAML, or the lines of
/// a `<name>.expect` file beside a JSON manifest. None means the manifest must be clean.
pub fn expectations(path: &Path, text: &str) -> Vec<Expectation> {
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
pub fn scope(path: &Path, text: &str) -> Vec<String> {
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
pub fn today(path: &Path, text: &str) -> Option<String> {
    directives(path, text, "today").into_iter().next()
}

/// The shipped pack's bundle type, for callers that hold one.
pub type PolicyBundle = Bundle;
