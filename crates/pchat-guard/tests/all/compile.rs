//! `pchat-guard compile DIR -o FILE.wasm`: a self-contained module for a custom pack that runs
//! in wasmtime and Node through the same ABI, imports nothing, is reproducible, refuses a
//! damaged pack, and whose pack the allocator never overwrites.

use pchat_guard::host::{Host, HostOptions};
use pchat_guard::module::MODULE;
use pchat_guard_engine::{CheckRequest, Response};

use crate::support::{cli, outcome, root, scratch};

/// Compiles the custom rule into `dir/custom.wasm`; returns its bytes.
fn compile(dir: &std::path::Path) -> Vec<u8> {
    std::fs::create_dir_all(dir.join("rules")).unwrap_or_default();
    std::fs::write(
        dir.join("rules/custom.rules"),
        crate::support::custom_rule("error"),
    )
    .unwrap_or_default();
    let out = dir.join("custom.wasm");
    let (code, _, stderr) = outcome(&cli(&[
        "compile",
        &dir.join("rules").display().to_string(),
        "-o",
        &out.display().to_string(),
        "--pack-name",
        "custom",
        "--pack-version",
        "1.2.3",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("1 rules of pack `custom` 1.2.3"),
        "{stderr}"
    );
    std::fs::read(out).unwrap_or_default()
}

fn imports(bytes: &[u8]) -> usize {
    wasmparser::Parser::new(0)
        .parse_all(bytes)
        .filter_map(Result::ok)
        .map(|p| match p {
            wasmparser::Payload::ImportSection(r) => r.count() as usize,
            _ => 0,
        })
        .sum()
}

fn initial_pages(bytes: &[u8]) -> u64 {
    wasmparser::Parser::new(0)
        .parse_all(bytes)
        .filter_map(Result::ok)
        .find_map(|p| match p {
            wasmparser::Payload::MemorySection(r) => {
                r.into_iter().next().and_then(Result::ok).map(|m| m.initial)
            }
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn a_compiled_module_runs_its_own_pack_in_the_cli_and_imports_nothing() {
    let dir = scratch("compile-cli");
    let compiled = compile(&dir);
    assert_eq!(imports(&compiled), 0);
    assert!(
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&compiled)
            .is_ok()
    );
    assert_eq!(
        compile(&dir),
        compiled,
        "compiling twice gives the same bytes"
    );
    let module = dir.join("custom.wasm").display().to_string();
    let (code, stdout, stderr) = outcome(&cli(&[
        "check",
        "--format",
        "json",
        "--module",
        &module,
        "tests/fixtures/manifests/clean-minimal.yaml",
    ]));
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    let codes: Vec<&str> = report["files"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["CUSTOM-FS-001"], "only the custom pack runs");
    let (_, described, _) = outcome(&cli(&["describe", "--module", &module]));
    let described: serde_json::Value = serde_json::from_str(&described).unwrap_or_default();
    assert_eq!(described["pack"]["name"], "custom");
    assert_eq!(described["pack"]["version"], "1.2.3");
    assert!(
        described["pack"]["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:") && d.len() == 71)
    );
    // The embedded module still runs the shipped pack.
    let (_, shipped, _) = outcome(&cli(&["describe"]));
    let shipped: serde_json::Value = serde_json::from_str(&shipped).unwrap_or_default();
    assert_eq!(shipped["pack"]["name"], "persistent-chat");
}

#[test]
fn a_compiled_module_runs_in_node_through_glue_and_raw_abi() {
    let dir = scratch("compile-node");
    let compiled = compile(&dir);
    let pkg = dir.join("pkg");
    let (code, _, stderr) = outcome(&cli(&[
        "module",
        "--out",
        &dir.join("embedded.wasm").display().to_string(),
        "--js-out",
        &pkg.display().to_string(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(pkg.join("pchat_guard_bg.wasm"), &compiled).unwrap_or_default();
    let output = std::process::Command::new("node")
        .arg("examples/node/check.mjs")
        .arg(&pkg)
        .arg("tests/fixtures/manifests/clean-minimal.yaml")
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("Node.js is required for this test: {e}"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_default();
    assert_eq!(line["glue"], line["raw"]);
    assert_eq!(line["raw"]["findings"][0]["code"], "CUSTOM-FS-001");
    assert_eq!(line["raw"]["findings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_damaged_pack_is_refused_not_trusted() {
    let dir = scratch("compile-damaged");
    let mut compiled = compile(&dir);
    // The image starts at the old end of initial memory; its bytes sit in the last data segment
    // but one. Find its magic in the file and flip a payload byte.
    let at = compiled
        .windows(4)
        .rposition(|w| w == b"PCGI")
        .unwrap_or_else(|| panic!("no image in the module"));
    compiled[at + pchat_guard_engine::image::HEADER_LEN + 5] ^= 0x20;
    let path = dir.join("damaged.wasm");
    std::fs::write(&path, &compiled).unwrap_or_default();
    let (code, _, stderr) = outcome(&cli(&[
        "check",
        "--module",
        &path.display().to_string(),
        "tests/fixtures/manifests/clean-minimal.yaml",
    ]));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("damaged"), "{stderr}");
}

#[test]
fn the_allocator_never_overwrites_the_injected_pack() {
    let dir = scratch("compile-stress");
    let compiled = compile(&dir);
    let image_at = initial_pages(MODULE) * 65536;
    let host = Host::new(
        &compiled,
        HostOptions {
            cache_dir: None,
            ..HostOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut session = host.session().unwrap_or_else(|e| panic!("{e}"));
    let at = compiled
        .windows(4)
        .rposition(|w| w == b"PCGI")
        .unwrap_or_default();
    let len = pchat_guard_engine::image::HEADER_LEN + 400;
    let expected = compiled[at..at + len].to_vec();
    assert_eq!(
        session.read_memory(image_at as usize, len),
        Some(expected.clone()),
        "the image is where the locator says"
    );
    let mut text = String::from("{\"product\": \"lync2013\", \"data_centers\": [");
    for i in 0..3_000 {
        text.push_str(&format!(
            "{}{{\"id\": \"dc-{i}\", \"time_zone\": \"UTC\"}}",
            if i > 0 { "," } else { "" }
        ));
    }
    text.push_str("], \"persistent_chat_pools\": [{\"id\": \"p\", \"fqdn\": \"p.contoso.com\", \"site\": \"s\", \"pool_type\": \"multiple_computer\", \"next_hop\": \"fe\", \"servers\": [{\"fqdn\": \"a.contoso.com\", \"data_center\": \"dc-1\", \"active\": true}]}]}");
    for round in 0..40 {
        let request = CheckRequest {
            source: text.clone(),
            path: format!("big-{round}.json"),
            ..Default::default()
        };
        let response = session
            .check(&serde_json::to_vec(&request).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        match serde_json::from_str::<Response>(&response) {
            Ok(Response::Ok { report }) => {
                assert!(report.findings.iter().any(|f| f.code == "CUSTOM-FS-001"))
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        session.read_memory(image_at as usize, len),
        Some(expected),
        "the allocator wrote over the pack"
    );
}

#[test]
fn a_pack_loaded_once_runs_for_every_later_check_until_unloaded() {
    let compiled = pchat_guard_lang::compile(
        "custom",
        "2.0.0",
        &[pchat_guard_lang::Source {
            path: "custom.rules".into(),
            text: crate::support::custom_rule("error"),
        }],
    );
    let bundle = serde_json::to_vec(&compiled.bundle).unwrap_or_default();
    let mut session = crate::support::host()
        .session()
        .unwrap_or_else(|e| panic!("{e}"));
    let loaded = session
        .load_bundle(&bundle)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.pack.map(|p| p.name).as_deref(), Some("custom"));
    assert_eq!(loaded.rules.len(), 1);
    assert_eq!(session.describe().map(|d| d.rules.len()).ok(), Some(1));
    // Two requests without a bundle: both run the loaded pack, not the shipped one.
    // The minimal manifest's pool names no file store: the custom rule fires on it.
    let manifest = pchat_guard_engine::parse::parse_yaml(
        &crate::support::clean_minimal_manifest(),
        &pchat_guard_engine::Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{e:?}"))
    .to_json();
    let codes = |session: &mut pchat_guard::host::Session| {
        let request = CheckRequest {
            source: manifest.to_string(),
            path: "t.json".to_string(),
            ..CheckRequest::default()
        };
        let response = session
            .check(&serde_json::to_vec(&request).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        match serde_json::from_str(&response) {
            Ok(Response::Ok { report }) => report
                .findings
                .into_iter()
                .map(|f| f.code)
                .filter(|c| !c.starts_with("PCG-"))
                .collect::<Vec<_>>(),
            other => panic!("{other:?}: {response}"),
        }
    };
    assert_eq!(codes(&mut session), ["CUSTOM-FS-001"]);
    assert_eq!(codes(&mut session), ["CUSTOM-FS-001"]);
    // An empty pack text goes back to the module's own pack.
    let shipped = session.load_bundle(b"").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(shipped.rules.len(), 29);
    assert!(!codes(&mut session).contains(&"CUSTOM-FS-001".to_string()));
    // A pack the module cannot run is refused with its reason, and the instance keeps its pack.
    let mut old = serde_json::to_value(&compiled.bundle).unwrap_or_default();
    old["format_version"] = 1.into();
    match session.load_bundle(&serde_json::to_vec(&old).unwrap_or_default()) {
        Err(pchat_guard::host::HostError::Failure(message)) => {
            assert!(message.contains("IR format version 1"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(session.describe().map(|d| d.rules.len()).ok(), Some(29));
}
