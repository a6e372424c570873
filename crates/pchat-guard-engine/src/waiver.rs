//! Waivers: findings a team has accepted, with a reason and an end date.
//!
//! A waiver names a rule and a target (a JSON pointer, or the id of an entity). It waives every
//! finding of that rule at the target or inside it. Waivers come from the manifest's own
//! `waivers[]` and from the host (a waiver file), are applied in that order, and a finding is
//! waived by the first waiver that matches it. The engine reads no clock: the host passes today's
//! date, and a waiver whose `expires` is before it does not apply.

use serde::{Deserialize, Serialize};

use crate::report::{Code, Finding};
use crate::source::{LineIndex, Location};
use crate::value::{Node, Value, push_pointer};

/// A waiver a host passes with a request (from a waiver file, for example).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalWaiver {
    /// The rule id it waives.
    pub rule: String,
    /// A JSON pointer (the value and everything below it) or an entity id.
    pub target: String,
    /// Why the finding is accepted.
    pub reason: String,
    /// Last day it applies, `YYYY-MM-DD`; never expires when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Where the waiver is written, copied into the findings it waives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<WaiverOrigin>,
}

/// Where a waiver is written: a file, the pointer of the waiver in it, and its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverOrigin {
    /// The file holding the waiver (the manifest itself, or a waiver file).
    pub path: String,
    /// JSON pointer of the waiver in that file, such as `/waivers/2`.
    pub pointer: String,
    /// Where the waiver starts in that file.
    pub location: Location,
}

/// How a finding was waived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waived {
    /// The waiver's reason.
    pub reason: String,
    /// The waiver's last day, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Where the waiver is written.
    pub origin: WaiverOrigin,
}

/// A calendar date, `YYYY-MM-DD`, ordered as dates are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Reads `YYYY-MM-DD`, refusing days a month does not have.
    pub fn parse(text: &str) -> Result<Date, String> {
        let bad = || format!("`{text}` is not a date of the form YYYY-MM-DD");
        let bytes = text.as_bytes();
        if bytes.len() != 10
            || bytes.get(4) != Some(&b'-')
            || bytes.get(7) != Some(&b'-')
            || !text
                .char_indices()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        {
            return Err(bad());
        }
        let number = |range: std::ops::Range<usize>| {
            text.get(range)
                .and_then(|s| s.parse::<u16>().ok())
                .ok_or_else(bad)
        };
        let year = number(0..4)?;
        let month = u8::try_from(number(5..7)?).map_err(|_| bad())?;
        let day = u8::try_from(number(8..10)?).map_err(|_| bad())?;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(format!("`{text}` has no month {month}")),
        };
        if day == 0 || day > days {
            return Err(format!("`{text}` is not a day of that month"));
        }
        Ok(Date { year, month, day })
    }
}

impl Date {
    /// The date `days` days after 1970-01-01 (negative: before), in the proleptic Gregorian
    /// calendar; hosts turn their clock into today's date with it.
    pub fn from_unix_days(days: i64) -> Date {
        // Howard Hinnant's `civil_from_days`.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: u16::try_from(year.clamp(0, 9999)).unwrap_or(9999),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }
}

/// A date travels as its `YYYY-MM-DD` text.
impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A date that does not exist is refused when the request is read.
impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Whether a waiver still applies on `today`: `Ok(())`, or why not (expired, undated run, bad
/// date) as a message for the warning.
pub fn still_valid(expires: Option<&str>, today: Option<Date>) -> Result<(), String> {
    let Some(expires) = expires else {
        return Ok(());
    };
    let end = Date::parse(expires)?;
    match today {
        None => Err(format!(
            "the waiver expires on {end}, but the host gave no date to compare with; it does not apply"
        )),
        Some(today) if today > end => {
            Err(format!("the waiver expired on {end} and no longer applies"))
        }
        Some(_) => Ok(()),
    }
}

/// One waiver ready to apply.
struct Active<'a> {
    rule: &'a str,
    target: &'a str,
    waived: Waived,
    used: bool,
}

/// A waiver of the manifest, as read from its `waivers[]`.
struct Written<'a> {
    rule: &'a str,
    target: &'a str,
    reason: &'a str,
    expires: Option<&'a str>,
    pointer: String,
    node: &'a Node,
}

/// What decides which waivers apply to a manifest, besides its own `waivers[]`.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The host's waivers (from waiver files), applied after the manifest's.
    pub external: &'a [ExternalWaiver],
    /// Whether the pipeline ignores the manifest's own waivers (each gets a note instead).
    pub ignore_manifest: bool,
    /// The rules of the pack: a waiver of anything else is an error.
    pub rules: &'a [&'a str],
    /// Today, for `expires`; `None` means an expiring waiver cannot be dated.
    pub today: Option<Date>,
}

