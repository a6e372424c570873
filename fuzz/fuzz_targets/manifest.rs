//! Manifest parse and check: any bytes, read as JSON and as YAML, checked with the schema and
//! every shipped rule, then drawn. Nothing may panic; every report must be sound; the fast JSON
//! path and the reference JSON parser must give the same answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pchat_guard_engine::{CheckRequest, DiagramRequest, DiagramResponse};
use pchat_guard_fuzz::{FORMATS, assert_sound, checker};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (checker, pack) = checker();
    let limits = pchat_guard_engine::Limits::default();
    assert_eq!(
        pchat_guard_engine::parse::parse_json(text, &limits),
        pchat_guard_engine::parse::parse_json_reference(text, &limits),
        "the fast JSON path and the reference disagree"
    );
    for format in FORMATS {
        let request = CheckRequest {
            source: text.to_string(),
            path: "fuzz".to_string(),
            input_format: Some(format),
            coverage: true,
            ..CheckRequest::default()
        };
        let report = checker.check_with(&request, Some(pack));
        assert_sound(&report, text);
        let drawn = checker.diagram_with(
            &DiagramRequest {
                check: request,
                pool: None,
            },
            Some(pack),
        );
        match drawn {
            DiagramResponse::Ok {
                report: again,
                svg,
                declined,
            } => {
                assert_eq!(again, report, "diagram and check disagree on the report");
                assert!(
                    svg.is_some() != declined.is_some(),
                    "a diagram is drawn or declined"
                );
            }
            DiagramResponse::Error { message } => {
                panic!("a valid diagram request refused: {message}")
            }
        }
    }
});
