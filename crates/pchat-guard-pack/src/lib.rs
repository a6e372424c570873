//! Which files make up a policy pack, and reading them.
//!
//! A pack is a directory: its rule sources are the `*.rules` files below it, outside any folder
//! named `tests`; its policy test cases are the files inside those `tests` folders. This is the
//! one definition of it: the module's build script (which embeds the shipped pack and must
//! rebuild exactly when a source changes), `cargo xtask` and the CLI all ask this crate.

use std::path::{Path, PathBuf};

use pchat_guard_lang::Source;

/// The extension of rule source files.
pub const RULES_EXTENSION: &str = "rules";

/// The name of the folders that hold policy test cases rather than sources.
pub const TESTS_DIR: &str = "tests";

/// The extensions of policy test cases.
pub const TEST_CASE_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

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
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
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
