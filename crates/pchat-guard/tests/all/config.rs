//! The project configuration (`pchat-guard.toml`, `[tool.pchat-guard]` in `pyproject.toml`)
//! and packs beside the shipped one (`--extend`, `facts.toml`), as a platform team uses them.

use std::path::{Path, PathBuf};

use crate::support::{root, scratch};

/// Runs the CLI in `dir` (so that it finds that directory's configuration).
fn cli_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    crate::support::cli_in(dir, &scratch("cli-cache"), args)
}

fn acme() -> PathBuf {
    root().join("tests/fixtures/packs/acme")
}

/// A project folder: `topologies/` with a clean reference topology and a broken draft, and the
/// given configuration.
fn project(name: &str, config_name: &str, config: &str) -> PathBuf {
    let dir = scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("topologies/drafts")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap_or_else(|e| panic!("{e}"));
    let reference =
        std::fs::read_to_string(root().join("examples/topologies/stretched-high-bandwidth.yaml"))
            .unwrap_or_default()
            .replace("$schema: ../../schemas/topology.schema.json\n", "");
    std::fs::write(dir.join("topologies/site.yaml"), reference).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(
        root().join("tests/fixtures/manifests/dangling-ref-sql.json"),
        dir.join("topologies/drafts/draft.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join(config_name), config).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn codes(json: &str) -> Vec<String> {
    let report: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["findings"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect()
}

/// Done when: a team's rule with its own fact beside the shipped pack, configured once, runs
/// with no flags in the CLI and in a module from `compile`.
#[test]
fn one_configuration_runs_the_teams_rules_beside_the_shipped_pack() {
    let config = format!(
        "extend = [{:?}]\nformat = \"json\"\nfail-on = \"warning\"\nexclude = [\"**/drafts/**\"]\n",
        acme().display().to_string()
    );
    let dir = project("config-done-when", "pchat-guard.toml", &config);
    let (code, stdout, stderr) = cli_in(&dir, &["check", "topologies"]);
    assert_eq!(code, 1, "warnings fail the run: {stderr}");
    let found = codes(&stdout);
    assert_eq!(
        found.iter().filter(|c| *c == "ACME-SQL-001").count(),
        12,
        "{found:?}"
    );
    assert!(!stdout.contains("draft.json"), "the draft is excluded");
    // The command line wins over the file.
    let (code, stdout, _) = cli_in(
        &dir,
        &[
            "check",
            "--fail-on",
            "error",
            "--format",
            "github",
            "topologies",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("::warning file=topologies/site.yaml"),
        "{stdout}"
    );
    // From a subdirectory the same file is found, and its paths still resolve.
    let (code, stdout, stderr) = cli_in(&dir.join("sub/deeper"), &["check", "../../topologies"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(codes(&stdout).len(), 12);
    // --no-config: the shipped pack alone, human output, the draft checked.
    let (code, stdout, _) = cli_in(&dir, &["--no-config", "check", "topologies"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("2 files checked") && !stdout.contains("ACME-"),
        "{stdout}"
    );

    // A module from `compile` (no DIR: the configured extension on the shipped pack).
    let module = dir.join("team.wasm");
    let (code, _, stderr) = cli_in(&dir, &["compile", "-o", &module.to_string_lossy()]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = cli_in(
        &dir,
        &[
            "--no-config",
            "check",
            "--format",
            "json",
            "--module",
            &module.to_string_lossy(),
            "topologies/site.yaml",
        ],
    );
    assert_eq!(code, 0, "warnings do not fail without the configuration");
    assert_eq!(
        codes(&stdout)
            .iter()
            .filter(|c| *c == "ACME-SQL-001")
            .count(),
        12
    );
    let (_, described, _) = cli_in(&dir, &["describe", "--module", &module.to_string_lossy()]);
    let described: serde_json::Value = serde_json::from_str(&described).unwrap_or_default();
    let packs: Vec<&str> = described["packs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(packs, ["persistent-chat", "acme"]);
    let fact = described["facts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["id"] == "ACME1")
        .cloned();
    assert_eq!(
        fact.map(|f| f["url"].clone()),
        Some(serde_json::json!(
            "https://wiki.acme.example/standards/sql-hosts"
        ))
    );
}

#[test]
fn a_configuration_that_sets_every_key() {
    let file = root().join("tests/fixtures/config/every-key.toml");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    // The schema for editors knows every key and accepts the file.
    let schema: serde_json::Value =
        serde_json::from_str(pchat_guard::config::SCHEMA).unwrap_or_else(|e| panic!("{e}"));
    let mut keys: Vec<&str> = schema["properties"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut known = pchat_guard::config::KEYS.to_vec();
    keys.sort_unstable();
    known.sort_unstable();
    assert_eq!(
        keys, known,
        "schemas/config.schema.json and the keys the CLI reads differ"
    );
    let as_json: serde_json::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
    assert!(validator.is_valid(&as_json));
    assert!(!validator.is_valid(&serde_json::json!({"fial-on": "error"})));
    // `config` shows each key with its line.
    let (code, stdout, stderr) = cli_in(&root(), &["--config", &file.to_string_lossy(), "config"]);
    assert_eq!(code, 0, "{stderr}");
    for (n, key) in pchat_guard::config::KEYS.iter().enumerate() {
        assert!(stdout.contains(&format!("{key} = ")), "{key}: {stdout}");
        assert!(
            stdout.contains(&format!("every-key.toml:{}\n", n + 2)),
            "{key} on line {}: {stdout}",
            n + 2
        );
    }
    assert!(!stdout.contains("defaults:"), "{stdout}");
    // And it is applied: paths from the file's directory, limits, formats.
    let loaded = pchat_guard::config::load(&file, &root()).unwrap_or_else(|e| panic!("{e}"));
    let mut args = pchat_guard::commands::check::CheckArgs {
        files: vec!["x.yaml".to_string()],
        format: pchat_guard::commands::check::Format::Human,
        outputs: Vec::new(),
        input_format: None,
        stdin_filename: None,
        fail_on: pchat_guard::commands::check::FailOn::Error,
        color: pchat_guard::commands::check::Color::Never,
        packs: pchat_guard::commands::PackArgs::default(),
        waivers: Vec::new(),
        ignore_manifest_waivers: true,
        today: None,
        baseline: None,
        write_baseline: None,
        host: pchat_guard::commands::HostArgs::default(),
        config: None,
    };
    loaded.apply_check(&mut args, &|id| id == "format");
    assert!(
        matches!(args.format, pchat_guard::commands::check::Format::Human),
        "given on the command line"
    );
    assert!(matches!(
        args.fail_on,
        pchat_guard::commands::check::FailOn::Warning
    ));
    let base = std::fs::canonicalize(root().join("tests/fixtures/config")).unwrap_or_default();
    assert_eq!(args.packs.extend, [base.join("../packs/acme")]);
    assert_eq!(
        args.waivers,
        [base
            .join("../waivers/team-waivers.yaml")
            .display()
            .to_string()]
    );
    assert_eq!(
        args.baseline,
        Some(base.join("baseline.json").display().to_string())
    );
    assert_eq!(args.outputs.len(), 1);
    assert!(!args.ignore_manifest_waivers);
    assert_eq!(
        (
            args.host.max_fuel,
            args.host.max_memory_mib,
            args.host.no_cache
        ),
        (60_000_000_000, 512, true)
    );
}

#[test]
fn broken_configurations_are_located_and_exit_two() {
    for (name, file, text, expected) in [
        (
            "config-unknown-key",
            "pchat-guard.toml",
            "extend = []\nfial-on = \"error\"\n",
            "pchat-guard.toml:2:1: unknown key `fial-on`; did you mean `fail-on`?",
        ),
        (
            "config-bad-value",
            "pchat-guard.toml",
            "format = \"xml\"\n",
            "pchat-guard.toml:1:10: `xml` is not a format",
        ),
        (
            "config-bad-type",
            "pchat-guard.toml",
            "extend = \"rules\"\n",
            "pchat-guard.toml:1:10: invalid type",
        ),
        (
            "config-not-toml",
            "pchat-guard.toml",
            "extend = [\n",
            "pchat-guard.toml:1:",
        ),
        (
            "config-bad-glob",
            "pchat-guard.toml",
            "exclude = [\"a[\"]\n",
            "is not a glob",
        ),
        (
            "config-pyproject",
            "pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.pchat-guard]\nextnd = []\n",
            "pyproject.toml:5:1: unknown key `extnd`; did you mean `extend`?",
        ),
    ] {
        let dir = project(name, file, text);
        let (code, stdout, stderr) = cli_in(&dir, &["check", "topologies"]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        // --no-config sidesteps it; commands that need no configuration do not read it.
        let (code, _, _) = cli_in(&dir, &["--no-config", "check", "topologies/site.yaml"]);
        assert_eq!(code, 0, "{name}");
        let (code, _, _) = cli_in(&dir, &["schema"]);
        assert_eq!(code, 0, "{name}");
    }
    // A pyproject.toml without the table is not a configuration: the search goes on above it.
    let dir = project(
        "config-pyproject-other",
        "pyproject.toml",
        "[project]\nname = \"x\"\n",
    );
    let (code, stdout, _) = cli_in(&dir, &["config"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("no configuration file") || stdout.contains("configuration:"),
        "{stdout}"
    );
    // --config names a file that does not exist.
    let (code, _, stderr) = cli_in(&dir, &["--config", "nope.toml", "check", "topologies"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read `nope.toml`"), "{stderr}");
}

#[test]
fn include_globs_pick_the_manifests_of_directories() {
    let dir = project(
        "config-include",
        "pchat-guard.toml",
        "include = [\"topologies/drafts/*.json\"]\n",
    );
    let (code, stdout, _) = cli_in(&dir, &["check", "--format", "json", "topologies"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    let paths: Vec<&str> = report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(paths, ["topologies/drafts/draft.json"]);
    // A file named on the command line is always checked.
    let (code, stdout, _) = cli_in(&dir, &["check", "topologies/site.yaml"]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn extension_packs_test_with_coverage_per_pack_and_refuse_clashes() {
    let dir = acme().to_string_lossy().into_owned();
    let (code, stdout, stderr) = cli_in(&root(), &["test", "--extend", &dir, "--threshold", "100"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("coverage of pack acme: rules 2/2 (100.0%)"),
        "{stdout}"
    );
    assert!(stdout.contains("3 passed, 0 failed"), "{stdout}");
    // rules and explain see both packs; explain shows the facts' titles and URLs.
    let (_, rules, _) = cli_in(&root(), &["rules", "--extend", &dir]);
    assert!(
        rules.contains("ACME-SQL-001") && rules.contains("PCHAT-HA-001"),
        "{rules}"
    );
    let (code, explained, _) = cli_in(&root(), &["explain", "ACME-SQL-001", "--extend", &dir]);
    assert_eq!(code, 0);
    assert!(explained.contains("pack: acme"), "{explained}");
    assert!(
        explained
            .contains("ACME1: ACME's SQL Server hosts live in the sql.acme.example DNS domain"),
        "{explained}"
    );
    assert!(
        explained.contains("https://wiki.acme.example/standards/sql-hosts"),
        "{explained}"
    );
    let (_, shipped, _) = cli_in(&root(), &["explain", "PCHAT-POOL-007"]);
    assert!(
        shipped.contains("F7: Active Persistent Chat servers are in the same time zone"),
        "{shipped}"
    );

    // A clash of ids names both files.
    let clash = scratch("pack-clash");
    std::fs::write(
        clash.join("clash.rules"),
        std::fs::read_to_string(acme().join("acme.rules"))
            .unwrap_or_default()
            .replace("ACME-SQL-001", "PCHAT-HA-001"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(acme().join("facts.toml"), clash.join("facts.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let (code, _, stderr) = cli_in(
        &root(),
        &[
            "check",
            "--extend",
            &clash.to_string_lossy(),
            "examples/topologies/stretched-high-bandwidth.yaml",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "rule id `PCHAT-HA-001` is defined twice: in `policies/persistent-chat/ha.rules`"
        ) && stderr.contains("clash.rules"),
        "{stderr}"
    );
    // Two extensions at once, and the same one twice (a clash with itself).
    let (code, _, stderr) = cli_in(&root(), &["rules", "--extend", &dir, "--extend", &dir]);
    assert_eq!(code, 2);
    assert!(stderr.contains("rule id `ACME-"), "{stderr}");
}

#[test]
fn facts_must_be_declared_and_facts_files_are_checked() {
    let dir = scratch("pack-facts");
    let rules = std::fs::read_to_string(acme().join("acme.rules")).unwrap_or_default();
    std::fs::write(
        dir.join("acme.rules"),
        rules.replace("facts ACME1", "facts ACME9"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(acme().join("facts.toml"), dir.join("facts.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let shown = dir.to_string_lossy().into_owned();
    let (code, _, stderr) = cli_in(&root(), &["rules", "--extend", &shown]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "error[PCL009]: rule `ACME-SQL-001` cites `ACME9`, which no `facts.toml` declares"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean `ACME1`?") || stderr.contains("did you mean `ACME2`?"),
        "{stderr}"
    );

    std::fs::write(dir.join("acme.rules"), &rules).unwrap_or_else(|e| panic!("{e}"));
    for (facts, expected) in [
        (
            "[ACME1]\ntitl = \"x\"\n",
            "facts.toml:2: fact `ACME1` has an unknown key `titl`; did you mean `title`?",
        ),
        (
            "[ACME1]\nurl = \"https://x\"\n",
            "facts.toml:1: fact `ACME1` needs a `title`",
        ),
        (
            "[ACME1]\ntitle = \"x\"\nurl = \"ftp://x\"\n",
            "facts.toml:3: the `url` of fact `ACME1` must be an http(s) URL",
        ),
        ("[acme1]\ntitle = \"x\"\n", "`acme1` is not a fact id"),
        (
            "[F7]\ntitle = \"mine\"\n",
            "fact `F7` is already declared, differently",
        ),
        ("[ACME1\n", "facts.toml:1:"),
    ] {
        std::fs::write(dir.join("facts.toml"), facts).unwrap_or_else(|e| panic!("{e}"));
        let (code, _, stderr) = cli_in(&root(), &["rules", "--extend", &shown]);
        assert_eq!(code, 2, "{facts}");
        assert!(stderr.contains(expected), "{facts}: {stderr}");
    }
}
