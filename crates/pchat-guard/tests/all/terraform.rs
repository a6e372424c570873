//! Terraform, with the real `terraform` binary and nothing downloaded: the plan-time gate of
//! `examples/terraform/plan-gate` (a precondition over the JSON report, refusing a stale one)
//! and the apply-time gate of `examples/terraform/apply-gate` (`local-exec` running the CLI).
//! Terraform is on these machines' PATH (`.ci/run` fails when it is not); the test fails, not
//! skips, without it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{outcome, root, scratch};

/// A working directory holding one example configuration and a manifest named `topology.yaml`.
fn workdir(example: &str, name: &str, manifest: &str) -> PathBuf {
    let dir = scratch(&format!("terraform-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_default();
    std::fs::copy(
        root().join(format!("examples/terraform/{example}/main.tf")),
        dir.join("main.tf"),
    )
    .unwrap_or_else(|e| panic!("{example}: {e}"));
    std::fs::copy(root().join(manifest), dir.join("topology.yaml"))
        .unwrap_or_else(|e| panic!("{manifest}: {e}"));
    dir
}

/// Runs terraform in `dir`, offline and without colour; (exit code, stdout + stderr).
fn terraform(dir: &Path, args: &[&str]) -> (i32, String) {
    let config = dir.join("terraformrc");
    std::fs::write(&config, "").unwrap_or_default();
    let output = Command::new("terraform")
        .args(args)
        .args(["-input=false", "-no-color"])
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_CLI_CONFIG_FILE", &config)
        .output()
        .unwrap_or_else(|e| {
            panic!("Terraform is required for this test and could not be run: {e}")
        });
    let (code, stdout, stderr) = outcome(&output);
    (code, format!("{stdout}{stderr}"))
}

/// Writes the report as the documented pipeline step does; returns the CLI's exit code.
fn write_report(dir: &Path) -> i32 {
    let report = dir.join("pchat-guard-report.json");
    let (code, _, stderr) = outcome(
        &Command::new(env!("CARGO_BIN_EXE_pchat-guard"))
            .args([
                "check",
                "--color",
                "never",
                "--output",
                &format!("json:{}", report.display()),
                "topology.yaml",
            ])
            .current_dir(dir)
            .env("PCHAT_GUARD_CACHE_DIR", scratch("cli-cache"))
            .output()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    assert!(code <= 1, "{stderr}");
    code
}

#[test]
fn terraform_plan_stops_on_findings_and_on_a_stale_report() {
    let broken = workdir(
        "plan-gate",
        "plan-broken",
        "tests/fixtures/manifests/dangling-ref-sql.json",
    );
    assert_eq!(terraform(&broken, &["init"]).0, 0);
    assert_eq!(write_report(&broken), 1);
    let (code, output) = terraform(&broken, &["plan"]);
    assert_ne!(code, 0, "plan must fail:\n{output}");
    assert!(output.contains("Resource precondition failed"), "{output}");
    assert!(
        output.contains("topology.yaml:78:21: PCG-DANGLING-REF:"),
        "the located finding is in the plan's error:\n{output}"
    );

    let clean = workdir(
        "plan-gate",
        "plan-clean",
        "examples/topologies/stretched-high-bandwidth.yaml",
    );
    assert_eq!(terraform(&clean, &["init"]).0, 0);
    assert_eq!(write_report(&clean), 0);
    let (code, output) = terraform(&clean, &["plan"]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("terraform_data.topology will be created"),
        "{output}"
    );

    // The manifest changes after the report was written: the report is refused.
    std::fs::copy(
        root().join("tests/fixtures/manifests/dangling-ref-sql.json"),
        clean.join("topology.yaml"),
    )
    .unwrap_or_default();
    let (code, output) = terraform(&clean, &["plan"]);
    assert_ne!(code, 0, "{output}");
    assert!(
        output.contains("was written for another version"),
        "{output}"
    );
}

#[test]
fn terraform_apply_runs_the_cli_and_stops_on_findings() {
    let bin = format!("pchat_guard={}", env!("CARGO_BIN_EXE_pchat-guard"));
    let run = |name: &str, manifest: &str| {
        let dir = workdir("apply-gate", name, manifest);
        assert_eq!(terraform(&dir, &["init"]).0, 0);
        let (code, output) = terraform(&dir, &["apply", "-auto-approve", "-var", &bin]);
        (code, output, dir)
    };
    let (code, output, dir) = run(
        "apply-broken",
        "tests/fixtures/manifests/dangling-ref-sql.json",
    );
    assert_ne!(code, 0, "apply must fail:\n{output}");
    assert!(
        output.contains("error[PCG-DANGLING-REF]") && output.contains("topology.yaml:78:21"),
        "{output}"
    );
    assert!(output.contains("local-exec provisioner error"), "{output}");
    // Nothing was recorded as applied.
    let state = std::fs::read_to_string(dir.join("terraform.tfstate")).unwrap_or_default();
    assert!(!state.contains("\"status\": \"ready\""), "{state}");

    let (code, output, _) = run(
        "apply-clean",
        "examples/topologies/stretched-high-bandwidth.yaml",
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("no findings"), "{output}");
    assert!(
        output.contains("Apply complete! Resources: 1 added"),
        "{output}"
    );
}
