//! The same module bytes in Node 20, through the wasm-bindgen glue and through the raw ABI,
//! must give the native report. Node is part of the machine image; CI installs it if absent.

use std::process::Command;

use crate::support::{cli, files_in, native_report, outcome, relative, request_for, root, scratch};

#[test]
fn node_gives_the_native_report_through_glue_and_raw_abi() {
    let pkg = scratch("node-pkg");
    let wasm = pkg.join("pchat-guard.wasm");
    let (code, _, stderr) = outcome(&cli(&[
        "module",
        "--out",
        &wasm.display().to_string(),
        "--js-out",
        &pkg.display().to_string(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let mut files: Vec<String> = files_in("examples/topologies", &["json", "yaml"])
        .iter()
        .map(|p| relative(p))
        .collect();
    files.push("tests/fixtures/manifests/dangling-ref-sql.json".to_string());
    files.push("tests/fixtures/manifests/malformed-indentation.yaml".to_string());
    let output = Command::new("node")
        .arg("examples/node/check.mjs")
        .arg(&pkg)
        .args(&files)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("Node.js is required for this test and could not be run: {e}"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "node failed: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "{stdout}");
    for (line, file) in lines.iter().zip(&files) {
        let got: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let native = serde_json::to_value(native_report(&request_for(&root().join(file))))
            .unwrap_or_default();
        assert_eq!(
            got["glue"], native,
            "{file}: glue report differs from native"
        );
        assert_eq!(
            got["raw"], native,
            "{file}: raw ABI report differs from native"
        );
    }
}
