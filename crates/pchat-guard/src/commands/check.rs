//! `pchat-guard check`: checks manifests with the module and renders the run report.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::ValueEnum;
use pchat_guard_engine::waiver::Date;
use pchat_guard_engine::{CheckRequest, FileReport, InputFormat, Limits, Response, Severity};

use super::{ExitStatus, HostArgs, Outcome, PackArgs, host_options, load_packs, module_bytes, say};
use crate::host::{Host, HostError};
use crate::input;
use crate::render::{self, RunReport};
use crate::settings::Unusable;

/// The options of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Manifest files, or directories (their `.json`, `.yaml` and `.yml` files at any depth,
    /// skipping hidden and git-ignored ones); `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub files: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also write the report in FORMAT to FILE, from the same run (`sarif:results.sarif`,
    /// `junit:junit.xml`, `gitlab:gl-code-quality.json`...). May be given more than once.
    #[arg(long = "output", value_name = "FORMAT:FILE", value_parser = parse_output)]
    pub outputs: Vec<(Format, PathBuf)>,
    /// Read inputs as this format instead of inferring it from the extension.
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormatArg>,
    /// The file name to report for standard input.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,
    /// Lowest severity that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// When to colour human output (NO_COLOR is honoured under `auto`).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// The packs to run.
    #[command(flatten)]
    pub packs: PackArgs,
    /// A waiver file (JSON or YAML `waivers:` list), applied after each manifest's own waivers.
    /// May be given more than once.
    #[arg(long, value_name = "FILE")]
    pub waivers: Vec<String>,
    /// Ignore the waivers written in the manifests themselves (each is reported as ignored, at
    /// info level): only the waiver files given with `--waivers` apply.
    #[arg(long)]
    pub ignore_manifest_waivers: bool,
    /// The date waivers' `expires` is compared with, `YYYY-MM-DD` [default: today, UTC].
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<Date>,
    /// Leave out the findings this baseline records: only new findings are reported.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<String>,
    /// Record this run's findings (not waived ones) in a baseline file, and exit 0 unless an
    /// input could not be checked.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// How to run the module.
    #[command(flatten)]
    pub host: HostArgs,
    /// The project configuration, for its `include`/`exclude` globs (its other settings are
    /// already applied to these options).
    #[arg(skip)]
    pub config: Option<crate::config::Config>,
}

/// Parses `--output FORMAT:FILE`.
pub fn parse_output(text: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not FORMAT:FILE (such as `sarif:results.sarif`)"))?;
    let format = Format::from_str(format, true).map_err(|_| {
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
            .collect();
        format!(
            "`{format}` is not a format; the formats are {}",
            names.join(", ")
        )
    })?;
    if file.is_empty() {
        return Err(format!("`{text}` names no file"));
    }
    Ok((format, PathBuf::from(file)))
}

/// Parses `--today`.
pub fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text)
}

/// Today's date in UTC, from the system clock.
pub fn utc_today() -> Date {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_unix_days(i64::try_from(seconds / 86_400).unwrap_or(0))
}

/// The output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// rustc-style snippets with line:column, for people.
    Human,
    /// The run report, as `schemas/report.schema.json` describes it.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// JUnit XML: a test case per rule and file.
    Junit,
    /// GitHub Actions workflow annotations.
    Github,
    /// GitLab code quality (Code Climate JSON), for merge-request widgets.
    Gitlab,
    /// Azure Pipelines logging commands (`##vso[task.logissue ...]`).
    Azure,
}

/// How to read inputs, when not by their extension.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InputFormatArg {
    /// Strict JSON.
    Json,
    /// YAML, one document.
    Yaml,
}

impl From<InputFormatArg> for InputFormat {
    fn from(format: InputFormatArg) -> InputFormat {
        match format {
            InputFormatArg::Json => InputFormat::Json,
            InputFormatArg::Yaml => InputFormat::Yaml,
        }
    }
}

/// The lowest severity that fails the run.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    /// Errors fail the run.
    Error,
    /// Warnings and errors.
    Warning,
    /// Every finding.
    Info,
    /// No finding (only inputs that cannot be checked).
    Never,
}

