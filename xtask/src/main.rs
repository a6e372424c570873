//! Project automation, run as `cargo xtask <task>`: `ci` (what CI checks) and `wasm` (write the
//! module and its JS glue to `target/dist/`). Plain std, no dependencies.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  ci     formatting, clippy (warnings are errors) and every test, as CI runs them
  wasm   build the release CLI and write the module and its JS glue to target/dist/";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "ci" => ci(),
        "wasm" => wasm(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

fn ci() -> Result<(), String> {
    let cargo = cargo();
    run(&cargo, &["fmt", "--all", "--", "--check"])?;
    run(
        &cargo,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run(&cargo, &["test", "--workspace"])
}

fn wasm() -> Result<(), String> {
    let cargo = cargo();
    run(&cargo, &["build", "--release", "--package", "pchat-guard"])?;
    let dist = root().join("target").join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| e.to_string())?;
    let cli = root().join("target").join("release").join("pchat-guard");
    let out = dist.join("pchat-guard.wasm");
    let pkg = dist.join("pkg");
    run(
        &cli.to_string_lossy(),
        &[
            "module",
            "--out",
            &out.to_string_lossy(),
            "--js-out",
            &pkg.to_string_lossy(),
        ],
    )?;
    let size = std::fs::metadata(&out).map_err(|e| e.to_string())?.len();
    eprintln!("{}: {size} bytes", out.display());
    Ok(())
}
