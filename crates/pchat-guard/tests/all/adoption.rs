//! Adopting pchat-guard on a real repository: waivers (in the manifest and in a waiver file),
//! baselines, directories as inputs, and output that does not depend on the order of arguments.

use serde_json::Value;

use crate::support::{cli, outcome, root, scratch, snapshot_settings};

const TODAY: &str = "2026-11-26";

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn snapshot(name: &str, text: &str) {
    snapshot_settings().bind(|| insta::assert_snapshot!(name, text));
}

/// Every finding of a JSON report as (file, code, pointer, waived reason).
fn findings(report: &Value) -> Vec<(String, String, String, Option<String>)> {
    report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|file| {
            let path = file["path"].as_str().unwrap_or_default().to_string();
            file["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |f| {
                    (
                        path.clone(),
                        f["code"].as_str().unwrap_or_default().to_string(),
                        f["pointer"].as_str().unwrap_or_default().to_string(),
                        f["waived"]["reason"].as_str().map(str::to_string),
                    )
                })
        })
        .collect()
}

fn has(
    list: &[(String, String, String, Option<String>)],
    code: &str,
    pointer: &str,
    waived: bool,
) -> bool {
    list.iter()
        .any(|(_, c, p, w)| c == code && p == pointer && w.is_some() == waived)
}

fn validate_report(report: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/report.schema.json")).unwrap_or_default(),
    )
    .unwrap_or_default();
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn manifest_waivers_mark_findings_and_report_their_own_problems() {
    let file = "tests/fixtures/waivers/waived.yaml";
    let (code, stdout, stderr) =
        outcome(&cli(&["check", "--today", TODAY, "--format", "json", file]));
    let report = json(&stdout);
    validate_report(&report);
    let list = findings(&report);
    // Waived by entity id and by pointer; still in the report, marked.
    assert!(
        has(
            &list,
            "PCHAT-HA-001",
            "/persistent_chat_pools/0/stores/chat",
            true
        ),
        "{list:#?}"
    );
    assert!(
        has(&list, "PCHAT-FS-001", "/persistent_chat_pools/0", true),
        "{list:#?}"
    );
    let ha = report["files"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["code"] == "PCHAT-HA-001")
        .cloned()
        .unwrap_or_default();
    assert_eq!(ha["waived"]["expires"], "2027-01-31");
    assert_eq!(ha["waived"]["origin"]["pointer"], "/waivers/0");
    assert_eq!(ha["waived"]["origin"]["path"], file);
    assert_eq!(ha["waived"]["origin"]["location"]["start"]["line"], 56);
    // The waivers' own problems, each at its place.
    assert!(has(
        &list,
        "PCG-WAIVER-EXPIRED",
        "/waivers/2/expires",
        false
    ));
    assert!(has(
        &list,
        "PCG-WAIVER-UNKNOWN-RULE",
        "/waivers/3/rule",
        false
    ));
    assert!(has(
        &list,
        "PCG-WAIVER-UNKNOWN-RULE",
        "/waivers/4/rule",
        false
    ));
    assert!(has(&list, "PCG-WAIVER-UNUSED", "/waivers/5", false));
    assert_eq!(report["summary"]["waived"], 2);
    assert_eq!(report["summary"]["errors"], 2, "the two unknown rules");
    assert_eq!(report["summary"]["warnings"], 2, "expired and unused");
    assert_eq!(code, 1, "{stderr}");

    let (_, human, _) = outcome(&cli(&["check", "--today", TODAY, "--color", "never", file]));
    assert!(human.contains("(waived) the chat store of pool `pchat-pool` has no mirror"));
    assert!(human.contains(&format!(
        "waived until 2027-01-31 by {file}:56:5: the mirror instance is ordered (CHG-1234)"
    )));
    snapshot("adoption__manifest_waivers.human", &human);

    // The day after it expires, the waiver no longer applies: the finding counts again.
    let (_, stdout, _) = outcome(&cli(&[
        "check",
        "--today",
        "2027-02-01",
        "--format",
        "json",
        file,
    ]));
    let list = findings(&json(&stdout));
    assert!(has(
        &list,
        "PCHAT-HA-001",
        "/persistent_chat_pools/0/stores/chat",
        false
    ));
    assert!(has(
        &list,
        "PCG-WAIVER-EXPIRED",
        "/waivers/0/expires",
        false
    ));
    // On its last day it still applies.
    let (_, stdout, _) = outcome(&cli(&[
        "check",
        "--today",
        "2027-01-31",
        "--format",
        "json",
        file,
    ]));
    assert!(has(
        &findings(&json(&stdout)),
        "PCHAT-HA-001",
        "/persistent_chat_pools/0/stores/chat",
        true
    ));
}

