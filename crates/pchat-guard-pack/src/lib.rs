//! Which files make up a policy pack, and reading them.
//!
//! A pack is a directory: its rule sources are the `*.rules` files below it, outside any folder
//! named `tests`; its policy test cases are the files inside those `tests` folders. This is the
//! one definition of it: the module's build script (which embeds the shipped pack and must
//! rebuild exactly when a source changes), `cargo xtask` and the CLI all ask this crate.

use std::path::{Path, PathBuf};

use pchat_guard_engine::ir::Fact;
use pchat_guard_lang::{Compiled, Source};

/// The extension of rule source files.
pub const RULES_EXTENSION: &str = "rules";

/// The file, beside a pack's rules, that declares the facts they cite.
pub const FACTS_FILE: &str = "facts.toml";

/// The shipped pack's facts (F1-F23): every pack may cite them.
const SHIPPED_FACTS: &str = include_str!("../../../policies/persistent-chat/facts.toml");

/// The name of the folders that hold policy test cases rather than sources.
pub const TESTS_DIR: &str = "tests";

/// The extensions of policy test cases.
pub const TEST_CASE_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// The largest rule, facts, configuration or policy test file read: what a manifest may be
/// (the engine's default limit), so a file of any kind is refused before it is held whole.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a UTF-8 text file of at most [`MAX_FILE_BYTES`]; the error names the file and says
/// what is wrong (`cannot read `x`: ...`).
pub fn read_text(path: &Path) -> Result<String, String> {
    read_capped(path, MAX_FILE_BYTES).and_then(|bytes| {
        String::from_utf8(bytes).map_err(|e| {
            format!(
                "cannot read `{}`: it is not UTF-8 text (invalid byte at offset {})",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })
    })
}

/// Reads a file of at most `max` bytes, refusing a larger one without reading past the limit.
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let shown = path.display();
    let too_large = |size: u64| {
        format!("cannot read `{shown}`: it is {size} bytes or more, past the limit of {max} bytes")
    };
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if let Ok(meta) = file.metadata()
        && meta.len() > max
    {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The rule source files of the pack in `dir`: every `*.rules` file below it, outside `tests`
/// folders, sorted by path.
pub fn source_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, false, &mut |path, in_tests| {
        if !in_tests && has_extension(path, &[RULES_EXTENSION]) {
            out.push(path.to_path_buf());
        }
    });
    out.sort();
    out
}

/// The policy test cases of the pack in `dir`: the JSON and YAML files inside its `tests`
/// folders, sorted by path.
pub fn test_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, false, &mut |path, in_tests| {
        if in_tests && has_extension(path, TEST_CASE_EXTENSIONS) {
            out.push(path.to_path_buf());
        }
    });
    out.sort();
    out
}

/// Every file below `dir`, sorted by path (symbolic links to directories are not followed).
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, false, &mut |path, _| out.push(path.to_path_buf()));
    out.sort();
    out
}

/// Reads the rule sources of the pack in `dir`. Each source is named by its path, relative to
/// `relative_to` when given (so that names do not depend on where a checkout lives).
pub fn read_sources(dir: &Path, relative_to: Option<&Path>) -> Result<Vec<Source>, String> {
    if !dir.is_dir() {
        return Err(format!(
            "`{}` is not a directory of rule files",
            dir.display()
        ));
    }
    let mut sources = Vec::new();
    for file in source_files(dir) {
        let text = read_text(&file)?;
        let name = relative_to
            .and_then(|root| file.strip_prefix(root).ok())
            .unwrap_or(&file);
        sources.push(Source {
            path: name.display().to_string().replace('\\', "/"),
            text,
        });
    }
    if sources.is_empty() {
        return Err(format!(
            "`{}` holds no `.{RULES_EXTENSION}` files",
            dir.display()
        ));
    }
    Ok(sources)
}

/// The facts of the shipped pack, which every pack may cite.
pub fn shipped_facts() -> Result<Vec<Fact>, String> {
    parse_facts(SHIPPED_FACTS, "policies/persistent-chat/facts.toml")
}

/// The `facts.toml` files of the pack in `dir` (outside `tests` folders), sorted by path.
pub fn facts_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, false, &mut |path, in_tests| {
        if !in_tests && path.file_name().is_some_and(|n| n == FACTS_FILE) {
            out.push(path.to_path_buf());
        }
    });
    out.sort();
    out
}

