//! The project configuration: `pchat-guard.toml`, or a `[tool.pchat-guard]` table in
//! `pyproject.toml` (as ruff reads `[tool.ruff]`), found by walking up from the current
//! directory. Keys are the long options of `check`; the command line overrides them. Paths in
//! the file are relative to the file's directory. Unknown keys and bad values are errors with a
//! location and, for keys, a did-you-mean (exit 2), like every other input file.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::Deserialize;
use toml::Spanned;

use crate::commands::check::{FailOn, Format, parse_output};

/// The configuration file's name.
pub const FILE_NAME: &str = "pchat-guard.toml";

/// The JSON Schema of the configuration (`pchat-guard schema config`), for editors.
pub const SCHEMA: &str = include_str!("../../../schemas/config.schema.json");

/// Every key of the configuration, as written in the file.
pub const KEYS: [&str; 13] = [
    "extend",
    "policies",
    "waivers",
    "baseline",
    "fail-on",
    "format",
    "output",
    "include",
    "exclude",
    "ignore-manifest-waivers",
    "max-fuel",
    "max-memory-mib",
    "no-cache",
];

/// The settings a configuration file may hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Packs added to the shipped pack (`--extend`).
    pub extend: Option<Vec<String>>,
    /// Packs run instead of the shipped pack (`--policies`).
    pub policies: Option<Vec<String>>,
    /// Waiver files (`--waivers`).
    pub waivers: Option<Vec<String>>,
    /// A baseline (`--baseline`).
    pub baseline: Option<String>,
    /// `--fail-on`.
    pub fail_on: Option<Spanned<String>>,
    /// `--format`.
    pub format: Option<Spanned<String>>,
    /// `--output FORMAT:FILE` entries.
    pub output: Option<Vec<Spanned<String>>>,
    /// Globs: manifests found in directories are checked only if they match one.
    pub include: Option<Vec<Spanned<String>>>,
    /// Globs: manifests found in directories are skipped if they match one.
    pub exclude: Option<Vec<Spanned<String>>>,
    /// `--ignore-manifest-waivers`.
    pub ignore_manifest_waivers: Option<bool>,
    /// `--max-fuel`.
    pub max_fuel: Option<u64>,
    /// `--max-memory-mib`.
    pub max_memory_mib: Option<Spanned<u32>>,
    /// `--no-cache`.
    pub no_cache: Option<bool>,
}

#[derive(Deserialize)]
struct PyProject {
    tool: Option<Tools>,
}

#[derive(Deserialize)]
struct Tools {
    #[serde(rename = "pchat-guard")]
    pchat_guard: Option<toml::Value>,
}

/// A configuration, read and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its text (for locations).
    pub text: String,
    /// The directory its relative paths start from, as seen from the current directory.
    pub base: PathBuf,
    /// The settings.
    pub settings: Settings,
}

/// The configuration file for `start` (normally the current directory): the first
/// `pchat-guard.toml`, or `pyproject.toml` with a `[tool.pchat-guard]` table, in it or a parent.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    for dir in start.ancestors() {
        let own = dir.join(FILE_NAME);
        if own.is_file() {
            return Some(own);
        }
        let pyproject = dir.join("pyproject.toml");
        if pyproject.is_file()
            && std::fs::read_to_string(&pyproject).is_ok_and(|t| {
                toml::from_str::<PyProject>(&t)
                    .ok()
                    .and_then(|p| p.tool)
                    .and_then(|t| t.pchat_guard)
                    .is_some()
            })
        {
            return Some(pyproject);
        }
    }
    None
}

