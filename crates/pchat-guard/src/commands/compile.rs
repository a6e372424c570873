//! `pchat-guard compile [DIR] [--extend DIR]... -o FILE.wasm`: a self-contained module running a
//! pack, or the shipped pack with extensions.

use super::{ExitStatus, HostArgs, Outcome, PackArgs, load_packs, say};
use crate::host::{Host, HostError, HostOptions};
use crate::module::{self, MODULE};

/// Compiles packs into a module that runs them, and checks that it does.
pub fn run(
    packs: &PackArgs,
    output: &std::path::Path,
    name: Option<String>,
    version: String,
) -> Outcome {
    let mut out = Outcome::default();
    if packs.is_default() {
        say!(
            out,
            "error: name a rule directory, or `--extend DIR` to add rules to the shipped pack"
        );
        return out.with(ExitStatus::CannotCheck);
    }
    let mut bundle = match load_packs(packs, &HostArgs::default(), &mut out) {
        Ok(Some(b)) => b,
        Ok(None) => return out.with(ExitStatus::CannotCheck),
        Err(status) => return out.with(status),
    };
    if let Some(name) = name {
        bundle.name = name;
    }
    bundle.version = version;
    let payload = match serde_json::to_vec(&bundle) {
        Ok(p) => p,
        Err(e) => return out.internal(&HostError::Failure(format!("encoding the pack: {e}"))),
    };
    let digest = module::digest(&payload);
    let image = pchat_guard_engine::image::encode(&payload, &digest);
    let compiled = match crate::inject::inject(MODULE, &image) {
        Ok(bytes) => bytes,
        Err(e) => return out.internal(&HostError::BadModule(e)),
    };
    // Load what was written, as any host will, before calling it done.
    let options = HostOptions {
        cache_dir: None,
        ..HostOptions::default()
    };
    let described = Host::new(&compiled, options)
        .and_then(|h| h.session())
        .and_then(|mut s| s.describe());
    let expected = format!("sha256:{digest}");
    match described {
        Ok(d) if d.pack.as_ref().and_then(|p| p.digest.as_ref()) == Some(&expected) => {}
        Ok(d) => {
            return out.internal(&HostError::BadModule(format!(
                "the compiled module does not run the pack: it runs {:?}",
                d.pack
            )));
        }
        Err(e) => return out.internal(&e),
    }
    if let Err(e) = std::fs::write(output, &compiled) {
        say!(out, "error: cannot write `{}`: {e}", output.display());
        return out.with(ExitStatus::CannotCheck);
    }
    say!(
        out,
        "wrote `{}`: {} rules of pack `{}` {} (sha256:{digest}), {} bytes",
        output.display(),
        bundle.rules.len(),
        bundle.name,
        bundle.version,
        compiled.len()
    );
    out.with(ExitStatus::Clean)
}
