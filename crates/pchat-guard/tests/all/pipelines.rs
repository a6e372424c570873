//! CI platforms: GitLab code quality and Azure Pipelines formats, fingerprints and file digests
//! in the JSON report, several formats from one run, pipeline-side control of manifest waivers,
//! CRLF manifests, and the GitHub Action's check step run as the action runs it.

use std::process::Command;

use pchat_guard::render::RunReport;
use serde_json::Value;

use crate::support::{cli, native_report, outcome, request_for, root, scratch, snapshot_settings};

const TODAY: &str = "2026-11-26";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn validator(path: &str) -> jsonschema::Validator {
    let schema = json(&std::fs::read_to_string(root().join(path)).unwrap_or_default());
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Broken fixtures, a waived finding and an unreadable file, in one run.
const INPUTS: &[&str] = &[
    "tests/fixtures/manifests/dangling-ref-sql.json",
    "tests/fixtures/manifests/duplicate-ids.yaml",
    "tests/fixtures/manifests/malformed-tab.yaml",
    "tests/fixtures/waivers/waived.yaml",
    "tests/fixtures/pack/everything-wrong.yaml",
];

fn run(format: &str) -> (i32, String) {
    let mut args = vec!["check", "--today", TODAY, "--format", format];
    args.extend(INPUTS);
    let (code, stdout, _) = outcome(&cli(&args));
    (code, stdout)
}

#[test]
fn gitlab_code_quality_fits_the_format_and_leaves_waived_findings_out() {
    let (code, stdout) = run("gitlab");
    assert_eq!(code, 2, "a malformed input makes the run exit 2");
    let issues = json(&stdout);
    let problems = errors(
        &validator("tests/schemas/gitlab-code-quality.schema.json"),
        &issues,
    );
    assert!(problems.is_empty(), "{problems:#?}");
    let (_, report) = run("json");
    let report = json(&report);
    // One issue per finding that is not waived, with the report's fingerprint.
    let mut expected: Vec<(String, String)> = Vec::new();
    let mut waived = 0;
    for file in report["files"].as_array().into_iter().flatten() {
        for f in file["findings"].as_array().into_iter().flatten() {
            if f.get("waived").is_some() {
                waived += 1;
                continue;
            }
            expected.push((
                f["code"].as_str().unwrap_or_default().to_string(),
                f["fingerprint"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    assert!(waived > 0, "the inputs hold a waived finding");
    let got: Vec<(String, String)> = issues
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["check_name"].as_str().unwrap_or_default().to_string(),
                i["fingerprint"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let mut fingerprints: Vec<&String> = got.iter().map(|(_, f)| f).collect();
    fingerprints.sort();
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), got.len(), "fingerprints are unique");
    let severities: Vec<&str> = issues
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["severity"].as_str())
        .collect();
    assert!(severities.contains(&"critical") && severities.contains(&"major"));
    snapshot_settings().bind(|| insta::assert_snapshot!("pipelines__gitlab", stdout));
}

#[test]
fn azure_logging_commands_carry_file_line_column_and_code() {
    let (code, stdout) = run("azure");
    assert_eq!(code, 2);
    assert!(stdout.contains(
        "##vso[task.logissue type=error;sourcepath=tests/fixtures/manifests/dangling-ref-sql.json;linenumber="
    ));
    assert!(stdout.contains(";code=PCG-SYNTAX]"), "{stdout}");
    // A waived finding is a plain line, not an issue.
    assert!(
        stdout.contains("PCHAT-HA-001") && stdout.contains("(waived: "),
        "{stdout}"
    );
    snapshot_settings().bind(|| insta::assert_snapshot!("pipelines__azure", stdout));
}

#[test]
fn azure_escapes_what_would_end_or_split_a_logging_command() {
    let mut report = native_report(&request_for(
        &root().join("tests/fixtures/manifests/dangling-ref-sql.json"),
    ));
    report.path = "dir;x]/a%b.json".to_string();
    let finding = report
        .findings
        .first_mut()
        .unwrap_or_else(|| panic!("a finding"));
    finding.message = "100% broken;\r\nsecond line]".to_string();
    finding.help = None;
    finding.code = "X;Y]".to_string();
    let text = pchat_guard::formats::azure(&RunReport::new(vec![report], 0));
    let line = text.lines().next().unwrap_or_default();
    assert!(
        line.starts_with("##vso[task.logissue type=error;sourcepath=dir%3Bx%5D/a%AZP25b.json;"),
        "{line}"
    );
    assert!(line.contains(";code=X%3BY%5D]"), "{line}");
    assert!(
        line.ends_with("]100%AZP25 broken;%0D%0Asecond line]"),
        "{line}"
    );
}

#[test]
fn the_json_report_gives_fingerprints_as_baselines_do_and_each_files_digest() {
    let dir = scratch("pipelines-fingerprints");
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let baseline = dir.join("baseline.json");
    let file = "tests/fixtures/manifests/dangling-ref-sql.json";
    let (code, stdout, stderr) = outcome(&cli(&[
        "check",
        "--format",
        "json",
        "--write-baseline",
        &baseline.display().to_string(),
        file,
    ]));
    assert_eq!(code, 0, "{stderr}");
    let report = json(&stdout);
    let recorded = json(&std::fs::read_to_string(&baseline).unwrap_or_default());
    let mut in_report: Vec<&str> = report["files"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["fingerprint"].as_str())
        .collect();
    let mut in_baseline: Vec<&str> = recorded["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["fingerprint"].as_str())
        .collect();
    in_report.sort();
    in_baseline.sort();
    assert!(!in_report.is_empty());
    assert_eq!(in_report, in_baseline);
    let bytes = std::fs::read(root().join(file)).unwrap_or_default();
    assert_eq!(
        report["files"][0]["sha256"].as_str(),
        Some(pchat_guard_engine::report::sha256_hex(&bytes).as_str())
    );
    // The module gives the same fingerprints (Node and browsers get them too).
    let native = native_report(&request_for(&root().join(file)));
    assert!(native.findings.iter().all(|f| f.fingerprint.is_some()));
}

#[test]
fn one_run_writes_several_formats() {
    let dir = scratch("pipelines-outputs");
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let sarif = dir.join("out.sarif");
    let junit = dir.join("out.xml");
    let gitlab = dir.join("gl.json");
    let _ = std::fs::remove_file(&sarif);
    let (code, stdout, stderr) = outcome(&cli(&[
        "check",
        "--format",
        "github",
        "--output",
        &format!("sarif:{}", sarif.display()),
        "--output",
        &format!("junit:{}", junit.display()),
        "--output",
        &format!("gitlab:{}", gitlab.display()),
        "tests/fixtures/manifests/dangling-ref-sql.json",
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.starts_with("::error file="), "{stdout}");
    let sarif = json(&std::fs::read_to_string(&sarif).unwrap_or_default());
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap_or_default()
            .contains("<testsuites")
    );
    assert!(json(&std::fs::read_to_string(&gitlab).unwrap_or_default()).is_array());
    // A bad `--output` is refused before anything runs.
    let (code, _, stderr) = outcome(&cli(&[
        "check",
        "--output",
        "pdf:x.pdf",
        "tests/fixtures/manifests/clean-minimal.yaml",
    ]));
    assert_eq!(code, 2);
    assert!(stderr.contains("`pdf` is not a format"), "{stderr}");
}

#[test]
fn a_pipeline_can_ignore_the_waivers_written_in_manifests() {
    let file = "tests/fixtures/waivers/waived.yaml";
    let base = ["check", "--today", TODAY, "--format", "json"];
    let (_, stdout, _) = outcome(&cli(&[&base[..], &[file]].concat()));
    let waived = |report: &Value| {
        report["files"][0]["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f.get("waived").is_some())
            .count()
    };
    assert!(waived(&json(&stdout)) > 0, "the fixture waives something");
    let (code, stdout, _) = outcome(&cli(
        &[&base[..], &["--ignore-manifest-waivers", file]].concat()
    ));
    assert_eq!(code, 1, "the findings count again");
    let report = json(&stdout);
    assert_eq!(waived(&report), 0);
    let ignored: Vec<&Value> = report["files"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["code"] == "PCG-WAIVER-IGNORED")
        .collect();
    assert!(!ignored.is_empty());
    for note in ignored {
        assert_eq!(note["severity"], "info");
        assert!(
            note["pointer"]
                .as_str()
                .is_some_and(|p| p.starts_with("/waivers/"))
        );
    }
    // Waiver files given by the pipeline still apply.
    let waivers = scratch("pipelines-ignore").join("waivers.yaml");
    std::fs::create_dir_all(waivers.parent().unwrap_or(&root())).unwrap_or_default();
    std::fs::write(
        &waivers,
        "waivers:\n  - rule: PCHAT-HA-001\n    target: \"\"\n    reason: accepted by the pipeline\n",
    )
    .unwrap_or_default();
    let (_, stdout, _) = outcome(&cli(&[
        &base[..],
        &[
            "--ignore-manifest-waivers",
            "--waivers",
            &waivers.display().to_string(),
            file,
        ],
    ]
    .concat()));
    assert!(waived(&json(&stdout)) > 0, "{stdout}");
}

#[test]
fn crlf_manifests_give_the_lines_and_columns_of_lf_ones() {
    let dir = scratch("pipelines-crlf");
    std::fs::create_dir_all(&dir).unwrap_or_default();
    for fixture in [
        "tests/fixtures/manifests/dangling-ref-data-center.yaml",
        "tests/fixtures/manifests/schema-enum.yaml",
        "tests/fixtures/manifests/dangling-ref-sql.json",
    ] {
        let lf = std::fs::read_to_string(root().join(fixture)).unwrap_or_default();
        assert!(!lf.contains('\r'));
        let name = std::path::Path::new(fixture)
            .file_name()
            .unwrap_or_default();
        let crlf_path = dir.join(name);
        std::fs::write(&crlf_path, lf.replace('\n', "\r\n")).unwrap_or_default();
        let at = |path: &std::path::Path| {
            native_report(&request_for(path))
                .findings
                .iter()
                .map(|f| {
                    (
                        f.code.clone(),
                        f.pointer.clone(),
                        f.location.start.line,
                        f.location.start.column,
                        f.location.end.line,
                    )
                })
                .collect::<Vec<_>>()
        };
        let expected = at(&root().join(fixture));
        assert!(!expected.is_empty());
        assert_eq!(at(&crlf_path), expected, "{fixture}");
    }
}

/// The action's check step, run as `action.yml` runs it: the same script, the inputs as its
/// environment. The action itself must call this script with every input.
#[test]
fn the_github_action_check_step_runs_on_broken_and_clean_manifests() {
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap_or_default();
    let action = pchat_guard_engine::parse::parse_yaml(&action, &Default::default())
        .unwrap_or_else(|e| panic!("action.yml: {e:?}"))
        .to_json();
    let steps = action["runs"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let check = steps
        .iter()
        .find(|s| s["id"] == "check")
        .unwrap_or_else(|| panic!("no step `check` in action.yml"));
    assert!(
        check["run"]
            .as_str()
            .is_some_and(|r| r.contains("integrations/github/check.sh")),
        "{check}"
    );
    for (input, _) in action["inputs"].as_object().into_iter().flatten() {
        if input == "upload-sarif" {
            continue;
        }
        let variable = format!("INPUT_{}", input.to_uppercase().replace('-', "_"));
        assert_eq!(
            check["env"][&variable],
            format!("${{{{ inputs.{input} }}}}"),
            "input `{input}` is not passed to the check step"
        );
    }

    let dir = scratch("github-action");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let sarif_schema = validator("tests/fixtures/sarif/sarif-2.1.0.json");
    let step = |paths: &str, name: &str| {
        let sarif = dir.join(format!("{name}.sarif"));
        let outputs = dir.join(format!("{name}.out"));
        let output = Command::new("bash")
            .arg(root().join("integrations/github/check.sh"))
            .current_dir(root())
            .env("PCHAT_GUARD", env!("CARGO_BIN_EXE_pchat-guard"))
            .env("INPUT_PATHS", paths)
            .env("INPUT_FAIL_ON", "error")
            .env("INPUT_FORMAT", "github")
            .env("INPUT_SARIF_FILE", &sarif)
            .env("INPUT_WAIVERS", "")
            .env("INPUT_BASELINE", "")
            .env("INPUT_IGNORE_MANIFEST_WAIVERS", "false")
            .env("GITHUB_OUTPUT", &outputs)
            .env(
                "PCHAT_GUARD_CACHE_DIR",
                crate::support::scratch("cli-cache"),
            )
            .output()
            .unwrap_or_else(|e| panic!("bash: {e}"));
        let (code, stdout, stderr) = outcome(&output);
        let sarif = json(&std::fs::read_to_string(&sarif).unwrap_or_default());
        let problems = errors(&sarif_schema, &sarif);
        assert!(problems.is_empty(), "{name}: {problems:#?}");
        let written = std::fs::read_to_string(&outputs).unwrap_or_default();
        assert_eq!(written, format!("exit-code={code}\n"), "{stderr}");
        (code, stdout, sarif)
    };
    let (code, stdout, sarif) = step(
        "tests/fixtures/manifests/dangling-ref-sql.json\nexamples/topologies/stretched-high-bandwidth.yaml",
        "broken",
    );
    assert_eq!(code, 1);
    assert!(stdout.contains("::error file=tests/fixtures/manifests/dangling-ref-sql.json,line="));
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
    let (code, stdout, sarif) = step("examples/topologies/stretched-high-bandwidth.yaml", "clean");
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout, "");
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
}

/// The action's check step reads the repository's `pchat-guard.toml` (a team's extension pack
/// and `fail-on`), and an input given overrides it.
#[test]
fn the_github_action_reads_the_project_configuration() {
    let dir = scratch("github-action-config");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_default();
    std::fs::copy(
        root().join("examples/topologies/stretched-high-bandwidth.json"),
        dir.join("site.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let config = format!(
        "extend = [{:?}]\nfail-on = \"warning\"\n",
        root()
            .join("tests/fixtures/packs/acme")
            .display()
            .to_string()
    );
    std::fs::write(dir.join("pchat-guard.toml"), config).unwrap_or_else(|e| panic!("{e}"));
    let step = |fail_on: &str| {
        let output = Command::new("bash")
            .arg(root().join("integrations/github/check.sh"))
            .current_dir(&dir)
            .env("PCHAT_GUARD", env!("CARGO_BIN_EXE_pchat-guard"))
            .env("INPUT_PATHS", "site.json")
            .env("INPUT_FAIL_ON", fail_on)
            .env("INPUT_FORMAT", "github")
            .env(
                "PCHAT_GUARD_CACHE_DIR",
                crate::support::scratch("cli-cache"),
            )
            .env_remove("GITHUB_OUTPUT")
            .output()
            .unwrap_or_else(|e| panic!("bash: {e}"));
        outcome(&output)
    };
    let (code, stdout, stderr) = step("");
    assert_eq!(code, 1, "the configuration's fail-on: {stderr}");
    assert_eq!(
        stdout.matches("::warning file=site.json").count(),
        12,
        "{stdout}"
    );
    assert!(stdout.contains("title=ACME-SQL-001"), "{stdout}");
    let (code, _, stderr) = step("error");
    assert_eq!(code, 0, "the input overrides the configuration: {stderr}");
}
