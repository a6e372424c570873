//! The commands of the `pchat-guard` CLI, one module each, behind a thin `main.rs` that parses
//! the arguments and dispatches. Each command is a library function that returns an
//! [`Outcome`]: what it writes to standard output and standard error, and its exit status, so
//! tests call commands directly without spawning a process.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::path::PathBuf;

use pchat_guard_engine::describe::Description;
use pchat_guard_engine::ir::Bundle;

use crate::host::{Host, HostError, HostOptions};
use crate::module::MODULE;

pub mod check;
pub mod compile;
pub mod config;
pub mod describe;
pub mod diagram;
pub mod init;
pub mod module;
pub mod policy_test;
pub mod rules;
pub mod schema;
pub mod version;

/// The exit statuses, as the README documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExitStatus {
    /// Every input was checked and nothing reached `--fail-on`.
    #[default]
    Clean,
    /// Findings at or above `--fail-on` (or failing policy tests).
    Findings,
    /// Cannot check: bad arguments, unreadable or malformed input, rules that do not compile.
    CannotCheck,
    /// Internal failure: a trap, a limit, a module that is not usable.
    Internal,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Clean => 0,
            ExitStatus::Findings => 1,
            ExitStatus::CannotCheck => 2,
            ExitStatus::Internal => 3,
        }
    }
}

/// What a command did: its standard output, its standard error, and its exit status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// What goes to standard output (machine formats alone).
    pub stdout: String,
    /// What goes to standard error (diagnostics, notes).
    pub stderr: String,
    /// The exit status.
    pub status: ExitStatus,
}

impl Outcome {
    /// Adds a line to standard error.
    pub fn say(&mut self, line: impl AsRef<str>) {
        self.stderr.push_str(line.as_ref());
        self.stderr.push('\n');
    }

    /// Adds text to standard output.
    pub fn emit(&mut self, text: impl AsRef<str>) {
        self.stdout.push_str(text.as_ref());
    }

    /// The outcome, with this status.
    pub fn with(mut self, status: ExitStatus) -> Outcome {
        self.status = status;
        self
    }

    /// The outcome of an internal failure: the error, and exit status 3.
    pub fn internal(mut self, error: &HostError) -> Outcome {
        self.say(format!("error: {error}"));
        self.with(ExitStatus::Internal)
    }
}

/// `say!(out, "...", args)`: a line on standard error.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        $out.say(format!($($arg)*))
    };
}
pub(crate) use say;

/// How to run the module: which module, with which cache and limits.
#[derive(Debug, clap::Args)]
pub struct HostArgs {
    /// Compile the module in memory instead of using the cache of its precompiled form.
    #[arg(long)]
    pub no_cache: bool,
    /// Fuel for each check (about one unit per WebAssembly instruction).
    #[arg(long, value_name = "UNITS", default_value_t = HostOptions::default().fuel)]
    pub max_fuel: u64,
    /// Largest memory the module may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_memory_mib: u32,
    /// Run this module (for example one from `pchat-guard compile`) instead of the embedded one.
    #[arg(long, value_name = "FILE.wasm")]
    pub module: Option<PathBuf>,
}

impl Default for HostArgs {
    fn default() -> Self {
        HostArgs {
            no_cache: false,
            max_fuel: HostOptions::default().fuel,
            max_memory_mib: 1024,
            module: None,
        }
    }
}

/// The host options the arguments ask for.
pub fn host_options(args: &HostArgs) -> HostOptions {
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

/// The module bytes to run: `--module FILE`, else the embedded module. An unreadable file is
/// exit 2, whatever the command (the input cannot be had; the module was never tried).
pub fn module_bytes(args: &HostArgs, out: &mut Outcome) -> Result<Cow<'static, [u8]>, ExitStatus> {
    match &args.module {
        None => Ok(Cow::Borrowed(MODULE)),
        Some(path) => pchat_guard_pack::read_capped(path, pchat_guard_pack::MAX_FILE_BYTES)
            .map(Cow::Owned)
            .map_err(|e| {
                say!(out, "error: {e}");
                ExitStatus::CannotCheck
            }),
    }
}

