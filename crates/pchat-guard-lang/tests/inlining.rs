//! Helper inlining: each argument of a call is evaluated once however often the helper's body
//! reads it, and the answers are those of the body with the argument written at each read
//! (absence, and dangling references, included).

#![allow(clippy::panic, reason = "helpers fail the test by panicking")]

use pchat_guard_engine::eval::Evaluator;
use pchat_guard_engine::ir::{Bundle, Rule};
use pchat_guard_engine::parse::{Limits, parse_json};
use pchat_guard_engine::source::LineIndex;
use pchat_guard_lang::{Source, compile};

fn compile_one(text: &str) -> Bundle {
    let compiled = compile(
        "t",
        "0",
        &[Source {
            path: "t.rules".into(),
            text: text.to_string(),
        }],
    );
    assert!(
        compiled.diagnostics.is_empty(),
        "{:#?}",
        compiled.diagnostics
    );
    compiled
        .bundle
        .unwrap_or_else(|| panic!("{:?}", compiled.diagnostics))
}

fn rule_json(rule: &Rule) -> String {
    serde_json::to_string(rule).unwrap_or_default()
}

fn findings(bundle: &Bundle, manifest: &str) -> Vec<String> {
    let root = parse_json(manifest, &Limits::default()).unwrap_or_else(|e| panic!("{e:?}"));
    let index = LineIndex::new(manifest);
    Evaluator::new(&root)
        .run(bundle, &index)
        .into_iter()
        .map(|f| format!("{} {}", f.code, f.message))
        .collect()
}

const HEADER: &str = "  severity error\n  title \"t\"\n  facts F1\n";

#[test]
fn a_computed_argument_is_evaluated_once() {
    // `n` is read three times; `pool.servers.count()` must appear once in the IR.
    let text = format!(
        "pred thrice(n) = n + n + n\n\nrule INLINE-TEST-001 {{\n{HEADER}  for pool in persistent_chat_pools\n  where thrice(pool.servers.count()) > 3\n  report at pool message \"many\"\n}}\n"
    );
    let bundle = compile_one(&text);
    let json = rule_json(&bundle.rules[0]);
    assert_eq!(json.matches("\"count\"").count(), 1, "{json}");
    assert_eq!(json.matches("\"let\"").count(), 1, "{json}");
    let manifest = r#"{"persistent_chat_pools": [{"id": "a", "servers": [{}, {}]}, {"id": "b", "servers": [{}]}]}"#;
    assert_eq!(findings(&bundle, manifest), vec!["INLINE-TEST-001 many"]);
}

#[test]
fn a_field_argument_read_four_times_is_evaluated_once() {
    // The shape of the shipped `far_off`: each argument is read twice or more.
    let text = format!(
        "pred far_off(interval, backup) = interval != none and backup != none and (interval > 2 * backup or 2 * interval < backup)\n\nrule INLINE-TEST-002 {{\n{HEADER}  for pool in persistent_chat_pools\n  let ls = pool.log_shipping\n  where far_off(ls.copy_interval_minutes, ls.backup_interval_minutes)\n  report at pool message \"far off\"\n}}\n"
    );
    let bundle = compile_one(&text);
    let json = rule_json(&bundle.rules[0]);
    assert_eq!(json.matches("copy_interval_minutes").count(), 1, "{json}");
    assert_eq!(json.matches("backup_interval_minutes").count(), 1, "{json}");
    let pool = |id: &str, copy: &str, backup: &str| {
        format!(
            r#"{{"id": "{id}", "log_shipping": {{"copy_interval_minutes": {copy}, "backup_interval_minutes": {backup}}}}}"#
        )
    };
    let manifest = format!(
        r#"{{"persistent_chat_pools": [{}, {}, {}, {}]}}"#,
        pool("near", "15", "10"),
        pool("high", "25", "10"),
        pool("low", "4", "10"),
        pool("absent", "null", "10"),
    );
    assert_eq!(findings(&bundle, &manifest).len(), 2);
}

#[test]
fn a_variable_or_literal_argument_is_written_in_place() {
    let text = format!(
        "pred both(a, b) = a == b and b == a\n\nrule INLINE-TEST-003 {{\n{HEADER}  for pool in persistent_chat_pools\n  where both(pool, pool) and both(\"x\", \"x\")\n  report at pool message \"same\"\n}}\n"
    );
    let json = rule_json(&compile_one(&text).rules[0]);
    assert!(!json.contains("\"let\""), "{json}");
}

#[test]
fn a_dangling_argument_counts_only_where_the_helper_reads_it() {
    // As if the argument were written at each read: `either(true, ...)` never reads the
    // lookup, so its dangling id does not stop the rule; `either(false, ...)` reads it, so the
    // binding is dropped (the reference check reports the id).
    let helpers = "pred either(a, b) = a or b.data_center == \"dc\"";
    let rule = |id: &str, first: &str| {
        format!(
            "rule {id} {{\n{HEADER}  for pool in persistent_chat_pools\n  where either({first}, sql_instances[pool.stores.chat.mirror])\n  report at pool message \"{id}\"\n}}\n"
        )
    };
    let text = format!(
        "{helpers}\n\n{}\n{}",
        rule("INLINE-TEST-004", "true"),
        rule("INLINE-TEST-005", "false")
    );
    let bundle = compile_one(&text);
    assert!(rule_json(&bundle.rules[0]).contains("\"let\""));
    let manifest = r#"{"persistent_chat_pools": [{"id": "p", "stores": {"chat": {"mirror": "nowhere"}}}], "sql_instances": [{"id": "sql", "data_center": "dc"}]}"#;
    assert_eq!(
        findings(&bundle, manifest),
        vec!["INLINE-TEST-004 INLINE-TEST-004"]
    );
    let resolved = manifest.replace("nowhere", "sql");
    assert_eq!(
        findings(&bundle, &resolved),
        vec![
            "INLINE-TEST-004 INLINE-TEST-004",
            "INLINE-TEST-005 INLINE-TEST-005"
        ]
    );
}
