//! House rules that a command can check: every Rust file says what it is for, and the core
//! crates stay free of I/O dependencies and of the host.

use std::path::Path;

use crate::support::root;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir()
            && name != "target"
            && name != "node_modules"
            && !name.to_string_lossy().starts_with('.')
        {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_opens_with_a_module_doc_comment() {
    let mut files = Vec::new();
    for dir in ["crates", "xtask"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 10);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            text.starts_with("//!"),
            "{} does not open with a `//!` line",
            file.display()
        );
    }
}

#[test]
fn core_crates_depend_on_no_host_or_io_crate() {
    for krate in ["pchat-guard-engine", "pchat-guard-wasm", "pchat-guard-lang"] {
        let manifest =
            std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml"))
                .unwrap_or_default();
        // The crate's own dependencies (its build script may read files: not checked here).
        let mut section = "";
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line;
                continue;
            }
            if !section.ends_with("dependencies]") || section.contains("build-dependencies") {
                continue;
            }
            let name = line.split(['=', '.', ' ']).next().unwrap_or_default();
            assert!(
                ![
                    "wasmtime",
                    "clap",
                    "dirs",
                    "ignore",
                    "pchat-guard",
                    "pchat-guard-pack"
                ]
                .contains(&name),
                "{krate} depends on `{name}`"
            );
        }
    }
}

#[test]
fn the_evaluator_does_not_depend_on_the_compiler_front_end() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--package",
            "pchat-guard-engine",
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo tree: {e}"));
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && tree.contains("pchat-guard-engine"),
        "{tree}"
    );
    assert!(
        !tree.contains("pchat-guard-lang"),
        "the engine depends on the rule compiler:\n{tree}"
    );
    assert!(
        !tree.contains("wasmtime"),
        "the engine depends on the host:\n{tree}"
    );
}
