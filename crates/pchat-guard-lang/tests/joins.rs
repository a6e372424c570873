//! Joins are linear: `collection.count(x, x.key == e)` is answered from an index built once per
//! check. Measured in evaluator steps, not time, on manifests of growing size; the same rule
//! written so that it cannot be lowered grows quadratically, which shows the measure can tell.

#![allow(clippy::panic, reason = "helpers fail the test by panicking")]

use pchat_guard_engine::eval::Evaluator;
use pchat_guard_engine::ir::{Clause, Expr};
use pchat_guard_engine::parse::{Limits, parse_json};
use pchat_guard_engine::source::LineIndex;
use pchat_guard_lang::{Source, compile};

fn rule(condition: &str) -> pchat_guard_engine::ir::Bundle {
    rule_with_helpers("", condition)
}

/// The rule of [`rule`], with helper definitions in the same file.
fn rule_with_helpers(helpers: &str, condition: &str) -> pchat_guard_engine::ir::Bundle {
    let text = format!(
        "{helpers}\nrule JOIN-TEST-001 {{\n  severity error\n  title \"t\"\n  facts F18\n  for instance in sql_instances\n  where sql_instances.count(other, {condition}) > 1\n  report at instance.host message \"shared host\"\n}}\n"
    );
    let compiled = compile(
        "t",
        "0",
        &[Source {
            path: "t.rules".into(),
            text,
        }],
    );
    compiled
        .bundle
        .unwrap_or_else(|| panic!("{:?}", compiled.diagnostics))
}

