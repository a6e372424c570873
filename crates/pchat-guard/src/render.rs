//! Rendering of a run's reports: rustc-style human output and the JSON report.

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use pchat_guard_engine::{FileReport, Finding, Severity};

/// The JSON Schema of [`RunReport`] (`pchat-guard schema report`).
pub const REPORT_SCHEMA: &str = include_str!("../../../schemas/report.schema.json");

pub use pchat_guard_engine::run::{RUN_REPORT_VERSION, RunReport, Summary, Tool};

/// Renders findings in the style of rustc: a title, the source line with a caret under the
/// value, a label, and the help. `sources` holds each file's text (`None` if unreadable).
pub fn human(report: &RunReport, sources: &[Option<String>], color: bool) -> String {
    let renderer = renderer(color);
    let mut out = String::new();
    for (file, source) in report.files.iter().zip(sources) {
        for finding in &file.findings {
            out.push_str(&finding_message(file, finding, source.as_deref()).render(&renderer));
        }
    }
    let s = report.summary;
    let total = s.errors + s.warnings + s.infos;
    let unchecked = s.files - s.checked;
    let mut aside = Vec::new();
    if s.waived > 0 {
        aside.push(format!("{} waived", s.waived));
    }
    if s.baselined > 0 {
        aside.push(format!("{} in the baseline", s.baselined));
    }
    let aside = if aside.is_empty() {
        String::new()
    } else {
        format!(" ({})", aside.join(", "))
    };
    if total == 0 && unchecked == 0 {
        out.push_str(&format!("{} checked: no findings{aside}\n", files(s.files)));
    } else {
        let scope = if unchecked == 0 {
            format!("{} checked", files(s.files))
        } else {
            format!("{}, {} not checked", files(s.files), unchecked)
        };
        out.push_str(&format!(
            "{scope}: {} error{}, {} warning{}, {} info{}{aside}\n",
            s.errors,
            plural(s.errors),
            s.warnings,
            plural(s.warnings),
            s.infos,
            plural(s.infos),
        ));
    }
    out
}

fn files(n: usize) -> String {
    format!("{n} file{}", plural(n))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One message in rustc style, whatever it reports (a finding, a compiler diagnostic): the one
/// shape both are rendered through.
pub struct Annotated<'a> {
    /// Error, warning, info.
    pub level: Level<'a>,
    /// The title line.
    pub title: std::borrow::Cow<'a, str>,
    /// The code in brackets after the level.
    pub code: &'a str,
    /// The file's name.
    pub path: &'a str,
    /// The file's text, when it could be read.
    pub source: Option<&'a str>,
    /// The byte range the message is about, and its line and column (1-based).
    pub span: (usize, usize),
    /// Line and column of the span's start, for when the text cannot be shown.
    pub at: (usize, usize),
    /// The label under the marked value.
    pub label: Option<&'a str>,
    /// Notes and help after the snippet, in order.
    pub notes: Vec<(Level<'a>, String)>,
}

/// The renderer for human output, coloured or plain.
pub fn renderer(color: bool) -> Renderer {
    if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
    .decor_style(DecorStyle::Ascii)
}

impl Annotated<'_> {
    /// Renders the message, followed by a blank line.
    pub fn render(self, renderer: &Renderer) -> String {
        let title = self.level.primary_title(self.title).id(self.code);
        let window = self
            .source
            .and_then(|text| line_window(text, self.span.0, self.span.1));
        let mut group = match window {
            Some((window, first_line, range)) => {
                let mut annotation = AnnotationKind::Primary.span(range);
                if let Some(label) = self.label {
                    annotation = annotation.label(label);
                }
                title.element(
                    Snippet::source(window)
                        .line_start(first_line)
                        .path(self.path)
                        .annotation(annotation),
                )
            }
            // An unreadable file has no text to show: the title alone says it (one line).
            None if self.span.0 == 0 => Group::with_title(title),
            None => title.element(
                Origin::path(self.path)
                    .line(self.at.0)
                    .char_column(self.at.1.saturating_sub(1)),
            ),
        };
        for (level, note) in self.notes {
            group = group.element(level.message(note));
        }
        let mut out = renderer.render(&[group]);
        out.push_str("\n\n");
        out
    }
}

fn finding_message<'a>(
    file: &'a FileReport,
    finding: &'a Finding,
    source: Option<&'a str>,
) -> Annotated<'a> {
    let level = match finding.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    };
    let title = match &finding.waived {
        Some(_) => std::borrow::Cow::Owned(format!("(waived) {}", finding.message)),
        None => std::borrow::Cow::Borrowed(finding.message.as_str()),
    };
    let mut notes = Vec::new();
    if let Some(related) = &finding.related {
        notes.push((
            Level::NOTE,
            format!(
                "first defined at {}:{}:{}",
                file.path, related.start.line, related.start.column
            ),
        ));
    }
    if let Some(help) = &finding.help {
        notes.push((Level::HELP, help.clone()));
    }
    if let Some(waived) = &finding.waived {
        let o = &waived.origin;
        let until = waived
            .expires
            .as_deref()
            .map_or_else(String::new, |d| format!(" until {d}"));
        notes.push((
            Level::NOTE,
            format!(
                "waived{until} by {}:{}:{}: {}",
                o.path, o.location.start.line, o.location.start.column, waived.reason
            ),
        ));
    }
    let start = finding.location.start;
    Annotated {
        level,
        title,
        code: finding.code.as_str(),
        path: file.path.as_str(),
        source,
        span: (start.offset, finding.location.end.offset),
        at: (start.line, start.column),
        label: finding.label.as_deref(),
        notes,
    }
}

/// The line of `text` holding byte `start`, its 1-based number, and the range `start..end`
/// within it: a span over several lines is marked on its first line only, an empty one on one
/// character. Shared by findings and compiler diagnostics.
pub fn line_window(
    text: &str,
    start: usize,
    end: usize,
) -> Option<(&str, usize, std::ops::Range<usize>)> {
    let start = start.min(text.len());
    let before = text.get(..start)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text
        .get(start..)?
        .find('\n')
        .map_or(text.len(), |i| start + i);
    let window = text.get(line_start..line_end)?;
    let end = end.clamp(start, line_end);
    let mut range = (start - line_start)..(end - line_start);
    if range.is_empty() {
        let next = window
            .get(range.start..)
            .and_then(|r| r.chars().next())
            .map_or(0, char::len_utf8);
        range.end = range.start + next;
    }
    Some((window, before.matches('\n').count() + 1, range))
}