#[test]
fn waived_findings_do_not_fail_the_run() {
    let file = "tests/fixtures/waivers/accepted.yaml";
    // Without the FS-001 waiver the run fails on it; the HA-001 one alone is waived.
    let (code, stdout, _) = outcome(&cli(&["check", "--today", TODAY, "--format", "json", file]));
    assert_eq!(code, 1);
    let list = findings(&json(&stdout));
    assert!(has(
        &list,
        "PCHAT-HA-001",
        "/persistent_chat_pools/0/stores/chat",
        true
    ));
    assert!(has(
        &list,
        "PCHAT-FS-001",
        "/persistent_chat_pools/0",
        false
    ));
    // With the team's waiver file, both are waived: exit 0, even with --fail-on info.
    let (code, stdout, stderr) = outcome(&cli(&[
        "check",
        "--today",
        TODAY,
        "--waivers",
        "tests/fixtures/waivers/team-waivers.yaml",
        "--format",
        "json",
        "--fail-on",
        "error",
        file,
    ]));
    let report = json(&stdout);
    validate_report(&report);
    let list = findings(&report);
    assert!(
        has(&list, "PCHAT-FS-001", "/persistent_chat_pools/0", true),
        "{list:#?}"
    );
    // The waiver file's own warnings: one waiver matches no file, one has lapsed.
    assert!(list.iter().any(
        |(f, c, p, _)| f == "tests/fixtures/waivers/team-waivers.yaml"
            && c == "PCG-WAIVER-UNUSED"
            && p == "/waivers/1"
    ));
    assert!(list.iter().any(
        |(f, c, p, _)| f == "tests/fixtures/waivers/team-waivers.yaml"
            && c == "PCG-WAIVER-EXPIRED"
            && p == "/waivers/2/expires"
    ));
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["summary"]["waived"], 2);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn waived_findings_are_suppressions_in_sarif_skipped_in_junit_and_notices_on_github() {
    let args = |format: &'static str| {
        vec![
            "check",
            "--today",
            TODAY,
            "--waivers",
            "tests/fixtures/waivers/team-waivers.yaml",
            "--format",
            format,
            "tests/fixtures/waivers/accepted.yaml",
        ]
    };
    let (_, stdout, _) = outcome(&cli(&args("sarif")));
    let sarif = json(&stdout);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/sarif/sarif-2.1.0.json"))
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        validator.is_valid(&sarif),
        "SARIF with suppressions is not valid 2.1.0"
    );
    let results = sarif["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let suppression = |rule: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == rule)
            .map(|r| r["suppressions"][0].clone())
            .unwrap_or_default()
    };
    assert_eq!(suppression("PCHAT-HA-001")["kind"], "inSource");
    assert_eq!(suppression("PCHAT-HA-001")["status"], "accepted");
    assert_eq!(
        suppression("PCHAT-HA-001")["justification"],
        "the mirror instance is ordered (CHG-1234)"
    );
    assert_eq!(suppression("PCHAT-FS-001")["kind"], "external");
    assert_eq!(
        suppression("PCHAT-FS-001")["location"]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/fixtures/waivers/team-waivers.yaml"
    );
    assert!(
        results
            .iter()
            .filter(|r| r["ruleId"]
                .as_str()
                .is_some_and(|id| id.starts_with("PCG-WAIVER")))
            .all(|r| r.get("suppressions").is_none())
    );

    let (_, xml, _) = outcome(&cli(&args("junit")));
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut case = String::new();
    let mut skipped = Vec::new();
    let mut failed = Vec::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                let attr = |name: &[u8]| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == name)
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                        .unwrap_or_default()
                };
                match e.name().as_ref() {
                    b"testcase" => case = attr(b"name"),
                    b"skipped" => skipped.push((case.clone(), attr(b"message"))),
                    b"failure" => failed.push(case.clone()),
                    _ => {}
                }
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML: {e}"),
        }
    }
    assert!(
        skipped.contains(&(
            "PCHAT-HA-001".to_string(),
            "waived: the mirror instance is ordered (CHG-1234)".to_string()
        )),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|(c, _)| c == "PCHAT-FS-001"),
        "{skipped:?}"
    );
    assert!(
        !failed
            .iter()
            .any(|c| c == "PCHAT-HA-001" || c == "PCHAT-FS-001")
    );
    assert!(
        failed.iter().any(|c| c == "PCG-WAIVER-UNUSED"),
        "{failed:?}"
    );

    let (_, github, _) = outcome(&cli(&args("github")));
    assert!(
        github.lines().any(|l| l
            .starts_with("::notice file=tests/fixtures/waivers/accepted.yaml,")
            && l.contains("title=PCHAT-HA-001 (waived)::")
            && l.ends_with("%0AWaived: the mirror instance is ordered (CHG-1234)")),
        "{github}"
    );
    assert!(
        !github.lines().any(|l| l.starts_with("::error")),
        "{github}"
    );
}