/// Reads and checks a configuration file. Errors are `file:line:col: message` lines.
pub fn load(path: &Path, cwd: &Path) -> Result<Config, String> {
    let shown = path.display().to_string();
    let text = pchat_guard_pack::read_text(path)?;
    let located = |span: Option<std::ops::Range<usize>>, message: &str| -> String {
        let at = span.map_or(0, |s| s.start);
        let index = pchat_guard_engine::LineIndex::new(&text);
        let p = index.location(pchat_guard_engine::Span::new(at, at)).start;
        format!("{shown}:{}:{}: {message}", p.line, p.column)
    };
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let parsed: Result<Settings, toml::de::Error> = if is_pyproject {
        match toml::from_str::<PyProject>(&text) {
            Ok(p) => match p.tool.and_then(|t| t.pchat_guard) {
                // Re-read the table from the whole text so that errors keep their positions.
                Some(_) => toml::from_str::<PyTool>(&text).map(|p| p.tool.pchat_guard),
                None => Err(serde::de::Error::custom(
                    "this pyproject.toml has no [tool.pchat-guard] table",
                )),
            },
            Err(e) => Err(e),
        }
    } else {
        toml::from_str::<Settings>(&text)
    };
    let settings = parsed.map_err(|e| {
        let span = e.span();
        let key = span
            .clone()
            .and_then(|s| text.get(s))
            .map(|k| k.trim().trim_matches('"').to_string());
        let message = e.message().to_string();
        let message = match key {
            Some(k) if message.starts_with("unknown field") => {
                let hint = pchat_guard_engine::schema::did_you_mean(&k, KEYS)
                    .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
                format!("unknown key `{k}`{hint} (the keys are {})", KEYS.join(", "))
            }
            _ => message,
        };
        located(span, &message)
    })?;
    check_values(&settings).map_err(|(span, message)| located(Some(span), &message))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    Ok(Config {
        path: path.to_path_buf(),
        base: relative_to(cwd, dir),
        text: text.clone(),
        settings,
    })
}

#[derive(Deserialize)]
struct PyTool {
    tool: PyToolTable,
}

#[derive(Deserialize)]
struct PyToolTable {
    #[serde(rename = "pchat-guard")]
    pchat_guard: Settings,
}

/// Values a type cannot check: the names of formats and severities, `FORMAT:FILE`, globs.
fn check_values(s: &Settings) -> Result<(), (std::ops::Range<usize>, String)> {
    if let Some(v) = &s.fail_on {
        FailOn::from_str(v.get_ref(), true).map_err(|_| {
            (
                v.span(),
                format!(
                    "`{}` is not a severity to fail on: error, warning, info or never",
                    v.get_ref()
                ),
            )
        })?;
    }
    if let Some(v) = &s.format {
        Format::from_str(v.get_ref(), true).map_err(|_| {
            (
                v.span(),
                format!("`{}` is not a format: {}", v.get_ref(), format_names()),
            )
        })?;
    }
    for v in s.output.iter().flatten() {
        parse_output(v.get_ref()).map_err(|e| (v.span(), e))?;
    }
    for v in s.include.iter().flatten().chain(s.exclude.iter().flatten()) {
        globset::Glob::new(v.get_ref())
            .map_err(|e| (v.span(), format!("`{}` is not a glob: {e}", v.get_ref())))?;
    }
    if let Some(v) = &s.max_memory_mib
        && !(1..=4096).contains(v.get_ref())
    {
        return Err((
            v.span(),
            format!("{} is not from 1 to 4096 MiB", v.get_ref()),
        ));
    }
    Ok(())
}

