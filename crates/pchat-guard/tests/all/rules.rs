//! The rule language end to end: compiler diagnostics for every fixture in
//! `tests/fixtures/rules/` (snapshotted in rustc style), `pchat-guard test` on the shipped pack
//! and on failing cases, and `check --policies` with a custom rule directory.

use pchat_guard::policy::render_diagnostics;
use pchat_guard_lang::{Level, Source};

use crate::support::{cli, files_in, outcome, relative, root, scratch};

#[test]
fn rule_fixtures_give_their_exact_diagnostics() {
    // Through insta's `glob!`: every fixture is checked and snapshotted before the test fails.
    let mut wrong = Vec::new();
    crate::support::snapshot_settings().bind(|| {
        insta::glob!("../../../../tests/fixtures/rules", "*.rules", |path| {
            let name = relative(path);
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let sources = vec![Source {
                path: name.clone(),
                text,
            }];
            // With the facts every pack may cite, as `--policies` compiles a pack.
            let facts = pchat_guard_pack::shipped_facts().unwrap_or_else(|e| panic!("{e}"));
            let compiled = pchat_guard_lang::compile_with_facts("fixture", "0", &sources, &facts);
            let errors = compiled
                .diagnostics
                .iter()
                .filter(|d| d.level == Level::Error)
                .count();
            let as_named = if name.contains("/ok-") {
                compiled.diagnostics.is_empty() && compiled.bundle.is_some()
            } else if name.contains("/err-") {
                errors > 0 && compiled.bundle.is_none()
            } else {
                errors == 0 && !compiled.diagnostics.is_empty()
            };
            if !as_named {
                wrong.push(format!("{name}: {:?}", compiled.diagnostics));
            }
            let rendered = render_diagnostics(&sources, &compiled, false);
            let stem = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let mut settings = insta::Settings::clone_current();
            settings.remove_snapshot_suffix();
            settings.bind(|| {
                insta::assert_snapshot!(format!("rules__{stem}"), rendered);
                if let Some(bundle) = &compiled.bundle {
                    insta::assert_json_snapshot!(format!("rules__{stem}.ir"), bundle);
                }
            });
        });
    });
    // `ok-` fixtures compile clean, `err-` ones fail, `warn-` ones only warn.
    assert!(
        wrong.is_empty(),
        "fixtures that do not do as named: {wrong:#?}"
    );
}

#[test]
fn syntax_errors_are_all_reported_not_only_the_first() {
    let path = root().join("tests/fixtures/rules/err-syntax-recovery.rules");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let compiled = pchat_guard_lang::compile(
        "x",
        "0",
        &[Source {
            path: "x".into(),
            text,
        }],
    );
    let syntax = compiled
        .diagnostics
        .iter()
        .filter(|d| d.code == "PCL001")
        .count();
    assert!(syntax >= 3, "{:?}", compiled.diagnostics);
}

#[test]
fn the_shipped_pack_passes_its_own_tests_at_full_coverage() {
    // The command called as a library function: no process, the same outcome.
    let args = pchat_guard::commands::policy_test::TestArgs {
        dir: Some(root().join("policies/persistent-chat")),
        packs: pchat_guard::commands::PackArgs::default(),
        coverage: true,
        threshold: Some(100.0),
        host: pchat_guard::commands::HostArgs::default(),
    };
    let outcome = pchat_guard::commands::policy_test::run(&args);
    assert_eq!(
        outcome.status,
        pchat_guard::commands::ExitStatus::Clean,
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    let last = outcome.stdout.lines().last().unwrap_or_default();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 100, "{last}");
    assert!(
        outcome.stdout.contains("coverage: rules 29/29 (100.0%)"),
        "{}",
        outcome.stdout
    );
}

/// A fresh scratch folder holding the one-rule custom pack, and the minimal manifest's text.
fn custom_pack(name: &str) -> (std::path::PathBuf, String) {
    let dir = scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    write(
        &dir,
        "custom.rules",
        &crate::support::custom_rule("warning"),
    );
    let manifest =
        std::fs::read_to_string(root().join("tests/fixtures/manifests/clean-minimal.yaml"))
            .unwrap_or_default();
    (dir, manifest)
}

fn write(dir: &std::path::Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap_or(dir)).unwrap_or_default();
    std::fs::write(path, text).unwrap_or_default();
}