/// Applies the manifest's waivers, then the host's, to the findings; adds the warnings and
/// errors about the waivers themselves (expired, waiving nothing, naming no rule, ignored).
pub fn apply(
    root: &Node,
    index: &LineIndex<'_>,
    path: &str,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
) {
    let Context {
        external,
        ignore_manifest,
        rules,
        today,
    } = *context;
    let mut notes = Vec::new();
    let mut active: Vec<Active<'_>> = Vec::new();
    let mut manifest_count = 0;
    for w in written(root) {
        if ignore_manifest {
            notes.push(note(
                Code::WaiverIgnored,
                format!(
                    "the manifest's waiver of `{}` is ignored: this pipeline applies only its own waiver files",
                    w.rule
                ),
                w.pointer.clone(),
                index.location(w.node.span),
                "ask the pipeline's owners to accept the finding in their waiver file, or fix it"
                    .to_string(),
            ));
            continue;
        }
        let origin = WaiverOrigin {
            path: path.to_string(),
            pointer: w.pointer.clone(),
            location: index.location(w.node.span),
        };
        if let Some(problem) = rule_problem(w.rule, rules) {
            let at = w.node.get("rule").map_or(w.node, |e| &e.value);
            notes.push(note(
                Code::WaiverUnknownRule,
                problem.0,
                push_pointer(&w.pointer, "rule"),
                index.location(at.span),
                problem.1,
            ));
            continue;
        }
        if let Err(why) = still_valid(w.expires, today) {
            let at = w.node.get("expires").map_or(w.node, |e| &e.value);
            notes.push(note(
                Code::WaiverExpired,
                why,
                push_pointer(&w.pointer, "expires"),
                index.location(at.span),
                format!(
                    "fix the finding, or renew the waiver with a new `expires` date (reason given: {})",
                    w.reason
                ),
            ));
            continue;
        }
        manifest_count += 1;
        active.push(Active {
            rule: w.rule,
            target: w.target,
            waived: Waived {
                reason: w.reason.to_string(),
                expires: w.expires.map(str::to_string),
                origin,
            },
            used: false,
        });
    }
    // The host reports its own waivers' problems once for all files, at their place in the
    // waiver file; here an unknown or lapsed one is simply not applied.
    for (i, w) in external.iter().enumerate() {
        if rule_problem(&w.rule, rules).is_some()
            || still_valid(w.expires.as_deref(), today).is_err()
        {
            continue;
        }
        active.push(Active {
            rule: &w.rule,
            target: &w.target,
            waived: Waived {
                reason: w.reason.clone(),
                expires: w.expires.clone(),
                origin: w.origin.clone().unwrap_or_else(|| WaiverOrigin {
                    path: String::new(),
                    pointer: format!("/waivers/{i}"),
                    location: Location::START,
                }),
            },
            used: false,
        });
    }
    for finding in findings.iter_mut() {
        if let Some(w) = active
            .iter_mut()
            .find(|w| w.rule == finding.code && covers(root, w.target, &finding.pointer))
        {
            w.used = true;
            finding.waived = Some(w.waived.clone());
        }
    }
    for w in active.iter().take(manifest_count).filter(|w| !w.used) {
        notes.push(note(
            Code::WaiverUnused,
            format!(
                "the waiver of `{}` for `{}` waives no finding",
                w.rule,
                shown_target(w.target)
            ),
            w.waived.origin.pointer.clone(),
            w.waived.origin.location,
            "remove it: the finding is fixed, the target names nothing, or an earlier waiver covers it"
                .to_string(),
        ));
    }
    findings.extend(notes);
}

/// A target as shown in messages: the empty pointer is the whole manifest.
pub fn shown_target(target: &str) -> &str {
    if target.is_empty() {
        "the whole manifest"
    } else {
        target
    }
}

/// Why a waiver's rule cannot be waived (message and help), if it cannot.
pub fn rule_problem(rule: &str, rules: &[&str]) -> Option<(String, String)> {
    if rules.contains(&rule) {
        return None;
    }
    if rule.starts_with("PCG-") {
        return Some((
            format!(
                "`{rule}` cannot be waived: `PCG-*` findings mean the manifest itself is broken"
            ),
            "fix the manifest; waivers apply to the rules of the pack".to_string(),
        ));
    }
    let help = match crate::schema::did_you_mean(rule, rules.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? `pchat-guard rules` lists the rules"),
        None => "`pchat-guard rules` lists the rules of the pack".to_string(),
    };
    Some((
        format!("the waiver names `{rule}`, which is not a rule of the pack"),
        help,
    ))
}

