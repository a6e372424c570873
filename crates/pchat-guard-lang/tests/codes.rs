//! The diagnostic codes are one table in the compiler; the language reference lists each with
//! its level and meaning, so a code added to the table without documentation fails here.

use pchat_guard_lang::{Code, Level};

#[test]
fn every_diagnostic_code_is_documented_with_its_level_and_meaning() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules-language.md"),
    )
    .unwrap_or_default();
    for code in Code::ALL {
        let level = match code.level() {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let row = format!("| {} | {level} | {} |", code.as_str(), code.summary());
        assert!(doc.contains(&row), "docs/rules-language.md lacks `{row}`");
    }
}

#[test]
fn codes_read_back_from_their_text() {
    for code in Code::ALL {
        let json = serde_json::to_string(code).unwrap_or_default();
        assert_eq!(json, format!("\"{}\"", code.as_str()));
        let back: Code = serde_json::from_str(&json).unwrap_or(Code::Syntax);
        assert_eq!(back, *code);
    }
    assert!(serde_json::from_str::<Code>("\"PCL999\"").is_err());
}
