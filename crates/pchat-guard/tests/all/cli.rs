//! The command line as users run it: exit codes, output formats, inputs, cache and limits.

use crate::support::{cli, cli_with_stdin, files_in, outcome, relative, scratch};

#[test]
fn reference_topologies_exit_zero() {
    for path in files_in("examples/topologies", &["json", "yaml"]) {
        let (code, stdout, stderr) = outcome(&cli(&["check", &relative(&path)]));
        assert_eq!(code, 0, "{}: {stdout}{stderr}", relative(&path));
        assert!(stdout.contains("1 file checked: no findings"), "{stdout}");
    }
}

#[test]
fn broken_fixtures_exit_one_or_two_with_line_and_column() {
    for path in files_in("tests/fixtures/manifests", &["json", "yaml"]) {
        let name = relative(&path);
        let (code, stdout, _) = outcome(&cli(&["check", "--format", "json", &name]));
        // Clean fixtures are structurally clean; whether rules of the pack fire on them is
        // the pack's business (the reference topologies must exit 0, tested above).
        let expected = if name.contains("/clean-") {
            code.min(1)
        } else if name.contains("/malformed-") {
            2
        } else {
            1
        };
        assert_eq!(code, expected, "{name}");
        let report: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{name}: {e}"));
        for finding in report["files"][0]["findings"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert!(
                finding["location"]["start"]["line"].as_u64() > Some(1),
                "{name}: {finding}"
            );
            assert!(
                finding["location"]["start"]["column"].as_u64() >= Some(1),
                "{name}: {finding}"
            );
        }
    }
}

#[test]
fn several_files_make_one_report_and_the_worst_exit_code() {
    let (code, stdout, _) = outcome(&cli(&[
        "check",
        "--format",
        "json",
        "examples/topologies/stretched-low-bandwidth.yaml",
        "tests/fixtures/manifests/dangling-ref-sql.json",
        "tests/fixtures/manifests/malformed-tab.yaml",
        "does/not/exist.yaml",
    ]));
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    assert_eq!(report["summary"]["files"], 4);
    assert_eq!(report["summary"]["checked"], 2);
    // Sorted by path; the unreadable file is reported and the others still checked.
    assert_eq!(report["files"][0]["path"], "does/not/exist.yaml");
    let unreadable = first_with_code(&report["files"][0], "PCG-UNREADABLE");
    assert!(
        unreadable["message"]
            .as_str()
            .is_some_and(|m| m.contains("no such file"))
    );
    let dangling = first_with_code(&report["files"][2], "PCG-DANGLING-REF");
    assert_eq!(dangling["location"]["start"]["line"], 78);
}

#[test]
fn fail_on_sets_the_threshold() {
    let file = "tests/fixtures/manifests/schema-enum.yaml";
    assert_eq!(outcome(&cli(&["check", file])).0, 1);
    assert_eq!(outcome(&cli(&["check", "--fail-on", "never", file])).0, 0);
    // Never does not hide a file that could not be checked.
    assert_eq!(
        outcome(&cli(&[
            "check",
            "--fail-on",
            "never",
            "tests/fixtures/manifests/malformed-tab.yaml"
        ]))
        .0,
        2
    );
}

#[test]
fn standard_input_is_read_with_its_given_name() {
    let text =
        std::fs::read(crate::support::root().join("tests/fixtures/manifests/schema-enum.yaml"))
            .unwrap_or_default();
    let (code, stdout, _) = outcome(&cli_with_stdin(
        &["check", "--stdin-filename", "piped/topology.yaml", "-"],
        Some(&text),
    ));
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("--> piped/topology.yaml:36:14"), "{stdout}");
    let (code, stdout, _) = outcome(&cli_with_stdin(
        &["check", "--input-format", "yaml", "-"],
        Some(&text),
    ));
    assert_eq!(code, 1);
    assert!(stdout.contains("--> <stdin>:36:14"), "{stdout}");
}

