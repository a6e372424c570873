//! The hostile-input corpus: every malformed, huge, deep, hostile or wrong-typed input gets a
//! clear message with a location and the documented exit code; nothing panics or traps. The
//! small cases are files in `tests/bad-input/`; the huge ones are generated here. Each outcome
//! (exit code, the findings' codes, positions and messages, or the diagnostics) is a snapshot.

use std::path::Path;
use std::time::Instant;

use crate::support::{root, scratch, snapshot_settings};

/// Runs the CLI and sums up what a user sees: the exit code, then each finding (JSON report)
/// or each line of standard error. Panics (exit 101) and signals fail the test here.
fn run(args: &[&str], name: &str) -> String {
    let started = Instant::now();
    let (code, stdout, stderr) = crate::support::cli_in(&root(), &scratch("cli-cache"), args);
    assert!(
        matches!(code, 0..=3),
        "{name}: exit {code} (a crash?)\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    // Bounded time is recorded, not asserted (machines are noisy): shown on failure only.
    let took = started.elapsed();
    let mut summary = format!("exit {code}\n");
    match serde_json::from_str::<serde_json::Value>(&stdout) {
        Ok(report) => {
            for file in report["files"].as_array().into_iter().flatten() {
                summary.push_str(&format!(
                    "{} checked={}\n",
                    file["path"].as_str().unwrap_or(""),
                    file["checked"]
                ));
                // The first findings show what was found; a count stands for the rest.
                let findings = file["findings"].as_array().map_or(&[][..], Vec::as_slice);
                if findings.len() > SHOWN {
                    summary.push_str(&format!(
                        "  ({} findings; the first {SHOWN})\n",
                        findings.len()
                    ));
                }
                for f in findings.iter().take(SHOWN) {
                    let message: String = f["message"]
                        .as_str()
                        .unwrap_or("")
                        .chars()
                        .take(160)
                        .collect();
                    summary.push_str(&format!(
                        "  {} {}:{} {} {}\n",
                        f["code"].as_str().unwrap_or(""),
                        f["location"]["start"]["line"],
                        f["location"]["start"]["column"],
                        f["pointer"].as_str().unwrap_or(""),
                        message
                    ));
                }
            }
        }
        Err(_) => {
            for line in stderr.lines().filter(|l| !l.trim().is_empty()).take(12) {
                let line: String = line.chars().take(200).collect();
                summary.push_str(&format!("  {line}\n"));
            }
        }
    }
    if took.as_secs() > 60 {
        summary.push_str(&format!("(took {took:?})\n"));
    }
    summary
}

/// Findings listed per file in a summary.
const SHOWN: usize = 64;

fn check(path: &str, name: &str) -> String {
    run(
        &[
            "--no-config",
            "check",
            "--format",
            "json",
            "--today",
            "2026-11-26",
            path,
        ],
        name,
    )
}

#[test]
fn every_bad_input_file_gets_a_located_message_and_its_exit_code() {
    let settings = snapshot_settings();
    settings.bind(|| {
        insta::glob!("../../../../tests/bad-input", "*", |path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let shown = format!("tests/bad-input/{name}");
            let summary = check(&shown, &name);
            // `ok-` cases are odd but valid (a BOM): checked clean. Every other is refused.
            if name.starts_with("ok-") {
                assert!(
                    summary.starts_with("exit 0"),
                    "{name} was refused:\n{summary}"
                );
            } else {
                assert!(
                    !summary.starts_with("exit 0"),
                    "{name} was accepted:\n{summary}"
                );
            }
            let mut s = insta::Settings::clone_current();
            s.remove_snapshot_suffix();
            s.bind(|| insta::assert_snapshot!(format!("bad-input__{name}"), summary));
        });
    });
    let count = std::fs::read_dir(root().join("tests/bad-input"))
        .map(Iterator::count)
        .unwrap_or(0);
    assert!(count >= 38, "{count} files");
}

