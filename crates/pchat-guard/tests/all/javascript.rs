//! The npm package `@pchat-guard/core` (`js/`), built from this CLI's module and glue and tested
//! with Node's test runner: every report equal to the CLI's, the module digest, the types
//! against `schemas/report.schema.json`, and the packed package imported by name. npm installs
//! its one dev dependency (TypeScript) from the npm registry.

use std::process::Command;

use crate::support::{outcome, root};

/// `js/dist` is built by this test and read by the playground's (`web.rs`): one at a time.
pub static JS_DIST: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_npm_package_gives_the_clis_reports() {
    let _dist = JS_DIST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let output = Command::new("sh")
        .arg(root().join("js/test.sh"))
        .arg(env!("CARGO_BIN_EXE_pchat-guard"))
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("Node.js and npm are required for this test: {e}"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "js/test.sh:\n{stdout}\n{stderr}");
    assert!(stdout.contains("# fail 0"), "{stdout}");
}
