//! Waiver files and baselines: any bytes, read as JSON and as YAML, as each kind of file.
//! Nothing may panic; a file that cannot be used must say why, at a place inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pchat_guard_engine::Limits;
use pchat_guard_files::{baseline::Baseline, waivers::WaiverFile};
use pchat_guard_fuzz::assert_sound;

const RULES: &[&str] = &["PCHAT-HA-001", "PCHAT-DR-001", "PCHAT-POOL-002"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    for path in ["waivers.json", "waivers.yaml"] {
        match WaiverFile::load(path, text.to_string(), RULES, &limits) {
            Ok(file) => {
                let _ = file.for_file("topologies/a.yaml");
            }
            Err(unusable) => {
                assert!(
                    !unusable.report.findings.is_empty(),
                    "unusable without a reason"
                );
                assert_sound(&unusable.report, text);
            }
        }
    }
    for path in ["baseline.json", "baseline.yaml"] {
        match Baseline::load(path, text.to_string(), RULES, &limits) {
            Ok(baseline) => {
                let _ = baseline.to_json();
            }
            Err(unusable) => {
                assert!(
                    !unusable.report.findings.is_empty(),
                    "unusable without a reason"
                );
                assert_sound(&unusable.report, text);
            }
        }
    }
});
