//! The `pchat-guard` command line: parses the arguments and dispatches to a command of
//! [`pchat_guard::commands`], then writes what it returned. Nothing else lives here.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use pchat_guard::commands::{self, ExitStatus, Outcome};

/// Checks Persistent Chat Server topology manifests against HA/DR requirements.
#[derive(Debug, Parser)]
#[command(name = "pchat-guard", version, about, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 cannot check, 3 internal failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Read this configuration file instead of looking for `pchat-guard.toml` (or
    /// `pyproject.toml` with [tool.pchat-guard]) here and in the parent directories.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Read no configuration file.
    #[arg(long, global = true, conflicts_with = "config")]
    no_config: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests (JSON or YAML); `-` reads standard input.
    Check(Box<commands::check::CheckArgs>),
    /// Write a complete manifest of a reference layout that checks clean, to start from.
    Init(commands::init::InitArgs),
    /// Draw a manifest's topology as SVG, with its findings on the elements they concern.
    Diagram(commands::diagram::DiagramArgs),
    /// Write the WebAssembly module (and its JS glue) that this CLI runs.
    Module {
        /// Where to write the `.wasm` file.
        #[arg(long)]
        out: PathBuf,
        /// A directory for the wasm-bindgen JS glue and TypeScript declarations.
        #[arg(long)]
        js_out: Option<PathBuf>,
    },
    /// Print a JSON Schema: of manifests (default), waiver files, baselines or JSON reports.
    Schema(commands::schema::SchemaArgs),
    /// Print what the module says of itself (versions, rules, codes, schema) as JSON.
    Describe(commands::HostArgs),
    /// Compile a rule directory into a self-contained module (the embedded evaluator plus the
    /// pack): it runs in every host, through the same ABI, and still imports nothing.
    Compile {
        /// The rule directory (its `*.rules` files, outside `tests/` folders); without it,
        /// `--extend DIR` compiles the shipped pack with extensions.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// More packs.
        #[command(flatten)]
        packs: commands::PackArgs,
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
    Rules(commands::rules::RulesArgs),
    /// Print the documentation of one rule.
    Explain {
        /// The rule id, such as `PCHAT-HA-001`.
        #[arg(value_name = "RULE")]
        id: String,
        #[command(flatten)]
        rules: commands::rules::RulesArgs,
    },
    /// Print the project configuration in effect (`pchat-guard.toml`) and where each setting comes from.
    Config,
    /// Run the policy tests of a rule directory: manifests under `tests/` with the findings they
    /// must produce (`# expect: CODE POINTER` lines, or a `.expect` file beside a JSON case).
    Test(commands::policy_test::TestArgs),
}

fn main() -> ExitCode {
    let first = std::env::args().nth(1);
    let outcome = if matches!(first.as_deref(), Some("--version" | "-V")) {
        commands::version::run()
    } else {
        let matches = Cli::command().get_matches();
        let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        let uses_config = matches!(
            cli.command,
            Command::Check(_)
                | Command::Rules(_)
                | Command::Explain { .. }
                | Command::Test(_)
                | Command::Compile { .. }
                | Command::Config
        );
        let config = if uses_config && !cli.no_config {
            match project_config(cli.config.as_deref()) {
                Ok(c) => c,
                Err(outcome) => return ExitCode::from(write(&outcome)),
            }
        } else {
            None
        };
        let sub = matches.subcommand().map(|(_, m)| m);
        let given = |id: &str| given(sub, id);
        match cli.command {
            Command::Check(mut args) => {
                if let Some(c) = &config {
                    c.apply_check(&mut args, &given);
                }
                args.config = config;
                commands::check::run(*args)
            }
            Command::Config => commands::config::run(config.as_ref()),
            Command::Diagram(args) => commands::diagram::run(&args),
            Command::Init(args) => commands::init::run(&args),
            Command::Module { out, js_out } => commands::module::run(&out, js_out.as_deref()),
            Command::Schema(args) => commands::schema::run(&args),
            Command::Describe(args) => commands::describe::run(&args),
            Command::Test(mut args) => {
                if let (Some(c), None) = (&config, &args.dir) {
                    c.apply_packs(&mut args.packs, &given);
                }
                commands::policy_test::run(&args)
            }
            Command::Compile {
                dir,
                mut packs,
                output,
                pack_name,
                pack_version,
            } => {
                if let (Some(c), None) = (&config, &dir) {
                    c.apply_packs(&mut packs, &given);
                }
                packs.policies.splice(0..0, dir);
                commands::compile::run(&packs, &output, pack_name, pack_version)
            }
            Command::Rules(mut args) => {
                if let Some(c) = &config {
                    c.apply_packs(&mut args.packs, &given);
                }
                commands::rules::run(&args, None)
            }
            Command::Explain {
                id,
                rules: mut args,
            } => {
                if let Some(c) = &config {
                    c.apply_packs(&mut args.packs, &given);
                }
                commands::rules::run(&args, Some(&id))
            }
        }
    };
    ExitCode::from(write(&outcome))
}

/// Whether the command line itself set the argument `id` of the subcommand.
fn given(sub: Option<&ArgMatches>, id: &str) -> bool {
    sub.and_then(|m| m.try_get_raw(id).ok().flatten().map(|_| m.value_source(id)))
        .flatten()
        .is_some_and(|s| s == ValueSource::CommandLine)
}

/// The project configuration: `--config FILE`, else the one found from the current directory
/// up. A file that cannot be used is exit 2 with its location.
fn project_config(
    named: Option<&std::path::Path>,
) -> Result<Option<pchat_guard::config::Config>, commands::Outcome> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let Some(path) = named
        .map(PathBuf::from)
        .or_else(|| pchat_guard::config::discover(&cwd))
    else {
        return Ok(None);
    };
    pchat_guard::config::load(&path, &cwd)
        .map(Some)
        .map_err(|e| {
            let mut out = commands::Outcome::default();
            out.say(format!("error: {e}"));
            out.with(ExitStatus::CannotCheck)
        })
}

/// Writes an outcome: standard error first (diagnostics), then standard output (the report).
/// A closed pipe (`| head`) is not worth a panic; a report that cannot be written fails the run.
fn write(outcome: &Outcome) -> u8 {
    let _ = std::io::stderr().write_all(outcome.stderr.as_bytes());
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(outcome.stdout.as_bytes())
        .and_then(|()| stdout.flush());
    if written.is_err() && outcome.status == ExitStatus::Clean {
        return ExitStatus::Internal.code();
    }
    outcome.status.code()
}