#[test]
fn a_bad_waiver_file_exits_two_with_every_problem_located_and_still_checks_the_rest() {
    let (code, stdout, stderr) = outcome(&cli(&[
        "check",
        "--today",
        TODAY,
        "--color",
        "never",
        "--waivers",
        "tests/fixtures/waivers/bad-waivers.yaml",
        "--waivers",
        "tests/fixtures/waivers/bad-syntax-waivers.json",
        "tests/fixtures/waivers/accepted.yaml",
    ]));
    assert_eq!(code, 2, "{stderr}");
    for expected in [
        "error[PCG-WAIVER-FILE]: the waiver names `PCHAT-FS-01`, which is not a rule of the pack",
        "--> tests/fixtures/waivers/bad-waivers.yaml:2:11",
        "did you mean `PCHAT-FS-001`?",
        "unknown field `expire`",
        "expected at least 1 character for `reason`",
        "`2027-02-29` is not a day of that month",
        "`[unclosed` is not a valid glob",
        "expected a string for `rule`, found the number `5`",
        "missing required field `reason`",
        "expected an object",
        "error[PCG-SYNTAX]",
        "--> tests/fixtures/waivers/bad-syntax-waivers.json:3:",
        // The manifest was still checked and reported.
        "error[PCHAT-FS-001]: multiple-computer pool `pchat-pool` has no file store",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{stdout}"
        );
    }
    snapshot("adoption__bad_waiver_files.human", &stdout);

    // A file past the waiver limit is refused as a whole, not matched for minutes.
    let many = scratch("many-waivers").join("many.yaml");
    let mut text = String::from("waivers:\n");
    for i in 0..10_001 {
        text.push_str(&format!(
            "  - {{ rule: PCHAT-HA-001, target: /x{i}, reason: r }}\n"
        ));
    }
    std::fs::write(&many, text).unwrap_or_default();
    let (code, stdout, _) = outcome(&cli(&[
        "check",
        "--waivers",
        &many.display().to_string(),
        "tests/fixtures/waivers/accepted.yaml",
    ]));
    assert_eq!(code, 2);
    assert!(
        stdout.contains("expected at most 10000 items for `waivers`, found 10001")
            && stdout.contains("--waivers` may be repeated"),
        "{stdout}"
    );
}

