//! Project automation, run as `cargo xtask <task>`: `ci` (what CI checks), `wasm` (write the
//! module and its JS glue to `target/dist/`), `codegen [--check]` (generated docs) and `fuzz`
//! (the cargo fuzz targets in `fuzz/`, seeded from the fixtures). Plain std plus the rule
//! compiler.

mod bench;
mod fuzz;
mod generate;
#[cfg(feature = "bench")]
mod inproc;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  ci     formatting, clippy (warnings are errors) and every test, as CI runs them
  wasm   build the release CLI and write the module and its JS glue to target/dist/
  codegen [--check]
         regenerate docs/rules.md from policies/ (--check: fail if it is stale)
  gen N [--violate LETTERS] [-o FILE]
         write a manifest of N complete pools for the benchmarks (faults e,f by default;
         --violate '' for a clean one; letters in bench/README.md)
  bench [--quick]
         pchat-guard side by side with Regorus (and OPA when on PATH): whole process
         (hyperfine) on the references and on 1 to 10,000 generated pools, in-process
         checks, module size, peak RSS; prints a table, writes target/bench/report.json
  fuzz [--seconds N] [TARGET...]
         run each fuzz target (manifest, rules, settings, abi; all when none is named) for
         N seconds (default 60) with cargo fuzz on the nightly toolchain, seeded from the
         fixtures; prints executions, coverage and crashes per target";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "ci" => ci(),
        "wasm" => wasm(),
        "codegen" => codegen(std::env::args().nth(2).as_deref() == Some("--check")),
        "fuzz" => fuzz::run(std::env::args().skip(2).collect()),
        "gen" => generate::run(std::env::args().skip(2).collect()),
        "bench" => bench::run(std::env::args().skip(2).collect()),
        #[cfg(feature = "bench")]
        "bench-inproc" => inproc::run(std::env::args().skip(2).collect()),
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

/// Compiles `policies/` as the shipped pack (the files `pchat_guard_pack` says make it up).
fn shipped_pack() -> Result<pchat_guard_lang::Compiled, String> {
    let root = root();
    let (_, compiled) = pchat_guard_pack::compile_pack(
        &root.join("policies"),
        "persistent-chat",
        env!("CARGO_PKG_VERSION"),
        Some(&root),
    )?;
    Ok(compiled)
}

fn codegen(check: bool) -> Result<(), String> {
    let compiled = shipped_pack()?;
    let bundle = compiled.bundle.ok_or(
        "the shipped pack does not compile: run `pchat-guard test policies/persistent-chat`",
    )?;
    let generated = pchat_guard_lang::docs::rules_markdown(&bundle);
    let path = root().join("docs").join("rules.md");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == generated {
        eprintln!("{} is up to date", path.display());
        return Ok(());
    }
    if check {
        return Err(format!(
            "{} is stale: run `cargo xtask codegen`",
            path.display()
        ));
    }
    std::fs::write(&path, generated).map_err(|e| e.to_string())?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
