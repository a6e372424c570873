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
use pchat_guard_engine::{CheckRequest, FileReport, InputFormat, Limits, Response, Severity};

/// Checks Persistent Chat Server topology manifests against HA/DR requirements.
#[derive(Debug, Parser)]
#[command(name = "pchat-guard", version, about, max_term_width = 100)]
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
    /// Print what the module says of itself (versions, codes, schema) as JSON.
    Describe(HostArgs),
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
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Manifest files; `-` for standard input.
    #[arg(required = true, value_name = "FILE")]
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
    #[command(flatten)]
    host: HostArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
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

/// Exit codes, as documented in the README.
mod exit {
    pub const FINDINGS: u8 = 1;
    pub const CANNOT_CHECK: u8 = 2;
    pub const INTERNAL: u8 = 3;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(args),
        Command::Module { out, js_out } => write_module(&out, js_out.as_deref()),
        Command::Schema => {
            println!("{}", pchat_guard_engine::schema::SCHEMA_TEXT.trim_end());
            ExitCode::SUCCESS
        }
        Command::Describe(args) => describe(&args),
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
    eprintln!("error: {error}");
    ExitCode::from(exit::INTERNAL)
}

fn describe(args: &HostArgs) -> ExitCode {
    let result = Host::new(MODULE, host_options(args))
        .and_then(|h| h.session())
        .and_then(|mut s| s.describe());
    match result {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => internal(&e),
    }
}

fn write_module(out: &std::path::Path, js_out: Option<&std::path::Path>) -> ExitCode {
    let mut written = vec![(out.to_path_buf(), MODULE.to_vec())];
    if let Some(dir) = js_out {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("error: cannot create `{}`: {e}", dir.display());
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
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return ExitCode::from(exit::CANNOT_CHECK);
        }
    }
    eprintln!(
        "wrote the module ({} bytes, sha256 {})",
        MODULE.len(),
        module::digest(MODULE)
    );
    ExitCode::SUCCESS
}

fn check(args: CheckArgs) -> ExitCode {
    if args.files.iter().filter(|f| *f == "-").count() > 1 {
        eprintln!("error: standard input (`-`) can be given once");
        return ExitCode::from(exit::CANNOT_CHECK);
    }
    let host = match Host::new(MODULE, host_options(&args.host)) {
        Ok(h) => h,
        Err(e) => return internal(&e),
    };
    let mut session = match host.session() {
        Ok(s) => s,
        Err(e) => return internal(&e),
    };
    let limits = Limits::default();
    let input_format = args.input_format.map(|f| match f {
        InputFormatArg::Json => InputFormat::Json,
        InputFormatArg::Yaml => InputFormat::Yaml,
    });
    let mut reports: Vec<FileReport> = Vec::new();
    let mut sources: Vec<Option<String>> = Vec::new();
    for file in &args.files {
        let shown = if file == "-" {
            args.stdin_filename
                .clone()
                .unwrap_or_else(|| "<stdin>".to_string())
        } else {
            file.clone()
        };
        let text = match input::read(file, &shown, &limits) {
            Ok(text) => text,
            Err(report) => {
                reports.push(report);
                sources.push(None);
                continue;
            }
        };
        let request = CheckRequest {
            source: text,
            path: shown.clone(),
            input_format,
            limits,
        };
        let request_json = match serde_json::to_vec(&request) {
            Ok(r) => r,
            Err(e) => return internal(&HostError::Failure(format!("encoding the request: {e}"))),
        };
        let response = match session.check(&request_json) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: while checking `{shown}`: {e}");
                return ExitCode::from(exit::INTERNAL);
            }
        };
        match serde_json::from_str::<Response>(&response) {
            Ok(Response::Ok { report }) => reports.push(report),
            Ok(Response::Error { message }) => {
                return internal(&HostError::Failure(format!(
                    "the module refused the request for `{shown}`: {message}"
                )));
            }
            Err(e) => {
                return internal(&HostError::Failure(format!(
                    "unreadable response for `{shown}`: {e}"
                )));
            }
        }
        sources.push(Some(request.source));
    }
    let report = RunReport::new(reports);
    let output = match args.format {
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => json + "\n",
            Err(e) => return internal(&HostError::Failure(format!("encoding the report: {e}"))),
        },
        Format::Human => render::human(&report, &sources, use_color(args.color)),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(exit::INTERNAL);
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
            .any(|f| f.severity >= t)
    });
    if failing { exit::FINDINGS } else { 0 }
}
