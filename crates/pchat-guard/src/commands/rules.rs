//! `pchat-guard rules` and `explain RULE`: the rules of the shipped pack or of a directory.

use clap::ValueEnum;

use pchat_guard_engine::describe::RuleInfo;
use pchat_guard_engine::ir::Fact;

use super::{ExitStatus, HostArgs, Outcome, PackArgs, described, load_packs, say};

/// The options of `rules` and `explain`.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// `table` or `json`.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// The packs to describe.
    #[command(flatten)]
    pub packs: PackArgs,
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
    let (rules, facts): (Vec<RuleInfo>, Vec<Fact>) =
        match load_packs(&args.packs, &args.host, &mut out) {
            Ok(Some(bundle)) => (
                bundle.rules.iter().map(RuleInfo::of).collect(),
                bundle.facts,
            ),
            Ok(None) => match described(&args.host, &mut out) {
                Ok(described) => (described.rules, described.facts),
                Err(status) => return out.with(status),
            },
            Err(status) => return out.with(status),
        };
    if let Some(id) = explain {
        let Some(rule) = rules.iter().find(|r| r.id.eq_ignore_ascii_case(id)) else {
            let hint =
                pchat_guard_engine::schema::did_you_mean(id, rules.iter().map(|r| r.id.as_str()))
                    .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
            say!(
                out,
                "error: no rule `{id}`{hint} (`pchat-guard rules` lists them)"
            );
            return out.with(ExitStatus::CannotCheck);
        };
        out.emit(match args.format {
            ListFormat::Json => pretty(rule),
            ListFormat::Table => format!(
                "{}: {}\nseverity: {}\npack: {}\nfacts:\n{}\n{}\n",
                rule.id,
                rule.title,
                rule.severity.as_str(),
                if rule.pack.is_empty() {
                    "-"
                } else {
                    rule.pack.as_str()
                },
                fact_lines(&rule.facts, &facts),
                rule.doc.trim()
            ),
        });
        return out.with(ExitStatus::Clean);
    }
    out.emit(match args.format {
        ListFormat::Json => pretty(&rules),
        ListFormat::Table => {
            let mut table = format!(
                "{:<16} {:<8} {:<12} {}\n",
                "RULE", "SEVERITY", "FACTS", "TITLE"
            );
            for rule in &rules {
                table.push_str(&format!(
                    "{:<16} {:<8} {:<12} {}\n",
                    rule.id,
                    rule.severity.as_str(),
                    rule.facts.join(","),
                    rule.title
                ));
            }
            table
        }
    });
    out.with(ExitStatus::Clean)
}

/// One line per fact a rule cites: its id, its title and where it comes from.
fn fact_lines(cited: &[String], facts: &[Fact]) -> String {
    let mut lines = String::new();
    for id in cited {
        match facts.iter().find(|f| f.id == *id) {
            Some(f) => {
                lines.push_str(&format!("  {id}: {}\n", f.title));
                if let Some(url) = &f.url {
                    lines.push_str(&format!("      {url}\n"));
                }
            }
            None => lines.push_str(&format!("  {id}\n")),
        }
    }
    lines
}

/// Pretty JSON with a final newline (these types always encode).
fn pretty<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value)
        .map_or_else(|e| format!("{{\"error\": \"{e}\"}}\n"), |s| s + "\n")
}
