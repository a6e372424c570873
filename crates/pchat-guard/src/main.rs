//! The `pchat-guard` command line: checks topology manifests with the embedded module.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use pchat_guard::host::{Host, HostError, HostOptions};
use pchat_guard::input;
use pchat_guard::module::{self, MODULE};
use pchat_guard::render::{self, RunReport};
use pchat_guard_engine::ir::Bundle;
use pchat_guard_engine::waiver::Date;
use pchat_guard_engine::{CheckRequest, FileReport, InputFormat, Limits, Response, Severity};

/// Checks Persistent Chat Server topology manifests against HA/DR requirements.
#[derive(Debug, Parser)]
#[command(name = "pchat-guard", version, about, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 cannot check, 3 internal failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests (JSON or YAML); `-` reads standard input.
    Check(CheckArgs),
    /// Write the WebAssembly module (and its JS glue) that this CLI runs.
    Module {
        /// Where to write the `.wasm` file.
        #[arg(long)]
        out: PathBuf,
        /// A directory for the wasm-bindgen JS glue and TypeScript declarations.
        #[arg(long)]
        js_out: Option<PathBuf>,
    },
    /// Print the manifest JSON Schema.
    Schema,
    /// Print what the module says of itself (versions, rules, codes, schema) as JSON.
    Describe(HostArgs),
    /// Compile a rule directory into a self-contained module (the embedded evaluator plus the
    /// pack): it runs in every host, through the same ABI, and still imports nothing.
    Compile {
        /// The rule directory (its `*.rules` files, outside `tests/` folders).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// The module to write.
        #[arg(short, long, value_name = "FILE.wasm")]
        output: PathBuf,
        /// The pack's name, as `describe` and `--version` report it (default: the directory's name).
        #[arg(long)]
        pack_name: Option<String>,
        /// The pack's version.
        #[arg(long, default_value = "0.0.0")]
        pack_version: String,
    },
    /// List the rules of the shipped pack (or of `--policies DIR`).
    Rules(RulesArgs),
    /// Print the documentation of one rule.
    Explain {
        /// The rule id, such as `PCHAT-HA-001`.
        #[arg(value_name = "RULE")]
        id: String,
        #[command(flatten)]
        rules: RulesArgs,
    },
    /// Run the policy tests of a rule directory: manifests under `tests/` with the findings they
    /// must produce (`# expect: CODE POINTER` lines, or a `.expect` file beside a JSON case).
    Test(TestArgs),
}

