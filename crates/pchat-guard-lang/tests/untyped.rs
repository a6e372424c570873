//! A method called on a value of no known type (a schema field without a `type`) is lowered by
//! its name: it used to become `none`, and the rule silently never fired.

#![allow(clippy::panic, reason = "helpers fail the test by panicking")]

use pchat_guard_engine::eval::Evaluator;
use pchat_guard_engine::ir::Bundle;
use pchat_guard_engine::parse::{Limits, parse_json};
use pchat_guard_engine::source::LineIndex;
use pchat_guard_lang::{Compiled, Source, compile_with_schema};

fn compile(condition: &str) -> Compiled {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "persistent_chat_pools": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "note": {"description": "free text, of no declared type"},
                        "tags": {"description": "a list, of no declared type"}
                    }
                }
            }
        }
    });
    let text = format!(
        "rule UNTYPED-TEST-001 {{\n  severity info\n  title \"t\"\n  facts F1\n  for pool in persistent_chat_pools\n  where {condition}\n  report at pool message \"m\"\n}}\n"
    );
    compile_with_schema(
        "t",
        "0",
        &[Source {
            path: "t.rules".into(),
            text,
        }],
        &schema,
    )
}

fn fires(bundle: &Bundle) -> usize {
    let manifest = r#"{"persistent_chat_pools": [{"id": "a", "note": "draft copy", "tags": ["x", "y"]}, {"id": "b", "note": "final", "tags": []}]}"#;
    let root = parse_json(manifest, &Limits::default()).unwrap_or_else(|e| panic!("{e:?}"));
    Evaluator::new(&root)
        .run(bundle, &LineIndex::new(manifest))
        .len()
}

#[test]
fn a_method_on_an_untyped_value_is_lowered_by_its_name() {
    for (condition, expected) in [
        (r#"pool.note.starts_with("draft")"#, 1),
        (r#"pool.note.lower().contains("final")"#, 1),
        ("pool.tags.count() > 1", 1),
        (r#"pool.tags.any(t, t == "y")"#, 1),
        ("pool.tags.map(t, t).distinct().count() == 0", 1),
    ] {
        let compiled = compile(condition);
        assert!(
            compiled.diagnostics.is_empty(),
            "{condition}: {:?}",
            compiled.diagnostics
        );
        let bundle = compiled.bundle.unwrap_or_else(|| panic!("no bundle"));
        let json = serde_json::to_string(&bundle.rules[0].body).unwrap_or_default();
        assert!(!json.contains(r#"{"lit":"none"}"#), "{condition}: {json}");
        assert_eq!(fires(&bundle), expected, "{condition}");
    }
}

#[test]
fn an_unknown_method_on_an_untyped_value_is_an_error() {
    let compiled = compile("pool.note.startswith(\"draft\")");
    assert!(compiled.bundle.is_none());
    let messages: Vec<_> = compiled
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.message.as_str(), d.help.as_deref()))
        .collect();
    assert_eq!(
        messages,
        vec![(
            "PCL006",
            "no value has a method `startswith`",
            Some("did you mean `starts_with`?")
        )]
    );
}

#[test]
fn after_an_error_in_the_receiver_the_method_adds_none() {
    let compiled = compile("pool.nte.frobnicate()");
    let codes: Vec<_> = compiled
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(codes, vec!["PCL002"]);
}
