//! `pchat-guard diagram`: an SVG picture of a manifest's topology with its findings on it, drawn
//! by the module (the same bytes as in Node and the browser).

use std::path::PathBuf;

use pchat_guard_engine::waiver::Date;
use pchat_guard_engine::{CheckRequest, DiagramRequest, DiagramResponse, Limits};

use super::check::{InputFormatArg, parse_date, utc_today};
use super::{ExitStatus, HostArgs, Outcome, host_options, module_bytes, say};
use crate::host::Host;
use crate::input;
use crate::render::{self, RunReport};

/// Arguments of `diagram`.
#[derive(Debug, clap::Args)]
pub struct DiagramArgs {
    /// The manifest (JSON or YAML); `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Where to write the SVG (default: standard output).
    #[arg(short, long, value_name = "FILE.svg")]
    pub output: Option<PathBuf>,
    /// Draw only this Persistent Chat pool (needed when the whole topology is too large).
    #[arg(long, value_name = "ID")]
    pub pool: Option<String>,
    /// Read the input as this format instead of inferring it from the name.
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormatArg>,
    /// Today's date (`YYYY-MM-DD`), for waiver expiry; default: today in UTC.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<Date>,
    /// How to run the module.
    #[command(flatten)]
    pub host: HostArgs,
}

/// Checks the manifest and writes its picture. Exit 0 when drawn (whatever its findings: the
/// picture shows them), 2 when the manifest cannot be read or cannot be drawn as asked, 3 on an
/// internal failure.
pub fn run(args: &DiagramArgs) -> Outcome {
    let mut out = Outcome::default();
    let shown = if args.file == "-" {
        "<stdin>".to_string()
    } else {
        input::shown_path(&args.file)
    };
    let limits = Limits::default();
    let source = match input::read(&args.file, &shown, &limits) {
        Ok(text) => text,
        Err(report) => return unreadable(out, report, None),
    };
    let bytes = match module_bytes(&args.host, &mut out) {
        Ok(b) => b,
        Err(status) => return out.with(status),
    };
    let request = DiagramRequest {
        check: CheckRequest {
            source,
            path: shown,
            input_format: args.input_format.map(pchat_guard_engine::InputFormat::from),
            today: Some(args.today.unwrap_or_else(utc_today)),
            limits,
            ..CheckRequest::default()
        },
        pool: args.pool.clone(),
    };
    let answer = Host::new(&bytes, host_options(&args.host))
        .and_then(|h| h.session())
        .and_then(|mut s| s.diagram(&request));
    let (report, svg, declined) = match answer {
        Ok(DiagramResponse::Ok {
            report,
            svg,
            declined,
        }) => (report, svg, declined),
        Ok(DiagramResponse::Error { message }) => {
            say!(out, "error: the module refused the request: {message}");
            return out.with(ExitStatus::Internal);
        }
        Err(e) => return out.internal(&e),
    };
    let Some(svg) = svg else {
        let why = declined.unwrap_or_else(|| "the module drew nothing".to_string());
        if !report.checked {
            return unreadable(out, report, Some(&request.check.source));
        }
        say!(out, "error: cannot draw `{}`: {why}", report.path);
        if args.pool.is_none() {
            say!(out, "help: draw one pool with `--pool ID`");
        }
        return out.with(ExitStatus::CannotCheck);
    };
    let findings = report.findings.len();
    match &args.output {
        None => out.emit(svg),
        Some(path) => {
            if let Err(e) = std::fs::write(path, svg) {
                say!(out, "error: cannot write `{}`: {e}", path.display());
                return out.with(ExitStatus::CannotCheck);
            }
            say!(
                out,
                "wrote {} ({findings} finding{} drawn)",
                path.display(),
                if findings == 1 { "" } else { "s" }
            );
        }
    }
    out.with(ExitStatus::Clean)
}

/// A manifest that cannot be read: its findings, rendered as `check` renders them, and exit 2.
fn unreadable(
    mut out: Outcome,
    report: pchat_guard_engine::FileReport,
    source: Option<&str>,
) -> Outcome {
    let run = RunReport::new(vec![report], 0);
    out.stderr.push_str(&render::human(
        &run,
        &[source.map(str::to_string)],
        super::use_color_stderr(),
    ));
    out.with(ExitStatus::CannotCheck)
}