/// When to colour human output.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Color {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Checks the inputs and renders the report.
pub fn run(args: CheckArgs) -> Outcome {
    let mut out = Outcome::default();
    if args.files.iter().filter(|f| *f == "-").count() > 1 {
        say!(out, "error: standard input (`-`) can be given once");
        return out.with(ExitStatus::CannotCheck);
    }
    let bundle = match load_packs(&args.packs, &args.host, &mut out) {
        Ok(b) => b,
        Err(status) => return out.with(status),
    };
    let bytes = match module_bytes(&args.host, &mut out) {
        Ok(b) => b,
        Err(status) => return out.with(status),
    };
    let host = match Host::new(&bytes, host_options(&args.host)) {
        Ok(h) => h,
        Err(e) => return out.internal(&e),
    };
    if let Some(note) = host.cache_note() {
        say!(out, "note: {note}");
    }
    let mut session = match host.session() {
        Ok(s) => s,
        Err(e) => return out.internal(&e),
    };
    // A custom pack goes into the instance once, whatever the number of files.
    let loaded = match &bundle {
        Some(bundle) => {
            let loaded = serde_json::to_vec(bundle)
                .map_err(|e| HostError::Failure(format!("encoding the rule pack: {e}")))
                .and_then(|json| session.load_bundle(&json));
            match loaded {
                Ok(description) => Some(description),
                Err(e) => return out.internal(&e),
            }
        }
        None => None,
    };
    // The rules and codes the module runs: for waiver and baseline files, SARIF and JUnit.
    let needs_rules = !args.waivers.is_empty()
        || args.baseline.is_some()
        || std::iter::once(args.format)
            .chain(args.outputs.iter().map(|(f, _)| *f))
            .any(|f| matches!(f, Format::Sarif | Format::Junit));
    let described = match loaded {
        Some(description) => Some(description),
        None if needs_rules => match session.describe() {
            Ok(d) => Some(d),
            Err(e) => return out.internal(&e),
        },
        None => None,
    };
    let metas = described
        .as_ref()
        .map(crate::formats::rule_metas)
        .unwrap_or_default();
    let rule_ids: Vec<&str> = metas
        .iter()
        .map(|m| m.id.as_str())
        .filter(|id| !id.starts_with("PCG-"))
        .collect();
    let known_ids: Vec<&str> = metas.iter().map(|m| m.id.as_str()).collect();
    let limits = Limits::default();
    let today = args.today.unwrap_or_else(utc_today);
    // Every input's report, with its text for human output.
    let mut results: Vec<(FileReport, Option<String>)> = Vec::new();
    let mut waiver_files = Vec::new();
    for path in &args.waivers {
        let loaded = crate::input::read(path, path, &limits)
            .map_err(|report| Box::new(Unusable { report, text: None }))
            .and_then(|text| crate::waivers::WaiverFile::load(path, text, &rule_ids, &limits));
        match loaded {
            Ok(file) => waiver_files.push(file),
            Err(unusable) => results.push((unusable.report, unusable.text)),
        }
    }
    let baseline = match &args.baseline {
        Some(path) => match crate::input::read(path, path, &limits)
            .map_err(|report| Box::new(Unusable { report, text: None }))
            .and_then(|text| crate::baseline::Baseline::load(path, text, &known_ids, &limits))
        {
            Ok(b) => Some(b),
            Err(unusable) => {
                results.push((unusable.report, unusable.text));
                None
            }
        },
        None => None,
    };
    let input_format = args.input_format.map(InputFormat::from);
    let mut skip: Vec<&std::path::Path> = args.waivers.iter().map(std::path::Path::new).collect();
    skip.extend(args.baseline.as_deref().map(std::path::Path::new));
    skip.extend(args.write_baseline.as_deref());
    let stdin_name = args.stdin_filename.as_deref().unwrap_or("<stdin>");
    let admits = |path: &std::path::Path| args.config.as_ref().is_none_or(|c| c.admits(path));
    let (inputs, problems) = input::expand(&args.files, stdin_name, &skip, &admits);
    results.extend(problems.into_iter().map(|r| (r, None)));
    let wants_text = matches!(args.format, Format::Human)
        || args
            .outputs
            .iter()
            .any(|(format, _)| matches!(format, Format::Human));
    for item in &inputs {
        let text = match input::read(&item.path, &item.shown, &limits) {
            Ok(text) => text,
            Err(report) => {
                results.push((report, None));
                continue;
            }
        };
        // Hashed here, where the processor's SHA instructions are, not in the module.
        let source_sha256 = Some(pchat_guard_engine::report::sha256_hex(text.as_bytes()));
        let mut request = CheckRequest {
            source: String::new(),
            source_sha256,
            path: item.shown.clone(),
            input_format,
            limits,
            coverage: false,
            bundle: None,
            today: Some(today),
            ignore_manifest_waivers: args.ignore_manifest_waivers,
            // Hashed here too, with the processor's SHA instructions, once the report is back.
            host_fingerprints: true,
            waivers: waiver_files
                .iter()
                .flat_map(|w| w.for_file(&item.shown))
                .collect(),
        };
        // Only human output quotes the text; otherwise the host lets go of it once the module
        // has its copy (on a large manifest, one less copy alive during the check).
        let (answer, kept) = if wants_text {
            request.source = text;
            let answer = session.check_request(&mut request);
            (answer, Some(std::mem::take(&mut request.source)))
        } else {
            (session.check_text(&request, text), None)
        };
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                say!(out, "error: while checking `{}`: {e}", item.shown);
                return out.with(ExitStatus::Internal);
            }
        };
        match serde_json::from_str::<Response>(&response) {
            Ok(Response::Ok { mut report }) => {
                report.fill_fingerprints();
                results.push((report, kept));
            }
            Ok(Response::Error { message }) => {
                return out.internal(&HostError::Failure(format!(
                    "the module refused the request for `{}`: {message}",
                    item.shown
                )));
            }
            Err(e) => {
                return out.internal(&HostError::Failure(format!(
                    "unreadable response for `{}`: {e}",
                    item.shown
                )));
            }
        }
    }
    let said: Vec<(FileReport, Option<String>)> = waiver_files
        .iter()
        .filter_map(|file| {
            let report = file.finish(results.iter().map(|(r, _)| r), Some(today))?;
            Some((report, Some(file.text.clone())))
        })
        .collect();
    results.extend(said);
    results.sort_by_key(|r| crate::waivers::normalize(&r.0.path));
    let (mut files, sources): (Vec<FileReport>, Vec<Option<String>>) = results.into_iter().unzip();
    if let Some(path) = &args.write_baseline {
        let all_checked = files.iter().all(|f| f.checked);
        if !all_checked {
            say!(
                out,
                "error: not writing the baseline `{}`: some inputs could not be checked",
                path.display()
            );
        } else {
            let recorded = crate::baseline::Baseline::record(&files);
            let written = recorded
                .to_json()
                .and_then(|json| std::fs::write(path, json).map_err(|e| e.to_string()));
            match written {
                Ok(()) => say!(
                    out,
                    "wrote the baseline `{}`: {} finding{}",
                    path.display(),
                    recorded.findings.len(),
                    if recorded.findings.len() == 1 {
                        ""
                    } else {
                        "s"
                    }
                ),
                Err(e) => {
                    say!(
                        out,
                        "error: cannot write the baseline `{}`: {e}",
                        path.display()
                    );
                    return out.with(ExitStatus::CannotCheck);
                }
            }
        }
    }
    let baselined = baseline.as_ref().map_or(0, |b| b.apply(&mut files));
    let report = RunReport::new(files, baselined);
    let rendered = |format: Format, color: bool| {
        render(format, &report, &sources, &metas, baseline.is_some(), color)
    };
    for (format, path) in &args.outputs {
        // Files get no colour.
        let text = match rendered(*format, false) {
            Ok(text) => text,
            Err(e) => return out.internal(&e),
        };
        if let Err(e) = std::fs::write(path, text) {
            say!(out, "error: cannot write `{}`: {e}", path.display());
            return out.with(ExitStatus::CannotCheck);
        }
    }
    let output = match rendered(args.format, use_color(args.color)) {
        Ok(text) => text,
        Err(e) => return out.internal(&e),
    };
    out.emit(output);
    if args.write_baseline.is_some() && report.summary.checked == report.summary.files {
        return out.with(ExitStatus::Clean);
    }
    out.with(exit_code(&report, args.fail_on))
}

