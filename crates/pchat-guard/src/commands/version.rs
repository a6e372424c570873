//! `pchat-guard --version`: the CLI, the module's digest, the embedded pack.

use super::{ExitStatus, HostArgs, Outcome, described};
use crate::module::{self, MODULE};

/// `--version`: the CLI, the module's digest, and the embedded pack's name, version and digest.
/// Prints the versions and digests.
pub fn run() -> Outcome {
    let mut out = Outcome::default();
    let described = match described(&HostArgs::default(), &mut out) {
        Ok(d) => d,
        Err(status) => return out.with(status),
    };
    let null = serde_json::Value::Null;
    let pack = described.get("pack").unwrap_or(&null);
    out.emit(format!(
        "pchat-guard {}\nmodule sha256:{} (ABI {}, wasmtime {})\npack {} {} {}\n",
        env!("CARGO_PKG_VERSION"),
        module::digest(MODULE),
        described.get("abi_version").unwrap_or(&null),
        crate::host::wasmtime_version(),
        pack.get("name").and_then(|v| v.as_str()).unwrap_or("none"),
        pack.get("version").and_then(|v| v.as_str()).unwrap_or("-"),
        pack.get("digest").and_then(|v| v.as_str()).unwrap_or("-"),
    ));
    out.with(ExitStatus::Clean)
}