#[test]
fn policy_tests_fail_when_expectations_are_not_met() {
    let (dir, manifest) = custom_pack("policy-tests");
    write(
        &dir,
        "tests/fires.yaml",
        &format!(
            "# only: CUSTOM-FS-001\n# expect: CUSTOM-FS-001 /persistent_chat_pools/0/fqdn\n{manifest}"
        ),
    );
    write(
        &dir,
        "tests/wrong-pointer.yaml",
        &format!(
            "# only: CUSTOM-FS-001\n# expect: CUSTOM-FS-001 /persistent_chat_pools/0\n{manifest}"
        ),
    );
    let (code, stdout, _) = outcome(&cli(&["test", &dir.display().to_string()]));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("ok      ") && stdout.contains("FAILED  "),
        "{stdout}"
    );
    assert!(
        stdout.contains("missing: CUSTOM-FS-001 /persistent_chat_pools/0\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unexpected: CUSTOM-FS-001 /persistent_chat_pools/0/fqdn (line "),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 passed, 1 failed\n"), "{stdout}");
}

#[test]
fn policy_cases_give_the_date_their_dated_waivers_are_judged_on() {
    let dir = scratch("policy-tests-today");
    let _ = std::fs::remove_dir_all(&dir);
    write(
        &dir,
        "custom.rules",
        &crate::support::custom_rule("warning"),
    );
    let manifest = crate::support::clean_minimal_manifest();
    let waived = format!(
        "{manifest}waivers:\n  - rule: CUSTOM-FS-001\n    target: pchat-pool\n    reason: r\n    expires: 2027-01-31\n"
    );
    let only = "# only: CUSTOM-FS-001, PCG-WAIVER-EXPIRED\n# expect: CUSTOM-FS-001 /persistent_chat_pools/0/fqdn\n";
    // Before the end date the waiver applies (the finding is still a finding of the case)...
    write(
        &dir,
        "tests/in-time.yaml",
        &format!("# today: 2027-01-31\n{only}{waived}"),
    );
    // ...after it, it has lapsed; and with no date it cannot be judged: both say so.
    let lapsed = format!("{only}# expect: PCG-WAIVER-EXPIRED /waivers/0/expires\n{waived}");
    write(
        &dir,
        "tests/lapsed.yaml",
        &format!("# today: 2027-02-01\n{lapsed}"),
    );
    write(&dir, "tests/undated.yaml", &lapsed);
    let (code, stdout, stderr) = outcome(&cli(&["test", &dir.display().to_string()]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.ends_with("3 passed, 0 failed\n"), "{stdout}");

    write(
        &dir,
        "tests/bad-date.yaml",
        &format!("# today: 2027-02-30\n{waived}"),
    );
    let (code, _, stderr) = outcome(&cli(&["test", &dir.display().to_string()]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`2027-02-30` is not a day of that month"),
        "{stderr}"
    );
}

#[test]
fn check_with_custom_policies_and_broken_policies() {
    let dir = scratch("custom-policies");
    let _ = std::fs::remove_dir_all(&dir);
    write(
        &dir,
        "custom.rules",
        &crate::support::custom_rule("warning"),
    );
    let (code, stdout, _) = outcome(&cli(&[
        "check",
        "--format",
        "json",
        "--policies",
        &dir.display().to_string(),
        "tests/fixtures/manifests/clean-minimal.yaml",
    ]));
    assert_eq!(
        code, 0,
        "a warning does not fail under --fail-on error: {stdout}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    let findings = report["files"][0]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["code"], "CUSTOM-FS-001");
    assert_eq!(findings[0]["severity"], "warning");
    assert_eq!(findings[0]["location"]["start"]["line"], 40);

    let broken = scratch("broken-policies");
    write(
        &broken,
        "broken.rules",
        &crate::support::custom_rule("warning").replace("pool.file_store", "pool.file_stor"),
    );
    let (code, _, stderr) = outcome(&cli(&[
        "check",
        "--policies",
        &broken.display().to_string(),
        "examples/topologies/stretched-low-bandwidth.yaml",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error[PCL002]: unknown field `file_stor`"),
        "{stderr}"
    );
    assert!(stderr.contains("broken.rules:8:"), "{stderr}");
    assert!(stderr.contains("did you mean `file_store`?"), "{stderr}");
    let (code, _, stderr) = outcome(&cli(&["test", &broken.display().to_string()]));
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn coverage_names_what_the_cases_never_reached_and_the_threshold_fails_the_run() {
    let (code, stdout, stderr) = outcome(&cli(&[
        "test",
        "--threshold",
        "100",
        "policies/persistent-chat",
    ]));
    assert_eq!(
        code, 0,
        "the shipped pack is fully covered: {stdout}{stderr}"
    );
    assert!(
        stdout.contains("coverage: rules 29/29 (100.0%), where branches "),
        "{stdout}"
    );
    let (dir, manifest) = custom_pack("coverage");
    write(
        &dir,
        "tests/near-miss.yaml",
        &format!(
            "# only: CUSTOM-FS-001\n{}",
            manifest.replace("    pool_type:", "    file_store: fs\n    pool_type:")
        ),
    );
    let (code, stdout, _) = outcome(&cli(&["test", "--coverage", &dir.display().to_string()]));
    assert_eq!(code, 0, "--coverage alone reports: {stdout}");
    assert!(
        stdout.contains("not covered: CUSTOM-FS-001 never fired\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not covered: CUSTOM-FS-001 `where` #1 never held\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("coverage: rules 0/1 (0.0%), where branches 1/2 (50.0%)\n"),
        "{stdout}"
    );
    let (code, stdout, _) = outcome(&cli(&[
        "test",
        "--threshold",
        "50",
        &dir.display().to_string(),
    ]));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("coverage is below the threshold of 50%"),
        "{stdout}"
    );
    assert_eq!(
        outcome(&cli(&[
            "test",
            "--threshold",
            "120",
            &dir.display().to_string()
        ]))
        .0,
        2
    );
}

/// A small deterministic generator (xorshift), so failures reproduce.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn mutated_and_hostile_rule_files_give_diagnostics_never_a_panic() {
    const NOISE: &[&str] = &[
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "\"",
        "\\",
        ".",
        ",",
        "==",
        "not ",
        "if ",
        " then",
        "{x}",
        "rule ",
        "pred ",
        "é",
        "\n",
        "-",
        "F",
        "999999999999999999999",
    ];
    let mut state = 0x1234_5678_9abc_def1_u64;
    let mut files = files_in("policies/persistent-chat", &["rules"]);
    files.extend(files_in("tests/fixtures/rules", &["rules"]));
    for path in files {
        let original = std::fs::read_to_string(&path).unwrap_or_default();
        for _ in 0..25 {
            let mut text = original.clone();
            for _ in 0..1 + next(&mut state) % 4 {
                let mut at = (next(&mut state) as usize) % text.len().max(1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                if next(&mut state).is_multiple_of(2) {
                    text.insert_str(at, NOISE[(next(&mut state) as usize) % NOISE.len()]);
                } else {
                    let mut end = (at + (next(&mut state) as usize) % 30).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(at..end, "");
                }
            }
            let sources = vec![Source {
                path: "mutated.rules".into(),
                text,
            }];
            let compiled = pchat_guard_lang::compile("m", "0", &sources);
            let _ = render_diagnostics(&sources, &compiled, false);
        }
    }
    for (text, what) in [
        (
            format!(
                "rule A-1 {{ severity error title \"t\" facts F1 where {}true{} report at product message \"x\" }}",
                "(".repeat(5_000),
                ")".repeat(5_000)
            ),
            "parentheses",
        ),
        (
            format!(
                "rule A-1 {{ severity error title \"t\" facts F1 where {}true report at product message \"x\" }}",
                "not ".repeat(5_000)
            ),
            "nots",
        ),
        (
            format!(
                "rule A-1 {{ severity error title \"t\" facts F1 where product == \"{}\" report at product message \"x\" }}",
                "{".repeat(3_000)
            ),
            "braces",
        ),
        ("rule".repeat(10_000), "keywords"),
        (
            format!(
                "rule A-1 {{ severity error title \"t\" facts F1 where product{} == \"x\" report at product message \"x\" }}",
                ".lower()".repeat(50_000)
            ),
            "postfix chain",
        ),
        (
            format!(
                "rule A-1 {{ severity error title \"t\" facts F1 where 1{} > 0 report at product message \"x\" }}",
                " + 1".repeat(50_000)
            ),
            "operator chain",
        ),
        (
            format!(
                "rule A-1 {{ severity error title \"t\" facts F1 where true{} report at product message \"x\" }}",
                " and true".repeat(50_000)
            ),
            "and chain",
        ),
    ] {
        let sources = vec![Source {
            path: "hostile.rules".into(),
            text,
        }];
        let compiled = pchat_guard_lang::compile("h", "0", &sources);
        assert!(
            compiled.diagnostics.iter().any(|d| d.level == Level::Error),
            "{what}: no error"
        );
    }
}
