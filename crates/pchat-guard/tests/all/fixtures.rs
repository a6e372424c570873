//! Every manifest fixture and reference topology: its JSON report and human rendering are
//! snapshotted, and the WebAssembly module in wasmtime must give the very same report as the
//! native engine. A fixture without a snapshot fails (under CI insta writes nothing).

use pchat_guard::render::{self, RunReport};

use crate::support::{
    files_in, native_report, relative, request_for, root, snapshot_settings, wasm_report,
};

/// Snapshots every manifest of `folder` and compares native and wasm reports. Through insta's
/// `glob!`, a failing file does not hide the others: every snapshot mismatch and every host
/// disagreement is reported before the test fails.
fn check_folder(folder: &str, prefix: &str) {
    let mut disagreements = Vec::new();
    let outer = snapshot_settings();
    outer.bind(|| {
        insta::glob!(
            format!("../../../../{folder}"),
            "*.{json,yaml,yml}",
            |path| {
                let request = request_for(path);
                let native = native_report(&request);
                let wasm = wasm_report(&request);
                if native != wasm {
                    disagreements.push(relative(path));
                }
                let name = format!(
                    "{prefix}__{}",
                    path.file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or_default()
                );
                let run = RunReport::new(vec![native.clone()], 0);
                let human = render::human(&run, &[Some(request.source.clone())], false);
                // The file is in the snapshot's name already: no `@file` suffix.
                let mut settings = insta::Settings::clone_current();
                settings.remove_snapshot_suffix();
                settings.bind(|| {
                    insta::assert_json_snapshot!(format!("{name}.report"), native);
                    insta::assert_snapshot!(format!("{name}.human"), human);
                });
            }
        );
    });
    assert!(
        disagreements.is_empty(),
        "native and wasm reports differ: {disagreements:?}"
    );
}

#[test]
fn reference_topologies_check_clean_natively_and_in_wasm() {
    for path in files_in("examples/topologies", &["json", "yaml"]) {
        let report = wasm_report(&request_for(&path));
        assert!(report.checked, "{} was not checked", relative(&path));
        assert_eq!(report.findings, vec![], "{} has findings", relative(&path));
    }
    check_folder("examples/topologies", "topologies");
}

#[test]
fn broken_manifests_are_located_and_agree_across_hosts() {
    check_folder("tests/fixtures/manifests", "manifests");
}

#[test]
fn every_broken_fixture_has_a_located_finding_and_clean_ones_none() {
    for path in files_in("tests/fixtures/manifests", &["json", "yaml"]) {
        let name = relative(&path);
        let report = native_report(&request_for(&path));
        // Rule findings (PCHAT-*) are the policy pack's business; these fixtures are about
        // structure, so only PCG-* findings count here.
        let structural: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.code.starts_with("PCG-"))
            .collect();
        if name.contains("/clean-") {
            assert!(
                report.checked && structural.is_empty(),
                "{name}: {structural:?}"
            );
            continue;
        }
        assert!(!structural.is_empty(), "{name}: no finding");
        for finding in structural {
            assert!(
                finding.location.start.line > 1,
                "{name}: finding on line 1 (fixtures put problems later)"
            );
        }
        assert_eq!(
            report.checked,
            !name.contains("/malformed-"),
            "{name}: checked flag"
        );
    }
}

#[test]
fn json_and_yaml_twins_read_to_the_same_data() {
    for stem in ["stretched-high-bandwidth", "stretched-low-bandwidth"] {
        let read = |ext: &str| {
            let request = request_for(&root().join(format!("examples/topologies/{stem}.{ext}")));
            let node = match request.input_format.unwrap_or_else(|| {
                pchat_guard_engine::InputFormat::infer(&request.path, &request.source)
            }) {
                pchat_guard_engine::InputFormat::Json => {
                    pchat_guard_engine::parse::parse_json(&request.source, &Default::default())
                }
                pchat_guard_engine::InputFormat::Yaml => {
                    pchat_guard_engine::parse::parse_yaml(&request.source, &Default::default())
                }
            };
            node.map(|n| n.to_json())
                .unwrap_or_else(|e| panic!("{stem}.{ext}: {e:?}"))
        };
        assert_eq!(read("json"), read("yaml"), "{stem}: JSON and YAML differ");
    }
}
