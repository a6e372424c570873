//! `cargo xtask bench`: pchat-guard side by side with the anchors, in one run on this machine.
//!
//! - Whole process (hyperfine): `pchat-guard check --format json FILE` against `regorus eval` (and
//!   `opa eval` when an `opa` binary is on PATH) with the six rules of `bench/pchat.rego`, on the
//!   reference topology and on generated manifests of 1 to 10,000 pools (`cargo xtask gen`).
//! - The findings of each tool on each row, and peak RSS (GNU time).
//! - In process (`bench-inproc`, built with `--features bench`): the module in the wasmtime host
//!   and the `regorus` crate, and the fuel (WebAssembly work, counted exactly) of the warm check
//!   as the CLI sends it. For every row, the fuel of the check a CLI process makes (a fresh
//!   instance, the text apart): the one figure here that compares across runs and machines.
//! - The module's size, raw, gzip -9 and brotli -q 11.
//!
//! Prints one table and writes `target/bench/report.json`. Needs hyperfine (Debian package; it is
//! installed with apt-get when missing and this runs as root) and installs Regorus 0.14.1's CLI
//! into `target/bench-tools/` with cargo the first time.

// serde_json's `Index` (`value["key"]`, `value[0]`) gives `Null` for what is missing; it
// does not panic, but clippy cannot tell it from slice indexing.
#![allow(clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::{cargo, root};

const REGORUS_VERSION: &str = "0.14.1";

struct Row {
    name: String,
    file: PathBuf,
    pools: usize,
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// `program` on PATH, installed with apt-get (as root) when missing.
fn debian_tool(program: &str, package: &str) -> Option<PathBuf> {
    if let Some(p) = which(program) {
        return Some(p);
    }
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root_user && which("apt-get").is_some() {
        eprintln!("bench: installing {package} with apt-get");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-qq", package])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
    }
    which(program)
}

fn regorus(root: &Path) -> Result<PathBuf, String> {
    let tools = root.join("target/bench-tools");
    let bin = tools.join("bin/regorus");
    if bin.is_file() {
        return Ok(bin);
    }
    eprintln!(
        "bench: installing Regorus {REGORUS_VERSION}'s CLI into {} (once)",
        tools.display()
    );
    let status = Command::new(cargo())
        .args([
            "install",
            "regorus",
            "--locked",
            "--example",
            "regorus",
            "--version",
        ])
        .arg(format!("={REGORUS_VERSION}"))
        .arg("--root")
        .arg(&tools)
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if status.success() && bin.is_file() {
        Ok(bin)
    } else {
        Err("cannot install Regorus' CLI (`cargo install regorus --example regorus`)".to_string())
    }
}

fn output(command: &mut Command) -> Result<std::process::Output, String> {
    command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))
}

/// Peak RSS of one run, in KiB (GNU time), when `/usr/bin/time` is there.
fn peak_rss_kib(args: &[String], cache: &Path) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("pcg-rss %M")
        .args(args)
        .env("PCHAT_GUARD_CACHE_DIR", cache)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("pcg-rss "))
        .next_back()
        .and_then(|n| n.trim().parse().ok())
}

/// How many findings pchat-guard's JSON report holds, and its exit code.
fn pchat_guard_findings(args: &[String], cache: &Path) -> Result<(usize, i32), String> {
    let (program, rest) = args.split_first().ok_or("no command")?;
    let out = output(
        Command::new(program)
            .args(rest)
            .env("PCHAT_GUARD_CACHE_DIR", cache),
    )?;
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let findings = report["files"].as_array().map_or(0, |files| {
        files
            .iter()
            .map(|f| f["findings"].as_array().map_or(0, Vec::len))
            .sum()
    });
    Ok((findings, out.status.code().unwrap_or(-1)))
}

/// How many messages `data.pchat.deny` holds in an `eval` answer (Regorus and OPA print the same
/// shape).
fn rego_findings(args: &[String]) -> Result<(usize, i32), String> {
    let (program, rest) = args.split_first().ok_or("no command")?;
    let out = output(Command::new(program).args(rest))?;
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let n = answer["result"][0]["expressions"][0]["value"]
        .as_array()
        .map_or(0, Vec::len);
    Ok((n, out.status.code().unwrap_or(-1)))
}

fn runs_for(bytes: u64) -> (usize, usize) {
    match bytes {
        0..=100_000 => (60, 5),
        100_001..=1_000_000 => (20, 2),
        1_000_001..=10_000_000 => (5, 1),
        _ => (3, 0),
    }
}

