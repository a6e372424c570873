//! The Python package and the Ansible collection built on it, with the real tools: the wheel is
//! built from this very CLI's module, its test suite compares it with the CLI (reports byte for
//! byte), and `ansible-playbook` runs the example play against a clean and a broken topology,
//! normally and under `--check`. The tools come from PyPI into a virtualenv: `.ci/run` makes one
//! and sets `PCHAT_GUARD_PYTHON_VENV`; elsewhere the test makes it under the target directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{outcome, root, scratch};

/// The PyPI packages the tests need, pinned (as `.ci/run` installs them).
const PACKAGES: &[&str] = &["wasmtime==50.0.1", "ansible-core==2.19.14", "pytest==9.2.0"];

fn run(program: &Path, args: &[&str], dir: &Path) -> (i32, String, String) {
    outcome(
        &Command::new(program)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display())),
    )
}

/// A virtualenv with the packages: `PCHAT_GUARD_PYTHON_VENV`, else one made here.
fn venv() -> PathBuf {
    if let Some(path) = std::env::var_os("PCHAT_GUARD_PYTHON_VENV") {
        return PathBuf::from(path);
    }
    let venv = scratch("python-venv");
    if venv.join("bin/ansible-playbook").is_file() && venv.join("bin/pytest").is_file() {
        return venv;
    }
    let (code, _, stderr) = run(
        Path::new("python3"),
        &["-m", "venv", &venv.display().to_string()],
        &root(),
    );
    assert_eq!(code, 0, "python3 -m venv: {stderr}");
    let mut args = vec!["install", "--quiet"];
    args.extend(PACKAGES);
    let (code, _, stderr) = run(&venv.join("bin/pip"), &args, &root());
    assert_eq!(code, 0, "pip install {PACKAGES:?}: {stderr}");
    venv
}

/// Builds the wheel from this CLI's module and installs it into `venv`.
fn install_wheel(venv: &Path) {
    let dist = scratch("python-dist");
    let output = Command::new("bash")
        .arg(root().join("python/build.sh"))
        .arg(env!("CARGO_BIN_EXE_pchat-guard"))
        .arg(&dist)
        .env("PYTHON", venv.join("bin/python"))
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("bash: {e}"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "python/build.sh: {stderr}");
    let wheel = stdout.lines().last().unwrap_or_default().trim().to_string();
    assert!(wheel.ends_with(".whl"), "{stdout}");
    let (code, _, stderr) = run(
        &venv.join("bin/pip"),
        &[
            "install",
            "--quiet",
            "--force-reinstall",
            "--no-deps",
            &wheel,
        ],
        &root(),
    );
    assert_eq!(code, 0, "pip install {wheel}: {stderr}");
}

fn playbook(venv: &Path, dest: &Path, extra: &[&str]) -> (i32, String) {
    let home = scratch("ansible-home");
    let mut command = Command::new(venv.join("bin/ansible-playbook"));
    command
        .args(["-i", "localhost,", "-c", "local"])
        .arg("-e")
        .arg(format!(
            "ansible_python_interpreter={}",
            venv.join("bin/python").display()
        ))
        .arg("-e")
        .arg(format!("topology_dest={}", dest.display()))
        .args(extra)
        .arg("integrations/ansible/examples/playbook.yml")
        .current_dir(root())
        .env(
            "ANSIBLE_COLLECTIONS_PATH",
            root().join("integrations/ansible"),
        )
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_HOME", &home)
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"))
        .env("PCHAT_GUARD_CACHE_DIR", scratch("python-cache"));
    let (code, stdout, stderr) = outcome(
        &command
            .output()
            .unwrap_or_else(|e| panic!("ansible-playbook: {e}")),
    );
    (code, format!("{stdout}{stderr}"))
}

#[test]
fn the_python_package_and_the_ansible_collection_run_the_clis_module() {
    let venv = venv();
    install_wheel(&venv);

    // The package's own suite: every report equal to the CLI's, limits, cache, refusals.
    let output = Command::new(venv.join("bin/pytest"))
        .args(["-q", "-p", "no:cacheprovider", "python/tests"])
        .current_dir(root())
        .env("PCHAT_GUARD_CLI", env!("CARGO_BIN_EXE_pchat-guard"))
        .env("PCHAT_GUARD_CACHE_DIR", scratch("python-cache"))
        .output()
        .unwrap_or_else(|e| panic!("pytest: {e}"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "pytest python/tests:\n{stdout}\n{stderr}");

    // Ansible: a clean topology is installed; a broken one stops the play with the located
    // finding and nothing is written; under --check the gate still runs and nothing changes.
    let dir = scratch("ansible-out");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let clean = dir.join("clean.yaml");
    let (code, output) = playbook(&venv, &clean, &[]);
    assert_eq!(code, 0, "{output}");
    assert!(clean.is_file(), "{output}");

    let broken = dir.join("broken.yaml");
    let bad_mirror = ["-e", "chat_mirror=sql-chat-mirorr"];
    let (code, output) = playbook(&venv, &broken, &bad_mirror);
    assert_ne!(code, 0, "{output}");
    assert!(
        output.contains("topology.yaml:287:17 PCG-DANGLING-REF `sql-chat-mirorr`"),
        "{output}"
    );
    assert!(!broken.exists(), "a topology with findings was installed");

    let checked = dir.join("check-mode.yaml");
    let (code, output) = playbook(&venv, &checked, &["--check"]);
    assert_eq!(code, 0, "{output}");
    assert!(!checked.exists(), "--check wrote the file");
    let (code, output) = playbook(&venv, &checked, &["--check", bad_mirror[0], bad_mirror[1]]);
    assert_ne!(code, 0, "the gate must run under --check:\n{output}");
    assert!(output.contains("PCG-DANGLING-REF"), "{output}");
}