fn manifest(n: usize) -> String {
    let instances: Vec<String> = (0..n)
        .map(|i| {
            // Every tenth instance shares its host with the next one.
            let host = if i % 10 == 1 { i - 1 } else { i };
            format!(r#"{{"id": "sql-{i}", "host": "h{host}.contoso.com", "data_center": "dc", "version": "2012", "edition": "standard", "bitness": 64}}"#)
        })
        .collect();
    format!(r#"{{"sql_instances": [{}]}}"#, instances.join(","))
}

fn steps_and_findings(bundle: &pchat_guard_engine::ir::Bundle, n: usize) -> (u64, usize) {
    let text = manifest(n);
    let root = parse_json(&text, &Limits::default()).unwrap_or_else(|e| panic!("{e:?}"));
    let index = LineIndex::new(&text);
    let mut evaluator = Evaluator::new(&root);
    let findings = evaluator.run(bundle, &index);
    (evaluator.steps(), findings.len())
}

fn lowered_to_join(bundle: &pchat_guard_engine::ir::Bundle) -> bool {
    let json = serde_json::to_string(&bundle.rules).unwrap_or_default();
    json.contains("\"join\"")
}

#[test]
fn an_equality_join_is_lowered_and_linear() {
    let bundle = rule("other.host == instance.host");
    assert!(lowered_to_join(&bundle), "the join was not lowered");
    let (small, small_findings) = steps_and_findings(&bundle, 2_000);
    let (large, large_findings) = steps_and_findings(&bundle, 8_000);
    assert_eq!(small_findings, 400, "two findings per shared host");
    assert_eq!(large_findings, 1_600);
    let ratio = large as f64 / small as f64;
    assert!(
        ratio < 4.5,
        "4x the entities took {ratio:.2}x the steps ({small} -> {large})"
    );
}

#[test]
fn the_same_rule_without_a_join_is_quadratic() {
    // `or false` keeps the condition from being lowered: every item is scanned for every item.
    let bundle = rule("other.host == instance.host or false");
    assert!(!lowered_to_join(&bundle));
    let (small, small_findings) = steps_and_findings(&bundle, 500);
    let (large, large_findings) = steps_and_findings(&bundle, 2_000);
    assert_eq!(
        (small_findings, large_findings),
        (100, 400),
        "same answers as the join"
    );
    let ratio = large as f64 / small as f64;
    assert!(ratio > 12.0, "expected about 16x, got {ratio:.2}x");
}

#[test]
fn the_body_keeps_its_clauses() {
    let bundle = rule("other.host == instance.host");
    let rule = &bundle.rules[0];
    assert!(matches!(rule.body[0], Clause::For { .. }));
    assert!(matches!(rule.body[1], Clause::Where(Expr::Cmp(..))));
}

#[test]
fn a_join_answers_as_the_scan_it_replaces_even_for_absent_keys() {
    // `instance` is optional: half the instances have none, and none equals none.
    let instances: Vec<String> = (0..40)
        .map(|i| {
            let named = if i % 2 == 0 { format!(r#", "instance": "N{}""#, i % 3) } else { String::new() };
            format!(r#"{{"id": "sql-{i}", "host": "h{i}.contoso.com", "data_center": "dc", "version": "2012", "edition": "standard", "bitness": 64{named}}}"#)
        })
        .collect();
    let text = format!(r#"{{"sql_instances": [{}]}}"#, instances.join(","));
    let root = parse_json(&text, &Limits::default()).unwrap_or_else(|e| panic!("{e:?}"));
    let index = LineIndex::new(&text);
    let run = |condition: &str| {
        let bundle = rule(condition);
        let findings = Evaluator::new(&root).run(&bundle, &index);
        (
            lowered_to_join(&bundle),
            findings
                .iter()
                .map(|f| f.pointer.clone())
                .collect::<Vec<_>>(),
        )
    };
    let (joined, by_join) = run("other.instance == instance.instance");
    let (scanned, by_scan) = run("other.instance == instance.instance or false");
    assert!(joined && !scanned);
    assert_eq!(by_join, by_scan);
    assert_eq!(
        by_join.len(),
        40,
        "every instance shares its (possibly absent) name with another"
    );
}

#[test]
fn a_join_is_found_through_the_arguments_of_an_inlined_helper() {
    // Computed arguments are bound once (`let`); the join must still see `other.host == key`,
    // whether the key is a plain field or computed.
    let helpers = "pred same(a, b) = a == b\npred same_lower(a, b) = a == b.lower()";
    for condition in [
        "same(other.host, instance.host)",
        "same(instance.host, other.host)",
        "same_lower(other.host, instance.host)",
        "other.id != instance.id and same(other.host, instance.host)",
    ] {
        let bundle = rule_with_helpers(helpers, condition);
        assert!(lowered_to_join(&bundle), "`{condition}` was not lowered");
        let (small, small_findings) = steps_and_findings(&bundle, 2_000);
        let (large, large_findings) = steps_and_findings(&bundle, 8_000);
        let expected = if condition.contains("!=") { 0 } else { 400 };
        assert_eq!(small_findings, expected, "`{condition}`");
        assert_eq!(large_findings, expected * 4, "`{condition}`");
        let ratio = large as f64 / small as f64;
        assert!(
            ratio < 4.5,
            "`{condition}`: 4x the entities took {ratio:.2}x the steps"
        );
    }
}

#[test]
fn a_join_inside_a_helper_is_kept_when_its_argument_is_computed() {
    let helpers = "pred on_host(h) = sql_instances.count(o, o.host == h)";
    let text = format!(
        "{helpers}\nrule JOIN-TEST-002 {{\n  severity error\n  title \"t\"\n  facts F18\n  for instance in sql_instances\n  where on_host(instance.host.lower()) > 1\n  report at instance.host message \"shared host\"\n}}\n"
    );
    let compiled = compile(
        "t",
        "0",
        &[Source {
            path: "t.rules".into(),
            text,
        }],
    );
    let bundle = compiled
        .bundle
        .unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    assert!(lowered_to_join(&bundle));
    let (small, small_findings) = steps_and_findings(&bundle, 2_000);
    let (large, large_findings) = steps_and_findings(&bundle, 8_000);
    assert_eq!((small_findings, large_findings), (400, 1_600));
    let ratio = large as f64 / small as f64;
    assert!(ratio < 4.5, "4x the entities took {ratio:.2}x the steps");
}