fn note(code: Code, message: String, pointer: String, location: Location, help: String) -> Finding {
    Finding::of(code, message, pointer, location).with_help(Some(help))
}

/// The well-formed waivers of the manifest; malformed ones already have schema findings.
fn written(root: &Node) -> Vec<Written<'_>> {
    let Some(entry) = root.get("waivers") else {
        return Vec::new();
    };
    let Value::Array(items) = &entry.value.value else {
        return Vec::new();
    };
    // The schema allows 1,000 (`maxItems`); past that it reports the manifest, and the cost of
    // matching stays bounded.
    items
        .iter()
        .take(1000)
        .enumerate()
        .filter_map(|(i, node)| {
            let text = |key: &str| node.get(key).and_then(|e| e.value.as_str());
            let expires = match node.get("expires") {
                None => None,
                Some(e) => Some(e.value.as_str()?),
            };
            Some(Written {
                rule: text("rule")?,
                target: text("target")?,
                reason: text("reason")?,
                expires,
                pointer: format!("/waivers/{i}"),
                node,
            })
        })
        .collect()
}

/// Whether `target` (a pointer, or an entity id) covers the value at `pointer`.
pub fn covers(root: &Node, target: &str, pointer: &str) -> bool {
    if target.is_empty() || target.starts_with('/') {
        return pointer == target
            || pointer
                .strip_prefix(target)
                .is_some_and(|rest| rest.starts_with('/'));
    }
    // An entity id: some object on the way from the root to the value has that `id`.
    let mut node = root;
    for token in pointer.split('/').skip(1) {
        let token = crate::value::unescape_token(token);
        let next = match &node.value {
            Value::Object(_) => node.get(&token).map(|e| &e.value),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        let Some(next) = next else {
            return false;
        };
        node = next;
        if node.get("id").and_then(|e| e.value.as_str()) == Some(target) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_strictly_and_ordered() {
        assert!(Date::parse("2028-02-29").is_ok());
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-00-10",
            "2027-04-31",
            "27-01-01",
            "2027-1-01",
            "2027/01/01",
            "２０２７-01-01",
            "",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad} was accepted");
        }
        assert!(Date::parse("2027-01-31").unwrap() < Date::parse("2027-02-01").unwrap());
        assert_eq!(Date::parse("2027-03-09").unwrap().to_string(), "2027-03-09");
    }

    #[test]
    fn unix_days_become_calendar_dates() {
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(-1).to_string(), "1969-12-31");
        assert_eq!(Date::from_unix_days(11_016).to_string(), "2000-02-29");
        assert_eq!(Date::from_unix_days(20_783).to_string(), "2026-11-26");
    }

    #[test]
    fn targets_cover_their_value_and_what_is_below_it_only() {
        let text = r#"{"pools": [{"id": "p1", "servers": [{"fqdn": "a"}]}, {"id": "p10"}], "x~y": {"a/b": 1}}"#;
        let root = crate::parse::parse_json(text, &crate::Limits::default()).unwrap();
        assert!(covers(&root, "/pools/0", "/pools/0"));
        assert!(covers(&root, "/pools/0", "/pools/0/servers/0/fqdn"));
        assert!(
            !covers(&root, "/pools/1", "/pools/10"),
            "a pointer covers whole tokens only"
        );
        assert!(!covers(&root, "/pools/0/servers", "/pools/0"));
        assert!(
            covers(&root, "", "/pools/1"),
            "the empty pointer is the whole manifest"
        );
        assert!(covers(&root, "/x~0y", "/x~0y/a~1b"));
        // An entity id covers the entity and everything inside it, nothing else.
        assert!(covers(&root, "p1", "/pools/0"));
        assert!(covers(&root, "p1", "/pools/0/servers/0/fqdn"));
        assert!(!covers(&root, "p1", "/pools/1"));
        assert!(!covers(&root, "p1", "/pools"));
        assert!(
            !covers(&root, "p1", "/pools/9/id"),
            "a pointer to nothing is covered by no id"
        );
    }

    #[test]
    fn a_waiver_lapses_the_day_after_it_expires() {
        let day = |d| Date::parse(d).ok();
        assert!(still_valid(Some("2027-01-31"), day("2027-01-31")).is_ok());
        assert!(still_valid(Some("2027-01-31"), day("2027-02-01")).is_err());
        assert!(still_valid(None, None).is_ok());
        assert!(still_valid(Some("2027-01-31"), None).is_err());
    }
}
