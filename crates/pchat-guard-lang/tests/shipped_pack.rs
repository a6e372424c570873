//! The shipped rule pack compiles against the manifest schema without a single diagnostic (no
//! error, no warning), so a change to the compiler that rejects or warns about a shipped rule is
//! found here, without building the CLI or the module.

#![allow(clippy::panic, reason = "helpers fail the test by panicking")]

use std::path::{Path, PathBuf};

use pchat_guard_lang::{Source, compile_with_schema};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `*.rules` files below `dir`, outside `tests` folders (as `pchat-guard-pack` reads a
/// pack), sorted by path.
fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("{e}")).path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "tests") {
                rule_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rules") {
            out.push(path);
        }
    }
}

#[test]
fn the_shipped_pack_compiles_without_diagnostics() {
    let root = repo();
    let mut files = Vec::new();
    rule_files(&root.join("policies/persistent-chat"), &mut files);
    assert!(files.len() >= 5, "found only {files:?}");
    let sources: Vec<Source> = files
        .iter()
        .map(|path| Source {
            path: path.display().to_string(),
            text: std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}")),
        })
        .collect();
    let schema_text = std::fs::read_to_string(root.join("schemas/topology.schema.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let schema: serde_json::Value =
        serde_json::from_str(&schema_text).unwrap_or_else(|e| panic!("{e}"));
    let compiled = compile_with_schema("persistent-chat", "0", &sources, &schema);
    assert!(
        compiled.diagnostics.is_empty(),
        "{:#?}",
        compiled.diagnostics
    );
    let bundle = compiled.bundle.unwrap_or_else(|| panic!("no bundle"));
    assert!(bundle.rules.len() > 20, "{} rules", bundle.rules.len());
}
