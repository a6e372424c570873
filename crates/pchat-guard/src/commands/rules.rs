//! `pchat-guard rules` and `explain RULE`: the rules of the shipped pack or of a directory.

use std::path::PathBuf;

use clap::ValueEnum;

use super::{ExitStatus, HostArgs, Outcome, described, load_policies, say};

/// The options of `rules` and `explain`.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// `table` or `json`.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Describe the rules of this directory instead of the shipped pack.
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// How to run the module.
    #[command(flatten)]
    pub host: HostArgs,
}

/// How to list rules.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    /// One line a rule.
    Table,
    /// JSON.
    Json,
}

/// Lists the rules, or with `explain`, prints one.
pub fn run(args: &RulesArgs, explain: Option<&str>) -> Outcome {
    let mut out = Outcome::default();
    let rules: Vec<serde_json::Value> = match &args.policies {
        Some(dir) => match load_policies(dir, &mut out) {
            Some(bundle) => bundle
                .rules
                .iter()
                .map(|r| serde_json::json!({ "id": r.id, "severity": r.severity, "title": r.title, "facts": r.facts, "doc": r.doc }))
                .collect(),
            None => return out.with(ExitStatus::CannotCheck),
        },
        None => match described(&args.host, &mut out) {
            Ok(described) => described.get("rules").and_then(|r| r.as_array()).cloned().unwrap_or_default(),
            Err(status) => return out.with(status),
        },
    };
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let facts = |rule: &serde_json::Value| {
        rule["facts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect::<Vec<_>>()
    };
    if let Some(id) = explain {
        let Some(rule) = rules
            .iter()
            .find(|r| r["id"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(id)))
        else {
            let ids: Vec<String> = rules.iter().map(|r| text(&r["id"])).collect();
            let hint = pchat_guard_engine::schema::did_you_mean(id, ids.iter().map(String::as_str))
                .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
            say!(
                out,
                "error: no rule `{id}`{hint} (`pchat-guard rules` lists them)"
            );
            return out.with(ExitStatus::CannotCheck);
        };
        return match args.format {
            ListFormat::Json => {
                out.emit(format!(
                    "{}\n",
                    serde_json::to_string_pretty(rule).unwrap_or_default()
                ));
                out.with(ExitStatus::Clean)
            }
            ListFormat::Table => {
                out.emit(format!(
                    "{}: {}\nseverity: {}\nfacts: {}\n\n{}\n",
                    text(&rule["id"]),
                    text(&rule["title"]),
                    text(&rule["severity"]),
                    facts(rule).join(", "),
                    text(&rule["doc"]).trim()
                ));
                out.with(ExitStatus::Clean)
            }
        };
    }
    match args.format {
        ListFormat::Json => out.emit(format!(
            "{}\n",
            serde_json::to_string_pretty(&rules).unwrap_or_default()
        )),
        ListFormat::Table => {
            let mut table = format!(
                "{:<16} {:<8} {:<12} {}\n",
                "RULE", "SEVERITY", "FACTS", "TITLE"
            );
            for rule in &rules {
                table.push_str(&format!(
                    "{:<16} {:<8} {:<12} {}\n",
                    text(&rule["id"]),
                    text(&rule["severity"]),
                    facts(rule).join(","),
                    text(&rule["title"])
                ));
            }
            out.emit(table);
        }
    }
    out.with(ExitStatus::Clean)
}