#[derive(Debug, clap::Args)]
struct RulesArgs {
    /// `table` or `json`.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
    /// Describe the rules of this directory instead of the shipped pack.
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
    #[command(flatten)]
    host: HostArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
struct TestArgs {
    /// The rule directory (its `*.rules` files; cases in its `tests/` folders).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Report which rules fired and which `where` branches (held / did not hold) the cases reached.
    #[arg(long)]
    coverage: bool,
    /// Fail (exit 1) when rule or branch coverage is below this percentage (implies --coverage).
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    threshold: Option<f64>,
    #[command(flatten)]
    host: HostArgs,
}

#[derive(Debug, clap::Args)]
struct HostArgs {
    /// Compile the module in memory instead of using the cache of its precompiled form.
    #[arg(long)]
    no_cache: bool,
    /// Fuel for each check (about one unit per WebAssembly instruction).
    #[arg(long, value_name = "UNITS", default_value_t = HostOptions::default().fuel)]
    max_fuel: u64,
    /// Largest memory the module may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=4096))]
    max_memory_mib: u32,
    /// Run this module (for example one from `pchat-guard compile`) instead of the embedded one.
    #[arg(long, value_name = "FILE.wasm")]
    module: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Manifest files, or directories (their `.json`, `.yaml` and `.yml` files at any depth,
    /// skipping hidden and git-ignored ones); `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    files: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Read inputs as this format instead of inferring it from the extension.
    #[arg(long, value_enum)]
    input_format: Option<InputFormatArg>,
    /// The file name to report for standard input.
    #[arg(long, value_name = "NAME")]
    stdin_filename: Option<String>,
    /// Lowest severity that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// When to colour human output (NO_COLOR is honoured under `auto`).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Evaluate the rules of this directory instead of the shipped pack.
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
    /// A waiver file (JSON or YAML `waivers:` list), applied after each manifest's own waivers.
    /// May be given more than once.
    #[arg(long, value_name = "FILE")]
    waivers: Vec<String>,
    /// The date waivers' `expires` is compared with, `YYYY-MM-DD` [default: today, UTC].
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    today: Option<Date>,
    /// Leave out the findings this baseline records: only new findings are reported.
    #[arg(long, value_name = "FILE")]
    baseline: Option<String>,
    /// Record this run's findings (not waived ones) in a baseline file, and exit 0 unless an
    /// input could not be checked.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    #[command(flatten)]
    host: HostArgs,
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text)
}

/// Today's date in UTC, from the system clock.
fn utc_today() -> Date {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_unix_days(i64::try_from(seconds / 86_400).unwrap_or(0))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
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
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum InputFormatArg {
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Writes to stderr; a closed stderr is ignored rather than a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Writes to stderr without a newline.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Exit codes, as documented in the README.
mod exit {
    pub const FINDINGS: u8 = 1;
    pub const CANNOT_CHECK: u8 = 2;
    pub const INTERNAL: u8 = 3;
}

fn main() -> ExitCode {
    let first = std::env::args().nth(1);
    if matches!(first.as_deref(), Some("--version" | "-V")) {
        return version();
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(args),
        Command::Module { out, js_out } => write_module(&out, js_out.as_deref()),
        Command::Schema => {
            emit(&format!(
                "{}\n",
                pchat_guard_engine::schema::SCHEMA_TEXT.trim_end()
            ));
            ExitCode::SUCCESS
        }
        Command::Describe(args) => describe(&args),
        Command::Test(args) => test(&args),
        Command::Compile {
            dir,
            output,
            pack_name,
            pack_version,
        } => compile(&dir, &output, pack_name, pack_version),
        Command::Rules(args) => rules(&args, None),
        Command::Explain { id, rules: args } => rules(&args, Some(&id)),
    }
}

fn host_options(args: &HostArgs) -> HostOptions {
    let defaults = HostOptions::default();
    HostOptions {
        cache_dir: if args.no_cache {
            None
        } else {
            defaults.cache_dir
        },
        fuel: args.max_fuel,
        max_memory: args.max_memory_mib as usize * 1024 * 1024,
    }
}

fn internal(error: &HostError) -> ExitCode {
    say!("error: {error}");
    ExitCode::from(exit::INTERNAL)
}

fn describe(args: &HostArgs) -> ExitCode {
    let result = module_bytes(args)
        .map_err(|_| HostError::BadModule("unreadable module".into()))
        .and_then(|m| Host::new(&m, host_options(args)))
        .and_then(|h| h.session())
        .and_then(|mut s| s.describe());
    match result {
        Ok(json) => {
            emit(&format!("{json}\n"));
            ExitCode::SUCCESS
        }
        Err(e) => internal(&e),
    }
}

fn write_module(out: &std::path::Path, js_out: Option<&std::path::Path>) -> ExitCode {
    let mut written = vec![(out.to_path_buf(), MODULE.to_vec())];
    if let Some(dir) = js_out {
        if let Err(e) = std::fs::create_dir_all(dir) {
            say!("error: cannot create `{}`: {e}", dir.display());
            return ExitCode::from(exit::CANNOT_CHECK);
        }
        written.extend(
            module::js_files()
                .iter()
                .map(|(name, text)| (dir.join(name), text.as_bytes().to_vec())),
        );
        written.push((dir.join(module::MODULE_FILE_NAME), MODULE.to_vec()));
    }
    for (path, bytes) in written {
        if let Err(e) = std::fs::write(&path, bytes) {
            say!("error: cannot write `{}`: {e}", path.display());
            return ExitCode::from(exit::CANNOT_CHECK);
        }
    }
    say!(
        "wrote the module ({} bytes, sha256 {})",
        MODULE.len(),
        module::digest(MODULE)
    );
    ExitCode::SUCCESS
}

/// Compiles a policy directory, printing its diagnostics to stderr; `None` means exit 2.
fn load_policies(dir: &std::path::Path) -> Option<Bundle> {
    match pchat_guard::policy::compile_dir(dir) {
        Ok((sources, compiled)) => {
            say_raw!(
                "{}",
                pchat_guard::policy::render_diagnostics(&sources, &compiled, use_color_stderr())
            );
            if compiled.bundle.is_none() {
                let errors = compiled
                    .diagnostics
                    .iter()
                    .filter(|d| d.level == pchat_guard_lang::Level::Error)
                    .count();
                say!(
                    "error: the rules in `{}` do not compile ({errors} error{})",
                    dir.display(),
                    if errors == 1 { "" } else { "s" }
                );
            }
            compiled.bundle
        }
        Err(message) => {
            say!("error: {message}");
            None
        }
    }
}

fn use_color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn check(args: CheckArgs) -> ExitCode {
    if args.files.iter().filter(|f| *f == "-").count() > 1 {
        say!("error: standard input (`-`) can be given once");
        return ExitCode::from(exit::CANNOT_CHECK);
    }
    let bundle = match &args.policies {
        Some(dir) => match load_policies(dir) {
            Some(b) => Some(b),
            None => return ExitCode::from(exit::CANNOT_CHECK),
        },
        None => None,
    };
    let bytes = match module_bytes(&args.host) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let host = match Host::new(&bytes, host_options(&args.host)) {
        Ok(h) => h,
        Err(e) => return internal(&e),
    };
    let mut session = match host.session() {
        Ok(s) => s,
        Err(e) => return internal(&e),
    };
    // The rules and codes the module knows: for waiver and baseline files, SARIF and JUnit. Asked
    // only when needed, as the description carries the whole schema.
    let needs_rules = !args.waivers.is_empty()
        || args.baseline.is_some()
        || matches!(args.format, Format::Sarif | Format::Junit);
    let described = if needs_rules {
        match session
            .describe()
            .map(|d| serde_json::from_str::<serde_json::Value>(&d))
        {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                return internal(&HostError::Failure(format!("unreadable description: {e}")));
            }
            Err(e) => return internal(&e),
        }
    } else {
        serde_json::Value::Null
    };
    let mut metas = pchat_guard::formats::rule_metas(&described);
    if let Some(custom) = &bundle {
        metas.retain(|m| m.id.starts_with("PCG-"));
        metas.extend(custom.rules.iter().map(|r| pchat_guard::formats::RuleMeta {
            id: r.id.clone(),
            severity: r.severity,
            title: r.title.clone(),
            doc: r.doc.clone(),
        }));
    }
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
        match pchat_guard::waivers::WaiverFile::load(path, &rule_ids, &limits) {
            Ok(file) => waiver_files.push(file),
            Err(unusable) => results.push((unusable.report, unusable.text)),
        }
    }
    let baseline = match &args.baseline {
        Some(path) => match pchat_guard::baseline::Baseline::load(path, &known_ids, &limits) {
            Ok(b) => Some(b),
            Err(unusable) => {
                results.push((unusable.report, unusable.text));
                None
            }
        },
        None => None,
    };
    let input_format = args.input_format.map(|f| match f {
        InputFormatArg::Json => InputFormat::Json,
        InputFormatArg::Yaml => InputFormat::Yaml,
    });
    let mut skip: Vec<&std::path::Path> = args.waivers.iter().map(std::path::Path::new).collect();
    skip.extend(args.baseline.as_deref().map(std::path::Path::new));
    skip.extend(args.write_baseline.as_deref());
    let stdin_name = args.stdin_filename.as_deref().unwrap_or("<stdin>");
    let (inputs, problems) = input::expand(&args.files, stdin_name, &skip);
    results.extend(problems.into_iter().map(|r| (r, None)));
    for item in &inputs {
        let text = match input::read(&item.path, &item.shown, &limits) {
            Ok(text) => text,
            Err(report) => {
                results.push((report, None));
                continue;
            }
        };
        let request = CheckRequest {
            source: text,
            path: item.shown.clone(),
            input_format,
            limits,
            coverage: false,
            bundle: bundle.clone(),
            today: Some(today.to_string()),
            waivers: waiver_files
                .iter()
                .flat_map(|w| w.for_file(&item.shown))
                .collect(),
        };
        let request_json = match serde_json::to_vec(&request) {
            Ok(r) => r,
            Err(e) => return internal(&HostError::Failure(format!("encoding the request: {e}"))),
        };
        let response = match session.check(&request_json) {
            Ok(r) => r,
            Err(e) => {
                say!("error: while checking `{}`: {e}", item.shown);
                return ExitCode::from(exit::INTERNAL);
            }
        };
        match serde_json::from_str::<Response>(&response) {
            Ok(Response::Ok { report }) => results.push((report, Some(request.source))),
            Ok(Response::Error { message }) => {
                return internal(&HostError::Failure(format!(
                    "the module refused the request for `{}`: {message}",
                    item.shown
                )));
            }
            Err(e) => {
                return internal(&HostError::Failure(format!(
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
    results.sort_by_key(|r| pchat_guard::waivers::normalize(&r.0.path));
    let (mut files, sources): (Vec<FileReport>, Vec<Option<String>>) = results.into_iter().unzip();
    if let Some(path) = &args.write_baseline {
        let all_checked = files.iter().all(|f| f.checked);
        if !all_checked {
            say!(
                "error: not writing the baseline `{}`: some inputs could not be checked",
                path.display()
            );
        } else {
            let recorded = pchat_guard::baseline::Baseline::record(&files);
            let written = recorded
                .to_json()
                .and_then(|json| std::fs::write(path, json).map_err(|e| e.to_string()));
            match written {
                Ok(()) => say!(
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
                    say!("error: cannot write the baseline `{}`: {e}", path.display());
                    return ExitCode::from(exit::CANNOT_CHECK);
                }
            }
        }
    }
    let baselined = baseline.as_ref().map_or(0, |b| b.apply(&mut files));
    let report = RunReport::new(files, baselined);
    let output = match args.format {
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => json + "\n",
            Err(e) => return internal(&HostError::Failure(format!("encoding the report: {e}"))),
        },
        Format::Human => render::human(&report, &sources, use_color(args.color)),
        Format::Github => pchat_guard::formats::github(&report),
        Format::Sarif => match serde_json::to_string_pretty(&pchat_guard::formats::sarif(
            &report,
            &metas,
            baseline.is_some(),
        )) {
            Ok(text) => text + "\n",
            Err(e) => return internal(&HostError::Failure(format!("encoding SARIF: {e}"))),
        },
        Format::Junit => match pchat_guard::formats::junit(&report, &metas) {
            Ok(xml) => xml + "\n",
            Err(e) => return internal(&HostError::Failure(e)),
        },
    };
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(exit::INTERNAL);
    }
    if args.write_baseline.is_some() && report.summary.checked == report.summary.files {
        return ExitCode::SUCCESS;
    }
    ExitCode::from(exit_code(&report, args.fail_on))
}

fn use_color(choice: Color) -> bool {
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
fn exit_code(report: &RunReport, fail_on: FailOn) -> u8 {
    if report.summary.checked < report.summary.files {
        return exit::CANNOT_CHECK;
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
    if failing { exit::FINDINGS } else { 0 }
}

fn test(args: &TestArgs) -> ExitCode {
    let Some(bundle) = load_policies(&args.dir) else {
        return ExitCode::from(exit::CANNOT_CHECK);
    };
    let cases = pchat_guard_pack::test_files(&args.dir);
    if cases.is_empty() {
        say!(
            "error: `{}` has no test manifests in a `tests` folder",
            args.dir.display()
        );
        return ExitCode::from(exit::CANNOT_CHECK);
    }
    let bytes = match module_bytes(&args.host) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let mut session = match Host::new(&bytes, host_options(&args.host)).and_then(|h| h.session()) {
        Ok(s) => s,
        Err(e) => return internal(&e),
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut out = String::new();
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
        let pchat_guard::policy::Case {
            source,
            input_format,
            expected,
            scope,
            today,
        } = match pchat_guard::policy::read_case(case) {
            Ok(case) => case,
            Err(e) => {
                say!("error: {e}");
                return ExitCode::from(exit::CANNOT_CHECK);
            }
        };
        if let Some(Err(e)) = today.as_deref().map(Date::parse) {
            say!("error: `{shown}`: `today`: {e}");
            return ExitCode::from(exit::CANNOT_CHECK);
        }
        let request = CheckRequest {
            source,
            path: shown.clone(),
            input_format,
            limits: Limits::default(),
            coverage: args.coverage || args.threshold.is_some(),
            bundle: Some(bundle.clone()),
            today,
            waivers: Vec::new(),
        };
        let response = serde_json::to_vec(&request)
            .map_err(|e| HostError::Failure(e.to_string()))
            .and_then(|r| session.check(&r));
        let mut report = match response.map(|r| serde_json::from_str::<Response>(&r)) {
            Ok(Ok(Response::Ok { mut report })) => {
                report.findings.sort_by_key(|a| a.location.start.offset);
                report
            }
            Ok(Ok(Response::Error { message })) => return internal(&HostError::Failure(message)),
            Ok(Err(e)) => return internal(&HostError::Failure(e.to_string())),
            Err(e) => return internal(&e),
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
            out.push_str(&format!("ok      {shown}\n"));
        } else {
            failed += 1;
            out.push_str(&format!("FAILED  {shown}\n"));
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
                out.push_str(&format!("          missing: {code} {pointer}\n"));
            }
            for f in extra {
                out.push_str(&format!(
                    "          unexpected: {} {} (line {}): {}\n",
                    f.code, f.pointer, f.location.start.line, f.message
                ));
            }
        }
    }
    let mut below = false;
    if args.coverage || args.threshold.is_some() {
        let (rules_fired, branches_seen, branches) = coverage_report(&bundle, &totals, &mut out);
        let rule_pct = percent(rules_fired, totals.len());
        let branch_pct = percent(branches_seen, branches);
        out.push_str(&format!(
            "coverage: rules {rules_fired}/{} ({rule_pct:.1}%), where branches {branches_seen}/{branches} ({branch_pct:.1}%)\n",
            totals.len()
        ));
        if let Some(threshold) = args.threshold {
            below = rule_pct < threshold || branch_pct < threshold;
            if below {
                out.push_str(&format!(
                    "coverage is below the threshold of {threshold}%\n"
                ));
            }
        }
    }
    out.push_str(&format!("{passed} passed, {failed} failed\n"));
    emit(&out);
    ExitCode::from(if failed > 0 || below {
        exit::FINDINGS
    } else {
        0
    })
}

/// The rules as the module describes them: `(id, severity, title, facts, doc)` as JSON values.
fn described_rules(host: &HostArgs) -> Result<serde_json::Value, ExitCode> {
    let described = module_bytes(host)
        .map_err(|_| HostError::BadModule("unreadable module".into()))
        .and_then(|m| Host::new(&m, host_options(host)))
        .and_then(|h| h.session())
        .and_then(|mut s| s.describe());
    match described.map(|json| serde_json::from_str::<serde_json::Value>(&json)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(internal(&HostError::Failure(format!(
            "unreadable description: {e}"
        )))),
        Err(e) => Err(internal(&e)),
    }
}

fn rules(args: &RulesArgs, explain: Option<&str>) -> ExitCode {
    let rules: Vec<serde_json::Value> = match &args.policies {
        Some(dir) => match load_policies(dir) {
            Some(bundle) => bundle
                .rules
                .iter()
                .map(|r| serde_json::json!({ "id": r.id, "severity": r.severity, "title": r.title, "facts": r.facts, "doc": r.doc }))
                .collect(),
            None => return ExitCode::from(exit::CANNOT_CHECK),
        },
        None => match described_rules(&args.host) {
            Ok(described) => described.get("rules").and_then(|r| r.as_array()).cloned().unwrap_or_default(),
            Err(code) => return code,
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
            say!("error: no rule `{id}`{hint} (`pchat-guard rules` lists them)");
            return ExitCode::from(exit::CANNOT_CHECK);
        };
        return match args.format {
            ListFormat::Json => {
                emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(rule).unwrap_or_default()
                ));
                ExitCode::SUCCESS
            }
            ListFormat::Table => {
                emit(&format!(
                    "{}: {}\nseverity: {}\nfacts: {}\n\n{}\n",
                    text(&rule["id"]),
                    text(&rule["title"]),
                    text(&rule["severity"]),
                    facts(rule).join(", "),
                    text(&rule["doc"]).trim()
                ));
                ExitCode::SUCCESS
            }
        };
    }
    match args.format {
        ListFormat::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&rules).unwrap_or_default()
        )),
        ListFormat::Table => {
            let mut out = format!(
                "{:<16} {:<8} {:<12} {}\n",
                "RULE", "SEVERITY", "FACTS", "TITLE"
            );
            for rule in &rules {
                out.push_str(&format!(
                    "{:<16} {:<8} {:<12} {}\n",
                    text(&rule["id"]),
                    text(&rule["severity"]),
                    facts(rule).join(","),
                    text(&rule["title"])
                ));
            }
            emit(&out);
        }
    }
    ExitCode::SUCCESS
}

/// `--version`: the CLI, the module's digest, and the embedded pack's name, version and digest.
fn version() -> ExitCode {
    let host = HostArgs {
        no_cache: false,
        max_fuel: HostOptions::default().fuel,
        max_memory_mib: 1024,
        module: None,
    };
    let described = match described_rules(&host) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let null = serde_json::Value::Null;
    let pack = described.get("pack").unwrap_or(&null);
    emit(&format!(
        "pchat-guard {}\nmodule sha256:{} (ABI {}, wasmtime {})\npack {} {} {}\n",
        env!("CARGO_PKG_VERSION"),
        module::digest(MODULE),
        described.get("abi_version").unwrap_or(&null),
        pchat_guard::host::wasmtime_version(),
        pack.get("name").and_then(|v| v.as_str()).unwrap_or("none"),
        pack.get("version").and_then(|v| v.as_str()).unwrap_or("-"),
        pack.get("digest").and_then(|v| v.as_str()).unwrap_or("-"),
    ));
    ExitCode::SUCCESS
}

fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Lists rules that never fired and `where` clauses with an outcome no case reached; returns
/// (rules fired, branch outcomes seen, branch outcomes in all).
fn coverage_report(
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

fn compile(
    dir: &std::path::Path,
    output: &std::path::Path,
    name: Option<String>,
    version: String,
) -> ExitCode {
    let Some(mut bundle) = load_policies(dir) else {
        return ExitCode::from(exit::CANNOT_CHECK);
    };
    if let Some(name) = name {
        bundle.name = name;
    }
    bundle.version = version;
    let payload = match serde_json::to_vec(&bundle) {
        Ok(p) => p,
        Err(e) => return internal(&HostError::Failure(format!("encoding the pack: {e}"))),
    };
    let digest = module::digest(&payload);
    let image = pchat_guard_engine::image::encode(&payload, &digest);
    let compiled = match pchat_guard::inject::inject(MODULE, &image) {
        Ok(bytes) => bytes,
        Err(e) => return internal(&HostError::BadModule(e)),
    };
    // Load what was written, as any host will, before calling it done.
    let options = HostOptions {
        cache_dir: None,
        ..HostOptions::default()
    };
    let described = Host::new(&compiled, options)
        .and_then(|h| h.session())
        .and_then(|mut s| s.describe());
    match described.map(|d| serde_json::from_str::<serde_json::Value>(&d)) {
        Ok(Ok(d))
            if d.pointer("/pack/digest").and_then(|v| v.as_str())
                == Some(&format!("sha256:{digest}")) => {}
        Ok(Ok(d)) => {
            return internal(&HostError::BadModule(format!(
                "the compiled module does not run the pack: {d}"
            )));
        }
        Ok(Err(e)) => return internal(&HostError::Failure(e.to_string())),
        Err(e) => return internal(&e),
    }
    if let Err(e) = std::fs::write(output, &compiled) {
        say!("error: cannot write `{}`: {e}", output.display());
        return ExitCode::from(exit::CANNOT_CHECK);
    }
    say!(
        "wrote `{}`: {} rules of pack `{}` {} (sha256:{digest}), {} bytes",
        output.display(),
        bundle.rules.len(),
        bundle.name,
        bundle.version,
        compiled.len()
    );
    ExitCode::SUCCESS
}

/// The module bytes to run: `--module FILE`, else the embedded module.
fn module_bytes(args: &HostArgs) -> Result<std::borrow::Cow<'static, [u8]>, ExitCode> {
    match &args.module {
        None => Ok(std::borrow::Cow::Borrowed(MODULE)),
        Some(path) => std::fs::read(path)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| {
                say!("error: cannot read `{}`: {e}", path.display());
                ExitCode::from(exit::CANNOT_CHECK)
            }),
    }
}
