//! `pchat-guard schema`: the manifest JSON Schema, for editors.

use super::Outcome;

/// Prints the manifest JSON Schema.
pub fn run() -> Outcome {
    let mut out = Outcome::default();
    out.emit(format!(
        "{}\n",
        pchat_guard_engine::schema::SCHEMA_TEXT.trim_end()
    ));
    out
}