/// Reads a `facts.toml`: one table per fact, named by its id, with a `title` and an optional
/// `url`:
///
/// ```toml
/// [ACME1]
/// title = "SQL hosts live in the sql.acme.example domain"
/// url = "https://wiki.acme.example/standards/sql"
/// ```
///
/// Errors name the file and the line.
pub fn parse_facts(text: &str, path: &str) -> Result<Vec<Fact>, String> {
    let line_at = |offset: usize| text.get(..offset).unwrap_or("").matches('\n').count() + 1;
    // The line of `key` in the table `[id]`, else of the table's header, for messages.
    let line_of = |id: &str, key: Option<&str>| -> usize {
        let header = format!("[{id}]");
        let Some(start) = text.find(&header) else {
            return 1;
        };
        let section = text.get(start..).unwrap_or("");
        let end = section
            .get(1..)
            .and_then(|s| s.find("\n["))
            .map_or(section.len(), |e| e + 1);
        let within = key.and_then(|k| {
            section
                .get(..end)
                .and_then(|s| s.lines().position(|l| l.trim_start().starts_with(k)))
        });
        line_at(start) + within.unwrap_or(0)
    };
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_at(s.start));
        format!("{path}:{line}: {}", e.message())
    })?;
    let mut facts = Vec::new();
    for (id, value) in &table {
        if !pchat_guard_lang::is_fact_id(id) {
            return Err(format!(
                "{path}:{}: `{id}` is not a fact id: uppercase letters, digits and `_`, such as `F7` or `ACME1`",
                line_of(id, None)
            ));
        }
        let Some(fields) = value.as_table() else {
            return Err(format!(
                "{path}:{}: `{id}` must be a table (`[{id}]` with `title = \"...\"`)",
                line_at(text.find(id.as_str()).unwrap_or(0))
            ));
        };
        for key in fields.keys() {
            if key != "title" && key != "url" {
                let hint = if strsim_like(key, "title") {
                    "; did you mean `title`?"
                } else if strsim_like(key, "url") {
                    "; did you mean `url`?"
                } else {
                    ""
                };
                return Err(format!(
                    "{path}:{}: fact `{id}` has an unknown key `{key}`{hint} (a fact has `title` and `url`)",
                    line_of(id, Some(key))
                ));
            }
        }
        let title = match fields.get("title").map(|t| t.as_str()) {
            Some(Some(t)) if !t.trim().is_empty() => t.to_string(),
            _ => {
                return Err(format!(
                    "{path}:{}: fact `{id}` needs a `title`: one line saying what it states",
                    line_of(id, Some("title"))
                ));
            }
        };
        let url = match fields.get("url").map(|u| u.as_str()) {
            None => None,
            Some(Some(u)) if u.starts_with("https://") || u.starts_with("http://") => {
                Some(u.to_string())
            }
            Some(_) => {
                return Err(format!(
                    "{path}:{}: the `url` of fact `{id}` must be an http(s) URL",
                    line_of(id, Some("url"))
                ));
            }
        };
        facts.push(Fact {
            id: id.clone(),
            title,
            url,
        });
    }
    Ok(facts)
}

/// Whether `a` is a likely misspelling of `b` (one or two edits).
fn strsim_like(a: &str, b: &str) -> bool {
    pchat_guard_engine::schema::did_you_mean(a, [b]).is_some()
}

/// Reads and compiles the pack in `dir`: its rules (named relative to `relative_to` when
/// given), with the facts they may cite: the pack's own (`facts.toml`) and the shipped pack's.
/// A pack may not redeclare a shipped fact differently.
pub fn compile_pack(
    dir: &Path,
    name: &str,
    version: &str,
    relative_to: Option<&Path>,
) -> Result<(Vec<Source>, Compiled), String> {
    let sources = read_sources(dir, relative_to)?;
    let mut facts = shipped_facts()?;
    for file in facts_files(dir) {
        let shown = relative_to
            .and_then(|root| file.strip_prefix(root).ok())
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = read_text(&file)?;
        for fact in parse_facts(&text, &shown)? {
            match facts.iter().find(|f| f.id == fact.id) {
                Some(known) if *known == fact => {}
                Some(_) => {
                    return Err(format!(
                        "{shown}: fact `{}` is already declared, differently (the shipped pack's, or another facts.toml of this pack); give yours another id",
                        fact.id
                    ));
                }
                None => facts.push(fact),
            }
        }
    }
    let compiled = pchat_guard_lang::compile_with_facts(name, version, &sources, &facts);
    // A pack that compiles to no rule would check nothing and pass everything: fail closed.
    if compiled.bundle.as_ref().is_some_and(|b| b.rules.is_empty()) {
        return Err(format!(
            "`{}` defines no rules (only helpers or comments): a pack with no rule would pass every manifest",
            dir.display()
        ));
    }
    Ok((sources, compiled))
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.contains(&e))
}

/// Calls `visit` with every file below `dir` and whether it lies inside a `tests` folder.
/// Symbolic links to directories are not followed (no cycles).
fn walk(dir: &Path, in_tests: bool, visit: &mut dyn FnMut(&Path, bool)) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, in_tests || entry.file_name() == TESTS_DIR, visit);
        } else {
            visit(&path, in_tests);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/persistent-chat")
    }

    #[test]
    fn sources_leave_tests_out_and_tests_leave_sources_out() {
        let sources = source_files(&shipped());
        assert!(sources.len() >= 6, "{sources:?}");
        assert!(sources.iter().all(|p| p.extension().unwrap() == "rules"));
        assert!(
            sources
                .iter()
                .all(|p| !p.components().any(|c| c.as_os_str() == "tests"))
        );
        let cases = test_files(&shipped());
        assert!(cases.len() > 10, "{cases:?}");
        assert!(
            cases
                .iter()
                .all(|p| p.components().any(|c| c.as_os_str() == "tests"))
        );
    }

    #[test]
    fn names_are_relative_and_sorted() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let sources = read_sources(&root.join("policies"), Some(&root)).unwrap();
        let names: Vec<&str> = sources.iter().map(|s| s.path.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert!(
            names.iter().all(|n| n.starts_with("policies/")),
            "{names:?}"
        );
    }

    #[test]
    fn an_empty_or_missing_directory_is_an_error() {
        let empty = std::env::temp_dir().join(format!("pcg-pack-empty-{}", std::process::id()));
        std::fs::create_dir_all(empty.join("tests")).unwrap();
        std::fs::write(empty.join("tests/a.rules"), "").unwrap();
        assert!(
            read_sources(&empty, None)
                .unwrap_err()
                .contains("no `.rules` files")
        );
        assert!(
            read_sources(&empty.join("missing"), None)
                .unwrap_err()
                .contains("not a directory")
        );
        std::fs::remove_dir_all(&empty).unwrap();
    }
}
