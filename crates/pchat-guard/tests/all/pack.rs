//! The shipped policy pack: the catalogue's rules with its severities, a firing and a near-miss
//! test per rule, locations in JSON and YAML, the combined snapshot, generated docs, versions.

use std::collections::BTreeSet;

use pchat_guard::render::{self, RunReport};

use crate::support::{
    cli, files_in, native_report, outcome, request_for, root, shipped_bundle, wasm_report,
};

/// The rule catalogue of `shared/domain/persistent-chat-hadr.md`, with default severities,
/// plus PCHAT-DR-009 (failed over without a backup, split out of DR-007).
const CATALOGUE: &[(&str, &str)] = &[
    ("PCHAT-POOL-001", "error"),
    ("PCHAT-POOL-002", "error"),
    ("PCHAT-POOL-003", "error"),
    ("PCHAT-POOL-004", "error"),
    ("PCHAT-POOL-005", "error"),
    ("PCHAT-POOL-006", "error"),
    ("PCHAT-POOL-007", "error"),
    ("PCHAT-POOL-008", "error"),
    ("PCHAT-HA-001", "error"),
    ("PCHAT-HA-002", "info"),
    ("PCHAT-HA-003", "error"),
    ("PCHAT-HA-004", "error"),
    ("PCHAT-HA-005", "warning"),
    ("PCHAT-HA-006", "error"),
    ("PCHAT-DR-001", "error"),
    ("PCHAT-DR-002", "error"),
    ("PCHAT-DR-003", "error"),
    ("PCHAT-DR-004", "error"),
    ("PCHAT-DR-005", "error"),
    ("PCHAT-DR-006", "error"),
    ("PCHAT-DR-007", "error"),
    ("PCHAT-DR-008", "warning"),
    ("PCHAT-DR-009", "error"),
    ("PCHAT-CMP-001", "error"),
    ("PCHAT-CMP-002", "warning"),
    ("PCHAT-SQL-001", "error"),
    ("PCHAT-SQL-002", "warning"),
    ("PCHAT-FS-001", "error"),
    ("PCHAT-SITE-001", "warning"),
];

#[test]
fn rules_json_lists_the_catalogue_with_its_severities() {
    let (code, stdout, stderr) = outcome(&cli(&["rules", "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let rules: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap_or_default();
    let listed: BTreeSet<(String, String)> = rules
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_string(),
                r["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = CATALOGUE
        .iter()
        .map(|(i, s)| (i.to_string(), s.to_string()))
        .collect();
    assert_eq!(listed, expected);
    for rule in &rules {
        let doc = rule["doc"].as_str().unwrap_or_default();
        assert!(
            doc.contains("**Why it matters.**") && doc.contains("**How to fix.**"),
            "{}: doc lacks why/fix",
            rule["id"]
        );
        assert!(
            rule["facts"].as_array().is_some_and(|f| !f.is_empty()),
            "{}: no facts",
            rule["id"]
        );
    }
}

#[test]
fn every_rule_has_a_firing_and_a_near_miss_test() {
    let cases = files_in("policies/persistent-chat/tests", &["yaml", "json"]);
    for (id, _) in CATALOGUE {
        let mut fires = 0;
        let mut near_misses = 0;
        for case in &cases {
            let case = pchat_guard::policy::read_case(case).unwrap_or_else(|e| panic!("{e}"));
            let only = case.scope.iter().any(|c| c == id);
            let expects = case.expected.iter().any(|(code, _)| code == id);
            fires += usize::from(expects);
            near_misses += usize::from(only && !expects);
        }
        assert!(fires > 0, "{id}: no case where it fires");
        assert!(near_misses > 0, "{id}: no near miss");
    }
}

#[test]
fn rule_findings_carry_line_and_column_in_json_and_yaml() {
    let json = native_report(&request_for(
        &root().join("tests/fixtures/manifests/clean-minimal.json"),
    ));
    let finding = json
        .findings
        .iter()
        .find(|f| f.code == "PCHAT-HA-001")
        .unwrap_or_else(|| panic!("{:?}", json.findings));
    assert_eq!(finding.pointer, "/persistent_chat_pools/0/stores/chat");
    assert_eq!(
        (finding.location.start.line, finding.location.start.column),
        (76, 17)
    );
    // In YAML: the first instance of a reference topology on SQL Server 2014, which Lync
    // Server 2013 does not support: the finding is at the `version` value, line 68 column 14.
    let path = root().join("examples/topologies/stretched-low-bandwidth.yaml");
    let mut request = request_for(&path);
    request.source = request
        .source
        .replacen("version: '2012'", "version: '2014'", 1);
    let yaml = native_report(&request);
    let finding = yaml
        .findings
        .iter()
        .find(|f| f.code == "PCHAT-SQL-001")
        .unwrap_or_else(|| panic!("{:?}", yaml.findings));
    assert_eq!(finding.pointer, "/sql_instances/0/version");
    assert_eq!(
        (finding.location.start.line, finding.location.start.column),
        (68, 14)
    );
}

#[test]
fn everything_wrong_at_once() {
    let path = root().join("tests/fixtures/pack/everything-wrong.yaml");
    let request = request_for(&path);
    let report = native_report(&request);
    assert_eq!(report, wasm_report(&request));
    let codes: BTreeSet<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(codes.len() >= 10, "{codes:?}");
    let human = render::human(
        &RunReport::new(vec![report.clone()], 0),
        &[Some(request.source.clone())],
        false,
    );
    let mut settings = crate::support::snapshot_settings();
    settings.set_input_file(&path);
    settings.bind(|| {
        insta::assert_snapshot!("pack__everything-wrong.human", human);
        insta::assert_json_snapshot!("pack__everything-wrong.report", report);
    });
}

#[test]
fn docs_rules_md_is_generated_from_the_pack() {
    let generated = pchat_guard_lang::docs::rules_markdown(&shipped_bundle());
    let committed = std::fs::read_to_string(root().join("docs/rules.md")).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/rules.md is stale: run `cargo xtask codegen`"
    );
}

#[test]
fn version_names_the_module_and_the_pack_with_digests() {
    let (code, stdout, stderr) = outcome(&cli(&["--version"]));
    assert_eq!(code, 0, "{stderr}");
    let bundle_json = serde_json::to_string(&shipped_bundle()).unwrap_or_default();
    let digest = pchat_guard::module::digest(bundle_json.as_bytes());
    assert!(
        stdout.starts_with(&format!("pchat-guard {}\n", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "module sha256:{}",
            pchat_guard::module::digest(pchat_guard::module::MODULE)
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "pack persistent-chat {} sha256:{digest}",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );
}

#[test]
fn explain_prints_a_rule_and_suggests_on_typos() {
    let (code, stdout, _) = outcome(&cli(&["explain", "PCHAT-DR-004"]));
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with(
            "PCHAT-DR-004: The log-shipping share is complete\nseverity: error\npack: persistent-chat\nfacts:\n  F5: A file share, not a FileStore role, receives the log-shipping logs;"
        ),
        "{stdout}"
    );
    let (code, _, stderr) = outcome(&cli(&["explain", "PCHAT-DR-04"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("did you mean `PCHAT-DR-004`?"), "{stderr}");
}
