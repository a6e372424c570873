//! Waiver files (`check --waivers FILE`): waivers kept beside the manifests rather than in them.
//!
//! ```yaml
//! waivers:
//!   - rule: PCHAT-DR-003
//!     file: "topologies/*.yaml"      # optional glob; every input when absent
//!     target: pchat-pool-1          # JSON pointer or entity id
//!     reason: second data center is being built (CHG-1234)
//!     expires: 2027-03-31           # optional, last day it applies
//! ```
//!
//! The module applies them (after the manifest's own waivers); this host reads and checks the
//! file, hands each manifest the waivers for it, and after the run reports, at their place in
//! the file, the waivers that expired or waived nothing.

use globset::{GlobBuilder, GlobMatcher};
use pchat_guard_engine::value::push_pointer;
use pchat_guard_engine::waiver::{self, Date, ExternalWaiver, WaiverOrigin};
use pchat_guard_engine::{Code, FileReport, InputFormat, Limits, Location};

use crate::settings::{self, Problems, Unusable};

/// A waiver file, read and checked.
pub struct WaiverFile {
    /// The file as shown in reports.
    pub path: String,
    /// Its text, to show findings in context.
    pub text: String,
    format: InputFormat,
    entries: Vec<Entry>,
}

struct Entry {
    file: Option<GlobMatcher>,
    waiver: ExternalWaiver,
    expires_at: Location,
}

/// A path as reports and waiver globs see it: forward slashes, no leading `./`.
pub fn normalize(path: &str) -> String {
    pchat_guard_engine::report::normalize_path(path)
}

impl WaiverFile {
    /// Reads a waiver file from its text; any problem (syntax, shape against `schemas/waivers.schema.json`, a
    /// rule that is not in `rules`, a bad date or glob) makes it unusable, with every problem at
    /// its place.
    pub fn load(
        path: &str,
        text: String,
        rules: &[&str],
        limits: &Limits,
    ) -> Result<WaiverFile, Box<Unusable>> {
        let parsed = settings::parse(path, text, limits)?;
        let mut problems = Problems::new(&parsed, Code::WaiverFile);
        let mut entries = Vec::new();
        let json = problems.validate(settings::WAIVERS_SCHEMA);
        let items = json.get("waivers").and_then(serde_json::Value::as_array);
        for (i, item) in items.into_iter().flatten().enumerate() {
            let pointer = format!("/waivers/{i}");
            entries.extend(read_entry(item, &pointer, path, rules, &mut problems));
        }
        if problems.findings.is_empty() {
            Ok(WaiverFile {
                path: path.to_string(),
                format: parsed.format,
                text: parsed.text,
                entries,
            })
        } else {
            let report = problems.into_report(path, parsed.format);
            Err(Box::new(Unusable {
                report,
                text: Some(parsed.text),
            }))
        }
    }

    /// The waivers that apply to the manifest shown as `path`.
    pub fn for_file(&self, path: &str) -> Vec<ExternalWaiver> {
        let path = normalize(path);
        self.entries
            .iter()
            .filter(|e| e.file.as_ref().is_none_or(|g| g.is_match(&path)))
            .map(|e| e.waiver.clone())
            .collect()
    }

