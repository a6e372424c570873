//! Arithmetic is typed as the evaluator computes it: on integers only. An operand of any other
//! type would make the result absent at run time (and a condition on it silently false), so it
//! does not compile.

use pchat_guard_lang::{Compiled, Level, Source, compile, compile_with_schema};

fn rule(condition: &str) -> String {
    format!(
        "rule ARITH-TEST-001 {{\n  severity info\n  title \"t\"\n  facts F1\n  for pool in persistent_chat_pools\n  where {condition}\n  report at pool message \"m\"\n}}\n"
    )
}

fn sources(text: String) -> Vec<Source> {
    vec![Source {
        path: "t.rules".into(),
        text,
    }]
}

fn errors(compiled: &Compiled) -> Vec<(String, String)> {
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .map(|d| (d.code.as_str().to_string(), d.message.clone()))
        .collect()
}

#[test]
fn arithmetic_on_integers_compiles() {
    for condition in [
        "pool.port + 1 > 1024",
        "pool.servers.count() * 2 - 1 > 3",
        "2 * 3 - 1 == 5",
    ] {
        let compiled = compile("t", "0", &sources(rule(condition)));
        assert!(
            compiled.diagnostics.is_empty(),
            "{condition}: {:?}",
            compiled.diagnostics
        );
        assert!(compiled.bundle.is_some());
    }
}

#[test]
fn arithmetic_on_anything_but_integers_does_not_compile() {
    for (condition, found) in [
        (r#""a" + 1 > 0"#, "a string"),
        (r#"1 - pool.id == 0"#, "a string"),
        ("pool.compliance * 2 > 0", "a boolean"),
        ("none + 1 == 2", "`none`"),
        ("[1] + 1 == 2", "a list of integer"),
    ] {
        let compiled = compile("t", "0", &sources(rule(condition)));
        assert!(compiled.bundle.is_none(), "{condition} compiled");
        assert_eq!(
            errors(&compiled),
            vec![(
                "PCL004".to_string(),
                format!("arithmetic needs integers, found {found}")
            )],
            "{condition}"
        );
    }
}

#[test]
fn arithmetic_on_a_schema_number_does_not_compile() {
    // A `number` may hold a fraction, which the evaluator's arithmetic gives absence for.
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "persistent_chat_pools": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": { "id": {"type": "string"}, "load": {"type": "number"} }
                }
            }
        }
    });
    let compiled = compile_with_schema("t", "0", &sources(rule("pool.load + 1 > 2")), &schema);
    assert_eq!(
        errors(&compiled),
        vec![(
            "PCL004".to_string(),
            "arithmetic needs integers, found a number".to_string()
        )]
    );
    // Comparing a number stays allowed.
    let compiled = compile_with_schema("t", "0", &sources(rule("pool.load > 2")), &schema);
    assert!(
        compiled.diagnostics.is_empty(),
        "{:?}",
        compiled.diagnostics
    );
}