/// Which packs run: the shipped one (default), others instead of it (`--policies`), or it plus
/// extensions (`--extend`). Both options repeat; the packs are merged and their rule ids must be
/// unique.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PackArgs {
    /// Evaluate the rules of DIR instead of the shipped pack (repeatable).
    #[arg(long, value_name = "DIR")]
    pub policies: Vec<PathBuf>,
    /// Add the rules of DIR to the shipped pack (or to the `--policies` packs) (repeatable).
    #[arg(long, value_name = "DIR")]
    pub extend: Vec<PathBuf>,
}

impl PackArgs {
    /// Whether the module's own pack runs unchanged.
    pub fn is_default(&self) -> bool {
        self.policies.is_empty() && self.extend.is_empty()
    }
}

/// The pack to run when it is not the module's own: the `--policies` packs (else the shipped
/// pack) merged with the `--extend` packs, each compiled with its diagnostics on standard error.
/// `Ok(None)`: the module's own pack. `Err`: exit 2 (rules that do not compile, a clash).
pub fn load_packs(
    packs: &PackArgs,
    host: &HostArgs,
    out: &mut Outcome,
) -> Result<Option<Bundle>, ExitStatus> {
    if packs.is_default() {
        return Ok(None);
    }
    let mut parts = Vec::new();
    if packs.policies.is_empty() {
        if let Some(module) = &host.module {
            say!(
                out,
                "error: `--extend` adds to the shipped pack, and `--module {}` runs another: name its rules with `--policies DIR` instead",
                module.display()
            );
            return Err(ExitStatus::CannotCheck);
        }
        match serde_json::from_str::<Bundle>(crate::module::SHIPPED_PACK) {
            Ok(shipped) => parts.push(shipped),
            Err(e) => {
                say!(out, "error: the shipped pack cannot be read: {e}");
                return Err(ExitStatus::Internal);
            }
        }
    }
    for dir in packs.policies.iter().chain(&packs.extend) {
        parts.push(load_policies(dir, out).ok_or(ExitStatus::CannotCheck)?);
    }
    Bundle::merge(parts).map(Some).map_err(|e| {
        say!(out, "error: {e}");
        ExitStatus::CannotCheck
    })
}

/// Compiles a policy directory, adding its diagnostics to standard error; `None` means exit 2.
pub fn load_policies(dir: &std::path::Path, out: &mut Outcome) -> Option<Bundle> {
    match crate::policy::compile_dir(dir) {
        Ok((sources, compiled)) => {
            out.stderr.push_str(&crate::policy::render_diagnostics(
                &sources,
                &compiled,
                use_color_stderr(),
            ));
            if compiled.bundle.is_none() {
                let errors = compiled
                    .diagnostics
                    .iter()
                    .filter(|d| d.level == pchat_guard_lang::Level::Error)
                    .count();
                say!(
                    out,
                    "error: the rules in `{}` do not compile ({errors} error{})",
                    dir.display(),
                    if errors == 1 { "" } else { "s" }
                );
            }
            compiled.bundle
        }
        Err(message) => {
            say!(out, "error: {message}");
            None
        }
    }
}

/// Whether diagnostics on standard error are coloured: a terminal, and no `NO_COLOR`.
pub fn use_color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// What the module says of itself (`describe`).
pub fn described(host: &HostArgs, out: &mut Outcome) -> Result<Description, ExitStatus> {
    let bytes = module_bytes(host, out)?;
    let described = Host::new(&bytes, host_options(host))
        .and_then(|h| h.session())
        .and_then(|mut s| s.describe());
    described.map_err(|e| {
        say!(out, "error: {e}");
        ExitStatus::Internal
    })
}