#[test]
fn a_baseline_reports_only_new_findings() {
    let dir = scratch("baseline");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let manifest = dir.join("topology.yaml");
    let original = crate::support::clean_minimal_manifest();
    std::fs::write(&manifest, &original).unwrap_or_default();
    let baseline = dir.join("baseline.json");
    let m = manifest.display().to_string();
    let b = baseline.display().to_string();

    // Recording: the findings are written, the run passes.
    let (code, _, stderr) = outcome(&cli(&["check", "--write-baseline", &b, &m]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("wrote the baseline"), "{stderr}");
    let recorded = json(&std::fs::read_to_string(&baseline).unwrap_or_default());
    assert_eq!(recorded["version"], 1);
    let entries = recorded["findings"].as_array().cloned().unwrap_or_default();
    let rules: Vec<&str> = entries.iter().filter_map(|e| e["rule"].as_str()).collect();
    assert_eq!(
        rules,
        ["PCHAT-FS-001", "PCHAT-HA-001"],
        "sorted, one per finding"
    );
    assert!(
        entries
            .iter()
            .all(|e| e["fingerprint"].as_str().is_some_and(|f| f.len() == 32))
    );

    // Against the baseline: nothing new, exit 0, the count is said.
    let (code, stdout, _) = outcome(&cli(&["check", "--color", "never", "--baseline", &b, &m]));
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("no findings (2 in the baseline)"),
        "{stdout}"
    );

    // A new problem is reported; the recorded ones still are not.
    let broken = original.replace("bitness: 64", "bitness: 32");
    assert_ne!(broken, original);
    std::fs::write(&manifest, &broken).unwrap_or_default();
    let (code, stdout, _) = outcome(&cli(&["check", "--format", "json", "--baseline", &b, &m]));
    let report = json(&stdout);
    validate_report(&report);
    let codes: Vec<String> = findings(&report).into_iter().map(|f| f.1).collect();
    assert!(
        codes == ["PCHAT-SQL-001", "PCHAT-SQL-001"]
            && !codes
                .iter()
                .any(|c| c == "PCHAT-HA-001" || c == "PCHAT-FS-001"),
        "{codes:?}"
    );
    assert_eq!(report["summary"]["baselined"], 2);
    assert_eq!(code, 1);

    // A second file with the same problems is new: entries match by file.
    std::fs::write(&manifest, &original).unwrap_or_default();
    let twin = dir.join("twin.yaml");
    std::fs::write(&twin, &original).unwrap_or_default();
    let (code, stdout, _) = outcome(&cli(&[
        "check",
        "--format",
        "json",
        "--baseline",
        &b,
        &m,
        &twin.display().to_string(),
    ]));
    let list = findings(&json(&stdout));
    assert_eq!(code, 1);
    assert!(
        list.iter().all(|(f, ..)| f.ends_with("twin.yaml")) && list.len() == 2,
        "{list:#?}"
    );

    // SARIF marks what is reported against a baseline as new.
    let (_, stdout, _) = outcome(&cli(&[
        "check",
        "--format",
        "sarif",
        "--baseline",
        &b,
        &twin.display().to_string(),
    ]));
    let sarif = json(&stdout);
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .is_some_and(|r| !r.is_empty() && r.iter().all(|r| r["baselineState"] == "new"))
    );

    // An input that cannot be checked is not recorded: no baseline, exit 2.
    let other = dir.join("other.json");
    let (code, _, stderr) = outcome(&cli(&[
        "check",
        "--write-baseline",
        &other.display().to_string(),
        &m,
        "tests/fixtures/manifests/malformed-tab.yaml",
    ]));
    assert_eq!(code, 2);
    assert!(stderr.contains("not writing the baseline"), "{stderr}");
    assert!(!other.exists());
}

#[test]
fn a_bad_baseline_exits_two_with_its_problems_located() {
    let (code, stdout, stderr) = outcome(&cli(&[
        "check",
        "--color",
        "never",
        "--baseline",
        "tests/fixtures/waivers/bad-baseline.json",
        "tests/fixtures/waivers/accepted.yaml",
    ]));
    assert_eq!(code, 2, "{stderr}");
    for expected in [
        "error[PCG-BASELINE-FILE]: `2` is not an allowed value for `version`",
        "--> tests/fixtures/waivers/bad-baseline.json:2:14",
        "the baseline records `PCHAT-HA-009`",
        "missing required field `fingerprint`",
        "expected a string for `fingerprint`, found the number `7`",
        "unknown field `line`",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{stdout}"
        );
    }
    snapshot("adoption__bad_baseline.human", &stdout);
}