    /// The warnings about the file's waivers once every manifest is checked: expired ones, and
    /// ones that waived nothing. `None` when there is nothing to say.
    pub fn finish<'r>(
        &self,
        reports: impl IntoIterator<Item = &'r FileReport>,
        today: Option<Date>,
    ) -> Option<FileReport> {
        // The pointers of this file's waivers that waived something, gathered once.
        let used: std::collections::HashSet<&str> = reports
            .into_iter()
            .flat_map(|r| &r.findings)
            .filter_map(|f| f.waived.as_ref())
            .filter(|w| w.origin.path == self.path)
            .map(|w| w.origin.pointer.as_str())
            .collect();
        let mut findings = Vec::new();
        for entry in &self.entries {
            let Some(origin) = &entry.waiver.origin else {
                continue;
            };
            let (code, message, location, pointer, help) = match waiver::still_valid(
                entry.waiver.expires.as_deref(),
                today,
            ) {
                Err(why) => (
                    Code::WaiverExpired,
                    why,
                    entry.expires_at,
                    push_pointer(&origin.pointer, "expires"),
                    "fix the finding, or renew the waiver with a new `expires` date",
                ),
                Ok(()) if !used.contains(origin.pointer.as_str()) => (
                    Code::WaiverUnused,
                    format!(
                        "the waiver of `{}` for `{}` waives no finding",
                        entry.waiver.rule,
                        waiver::shown_target(&entry.waiver.target)
                    ),
                    origin.location,
                    origin.pointer.clone(),
                    "remove it: the finding is fixed, the file or target names nothing, or an earlier waiver covers it",
                ),
                Ok(()) => continue,
            };
            findings.push(
                pchat_guard_engine::Finding::of(code, message, pointer, location)
                    .with_help(Some(help.to_string())),
            );
        }
        (!findings.is_empty()).then(|| FileReport {
            format_version: pchat_guard_engine::report::REPORT_FORMAT_VERSION,
            path: self.path.clone(),
            input_format: self.format,
            checked: true,
            findings,
            sha256: None,
            coverage: None,
        })
    }
}

/// One waiver of the file, or `None` with its problems recorded. The schema has checked its
/// shape; this checks, on every field that is a string, what the schema cannot say (the rule is
/// in the pack, the target is a pointer or an id, the reason says something, the date exists,
/// the glob is one), so that every problem of a waiver is reported at once.
fn read_entry(
    item: &serde_json::Value,
    pointer: &str,
    path: &str,
    rules: &[&str],
    problems: &mut Problems<'_>,
) -> Option<Entry> {
    let at = |field: &str| push_pointer(pointer, field);
    // A field the schema already found wrong is not checked again.
    let sound = |name: &str| {
        (!problems.flawed(&at(name)))
            .then(|| item.get(name).and_then(serde_json::Value::as_str))
            .flatten()
    };
    let (rule, target, reason, expires, glob) = (
        sound("rule"),
        sound("target"),
        sound("reason"),
        sound("expires"),
        sound("file"),
    );
    if let Some((message, help)) = rule.and_then(|r| waiver::rule_problem(r, rules)) {
        problems.push(&at("rule"), message, Some(help));
    }
    let target = target.unwrap_or_default();
    if !target.is_empty() && !target.starts_with('/') && target.contains('/') {
        problems.push(
            &at("target"),
            format!("`{target}` is neither a JSON pointer nor an entity id"),
            Some("a pointer starts with `/`, such as `/persistent_chat_pools/0`".to_string()),
        );
    }
    if reason.is_some_and(|r| r.trim().is_empty()) {
        problems.push(
            &at("reason"),
            "the reason is empty".to_string(),
            Some("say why the finding is accepted, and who accepted it".to_string()),
        );
    }
    let expires_at = match expires {
        Some(date) => {
            if let Err(e) = Date::parse(date) {
                problems.push(
                    &at("expires"),
                    e,
                    Some("write the last day the waiver applies, as YYYY-MM-DD".to_string()),
                );
            }
            problems.location(&at("expires"))
        }
        None => problems.location(pointer),
    };
    let file = match glob {
        None => None,
        Some(pattern) => match GlobBuilder::new(&normalize(pattern))
            .literal_separator(true)
            .build()
        {
            Ok(glob) => Some(glob.compile_matcher()),
            Err(e) => {
                problems.push(
                    &at("file"),
                    format!("`{pattern}` is not a valid glob: {}", e.kind()),
                    Some("`*` matches within a folder, `**` across folders".to_string()),
                );
                None
            }
        },
    };
    if problems.flawed(pointer) {
        return None;
    }
    let owned = |text: Option<&str>| text.unwrap_or_default().to_string();
    Some(Entry {
        file,
        waiver: ExternalWaiver {
            rule: owned(rule),
            target: target.to_string(),
            reason: owned(reason),
            expires: expires.map(str::to_string),
            origin: Some(WaiverOrigin {
                path: path.to_string(),
                pointer: pointer.to_string(),
                location: problems.location(pointer),
            }),
        },
        expires_at,
    })
}
