//! `pchat-guard config`: the project configuration in effect, and where each setting comes from.

use super::{ExitStatus, Outcome};
use crate::config::{Config, KEYS};

/// Prints every setting of the configuration with its origin (`file:line`), and the keys left
/// at their defaults.
pub fn run(config: Option<&Config>) -> Outcome {
    let mut out = Outcome::default();
    let Some(config) = config else {
        out.emit(format!(
            "no configuration file: none of `{}` or `pyproject.toml` with [tool.pchat-guard] here or above (or --no-config); every setting is its default\n",
            crate::config::FILE_NAME
        ));
        return out.with(ExitStatus::Clean);
    };
    let shown = config.path.display();
    let mut text = format!("configuration: {shown}\n");
    let entries = config.entries();
    for (key, value, line) in &entries {
        text.push_str(&format!("{key} = {value}    # {shown}:{line}\n"));
    }
    let defaults: Vec<&str> = KEYS
        .iter()
        .copied()
        .filter(|k| !entries.iter().any(|(e, _, _)| e == k))
        .collect();
    if !defaults.is_empty() {
        text.push_str(&format!("defaults: {}\n", defaults.join(", ")));
    }
    text.push_str("(options on the command line override these)\n");
    out.emit(text);
    out.with(ExitStatus::Clean)
}
