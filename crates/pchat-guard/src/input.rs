//! Reading inputs: files and stdin, with every failure turned into a report, never a panic.

use std::io::Read;
use std::path::Path;

use pchat_guard_engine::{Code, FileReport, Finding, InputFormat, Limits, Location, Position};

/// An input that could not be read, as a report that fails the run.
pub fn unreadable(path: &str, message: String, help: Option<String>, at: Position) -> FileReport {
    not_checked(Code::Unreadable, path, message, help, at)
}

/// An input that could not be checked at all (`code` is an input error), as a report.
fn not_checked(
    code: Code,
    path: &str,
    message: String,
    help: Option<String>,
    at: Position,
) -> FileReport {
    FileReport {
        format_version: pchat_guard_engine::report::REPORT_FORMAT_VERSION,
        path: path.to_string(),
        input_format: InputFormat::infer(path, ""),
        checked: false,
        findings: vec![
            Finding::of(
                code,
                message,
                String::new(),
                Location { start: at, end: at },
            )
            .with_help(help),
        ],
        sha256: None,
        coverage: None,
    }
}

const START: Position = Position::START;

/// One input to check: what was named (a path, or `-` for standard input) and the name reports
/// show for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The path to read, or `-`.
    pub path: String,
    /// The name in reports.
    pub shown: String,
}

/// The extensions of manifest files picked up from directories.
pub const MANIFEST_EXTENSIONS: [&str; 3] = ["json", "yaml", "yml"];

/// Expands the inputs named on the command line. A directory stands for the `.json`, `.yaml`
/// and `.yml` files under it, at any depth, skipping hidden and git-ignored files and not
/// following symbolic links; a file named directly is always read. `-` is standard input, shown
/// as `stdin_name`. Inputs come back sorted by name, each once; `skip` are files never picked up
/// from a directory (the waiver and baseline files), and a manifest found in a directory is taken
/// only if `admits` it (the configuration's `include`/`exclude` globs). A directory that cannot be
/// walked, or that holds no manifest, is a report that fails the run.
pub fn expand(
    args: &[String],
    stdin_name: &str,
    skip: &[&Path],
    admits: &dyn Fn(&Path) -> bool,
) -> (Vec<Input>, Vec<FileReport>) {
    let skip: Vec<std::path::PathBuf> = skip
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input {
                path: arg.clone(),
                shown: stdin_name.to_string(),
            });
            continue;
        }
        if !Path::new(arg).is_dir() {
            inputs.push(Input {
                path: arg.clone(),
                shown: shown_path(arg),
            });
            continue;
        }
        let before = inputs.len();
        let walker = ignore::WalkBuilder::new(arg)
            .standard_filters(true)
            .follow_links(false)
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    let path = entry.path();
                    let is_manifest = entry.file_type().is_some_and(|t| t.is_file())
                        && path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            MANIFEST_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                        });
                    let skipped = is_manifest
                        && !skip.is_empty()
                        && std::fs::canonicalize(path).is_ok_and(|p| skip.contains(&p));
                    if is_manifest && !skipped && admits(path) {
                        let shown = shown_path(&path.to_string_lossy());
                        inputs.push(Input {
                            path: path.to_string_lossy().into_owned(),
                            shown,
                        });
                    }
                }
                Err(e) => {
                    let (path, message) = walk_error(arg, &e);
                    problems.push(unreadable(&path, message, None, START));
                }
            }
        }
        if inputs.len() == before {
            problems.push(unreadable(
                arg,
                format!("`{arg}` holds no manifest (no `.json`, `.yaml` or `.yml` file)"),
                Some("name a directory with manifests, or the manifest files".to_string()),
                START,
            ));
        }
    }
    // `a.yaml` and `./a.yaml` are one file: the first spelling given is kept.
    let key = |i: &Input| crate::waivers::normalize(&i.shown);
    inputs.sort_by_key(key);
    inputs.dedup_by(|a, b| key(a) == key(b));
    (inputs, problems)
}

/// A path as reports show it: with `/` between folders on every platform (on Windows `\\` is a
/// separator; elsewhere it is a character of the name and stays).
pub fn shown_path(path: &str) -> String {
    if cfg!(windows) {
        path.replace('\\', "/")
    } else {
        path.to_string()
    }
}

/// The path and message of an error met while walking a directory.
fn walk_error(root: &str, error: &ignore::Error) -> (String, String) {
    let mut error = error;
    let mut path = None;
    loop {
        match error {
            ignore::Error::WithPath { path: p, err } => {
                path = Some(p.to_string_lossy().into_owned());
                error = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                error = err;
            }
            ignore::Error::Io(io) => {
                let path = path.unwrap_or_else(|| root.to_string());
                let message = format!("cannot read `{path}`: {}", io_reason(io));
                return (path, message);
            }
            other => {
                let path = path.unwrap_or_else(|| root.to_string());
                return (path.clone(), format!("cannot walk `{path}`: {other}"));
            }
        }
    }
}

/// Reads a manifest file, or stdin for `-`, as UTF-8 text within the size limit.
pub fn read(path: &str, shown_as: &str, limits: &Limits) -> Result<String, FileReport> {
    let max = limits.max_bytes as u64;
    let bytes = if path == "-" {
        let mut buffer = Vec::new();
        std::io::stdin()
            .lock()
            .take(max + 1)
            .read_to_end(&mut buffer)
            .map_err(|e| {
                unreadable(
                    shown_as,
                    format!("cannot read standard input: {e}"),
                    None,
                    START,
                )
            })?;
        buffer
    } else {
        let file_path = Path::new(path);
        let cannot_read = |e: std::io::Error| {
            unreadable(
                shown_as,
                format!("cannot read `{path}`: {}", io_reason(&e)),
                None,
                START,
            )
        };
        let metadata = std::fs::metadata(file_path).map_err(cannot_read)?;
        if metadata.is_dir() {
            return Err(unreadable(
                shown_as,
                format!("`{path}` is a directory, not a manifest file"),
                Some("name the manifest files inside it".to_string()),
                START,
            ));
        }
        if metadata.len() > max {
            return Err(too_large(shown_as, metadata.len(), max));
        }
        let mut buffer = Vec::new();
        std::fs::File::open(file_path)
            .and_then(|f| f.take(max + 1).read_to_end(&mut buffer))
            .map_err(cannot_read)?;
        buffer
    };
    if bytes.len() as u64 > max {
        return Err(too_large(shown_as, bytes.len() as u64, max));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = e.as_bytes().get(..valid).unwrap_or_default();
        let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = prefix
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(prefix.get(line_start..).unwrap_or_default())
            .chars()
            .count()
            + 1;
        unreadable(
            shown_as,
            format!("`{shown_as}` is not UTF-8 text: invalid byte at line {line}, column {column}"),
            Some("save the manifest as UTF-8".to_string()),
            Position {
                line,
                column,
                offset: valid,
            },
        )
    })
}

fn too_large(path: &str, size: u64, max: u64) -> FileReport {
    not_checked(
        Code::Limit,
        path,
        format!("`{path}` is {size} bytes or more, past the limit of {max} bytes"),
        Some("split the manifest".to_string()),
        START,
    )
}

/// The OS error without its "(os error N)" tail.
fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(i) => text.get(..i).unwrap_or(&text).to_lowercase(),
        None => text.to_lowercase(),
    }
}