/// The report in one format.
fn render(
    format: Format,
    report: &RunReport,
    sources: &[Option<String>],
    metas: &[crate::formats::RuleMeta],
    with_baseline: bool,
    color: bool,
) -> Result<String, HostError> {
    let json = |value: &serde_json::Value| {
        serde_json::to_string_pretty(value)
            .map(|text| text + "\n")
            .map_err(|e| HostError::Failure(format!("encoding the report: {e}")))
    };
    match format {
        Format::Json => serde_json::to_string_pretty(report)
            .map(|text| text + "\n")
            .map_err(|e| HostError::Failure(format!("encoding the report: {e}"))),
        Format::Human => Ok(render::human(report, sources, color)),
        Format::Github => Ok(crate::formats::github(report)),
        Format::Azure => Ok(crate::formats::azure(report)),
        Format::Sarif => json(&crate::formats::sarif(report, metas, with_baseline)),
        Format::Gitlab => json(&crate::formats::gitlab(report)),
        Format::Junit => crate::formats::junit(report, metas)
            .map(|xml| xml + "\n")
            .map_err(HostError::Failure),
    }
}

/// Whether human output is coloured.
pub fn use_color(choice: Color) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// 2 when any input could not be checked; else 1 when a finding reaches the threshold; else 0.
pub fn exit_code(report: &RunReport, fail_on: FailOn) -> ExitStatus {
    if report.summary.checked < report.summary.files {
        return ExitStatus::CannotCheck;
    }
    let threshold = match fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    let failing = threshold.is_some_and(|t| {
        report
            .files
            .iter()
            .flat_map(|f| &f.findings)
            .any(|f| f.waived.is_none() && f.severity >= t)
    });
    if failing {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    }
}
