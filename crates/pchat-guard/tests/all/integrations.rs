//! pchat-guard in the tools pipelines run it from, for real: the pre-commit hook of
//! `.pre-commit-hooks.yaml`, run by pre-commit from PyPI. CI installs pre-commit
//! (`.ci/run` sets `PCHAT_GUARD_PRE_COMMIT`); elsewhere the test installs it into a virtualenv
//! under the target directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{outcome, root, scratch};

/// The pre-commit version the test installs when none is given (as `.ci/run` does).
const PRE_COMMIT_VERSION: &str = "4.2.0";

/// A pre-commit executable: `PCHAT_GUARD_PRE_COMMIT`, else one installed in a virtualenv here.
fn pre_commit() -> PathBuf {
    if let Some(path) = std::env::var_os("PCHAT_GUARD_PRE_COMMIT") {
        return PathBuf::from(path);
    }
    let venv = scratch("pre-commit-venv");
    let exe = venv.join("bin/pre-commit");
    if exe.is_file() {
        return exe;
    }
    let run = |program: &Path, args: &[&str]| {
        let output = Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(
            code, 0,
            "installing pre-commit from PyPI failed (this test needs it): {stdout}{stderr}"
        );
    };
    run(
        Path::new("python3"),
        &["-m", "venv", &venv.display().to_string()],
    );
    run(
        &venv.join("bin/pip"),
        &[
            "install",
            "--quiet",
            &format!("pre-commit=={PRE_COMMIT_VERSION}"),
        ],
    );
    exe
}

fn git(repo: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(args)
        .current_dir(repo)
        .output()
        .unwrap_or_else(|e| panic!("cannot run git: {e}"));
    assert!(output.status.success(), "git {args:?}: {output:?}");
}

#[test]
fn the_pre_commit_hook_checks_the_manifests_it_is_given() {
    let pre_commit = pre_commit();
    let dir = scratch("pre-commit");
    let _ = std::fs::remove_dir_all(&dir);
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join("topologies")).unwrap_or_default();
    std::fs::copy(
        root().join("examples/topologies/stretched-high-bandwidth.yaml"),
        repo.join("topologies/good.yaml"),
    )
    .unwrap_or_default();
    std::fs::copy(
        root().join("tests/fixtures/manifests/dangling-ref-sql.json"),
        repo.join("topologies/bad.json"),
    )
    .unwrap_or_default();
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["add", "--all"]);
    // The hook runs the `pchat-guard` on PATH: the one this test run built.
    let bin = Path::new(env!("CARGO_BIN_EXE_pchat-guard"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap_or_default();
    let hook = |files: &[&str]| {
        let mut command = Command::new(&pre_commit);
        command
            .args(["try-repo", &root().display().to_string(), "pchat-guard"])
            .args(["--color", "never", "--files"])
            .args(files)
            .current_dir(&repo)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", dir.join("cache"))
            .env("PCHAT_GUARD_CACHE_DIR", dir.join("module-cache"))
            .env_remove("NO_COLOR");
        outcome(
            &command
                .output()
                .unwrap_or_else(|e| panic!("cannot run pre-commit: {e}")),
        )
    };
    let (code, stdout, stderr) = hook(&["topologies/good.yaml", "topologies/bad.json"]);
    assert_eq!(
        code, 1,
        "the hook must fail on the broken manifest: {stdout}{stderr}"
    );
    assert!(
        stdout.contains("pchat-guard") && stdout.contains("Failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "error[PCG-DANGLING-REF]: `sql-chat-mirorr` names no entry of `sql_instances`"
        ) && stdout.contains("--> topologies/bad.json:78:21"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 files, ") || stdout.contains("2 files checked"),
        "one report for both files: {stdout}"
    );

    let (code, stdout, stderr) = hook(&["topologies/good.yaml"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Passed"), "{stdout}");
}
