//! The playground page (`web/`) in a real browser: Debian's Chromium driven by playwright-core,
//! the page served on 127.0.0.1 by the test. A broken manifest shows its finding in the list
//! and its marker on the line, the page's report equals the CLI's, a fix clears it, and hostile
//! input (100,000-deep nesting, 10 MB) leaves the page responsive. `.ci/run` installs Chromium;
//! screenshots go to `target/web-screenshots/`.

use std::process::Command;

use crate::support::{outcome, root};

#[test]
fn the_playground_checks_in_chromium_as_the_cli_does() {
    let _dist = crate::javascript::JS_DIST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let output = Command::new("sh")
        .arg(root().join("web/test.sh"))
        .arg(env!("CARGO_BIN_EXE_pchat-guard"))
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("Node.js, npm and Chromium are required for this test: {e}"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "web/test.sh:\n{stdout}\n{stderr}");
    assert!(stdout.contains("# fail 0"), "{stdout}");
}
