//! `pchat-guard describe`: what the module says of itself, as JSON.

use super::{ExitStatus, HostArgs, Outcome, host_options, module_bytes};
use crate::host::{Host, HostError};

/// Prints the module's description (versions, the pack and its rules, the codes).
pub fn run(args: &HostArgs) -> Outcome {
    let mut out = Outcome::default();
    let bytes = match module_bytes(args, &mut out) {
        Ok(b) => b,
        Err(status) => return out.with(status),
    };
    let result = Host::new(&bytes, host_options(args))
        .and_then(|h| h.session())
        .and_then(|mut s| s.describe());
    match result.map(|d| serde_json::to_string_pretty(&d)) {
        Ok(Ok(json)) => {
            out.emit(format!("{json}\n"));
            out.with(ExitStatus::Clean)
        }
        Ok(Err(e)) => out.internal(&HostError::Failure(format!(
            "encoding the description: {e}"
        ))),
        Err(e) => out.internal(&e),
    }
}
