//! `pchat-guard module --out FILE [--js-out DIR]`: writes the module this CLI runs.

use super::{ExitStatus, Outcome, say};
use crate::module::{self, MODULE};

/// Writes the module (and its JS glue).
pub fn run(path: &std::path::Path, js_out: Option<&std::path::Path>) -> Outcome {
    let mut out = Outcome::default();
    let mut written = vec![(path.to_path_buf(), MODULE.to_vec())];
    if let Some(dir) = js_out {
        if let Err(e) = std::fs::create_dir_all(dir) {
            say!(out, "error: cannot create `{}`: {e}", dir.display());
            return out.with(ExitStatus::CannotCheck);
        }
        written.extend(
            module::js_files()
                .iter()
                .map(|(name, text)| (dir.join(name), text.as_bytes().to_vec())),
        );
        written.push((dir.join(module::MODULE_FILE_NAME), MODULE.to_vec()));
    }
    for (path, bytes) in written {
        if let Err(e) = std::fs::write(&path, bytes) {
            say!(out, "error: cannot write `{}`: {e}", path.display());
            return out.with(ExitStatus::CannotCheck);
        }
    }
    say!(
        out,
        "wrote the module ({} bytes, sha256 {})",
        MODULE.len(),
        module::digest(MODULE)
    );
    out.with(ExitStatus::Clean)
}
