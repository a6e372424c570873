//! The module's ABI, natively: any bytes as a check request and as a diagram request (what the
//! exports `pcg_check` and `pcg_diagram` hand the engine). The answer is always a JSON object
//! with a `status`; and a request that is a valid check request gets the report a direct call
//! gives (the round trip loses nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pchat_guard_engine::{CheckRequest, Response};
use pchat_guard_fuzz::{assert_sound, checker};

fuzz_target!(|data: &[u8]| {
    let (checker, pack) = checker();
    let answer = checker.handle_json_with(data, Some(pack));
    let response: Response = serde_json::from_str(&answer)
        .unwrap_or_else(|e| panic!("the check answer is not a response: {e}\n{answer}"));
    if let Ok(request) = serde_json::from_slice::<CheckRequest>(data) {
        if let Response::Ok { report } = &response {
            assert_sound(report, &request.source);
            assert_eq!(
                report,
                &checker.check_with(&request, Some(pack)),
                "round trip changed the report"
            );
        }
    }
    let drawn = checker.handle_diagram_json_with(data, Some(pack));
    let value: serde_json::Value = serde_json::from_str(&drawn)
        .unwrap_or_else(|e| panic!("the diagram answer is not JSON: {e}\n{drawn}"));
    assert!(
        matches!(
            value.get("status").and_then(|s| s.as_str()),
            Some("ok" | "error")
        ),
        "the diagram answer has no status: {drawn}"
    );
});
