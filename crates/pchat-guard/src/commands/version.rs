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
    let pack = described.pack.as_ref();
    out.emit(format!(
        "pchat-guard {}\nmodule sha256:{} (ABI {}, wasmtime {})\npack {} {} {}\n",
        env!("CARGO_PKG_VERSION"),
        module::digest(MODULE),
        described.abi_version,
        crate::host::wasmtime_version(),
        pack.map_or("none", |p| p.name.as_str()),
        pack.map_or("-", |p| p.version.as_str()),
        pack.and_then(|p| p.digest.as_deref()).unwrap_or("-"),
    ));
    out.with(ExitStatus::Clean)
}
