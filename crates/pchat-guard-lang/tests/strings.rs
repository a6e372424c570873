//! String literals: the escapes they accept, what they stand for (in messages and titles alike),
//! and one diagnostic per unknown escape.

use pchat_guard_engine::ir::{Expr, Lit};
use pchat_guard_lang::{Compiled, Source, compile};

fn compile_rule(title: &str, message: &str) -> Compiled {
    let text = format!(
        "rule STR-TEST-001 {{\n  severity info\n  title \"{title}\"\n  facts F1\n  report at product message {message}\n}}\n"
    );
    compile(
        "t",
        "0",
        &[Source {
            path: "t.rules".into(),
            text,
        }],
    )
}

#[test]
fn escapes_stand_for_their_character_in_messages_and_titles() {
    let escaped = r#"q\"b\\s\nn\{o\}c"#;
    let compiled = compile_rule(escaped, &format!("\"{escaped}\""));
    assert!(
        compiled.diagnostics.is_empty(),
        "{:?}",
        compiled.diagnostics
    );
    let bundle = compiled.bundle.unwrap_or_else(|| panic!("no bundle"));
    let rule = &bundle.rules[0];
    let decoded = "q\"b\\s\nn{o}c";
    assert_eq!(rule.title, decoded);
    assert_eq!(rule.reports[0].message, Expr::Lit(Lit::Str(decoded.into())));
}

#[test]
fn an_escape_in_an_interpolated_string_is_decoded() {
    let compiled = compile_rule("t", r#""<{"a\"b"}>""#);
    assert!(
        compiled.diagnostics.is_empty(),
        "{:?}",
        compiled.diagnostics
    );
    let bundle = compiled.bundle.unwrap_or_else(|| panic!("no bundle"));
    let json = serde_json::to_string(&bundle.rules[0].reports[0].message).unwrap_or_default();
    assert!(json.contains(r#"a\"b"#), "{json}");
}

#[test]
fn an_unknown_escape_is_one_syntax_error_at_the_escape() {
    // The offset of the backslash in the message, which starts the error's span.
    for (message, at) in [(r#""a\qb""#, 2), (r#""x{"a\qb"}""#, 5)] {
        let compiled = compile_rule("t", message);
        let unknown: Vec<_> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.message == "unknown escape in a string")
            .collect();
        assert_eq!(unknown.len(), 1, "{message}: {:?}", compiled.diagnostics);
        assert_eq!(unknown[0].code, "PCL001");
        let offset = unknown[0].start;
        let line_start = "rule STR-TEST-001 {\n  severity info\n  title \"t\"\n  facts F1\n  report at product message ".len();
        assert_eq!(offset, line_start + at, "{message}");
        assert_eq!(unknown[0].end - unknown[0].start, 2);
        assert!(compiled.bundle.is_none());
    }
}
