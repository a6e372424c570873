//! Hostile input never traps the module: mutated fixtures, deep nesting, alias bombs, bad
//! requests. Every case must come back as a report (or an error response), the same as native.

use pchat_guard_engine::{CheckRequest, Response};

use crate::support::{files_in, native_report, request_for, session};

/// Sends a request through the module; a trap fails the test.
fn through_module(request: &[u8]) -> Response {
    let response = session()
        .check(request)
        .unwrap_or_else(|e| panic!("the module failed: {e}"));
    serde_json::from_str(&response).unwrap_or_else(|e| panic!("unreadable response: {e}"))
}

fn check_both(source: String, path: &str) {
    let request = CheckRequest {
        source,
        path: path.to_string(),
        today: pchat_guard_engine::waiver::Date::parse("2026-11-26").ok(),
        ..Default::default()
    };
    let native = native_report(&request);
    match through_module(&serde_json::to_vec(&request).unwrap_or_default()) {
        Response::Ok { report } => assert_eq!(report, native, "{path}: wasm and native differ"),
        Response::Error { message } => panic!("{path}: {message}"),
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const NOISE: &[&str] = &[
    "{", "}", "[", "]", ":", ",", "\"", "-", "\n", "\t", " ", "&a", "*a", "!!str ", "|", ">", "#",
    "'", "\\", "é", "\u{0}", "1e999", "- ", "? ",
];

/// The text with one to four random edits: noise inserted, a range cut, a range doubled.
fn mutate(original: &str, rng: &mut Rng) -> String {
    let mut text = original.to_string();
    for _ in 0..1 + rng.below(4) {
        let mut at = rng.below(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        match rng.below(3) {
            0 => text.insert_str(at, NOISE[rng.below(NOISE.len())]),
            1 => {
                let mut end = (at + rng.below(40)).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(at..end, "");
            }
            _ => {
                let mut end = (at + rng.below(200)).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let copy = text[at..end].to_string();
                text.insert_str(at, &copy);
            }
        }
    }
    text
}

#[test]
fn mutated_fixtures_never_trap() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut paths = files_in("tests/fixtures/manifests", &["json", "yaml"]);
    paths.extend(files_in("tests/fixtures/waivers", &["yaml"]));
    for path in paths {
        let original = request_for(&path).source;
        for round in 0..12 {
            let text = mutate(&original, &mut rng);
            check_both(text, &format!("{}#{round}", path.display()));
        }
    }
}

#[test]
fn mutated_waiver_and_baseline_files_are_reports_never_panics() {
    use pchat_guard::baseline::Baseline;
    use pchat_guard::waivers::WaiverFile;
    let rules = [
        "PCHAT-HA-001",
        "PCHAT-FS-001",
        "PCHAT-HA-002",
        "PCHAT-DR-003",
    ];
    let known = [
        "PCHAT-HA-001",
        "PCHAT-FS-001",
        "PCHAT-SQL-001",
        "PCG-SYNTAX",
    ];
    let limits = pchat_guard_engine::Limits::default();
    let dir = crate::support::scratch("mutated-settings");
    let good_baseline = r#"{"version": 1, "tool": "pchat-guard", "findings": [{"rule": "PCHAT-HA-001", "file": "a.yaml", "pointer": "/x", "fingerprint": "00"}]}"#;
    let mut rng = Rng(0xba5e_11fe_0000_0001);
    let sources = [
        (
            "team-waivers.yaml",
            std::fs::read_to_string(
                crate::support::root().join("tests/fixtures/waivers/team-waivers.yaml"),
            )
            .unwrap_or_default(),
        ),
        (
            "bad-waivers.yaml",
            std::fs::read_to_string(
                crate::support::root().join("tests/fixtures/waivers/bad-waivers.yaml"),
            )
            .unwrap_or_default(),
        ),
        ("baseline.json", good_baseline.to_string()),
        (
            "bad-baseline.json",
            std::fs::read_to_string(
                crate::support::root().join("tests/fixtures/waivers/bad-baseline.json"),
            )
            .unwrap_or_default(),
        ),
    ];
    let mut unusable = 0;
    for (name, original) in &sources {
        for round in 0..40 {
            let text = mutate(original, &mut rng);
            let shown = dir.join(format!("{round}-{name}")).display().to_string();
            let problem = if name.contains("waivers") {
                WaiverFile::load(&shown, text.clone(), &rules, &limits).err()
            } else {
                Baseline::load(&shown, text.clone(), &known, &limits).err()
            };
            if let Some(problem) = problem {
                unusable += 1;
                // An unusable file fails the run, and says where.
                assert!(!problem.report.checked, "{shown}");
                assert!(!problem.report.findings.is_empty(), "{shown}");
                for f in &problem.report.findings {
                    assert!(
                        f.location.start.line >= 1 && f.location.start.offset <= text.len(),
                        "{shown}: {f:?}"
                    );
                }
            }
        }
    }
    assert!(
        unusable > 40,
        "the mutations should break most files ({unusable})"
    );
}

#[test]
fn deep_and_explosive_documents_are_limit_findings() {
    for (source, path) in [
        ("[".repeat(200_000), "deep.json"),
        ("{\"a\":".repeat(50_000), "deep-object.json"),
        ("[".repeat(200_000), "deep.yaml"),
        ("a:\n".to_string() + &"  ".repeat(5_000) + "b: 1\n", "wide-indent.yaml"),
        (
            (1..14).fold("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_string(), |mut s, i| {
                let p = i - 1;
                s.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
                s
            }),
            "alias-bomb.yaml",
        ),
        ("{\"port\": 1e99999}".to_string(), "huge-number.json"),
        (format!("{{\"name\": \"{}\"}}", "x".repeat(2_000_000)), "long-string.json"),
    ] {
        check_both(source, path);
    }
    let report = native_report(&CheckRequest {
        source: "[".repeat(200_000),
        path: "deep.json".to_string(),
        ..Default::default()
    });
    assert!(!report.checked);
    assert_eq!(report.findings[0].code, "PCG-LIMIT");
}

#[test]
fn malformed_requests_get_an_error_response_not_a_trap() {
    for request in [
        &b"not json"[..],
        b"{}",
        b"{\"source\": 5}",
        b"\xff\xfe",
        b"",
        b"{\"source\": \"\", \"unknown\": 1}",
    ] {
        match through_module(request) {
            Response::Error { message } => {
                assert!(message.starts_with("the request is not valid"), "{message}")
            }
            Response::Ok { .. } => panic!("{request:?} was accepted"),
        }
    }
}

#[test]
fn hostile_bundles_in_requests_are_refused_not_run() {
    let mut bundle = crate::support::shipped_bundle();
    bundle.rules[0].slots = u32::MAX;
    let request = CheckRequest {
        source: "{}".to_string(),
        path: "x.json".to_string(),
        bundle: Some(bundle),
        ..Default::default()
    };
    match through_module(&serde_json::to_vec(&request).unwrap_or_default()) {
        Response::Error { message } => assert!(message.contains("variable slots"), "{message}"),
        Response::Ok { .. } => panic!("a bundle asking for 4 billion slots was run"),
    }
    let mut old_format = crate::support::shipped_bundle();
    old_format.format_version = 0;
    let request = CheckRequest {
        bundle: Some(old_format),
        ..request
    };
    match through_module(&serde_json::to_vec(&request).unwrap_or_default()) {
        Response::Error { message } => {
            assert!(message.contains("IR format version 0"), "{message}")
        }
        Response::Ok { .. } => panic!("a bundle of another IR format was run"),
    }
    let mut deep = String::from("{\"source\": \"{}\", \"bundle\": ");
    deep.push_str(&"[".repeat(100_000));
    match through_module(deep.as_bytes()) {
        Response::Error { message } => {
            assert!(message.starts_with("the request is not valid"), "{message}")
        }
        Response::Ok { .. } => panic!("accepted"),
    }
}
