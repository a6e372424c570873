//! Fail closed: exit 0 only when every input was fully checked by at least one rule. Each way a
//! run can be incomplete exits non-zero and says why.

#![cfg(unix)]

use std::process::Command;

use crate::support::{root, scratch};

const SITE: &str = "examples/topologies/stretched-high-bandwidth.yaml";

fn run(args: &[&str]) -> (i32, String, String) {
    let args: Vec<&str> = std::iter::once("--no-config")
        .chain(args.iter().copied())
        .collect();
    crate::support::cli_in(&root(), &scratch("cli-cache"), &args)
}

#[test]
fn an_unreadable_file_among_many_fails_the_run() {
    let dir = scratch("fail-closed-unreadable");
    let broken = dir.join("gone.yaml");
    let _ = std::fs::remove_file(&broken);
    std::os::unix::fs::symlink("/nonexistent/topology.yaml", &broken)
        .unwrap_or_else(|e| panic!("{e}"));
    let shown = broken.to_string_lossy().into_owned();
    let (code, stdout, _) = run(&[
        "check",
        SITE,
        "examples/topologies/stretched-low-bandwidth.yaml",
        &shown,
    ]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("gone.yaml") && stdout.contains("PCG-UNREADABLE"),
        "{stdout}"
    );
    assert!(stdout.contains("3 files, 1 not checked"), "{stdout}");
}

#[test]
fn a_limit_hit_mid_run_fails_the_run_and_names_the_file() {
    // Enough fuel for the small file, not for the one of 5,000 unknown keys after it.
    let dir = scratch("fail-closed-limit");
    let big = dir.join("big.yaml");
    let keys: String = (0..5_000).map(|i| format!("k{i}: {i}\n")).collect();
    std::fs::write(&big, keys).unwrap_or_default();
    let (code, stdout, stderr) = run(&[
        "check",
        "--max-fuel",
        "400000000",
        "tests/fixtures/manifests/clean-minimal.yaml",
        &big.to_string_lossy(),
    ]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains("big.yaml") && stderr.contains("fuel limit"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "no partial report: {stdout}");
}

#[test]
fn packs_that_check_nothing_are_refused() {
    let empty = scratch("fail-closed-empty-pack");
    let _ = std::fs::remove_dir_all(&empty);
    std::fs::create_dir_all(&empty).unwrap_or_default();
    let (code, _, stderr) = run(&["check", "--policies", &empty.to_string_lossy(), SITE]);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds no `.rules` files"), "{stderr}");
    // Rules files with no rule in them: zero rules would pass every manifest.
    std::fs::write(
        empty.join("helpers.rules"),
        "// helpers only, and no rule\n",
    )
    .unwrap_or_default();
    for args in [
        vec!["check", "--policies", &*empty.to_string_lossy(), SITE],
        vec!["check", "--extend", &*empty.to_string_lossy(), SITE],
    ] {
        let (code, stdout, stderr) = run(&args.iter().map(|s| &**s).collect::<Vec<_>>());
        assert_eq!(code, 2, "{args:?}: {stdout}");
        assert!(stderr.contains("defines no rules"), "{stderr}");
    }
}

#[test]
fn a_waiver_or_baseline_file_that_cannot_be_read_fails_the_run() {
    for option in ["--waivers", "--baseline"] {
        let (code, stdout, _) = run(&["check", option, "no/such/file.yaml", SITE]);
        assert_eq!(code, 2, "{option}: {stdout}");
        assert!(stdout.contains("no/such/file.yaml"), "{option}: {stdout}");
    }
}

/// A report that cannot be delivered (standard output or an `--output` file on a full device,
/// a baseline that cannot be written) fails the run, even when the manifest is clean: a gate
/// that said nothing must not pass.
#[test]
fn a_report_that_cannot_be_written_fails_the_run() {
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(stdout) = full() else {
        panic!("/dev/full is needed to test a report that cannot be written (Linux has it)");
    };
    let output = Command::new(env!("CARGO_BIN_EXE_pchat-guard"))
        .args(["--no-config", "check", "--format", "json", SITE])
        .current_dir(root())
        .env("PCHAT_GUARD_CACHE_DIR", scratch("cli-cache"))
        .stdout(stdout)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(output.status.code(), Some(3), "stdout on a full device");

    let (code, _, stderr) = run(&["check", "--output", "sarif:/dev/full", SITE]);
    assert_eq!(code, 2, "--output on a full device: {stderr}");
    assert!(stderr.contains("cannot write `/dev/full`"), "{stderr}");

    let (code, _, stderr) = run(&["check", "--write-baseline", "/dev/full", SITE]);
    assert_eq!(code, 2, "--write-baseline on a full device: {stderr}");
    assert!(stderr.contains("cannot write the baseline"), "{stderr}");
}