#[test]
fn unreadable_inputs_are_one_clear_line_and_exit_two() {
    let dir = scratch("unreadable");
    let not_utf8 = dir.join("latin1.json");
    std::fs::write(&not_utf8, b"{\n  \"name\": \"caf\xe9\"\n}\n").unwrap_or_default();
    let empty = dir.join("empty.yaml");
    std::fs::write(&empty, b"").unwrap_or_default();
    let cases = [
        (
            "does/not/exist.json".to_string(),
            "cannot read `does/not/exist.json`: no such file or directory",
        ),
        (
            "crates/pchat-guard/src".to_string(),
            "`crates/pchat-guard/src` holds no manifest",
        ),
        (
            not_utf8.display().to_string(),
            "is not UTF-8 text: invalid byte at line 2, column 15",
        ),
        (empty.display().to_string(), "the file is empty"),
    ];
    for (path, message) in cases {
        let (code, stdout, stderr) = outcome(&cli(&["check", &path]));
        assert_eq!(code, 2, "{path}: {stdout}{stderr}");
        let first = stdout.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error[PCG-") && first.contains(message),
            "{path}: {stdout}"
        );
    }
}

#[test]
fn bad_arguments_exit_two() {
    assert_eq!(outcome(&cli(&["check"])).0, 2);
    assert_eq!(outcome(&cli(&["check", "--format", "xml", "x.json"])).0, 2);
    assert_eq!(outcome(&cli(&["check", "-", "-"])).0, 2);
    let (code, _, stderr) = outcome(&cli(&[
        "check",
        "--today",
        "2026-02-30",
        "examples/topologies/stretched-high-bandwidth.yaml",
    ]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`2026-02-30` is not a day of that month"),
        "{stderr}"
    );
    let (code, stdout, _) = outcome(&cli(&[
        "check",
        "--baseline",
        "does/not/exist.json",
        "examples/topologies/stretched-high-bandwidth.yaml",
    ]));
    assert_eq!(code, 2);
    assert!(
        stdout.contains("cannot read `does/not/exist.json`"),
        "{stdout}"
    );
}

#[test]
fn the_json_report_is_alone_on_stdout() {
    let (code, stdout, _) = outcome(&cli(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/manifests/duplicate-key.yaml",
    ]));
    assert_eq!(code, 1);
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON alone: {e}\n{stdout}"));
    assert_eq!(report["tool"]["name"], "pchat-guard");
    let duplicate = first_with_code(&report["files"][0], "PCG-DUPLICATE-KEY");
    assert_eq!(duplicate["related"]["start"]["line"], 41);
}

#[test]
fn colour_follows_the_flag() {
    let file = "tests/fixtures/manifests/schema-enum.yaml";
    let (_, plain, _) = outcome(&cli(&["check", file]));
    assert!(!plain.contains('\u{1b}'), "piped output must be plain");
    let (_, coloured, _) = outcome(&cli(&["check", "--color", "always", file]));
    assert!(coloured.contains('\u{1b}'), "--color always must colour");
}

#[test]
fn the_precompiled_cache_is_written_then_used_and_an_unwritable_one_is_not_fatal() {
    let cache = scratch("fresh-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let file = "examples/topologies/stretched-high-bandwidth.json";
    let run = |cache_dir: &std::path::Path| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_pchat-guard"))
            .args(["check", file])
            .current_dir(crate::support::root())
            .env("PCHAT_GUARD_CACHE_DIR", cache_dir)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        outcome(&output).0
    };
    assert_eq!(run(&cache), 0);
    let cached: Vec<_> = std::fs::read_dir(&cache)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(cached.len(), 1, "one precompiled module expected");
    let entries = std::fs::read_dir(&cache).map(Iterator::count).unwrap_or(0);
    assert_eq!(entries, 2, "the module and its digest");
    let name = cached[0].file_name().to_string_lossy().into_owned();
    assert!(
        name.ends_with(".cwasm") && name.contains("-wasmtime48.0.8-"),
        "{name}"
    );
    assert_eq!(run(&cache), 0);
    // A cache directory that cannot be created (a file is in the way) falls back to memory.
    let blocker = scratch("blocked").join("file");
    std::fs::write(&blocker, b"x").unwrap_or_default();
    assert_eq!(run(&blocker.join("cache")), 0);
    // A damaged cache file is replaced, not trusted.
    std::fs::write(cached[0].path(), b"not a module").unwrap_or_default();
    assert_eq!(run(&cache), 0);
}