fn seconds(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn show_time(s: Option<f64>) -> String {
    match s {
        None => "-".to_string(),
        Some(s) if s < 1.0 => format!("{:.2} ms", s * 1000.0),
        Some(s) => format!("{s:.2} s"),
    }
}

/// The JSON lines of `bench-inproc ARGS FILES`, built with `--features bench`.
fn inproc_lines(root: &Path, args: &[String], files: &[String]) -> Result<Vec<Value>, String> {
    let mut command = Command::new(cargo());
    command
        .current_dir(root)
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "xtask",
            "--features",
            "bench",
            "--",
            "bench-inproc",
        ])
        .args(args)
        .args(files);
    eprintln!(
        "bench: in process{} (builds xtask with --features bench the first time)",
        if args.is_empty() { "" } else { ", fuel" }
    );
    let out = output(&mut command)?;
    if !out.status.success() {
        return Err(format!(
            "bench-inproc failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .collect())
}

pub fn run(args: Vec<String>) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    if let Some(other) = args.iter().find(|a| *a != "--quick") {
        return Err(format!("unknown argument `{other}`"));
    }
    let root = root();
    let out_dir = root.join("target/bench");
    let inputs = out_dir.join("inputs");
    std::fs::create_dir_all(&inputs).map_err(|e| e.to_string())?;
    let cache = out_dir.join("cache");
    let hyperfine = debian_tool("hyperfine", "hyperfine")
        .ok_or("needs hyperfine on PATH: `apt-get install hyperfine`")?;
    let regorus = regorus(&root)?;
    let opa = which("opa");
    if opa.is_none() {
        eprintln!("bench: no `opa` on PATH; the OPA column is skipped");
    }
    crate::run(&cargo(), &["build", "--release", "--quiet"])?;
    let cli = root.join("target/release/pchat-guard");
    let rego = root.join("bench/pchat.rego");

    // The inputs.
    let mut rows = vec![Row {
        name: "reference: stretched high-bandwidth (YAML)".to_string(),
        file: root.join("examples/topologies/stretched-high-bandwidth.yaml"),
        pools: 1,
    }];
    let mut sizes: Vec<(usize, &str)> = vec![
        (1, ""),
        (1, "e,f"),
        (10, ""),
        (100, ""),
        (100, "e,f"),
        (1000, ""),
    ];
    if !quick {
        sizes.push((10_000, ""));
    }
    for (n, faults) in sizes {
        let file = inputs.join(format!(
            "{n}-pools{}.json",
            if faults.is_empty() {
                "-clean"
            } else {
                "-faults-e-f"
            }
        ));
        let violations = crate::generate::violations(faults)?;
        std::fs::write(&file, crate::generate::manifest(n, &violations))
            .map_err(|e| e.to_string())?;
        rows.push(Row {
            name: format!(
                "{n} pool{}, {}",
                if n == 1 { "" } else { "s" },
                if faults.is_empty() {
                    "clean".to_string()
                } else {
                    format!("{} findings (e, f)", 2 * n)
                }
            ),
            file,
            pools: n,
        });
    }

    // Warm the precompiled cache. The first run compiles and writes the file; a file changed
    // within the last second or two is checksummed on every load (its identity is recorded only
    // once it has settled, see `cache_file_is_intact` in the CLI's host), and those checksums
    // made the first rows' pchat-guard figures 1.7x slower. So wait until it has settled and run
    // once more, which records the identity: every row then measures the steady state a user's
    // pipeline runs in.
    let warm = || {
        let _ = Command::new(&cli)
            .args(["--no-config", "check", "--format", "json"])
            .args(rows.first().map(|r| r.file.clone()))
            .env("PCHAT_GUARD_CACHE_DIR", &cache)
            .output();
    };
    // A fresh directory: only this binary's file in it, so the check below sees that one.
    let _ = std::fs::remove_dir_all(&cache);
    warm();
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    warm();
    let verified = std::fs::read_dir(&cache)
        .map_err(|e| format!("{}: {e}", cache.display()))?
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|x| x == "xxh3"))
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .any(|sidecar| sidecar.contains("\nverified "));
    if !verified {
        eprintln!(
            "bench: the precompiled cache in {} was not marked verified; \
             pchat-guard's rows include a checksum of it per run",
            cache.display()
        );
    }

    let mut table = Vec::new();
    let start_row = |name: &str,
                     pg: Vec<String>,
                     anchors: Vec<(String, Vec<String>)>,
                     bytes: u64,
                     pools: usize|
     -> Result<Value, String> {
        let (runs, warmup) = if quick {
            let (r, w) = runs_for(bytes);
            (r.min(10), w.min(2))
        } else {
            runs_for(bytes)
        };
        let export = out_dir.join("hyperfine.json");
        let mut command = Command::new(&hyperfine);
        command
            .args(["-N", "-i", "--style", "none"])
            .arg("--runs")
            .arg(runs.to_string())
            .arg("--warmup")
            .arg(warmup.to_string())
            .arg("--export-json")
            .arg(&export)
            .env("PCHAT_GUARD_CACHE_DIR", &cache)
            .args(["-n", "pchat-guard"])
            .arg(pg.join(" "));
        for (anchor, args) in &anchors {
            command.args(["-n", anchor]).arg(args.join(" "));
        }
        eprintln!("bench: {name} ({runs} runs)");
        let out = output(&mut command)?;
        if !out.status.success() {
            return Err(format!(
                "hyperfine failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let results: Value = std::fs::read_to_string(&export)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let median = |i: usize| seconds(&results["results"][i]["median"]);
        let mut row = json!({
            "row": name, "bytes": bytes, "pools": pools, "runs": runs,
            "pchat_guard": {"median_s": median(0), "mean_s": results["results"][0]["mean"], "stddev_s": results["results"][0]["stddev"]},
        });
        for (i, (anchor, _)) in anchors.iter().enumerate() {
            let m = median(i + 1);
            row[anchor.as_str()] = json!({"median_s": m, "mean_s": results["results"][i + 1]["mean"], "stddev_s": results["results"][i + 1]["stddev"]});
            row[format!("ratio_to_{anchor}")] = json!(match (median(0), m) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            });
        }
        Ok(row)
    };

    // Process start alone.
    table.push(start_row(
        "process start (--help)",
        vec![cli.display().to_string(), "--help".to_string()],
        vec![(
            "regorus".to_string(),
            vec![regorus.display().to_string(), "--help".to_string()],
        )],
        0,
        0,
    )?);
    for row in &rows {
        let file = row.file.display().to_string();
        let bytes = std::fs::metadata(&row.file).map(|m| m.len()).unwrap_or(0);
        let pg: Vec<String> = [
            cli.display().to_string(),
            "--no-config".into(),
            "check".into(),
            "--format".into(),
            "json".into(),
            file.clone(),
        ]
        .into();
        let rego_eval = |bin: &Path| -> Vec<String> {
            vec![
                bin.display().to_string(),
                "eval".into(),
                "-d".into(),
                rego.display().to_string(),
                "-i".into(),
                file.clone(),
                "data.pchat.deny".into(),
            ]
        };
        let mut anchors = vec![("regorus".to_string(), rego_eval(&regorus))];
        if let Some(opa) = &opa {
            anchors.push(("opa".to_string(), rego_eval(opa)));
        }
        let mut result = start_row(&row.name, pg.clone(), anchors.clone(), bytes, row.pools)?;
        result["file"] = json!(file);
        let (pg_findings, pg_exit) = pchat_guard_findings(&pg, &cache)?;
        result["pchat_guard"]["findings"] = json!(pg_findings);
        result["pchat_guard"]["exit"] = json!(pg_exit);
        result["pchat_guard"]["peak_rss_kib"] = json!(peak_rss_kib(&pg, &cache));
        for (anchor, args) in &anchors {
            let (n, exit) = rego_findings(args)?;
            result[anchor.as_str()]["findings"] = json!(n);
            result[anchor.as_str()]["exit"] = json!(exit);
            result[anchor.as_str()]["peak_rss_kib"] = json!(peak_rss_kib(args, &cache));
        }
        table.push(result);
    }

    // The fuel of each row's check: the module's work counted exactly, the figure of a row that
    // compares across runs and machines (the times move with the machine's load).
    let all_files: Vec<String> = rows.iter().map(|r| r.file.display().to_string()).collect();
    let fuel = inproc_lines(&root, &["--fuel".to_string()], &all_files)?;
    // The table's first row is process start; then one per input, in the order of `rows`.
    for (row, line) in table.iter_mut().skip(1).zip(&fuel) {
        if row["file"] == line["file"] {
            row["pchat_guard"]["fuel"] = line["fuel_first_check_cli"].clone();
        }
    }

    // In process.
    let inproc_files: Vec<String> = rows
        .iter()
        .filter(|r| r.pools <= 1)
        .map(|r| r.file.display().to_string())
        .collect();
    let inproc = inproc_lines(&root, &[], &inproc_files)?;

    // The module.
    let wasm = out_dir.join("pchat_guard.wasm");
    output(Command::new(&cli).args(["module", "--out"]).arg(&wasm))?;
    let raw = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
    let compressed = |program: &str, args: &[&str]| -> Option<u64> {
        which(program)?;
        let out = Command::new(program).args(args).arg(&wasm).output().ok()?;
        out.status.success().then_some(out.stdout.len() as u64)
    };
    let gzip = compressed("gzip", &["-9", "-c"]);
    let brotli =
        debian_tool("brotli", "brotli").and_then(|_| compressed("brotli", &["-q", "11", "-c"]));

    // The table.
    println!();
    println!(
        "| row | pchat-guard | regorus eval | ratio |{} findings (pg / regorus) | exit (pg) | peak RSS pg / regorus | fuel (pg) |",
        if opa.is_some() {
            " opa eval | ratio |"
        } else {
            ""
        }
    );
    println!(
        "|---|---|---|---|{}---|---|---|---|",
        if opa.is_some() { "---|---|" } else { "" }
    );
    for r in &table {
        let ratio = |k: &str| {
            r[k].as_f64()
                .map_or("-".to_string(), |x| format!("{x:.2}x"))
        };
        let rss = |k: &str| {
            r[k]["peak_rss_kib"]
                .as_u64()
                .map_or("-".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
        };
        let opa_cols = if opa.is_some() {
            format!(
                " {} | {} |",
                show_time(r["opa"]["median_s"].as_f64()),
                ratio("ratio_to_opa")
            )
        } else {
            String::new()
        };
        println!(
            "| {} | {} | {} | {} |{} {} / {} | {} | {} / {} | {} |",
            r["row"].as_str().unwrap_or(""),
            show_time(r["pchat_guard"]["median_s"].as_f64()),
            show_time(r["regorus"]["median_s"].as_f64()),
            ratio("ratio_to_regorus"),
            opa_cols,
            r["pchat_guard"]["findings"]
                .as_u64()
                .map_or("-".into(), |n| n.to_string()),
            r["regorus"]["findings"]
                .as_u64()
                .map_or("-".into(), |n| n.to_string()),
            r["pchat_guard"]["exit"]
                .as_i64()
                .map_or("-".into(), |n| n.to_string()),
            rss("pchat_guard"),
            rss("regorus"),
            r["pchat_guard"]["fuel"]
                .as_u64()
                .map_or("-".into(), |n| n.to_string()),
        );
    }
    println!();
    println!(
        "| in process | instantiate from cache | first check, fresh instance | warm check (JSON request, module hashes) | warm check (as the CLI: text apart, host hashes) | fuel of that check | regorus crate (set input + eval) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for v in &inproc {
        let us = |k: &str| {
            v[k].as_f64()
                .map_or("-".to_string(), |x| format!("{x:.0} µs"))
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            Path::new(v["file"].as_str().unwrap_or(""))
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(""),
            us("instantiate_from_cache_us"),
            us("first_check_us"),
            us("warm_check_us"),
            us("warm_check_cli_us"),
            v["fuel_cli"]
                .as_u64()
                .map_or("-".to_string(), |f| f.to_string()),
            us("regorus_in_process_us"),
        );
    }
    println!();
    let kib = |b: Option<u64>| {
        b.map_or("-".to_string(), |b| {
            format!("{b} bytes ({:.0} KiB)", b as f64 / 1024.0)
        })
    };
    println!(
        "module: raw {}, gzip -9 {}, brotli -q 11 {}",
        kib(Some(raw)),
        kib(gzip),
        kib(brotli)
    );
    let report = json!({
        "tools": {
            "regorus": REGORUS_VERSION,
            "opa": opa.as_ref().map(|p| p.display().to_string()),
            "hyperfine": String::from_utf8_lossy(&output(Command::new(&hyperfine).arg("--version"))?.stdout).trim(),
        },
        "quick": quick,
        "rows": table,
        "in_process": inproc,
        "module": {"raw": raw, "gzip_9": gzip, "brotli_11": brotli},
    });
    let path = out_dir.join("report.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n",
    )
    .map_err(|e| e.to_string())?;
    println!("written: {}", path.display());
    Ok(())
}
