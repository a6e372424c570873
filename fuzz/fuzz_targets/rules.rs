//! The rule compiler: any text as a rule file of its own (citing the shipped facts);
//! what compiles is then evaluated against the reference manifest. Nothing may panic, and a
//! failed compilation must say why with an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pchat_guard_engine::CheckRequest;
use pchat_guard_fuzz::{REFERENCE, assert_sound, checker};
use pchat_guard_lang::{Level, Source};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let facts = match pchat_guard_pack::shipped_facts() {
        Ok(facts) => facts,
        Err(e) => panic!("the shipped facts: {e}"),
    };
    let sources = [Source {
        path: "fuzz.rules".to_string(),
        text: text.to_string(),
    }];
    let compiled = pchat_guard_lang::compile_with_facts("fuzz", "0", &sources, &facts);
    match compiled.bundle {
        None => assert!(
            compiled.diagnostics.iter().any(|d| d.level == Level::Error),
            "no bundle, yet no error: {:?}",
            compiled.diagnostics
        ),
        Some(bundle) => {
            let (checker, _) = checker();
            let Ok(checker_bundle) = pchat_guard_engine::Checker::read_bundle(
                serde_json::to_string(&bundle)
                    .unwrap_or_default()
                    .as_bytes(),
            ) else {
                panic!("a bundle the compiler made is refused by the engine");
            };
            let request = CheckRequest {
                source: REFERENCE.to_string(),
                path: "reference.yaml".to_string(),
                coverage: true,
                ..CheckRequest::default()
            };
            let report = checker.check_with(&request, Some(&checker_bundle));
            assert_sound(&report, REFERENCE);
        }
    }
});