fn format_names() -> String {
    Format::value_variants()
        .iter()
        .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `dir` as seen from `cwd`: `.`, `..`, `../..` when it is an ancestor, else as it is.
fn relative_to(cwd: &Path, dir: &Path) -> PathBuf {
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    match cwd.strip_prefix(&canonical) {
        Ok(rest) => {
            let up = rest.components().count();
            if up == 0 {
                PathBuf::from(".")
            } else {
                std::iter::repeat_n("..", up).collect()
            }
        }
        Err(_) => canonical,
    }
}

impl Config {
    /// A path of the file, as seen from the current directory.
    pub fn path_of(&self, value: &str) -> String {
        let path = Path::new(value);
        if path.is_absolute() || self.base == Path::new(".") {
            value.to_string()
        } else {
            self.base.join(path).display().to_string()
        }
    }

    /// The line of `key = ...` in the file (1 when it is not found), for `pchat-guard config`.
    pub fn line_of(&self, key: &str) -> usize {
        self.text
            .lines()
            .position(|l| {
                l.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map_or(1, |i| i + 1)
    }

    /// Whether a manifest found in a directory is checked: it matches an `include` glob (when
    /// there are any) and no `exclude` glob, as a path relative to the configuration's directory.
    pub fn admits(&self, manifest: &Path) -> bool {
        let (include, exclude) = (&self.settings.include, &self.settings.exclude);
        if include.is_none() && exclude.is_none() {
            return true;
        }
        let base = std::fs::canonicalize(&self.base).unwrap_or_else(|_| self.base.clone());
        let full = std::fs::canonicalize(manifest).unwrap_or_else(|_| manifest.to_path_buf());
        let relative = full.strip_prefix(&base).unwrap_or(&full);
        let relative = relative.to_string_lossy().replace('\\', "/");
        let matches = |globs: &Option<Vec<Spanned<String>>>| {
            globs.iter().flatten().any(|g| {
                globset::Glob::new(g.get_ref())
                    .is_ok_and(|g| g.compile_matcher().is_match(&relative))
            })
        };
        (include.is_none() || matches(include)) && !matches(exclude)
    }
}

impl Config {
    /// Fills the options of `check` that the command line left alone; `given(id)` says whether
    /// the command line set the argument `id`.
    pub fn apply_check(
        &self,
        args: &mut crate::commands::check::CheckArgs,
        given: &dyn Fn(&str) -> bool,
    ) {
        let s = &self.settings;
        self.apply_packs(&mut args.packs, given);
        if let (false, Some(w)) = (given("waivers"), &s.waivers) {
            args.waivers = w.iter().map(|p| self.path_of(p)).collect();
        }
        if let (false, Some(b)) = (given("baseline"), &s.baseline) {
            args.baseline = Some(self.path_of(b));
        }
        if let (false, Some(v)) = (given("fail_on"), &s.fail_on)
            && let Ok(f) = FailOn::from_str(v.get_ref(), true)
        {
            args.fail_on = f;
        }
        if let (false, Some(v)) = (given("format"), &s.format)
            && let Ok(f) = Format::from_str(v.get_ref(), true)
        {
            args.format = f;
        }
        if let (false, Some(outputs)) = (given("outputs"), &s.output) {
            args.outputs = outputs
                .iter()
                .filter_map(|o| parse_output(o.get_ref()).ok())
                .map(|(f, p)| (f, PathBuf::from(self.path_of(&p.to_string_lossy()))))
                .collect();
        }
        if let (false, Some(v)) = (given("ignore_manifest_waivers"), s.ignore_manifest_waivers) {
            args.ignore_manifest_waivers = v;
        }
        if let (false, Some(v)) = (given("max_fuel"), s.max_fuel) {
            args.host.max_fuel = v;
        }
        if let (false, Some(v)) = (given("max_memory_mib"), &s.max_memory_mib) {
            args.host.max_memory_mib = *v.get_ref();
        }
        if let (false, Some(v)) = (given("no_cache"), s.no_cache) {
            args.host.no_cache = v;
        }
    }

    /// Fills `--extend` and `--policies` when the command line gives neither.
    pub fn apply_packs(&self, packs: &mut crate::commands::PackArgs, given: &dyn Fn(&str) -> bool) {
        if given("extend") || given("policies") {
            return;
        }
        let paths = |list: &Option<Vec<String>>| -> Vec<PathBuf> {
            list.iter()
                .flatten()
                .map(|p| PathBuf::from(self.path_of(p)))
                .collect()
        };
        packs.extend = paths(&self.settings.extend);
        packs.policies = paths(&self.settings.policies);
    }

    /// Each key the file sets, its value as written, and its line.
    pub fn entries(&self) -> Vec<(&'static str, String, usize)> {
        let s = &self.settings;
        let list = |v: &Option<Vec<String>>| v.as_ref().map(|v| format!("{v:?}"));
        let spanned = |v: &Option<Vec<Spanned<String>>>| {
            v.as_ref().map(|v| {
                format!(
                    "{:?}",
                    v.iter().map(|g| g.get_ref().as_str()).collect::<Vec<_>>()
                )
            })
        };
        let values: [(&'static str, Option<String>); 13] = [
            ("extend", list(&s.extend)),
            ("policies", list(&s.policies)),
            ("waivers", list(&s.waivers)),
            ("baseline", s.baseline.as_ref().map(|b| format!("{b:?}"))),
            (
                "fail-on",
                s.fail_on.as_ref().map(|v| format!("{:?}", v.get_ref())),
            ),
            (
                "format",
                s.format.as_ref().map(|v| format!("{:?}", v.get_ref())),
            ),
            ("output", spanned(&s.output)),
            ("include", spanned(&s.include)),
            ("exclude", spanned(&s.exclude)),
            (
                "ignore-manifest-waivers",
                s.ignore_manifest_waivers.map(|v| v.to_string()),
            ),
            ("max-fuel", s.max_fuel.map(|v| v.to_string())),
            (
                "max-memory-mib",
                s.max_memory_mib.as_ref().map(|v| v.get_ref().to_string()),
            ),
            ("no-cache", s.no_cache.map(|v| v.to_string())),
        ];
        values
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v, self.line_of(k))))
            .collect()
    }
}