#[test]
fn limits_stop_the_module_with_exit_three_and_name_the_limit() {
    let file = "examples/topologies/stretched-high-bandwidth.json";
    let (code, _, stderr) = outcome(&cli(&["check", "--max-fuel", "10000", file]));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("fuel limit"), "{stderr}");
    let big = scratch("limits").join("big.json");
    let mut text = String::from("{\"product\": \"lync2013\", \"data_centers\": [");
    // Large enough to pass 24 MiB with a margin: 60,000 fitted once the id index stopped
    // keeping a pointer string per id.
    for i in 0..120_000 {
        text.push_str(&format!(
            "{}{{\"id\": \"dc-{i}\", \"time_zone\": \"UTC\"}}",
            if i > 0 { "," } else { "" }
        ));
    }
    text.push_str("], \"persistent_chat_pools\": []}");
    std::fs::write(&big, text).unwrap_or_default();
    let (code, _, stderr) = outcome(&cli(&[
        "check",
        "--max-memory-mib",
        "24",
        &big.display().to_string(),
    ]));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("memory limit"), "{stderr}");
}

#[test]
fn schema_and_describe_print_json() {
    let (code, stdout, _) = outcome(&cli(&["schema"]));
    assert_eq!(code, 0);
    let schema: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    // Every file pchat-guard reads or writes has its schema, and examples fit theirs.
    let baseline = crate::support::scratch("schema-baseline").join("baseline.json");
    let (code, _, stderr) = outcome(&cli(&[
        "check",
        "--write-baseline",
        &baseline.display().to_string(),
        "tests/fixtures/waivers/waived.yaml",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let baseline = baseline.display().to_string();
    for (kind, example) in [
        (
            "topology",
            "examples/topologies/stretched-high-bandwidth.yaml",
        ),
        ("waivers", "tests/fixtures/waivers/team-waivers.yaml"),
        ("baseline", baseline.as_str()),
        ("report", ""),
    ] {
        let (code, stdout, stderr) = outcome(&cli(&["schema", kind]));
        assert_eq!(code, 0, "{stderr}");
        let schema: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
        assert!(
            schema["$id"]
                .as_str()
                .is_some_and(|id| id.ends_with(&format!("/{kind}.schema.json"))),
            "{kind}: {stdout}"
        );
        if example.is_empty() {
            continue;
        }
        let text =
            std::fs::read_to_string(crate::support::root().join(example)).unwrap_or_default();
        let node = pchat_guard_engine::parse::parse_yaml(&text, &Default::default())
            .unwrap_or_else(|e| panic!("{example}: {e:?}"));
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
        let errors: Vec<String> = validator
            .iter_errors(&node.to_json())
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{example}: {errors:?}");
    }
    let (code, stdout, _) = outcome(&cli(&["describe"]));
    assert_eq!(code, 0);
    let described: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    assert_eq!(described["abi_version"], 3);
    // The description does not carry the schema (`schema` prints it; the module exports it).
    assert!(described.get("schema").is_none(), "{stdout}");
    assert!(described["codes"].as_array().is_some_and(|c| c.len() >= 15));
    assert_eq!(described["rules"].as_array().map(Vec::len), Some(29));
}

/// The first finding of a file report with the given code.
fn first_with_code(file: &serde_json::Value, code: &str) -> serde_json::Value {
    file["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == code).cloned())
        .unwrap_or_else(|| panic!("no {code} finding in {file}"))
}

#[test]
fn an_unreadable_module_is_exit_two_in_every_command() {
    let missing = "target/no-such-module.wasm";
    let topology = "examples/topologies/stretched-low-bandwidth.yaml";
    for args in [
        vec!["check", "--module", missing, topology],
        vec!["rules", "--module", missing],
        vec!["explain", "PCHAT-HA-001", "--module", missing],
        vec!["describe", "--module", missing],
    ] {
        let (code, stdout, stderr) = outcome(&cli(&args));
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains("cannot read `target/no-such-module.wasm`"),
            "{args:?}: {stderr}"
        );
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_cli_is_a_fixed_address_executable_on_linux() {
    // The ELF header's e_type (bytes 16-17): 2 is a fixed-address executable, 3 a
    // position-independent one, whose every start the loader spends relocating pointers.
    use std::io::Read;
    let mut header = [0u8; 18];
    std::fs::File::open(env!("CARGO_BIN_EXE_pchat-guard"))
        .and_then(|mut f| f.read_exact(&mut header))
        .unwrap_or_else(|e| panic!("cannot read the CLI's ELF header: {e}"));
    assert_eq!(&header[..4], b"\x7fELF");
    let pie = option_env!("PCHAT_GUARD_PIE").is_some_and(|v| !v.is_empty() && v != "0");
    let e_type = u16::from_le_bytes([header[16], header[17]]);
    assert_eq!(
        e_type,
        if pie { 3 } else { 2 },
        "PCHAT_GUARD_PIE={:?}",
        option_env!("PCHAT_GUARD_PIE")
    );
}
