//! What the fuzz targets share: the checker with the shipped pack (built once per process) and
//! the properties every answer must have, whatever the input.

use std::path::Path;
use std::sync::OnceLock;

use pchat_guard_engine::ir::Bundle;
use pchat_guard_engine::{Checker, FileReport, InputFormat, Severity};

/// The checker and the shipped pack, compiled once.
pub fn checker() -> &'static (Checker, Bundle) {
    static CHECKER: OnceLock<(Checker, Bundle)> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/persistent-chat");
        let (_, compiled) = pchat_guard_pack::compile_pack(&dir, "persistent-chat", "0", None)
            .unwrap_or_else(|e| panic!("the shipped pack: {e}"));
        let bundle = compiled
            .bundle
            .unwrap_or_else(|| panic!("the shipped pack does not compile"));
        let checker = Checker::new().unwrap_or_else(|e| panic!("the schema: {e}"));
        (checker, bundle)
    })
}

/// A manifest every pack rule has something to say about: the rules target runs fuzzed rules
/// against it.
pub const REFERENCE: &str = include_str!("../../examples/topologies/stretched-high-bandwidth.yaml");

/// The properties of every report: findings lie inside the text, in order, with fingerprints;
/// a report that was not checked says why with an error (fail closed); it serialises and reads
/// back unchanged.
pub fn assert_sound(report: &FileReport, text: &str) {
    for f in &report.findings {
        let (start, end) = (f.location.start.offset, f.location.end.offset);
        assert!(start <= end, "finding ends before it starts: {f:?}");
        assert!(end <= text.len(), "finding past the end of the text: {f:?}");
        assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "finding splits a character: {f:?}"
        );
        assert!(!f.message.is_empty(), "finding without a message: {f:?}");
    }
    if !report.checked {
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.severity == Severity::Error),
            "a report that was not checked must say why with an error: {report:?}"
        );
    }
    let json =
        serde_json::to_string(report).unwrap_or_else(|e| panic!("report does not serialise: {e}"));
    let back: FileReport = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("report does not read back: {e}\n{json}"));
    assert_eq!(&back, report, "report changes through JSON");
}

/// Both formats, for targets that try each input as JSON and as YAML.
pub const FORMATS: [InputFormat; 2] = [InputFormat::Json, InputFormat::Yaml];