#[test]
fn directories_are_walked_recursively_sorted_and_without_hidden_or_ignored_files() {
    let dir = scratch("walk");
    let _ = std::fs::remove_dir_all(&dir);
    let clean =
        std::fs::read_to_string(root().join("examples/topologies/stretched-high-bandwidth.yaml"))
            .unwrap_or_default();
    let clean_json =
        std::fs::read_to_string(root().join("examples/topologies/stretched-high-bandwidth.json"))
            .unwrap_or_default();
    for (path, text) in [
        ("repo/zeta.yaml", clean.as_str()),
        ("repo/sub/deeper/alpha.json", clean_json.as_str()),
        ("repo/sub/beta.YML", clean.as_str()),
        ("repo/.hidden/skipped.yaml", "not: [checked"),
        ("repo/generated/skipped.json", "{"),
        ("repo/notes.txt", "not a manifest"),
    ] {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap_or(&dir)).unwrap_or_default();
        std::fs::write(&file, text).unwrap_or_default();
    }
    std::fs::write(dir.join("repo/.ignore"), "generated/\n").unwrap_or_default();
    #[cfg(unix)]
    let _ = std::os::unix::fs::symlink(dir.join("repo"), dir.join("repo/sub/loop"));
    let repo = dir.join("repo").display().to_string();
    let (code, stdout, stderr) = outcome(&cli(&["check", "--format", "json", &repo]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report = json(&stdout);
    let paths: Vec<String> = report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            f["path"]
                .as_str()
                .unwrap_or_default()
                .replace(&repo, "<repo>")
        })
        .collect();
    assert_eq!(
        paths,
        [
            "<repo>/sub/beta.YML",
            "<repo>/sub/deeper/alpha.json",
            "<repo>/zeta.yaml"
        ]
    );

    // A file named directly is checked even where a walk would skip it.
    let hidden = dir.join("repo/.hidden/skipped.yaml").display().to_string();
    let (code, _, _) = outcome(&cli(&["check", &repo, &hidden]));
    assert_eq!(code, 2, "the named hidden file is read (and is broken)");

    // A directory without manifests fails closed.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap_or_default();
    let (code, stdout, _) = outcome(&cli(&[
        "check",
        "--color",
        "never",
        &empty.display().to_string(),
    ]));
    assert_eq!(code, 2);
    assert!(stdout.contains("holds no manifest"), "{stdout}");
}

#[test]
fn output_is_sorted_and_the_same_whatever_the_order_of_arguments() {
    let files = [
        "tests/fixtures/manifests/schema-enum.yaml",
        "tests/fixtures/pack/everything-wrong.yaml",
        "tests/fixtures/manifests/duplicate-ids.json",
        "./tests/fixtures/manifests/dangling-ref-sql.json",
    ];
    for format in ["json", "sarif", "junit", "github", "human"] {
        let run = |order: &[&str]| {
            let mut args = vec!["check", "--color", "never", "--format", format];
            args.extend_from_slice(order);
            outcome(&cli(&args)).1
        };
        let forward = run(&files);
        let mut reversed = files;
        reversed.reverse();
        assert_eq!(
            forward,
            run(&reversed),
            "{format} depends on the order of arguments"
        );
        assert_eq!(forward, run(&files), "{format} is not deterministic");
    }
    // The same file twice, spelled two ways, is checked once.
    let (_, stdout, _) = outcome(&cli(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/manifests/schema-enum.yaml",
        "./tests/fixtures/manifests/schema-enum.yaml",
    ]));
    assert_eq!(json(&stdout)["summary"]["files"], 1);
}

#[test]
fn waivers_given_by_a_host_apply_the_same_in_the_module_and_natively() {
    use pchat_guard_engine::waiver::ExternalWaiver;
    let mut request =
        crate::support::request_for(&root().join("tests/fixtures/waivers/waived.yaml"));
    request.today = pchat_guard_engine::waiver::Date::parse(TODAY).ok();
    request.waivers = vec![ExternalWaiver {
        rule: "PCHAT-DR-003".to_string(),
        target: "".to_string(),
        reason: "host waiver over the whole manifest".to_string(),
        expires: None,
        origin: None,
    }];
    let native = crate::support::native_report(&request);
    let wasm = crate::support::wasm_report(&request);
    assert_eq!(native, wasm);
    assert!(
        native
            .findings
            .iter()
            .any(|f| f.code == "PCHAT-HA-001" && f.waived.is_some())
    );
    // A date the module cannot read is refused, not guessed.
    let mut request = serde_json::to_value(&request).unwrap_or_default();
    request["today"] = "2026-02-30".into();
    let response = crate::support::session()
        .check(&serde_json::to_vec(&request).unwrap_or_default())
        .unwrap_or_default();
    assert!(
        response.contains("\"status\":\"error\"") && response.contains("today"),
        "{response}"
    );
}
