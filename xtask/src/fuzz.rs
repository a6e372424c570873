//! `cargo xtask fuzz`: seeds each target's corpus from the project's own inputs, runs the
//! targets one after another with cargo fuzz (libFuzzer, nightly), and sums up what each did.
//!
//! Corpora grow in `fuzz/corpus/<target>/` (kept between runs, not committed); the seeds are
//! written afresh to `target/fuzz-seeds/<target>/`; a crash or hang is written by libFuzzer to
//! `fuzz/artifacts/<target>/` and fails the task. Logs: `target/fuzz-logs/<target>.log`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::root;

const TARGETS: [&str; 4] = ["manifest", "rules", "settings", "abi"];

/// Largest seed copied, and largest input libFuzzer makes, per target.
const MAX_SEED: u64 = 256 * 1024;

pub fn run(args: Vec<String>) -> Result<(), String> {
    let mut seconds = 60u64;
    let mut targets = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--seconds takes a number of seconds")?;
            }
            t if TARGETS.contains(&t) => targets.push(t.to_string()),
            other => {
                return Err(format!(
                    "unknown argument `{other}`; targets: {}",
                    TARGETS.join(", ")
                ));
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    let root = root();
    let fuzz_dir = root.join("fuzz");
    let nightly = Command::new("cargo")
        .env_remove("RUSTUP_TOOLCHAIN")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !nightly.status.success() {
        return Err("needs the nightly toolchain and cargo-fuzz: `rustup toolchain install nightly` and `cargo install cargo-fuzz --locked`".to_string());
    }
    let logs = root.join("target/fuzz-logs");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let mut summary = Vec::new();
    let mut failed = Vec::new();
    for target in &targets {
        let seeds = root.join("target/fuzz-seeds").join(target);
        let count = seed(target, &root, &seeds)?;
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
        let log = logs.join(format!("{target}.log"));
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        eprintln!(
            "fuzz {target}: {count} seeds, {seconds} s, log {}",
            log.display()
        );
        let status = Command::new("cargo")
            .current_dir(&fuzz_dir)
            // `cargo xtask` runs under the project's pinned toolchain; the fuzzers need nightly.
            .env_remove("RUSTUP_TOOLCHAIN")
            .args(["+nightly", "fuzz", "run", "-O", target])
            .arg(&corpus)
            .arg(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-max_len={MAX_SEED}"))
            .args(["-timeout=10", "-rss_limit_mb=4096", "-print_final_stats=1"])
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .status()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let stats = Stats::read(&text);
        if !status.success() {
            failed.push(format!("{target} (see {})", log.display()));
        }
        summary.push((target.clone(), stats, status.success()));
    }
    println!(
        "{:<10} {:>14} {:>10} {:>8} {:>8} {:>8}  result",
        "target", "executions", "exec/s", "cov", "ft", "corpus"
    );
    for (target, s, ok) in &summary {
        println!(
            "{:<10} {:>14} {:>10} {:>8} {:>8} {:>8}  {}",
            target,
            s.executions,
            s.per_second,
            s.cov,
            s.ft,
            s.corpus,
            if *ok { "no crash" } else { "FAILED" }
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "crash, hang or leak found: {}; the input is in fuzz/artifacts/",
            failed.join(", ")
        ))
    }
}

/// What libFuzzer printed last about a run.
#[derive(Default)]
struct Stats {
    executions: String,
    per_second: String,
    cov: String,
    ft: String,
    corpus: String,
}

impl Stats {
    fn read(log: &str) -> Stats {
        let mut stats = Stats::default();
        // The last status line (`#N DONE cov: C ft: F corp: K/S ... exec/s: E`), then the
        // final stats.
        if let Some(line) = log
            .lines()
            .rfind(|l| l.starts_with('#') && l.contains("cov:"))
        {
            let words: Vec<&str> = line.split_whitespace().collect();
            let after = |key: &str| {
                words
                    .iter()
                    .position(|w| *w == key)
                    .and_then(|i| words.get(i + 1))
                    .map(|w| w.to_string())
                    .unwrap_or_default()
            };
            stats.cov = after("cov:");
            stats.ft = after("ft:");
            stats.corpus = after("corp:");
            stats.per_second = after("exec/s:");
        }
        for line in log.lines() {
            if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
                stats.executions = n.trim().to_string();
            }
            if let Some(n) = line.strip_prefix("stat::average_exec_per_sec:") {
                stats.per_second = n.trim().to_string();
            }
        }
        stats
    }
}

/// Writes the seeds of `target` to `dir` (emptied first); returns how many.
fn seed(target: &str, root: &Path, dir: &Path) -> Result<usize, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let files = |under: &[&str], extensions: &[&str]| -> Vec<PathBuf> {
        let mut found = Vec::new();
        for d in under {
            walk(&root.join(d), &mut found);
        }
        found.retain(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
            extensions.contains(&ext) && std::fs::metadata(p).is_ok_and(|m| m.len() <= MAX_SEED)
        });
        found.sort();
        found
    };
    let manifests = || {
        files(
            &["examples", "tests/fixtures", "tests/bad-input", "policies"],
            &["yaml", "yml", "json"],
        )
    };
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    match target {
        "manifest" => {
            for p in manifests() {
                seeds.push(std::fs::read(&p).map_err(|e| e.to_string())?);
            }
        }
        "rules" => {
            for p in files(
                &["policies", "tests/fixtures", "tests/bad-input"],
                &["rules"],
            ) {
                seeds.push(std::fs::read(&p).map_err(|e| e.to_string())?);
            }
        }
        "settings" => {
            for p in files(
                &["tests/fixtures/waivers", "examples"],
                &["yaml", "yml", "json"],
            ) {
                seeds.push(std::fs::read(&p).map_err(|e| e.to_string())?);
            }
            seeds.push(
                br#"{"version":1,"tool":"pchat-guard","findings":[{"rule":"PCHAT-HA-001","file":"a.yaml","pointer":"/persistent_chat_pools/0","fingerprint":"0123456789abcdef0123456789abcdef"}]}"#
                    .to_vec(),
            );
            seeds.push(
                b"waivers:\n  - rule: PCHAT-DR-001\n    file: \"topologies/*.yaml\"\n    target: pchat-pool-1\n    reason: second site is being built\n    expires: 2027-03-31\n"
                    .to_vec(),
            );
        }
        "abi" => {
            for p in manifests().into_iter().take(60) {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("x.yaml");
                let check = format!(
                    r#"{{"path":{},"source":{},"today":"2026-11-27","coverage":true}}"#,
                    json_string(name),
                    json_string(&text)
                );
                seeds.push(format!(r#"{{"check":{check},"pool":"pchat-pool-1"}}"#).into_bytes());
                seeds.push(check.into_bytes());
            }
        }
        _ => return Err(format!("no such target `{target}`")),
    }
    for (i, s) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:04}")), s).map_err(|e| e.to_string())?;
    }
    Ok(seeds.len())
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