/// The huge and deep ones, generated: a 20 MB file, 100,000 levels, a 1 MB string, 100,000
/// servers, 100,000 keys; and hostile rule, waiver and baseline files.
#[test]
fn generated_hostile_inputs_are_bounded_and_located() {
    let dir = scratch("bad-input-generated");
    let write = |name: &str, text: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path.to_string_lossy().into_owned()
    };
    let reference =
        std::fs::read_to_string(root().join("examples/topologies/stretched-high-bandwidth.json"))
            .unwrap_or_default();
    let mut cases: Vec<(&str, String)> = Vec::new();

    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    cases.push((
        "deep-100000.json",
        check(&write("deep-100000.json", deep.as_bytes()), "deep"),
    ));
    let deep_yaml = format!("{}x\n", "- ".repeat(50_000));
    cases.push((
        "deep-50000.yaml",
        check(&write("deep-50000.yaml", deep_yaml.as_bytes()), "deep yaml"),
    ));
    // 20 MB: the reference with a 20 MB `name`.
    let big = reference.replacen(
        "\"name\": \"",
        &format!("\"name\": \"{}", "x".repeat(20 << 20)),
        1,
    );
    cases.push((
        "twenty-mb.json",
        check(&write("twenty-mb.json", big.as_bytes()), "20 MB"),
    ));
    let string = reference.replacen(
        "\"fqdn\": \"pchatpool.contoso.com\"",
        &format!("\"fqdn\": \"{}\"", "a".repeat(1 << 20)),
        1,
    );
    cases.push((
        "one-mb-string.json",
        check(
            &write("one-mb-string.json", string.as_bytes()),
            "1 MB string",
        ),
    ));
    let mut manifest: serde_json::Value = serde_json::from_str(&reference).unwrap_or_default();
    let servers: Vec<serde_json::Value> = (0..100_000)
        .map(|i| serde_json::json!({"fqdn": format!("s{i}.contoso.com"), "data_center": "dc-east", "active": i < 2}))
        .collect();
    manifest["persistent_chat_pools"][0]["servers"] = serde_json::Value::Array(servers);
    let text = serde_json::to_string(&manifest).unwrap_or_default();
    cases.push((
        "servers-100000.json",
        check(
            &write("servers-100000.json", text.as_bytes()),
            "100k servers",
        ),
    ));
    let keys: String = (0..100_000).map(|i| format!("k{i}: {i}\n")).collect();
    cases.push((
        "keys-100000.yaml",
        check(&write("keys-100000.yaml", keys.as_bytes()), "100k keys"),
    ));

    // Hostile rule files: binary garbage, 10,000 nested parentheses, a 1 MB identifier.
    for (name, text) in [
        ("garbage", b"\xff\xfe\x00rule \x01\x02".to_vec()),
        ("parens", format!("rule A-1 {{ severity error title \"t\" facts F1 for p in persistent_chat_pools where {}true{} report at p message \"m\" }}", "(".repeat(10_000), ")".repeat(10_000)).into_bytes()),
        ("long-ident", format!("rule A-1 {{ severity error title \"t\" facts F1 for {} in persistent_chat_pools report at p message \"m\" }}", "p".repeat(1 << 20)).into_bytes()),
    ] {
        let pack = dir.join(format!("pack-{name}"));
        std::fs::create_dir_all(&pack).unwrap_or_default();
        std::fs::write(pack.join("x.rules"), text).unwrap_or_default();
        let summary = run(&["--no-config", "rules", "--policies", &pack.to_string_lossy()], name);
        cases.push((name, summary.replace(&*dir.to_string_lossy(), "<dir>")));
    }
    // Rule, configuration and module files past the 64 MiB every file is held to (sparse:
    // refused by their size, before anything is read).
    let oversized = |name: &str| {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{e}"));
        file.set_len((64 << 20) + 1)
            .unwrap_or_else(|e| panic!("{e}"));
        path
    };
    let pack = dir.join("pack-oversized");
    std::fs::create_dir_all(&pack).unwrap_or_default();
    let _ = std::fs::rename(oversized("x.rules"), pack.join("x.rules"));
    cases.push((
        "oversized-rules",
        run(
            &[
                "--no-config",
                "rules",
                "--policies",
                &pack.to_string_lossy(),
            ],
            "oversized rules",
        ),
    ));
    let config = oversized("pchat-guard.toml");
    cases.push((
        "oversized-config",
        run(
            &[
                "--config",
                &config.to_string_lossy(),
                "check",
                "examples/topologies/stretched-high-bandwidth.yaml",
            ],
            "oversized config",
        ),
    ));
    let module = oversized("module.wasm");
    cases.push((
        "oversized-module",
        run(
            &[
                "--no-config",
                "check",
                "--module",
                &module.to_string_lossy(),
                "examples/topologies/stretched-high-bandwidth.yaml",
            ],
            "oversized module",
        ),
    ));
    // Hostile waiver and baseline files.
    let site = "examples/topologies/stretched-high-bandwidth.yaml";
    let waivers = write(
        "waivers.yaml",
        format!("{}x", "- ".repeat(30_000)).as_bytes(),
    );
    cases.push((
        "deep-waivers",
        run(
            &["--no-config", "check", "--waivers", &waivers, site],
            "waivers",
        )
        .replace(&*dir.to_string_lossy(), "<dir>"),
    ));
    let baseline = write("baseline.json", b"\x00\x01{\"not\": json");
    cases.push((
        "binary-baseline",
        run(
            &["--no-config", "check", "--baseline", &baseline, site],
            "baseline",
        )
        .replace(&*dir.to_string_lossy(), "<dir>"),
    ));

    let mut all = String::new();
    for (name, summary) in &cases {
        assert!(
            !summary.starts_with("exit 0"),
            "{name} was accepted:\n{summary}"
        );
        let summary = summary.replace(&*dir.to_string_lossy(), "<dir>");
        all.push_str(&format!("== {name}\n{summary}"));
    }
    snapshot_settings().bind(|| insta::assert_snapshot!("bad-input__generated", all));
    let _ = Path::new(".");
}
