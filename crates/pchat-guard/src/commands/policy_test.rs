//! `pchat-guard test`: runs the policy tests of a rule directory, with coverage.

use std::path::PathBuf;

use pchat_guard_engine::ir::Bundle;
use pchat_guard_engine::{CheckRequest, Limits, Response};

use super::{ExitStatus, HostArgs, Outcome, PackArgs, host_options, load_packs, module_bytes, say};
use crate::host::{Host, HostError};

/// The options of `test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The rule directory (its `*.rules` files; cases in its `tests/` folders). With
    /// `--extend DIR` alone, the extensions' cases run against the shipped pack plus them.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// More packs: their rules are merged, and their cases run too.
    #[command(flatten)]
    pub packs: PackArgs,
    /// Report which rules fired and which `where` branches (held / did not hold) the cases reached.
    #[arg(long)]
    pub coverage: bool,
    /// Fail (exit 1) when rule or branch coverage is below this percentage (implies --coverage).
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub threshold: Option<f64>,
    /// How to run the module.
    #[command(flatten)]
    pub host: HostArgs,
}

/// Runs the policy tests of a rule directory.
pub fn run(args: &TestArgs) -> Outcome {
    let mut out = Outcome::default();
    let packs = PackArgs {
        policies: args
            .dir
            .iter()
            .chain(&args.packs.policies)
            .cloned()
            .collect(),
        extend: args.packs.extend.clone(),
    };
    let tested: Vec<&PathBuf> = packs.policies.iter().chain(&packs.extend).collect();
    if tested.is_empty() {
        say!(
            out,
            "error: name a rule directory to test (or `--extend DIR`)"
        );
        return out.with(ExitStatus::CannotCheck);
    }
    let bundle = match load_packs(&packs, &args.host, &mut out) {
        Ok(Some(b)) => b,
        Ok(None) => return out.with(ExitStatus::CannotCheck),
        Err(status) => return out.with(status),
    };
    let mut cases = Vec::new();
    for dir in &tested {
        let found = pchat_guard_pack::test_files(dir);
        if found.is_empty() {
            say!(
                out,
                "error: `{}` has no test manifests in a `tests` folder",
                dir.display()
            );
            return out.with(ExitStatus::CannotCheck);
        }
        cases.extend(found);
    }
    // The packs whose cases run: their coverage is reported (the shipped pack's own cases are
    // not installed, so under `--extend` only the extensions are measured).
    let tested_packs: Vec<String> = tested.iter().map(|d| crate::policy::pack_name(d)).collect();
    let bytes = match module_bytes(&args.host, &mut out) {
        Ok(b) => b,
        Err(status) => return out.with(status),
    };
    // The pack goes into the instance once, not with every case.
    let loaded = serde_json::to_vec(&bundle)
        .map_err(|e| HostError::Failure(format!("encoding the rule pack: {e}")))
        .and_then(|json| {
            let mut session = Host::new(&bytes, host_options(&args.host))?.session()?;
            session.load_bundle(&json)?;
            Ok(session)
        });
    let mut session = match loaded {
        Ok(s) => s,
        Err(e) => return out.internal(&e),
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut text = String::new();
    let mut totals: std::collections::BTreeMap<String, pchat_guard_engine::eval::RuleCoverage> =
        bundle
            .rules
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    pchat_guard_engine::eval::RuleCoverage::none_for(r),
                )
            })
            .collect();
    for case in &cases {
        let shown = case.display().to_string();
        let crate::policy::Case {
            source,
            input_format,
            expected,
            scope,
            today,
        } = match crate::policy::read_case(case) {
            Ok(case) => case,
            Err(e) => {
                say!(out, "error: {e}");
                return out.with(ExitStatus::CannotCheck);
            }
        };
        let request = CheckRequest {
            source,
            source_sha256: None,
            path: shown.clone(),
            input_format,
            limits: Limits::default(),
            coverage: args.coverage || args.threshold.is_some(),
            bundle: None,
            today,
            waivers: Vec::new(),
            ignore_manifest_waivers: false,
            host_fingerprints: false,
        };
        let response = serde_json::to_vec(&request)
            .map_err(|e| HostError::Failure(e.to_string()))
            .and_then(|r| session.check(&r));
        let mut report = match response.map(|r| serde_json::from_str::<Response>(&r)) {
            Ok(Ok(Response::Ok { mut report })) => {
                report.findings.sort_by_key(|a| a.location.start.offset);
                report
            }
            Ok(Ok(Response::Error { message })) => {
                return out.internal(&HostError::Failure(message));
            }
            Ok(Err(e)) => return out.internal(&HostError::Failure(e.to_string())),
            Err(e) => return out.internal(&e),
        };
        for (id, seen) in report.coverage.iter().flatten() {
            if let Some(total) = totals.get_mut(id) {
                total.findings += seen.findings;
                for (t, c) in total.wheres.iter_mut().zip(&seen.wheres) {
                    t[0] += c[0];
                    t[1] += c[1];
                }
            }
        }
        report
            .findings
            .retain(|f| scope.is_empty() || scope.contains(&f.code));
        let mut got: Vec<(String, String)> = report
            .findings
            .iter()
            .map(|f| (f.code.clone(), f.pointer.clone()))
            .collect();
        got.sort();
        if got == expected {
            passed += 1;
            text.push_str(&format!("ok      {shown}\n"));
        } else {
            failed += 1;
            text.push_str(&format!("FAILED  {shown}\n"));
            // As multisets: two findings at one pointer are two expectations.
            let mut unmatched = expected.clone();
            let mut extra = Vec::new();
            for f in &report.findings {
                let key = (f.code.clone(), f.pointer.clone());
                match unmatched.iter().position(|e| *e == key) {
                    Some(i) => {
                        unmatched.remove(i);
                    }
                    None => extra.push(f),
                }
            }
            for (code, pointer) in &unmatched {
                text.push_str(&format!("          missing: {code} {pointer}\n"));
            }
            for f in extra {
                text.push_str(&format!(
                    "          unexpected: {} {} (line {}): {}\n",
                    f.code, f.pointer, f.location.start.line, f.message
                ));
            }
        }
    }
    let mut below = false;
    if args.coverage || args.threshold.is_some() {
        for pack in &tested_packs {
            let of_pack: std::collections::BTreeMap<_, _> = totals
                .iter()
                .filter(|(id, _)| {
                    bundle
                        .rules
                        .iter()
                        .any(|r| r.id == **id && (r.pack == *pack || r.pack.is_empty()))
                })
                .map(|(id, c)| (id.clone(), c.clone()))
                .collect();
            let (rules_fired, branches_seen, branches) =
                coverage_report(&bundle, &of_pack, &mut text);
            let rule_pct = percent(rules_fired, of_pack.len());
            let branch_pct = percent(branches_seen, branches);
            let scope = if tested_packs.len() > 1 || !args.packs.extend.is_empty() {
                format!(" of pack {pack}")
            } else {
                String::new()
            };
            text.push_str(&format!(
                "coverage{scope}: rules {rules_fired}/{} ({rule_pct:.1}%), where branches {branches_seen}/{branches} ({branch_pct:.1}%)\n",
                of_pack.len()
            ));
            if let Some(threshold) = args.threshold
                && (rule_pct < threshold || branch_pct < threshold)
            {
                below = true;
                text.push_str(&format!(
                    "coverage{scope} is below the threshold of {threshold}%\n"
                ));
            }
        }
    }
    text.push_str(&format!("{passed} passed, {failed} failed\n"));
    out.emit(text);
    out.with(if failed > 0 || below {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// Parses `--threshold`.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}

/// `part` as a percentage of `whole` (100 when there is nothing).
pub fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Lists rules that never fired and `where` clauses with an outcome no case reached; returns
/// (rules fired, branch outcomes seen, branch outcomes in all).
pub fn coverage_report(
    bundle: &Bundle,
    totals: &std::collections::BTreeMap<String, pchat_guard_engine::eval::RuleCoverage>,
    out: &mut String,
) -> (usize, usize, usize) {
    let (mut fired, mut seen, mut all) = (0, 0, 0);
    for (id, c) in totals {
        // Branches count the body's `where` clauses first, then the reports' `when`s.
        let wheres = bundle.rules.iter().find(|r| r.id == *id).map_or(0, |r| {
            r.body
                .iter()
                .filter(|c| matches!(c, pchat_guard_engine::ir::Clause::Where(_)))
                .count()
        });
        if c.findings > 0 {
            fired += 1;
        } else {
            out.push_str(&format!("not covered: {id} never fired\n"));
        }
        for (n, [held, failed]) in c.wheres.iter().enumerate() {
            all += 2;
            seen += usize::from(*held > 0) + usize::from(*failed > 0);
            if *held == 0 || *failed == 0 {
                let missing = if *held == 0 && *failed == 0 {
                    "was never reached"
                } else if *held == 0 {
                    "never held"
                } else {
                    "always held"
                };
                let branch = if n < wheres {
                    format!("`where` #{}", n + 1)
                } else {
                    format!("`report when` #{}", n - wheres + 1)
                };
                out.push_str(&format!("not covered: {id} {branch} {missing}\n"));
            }
        }
    }
    (fired, seen, all)
}
