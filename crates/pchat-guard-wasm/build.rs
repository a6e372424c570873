//! Compiles the shipped policy pack (`policies/**/*.rules`) to IR at build time, so the module
//! embeds a checked bundle and nothing is compiled per process. A rule that does not compile
//! fails the build with its diagnostics.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest_dir.join("../..");
    let policies = root.join("policies");
    // INVARIANT: one `rerun-if-changed` per pack source, never the folder: editing a policy
    // test case must not rebuild the module.
    for file in pchat_guard_pack::source_files(&policies)
        .into_iter()
        .chain(pchat_guard_pack::facts_files(&policies))
    {
        println!("cargo::rerun-if-changed={}", file.display());
    }
    let (sources, compiled) = match pchat_guard_pack::compile_pack(
        &policies,
        "persistent-chat",
        env!("CARGO_PKG_VERSION"),
        Some(&root),
    ) {
        Ok(compiled) => compiled,
        Err(e) => fail(&e),
    };
    for d in &compiled.diagnostics {
        let path = sources.get(d.file).map_or("?", |s| s.path.as_str());
        let line = sources.get(d.file).map_or(0, |s| {
            s.text.get(..d.start).unwrap_or("").matches('\n').count() + 1
        });
        println!(
            "cargo::warning={path}:{line}: {:?} {}: {}",
            d.level, d.code, d.message
        );
    }
    let Some(bundle) = compiled.bundle else {
        fail("the shipped policy pack does not compile (see the warnings above)");
    };
    let json = serde_json::to_string(&bundle).unwrap_or_default();
    let digest = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(json.as_bytes()))
    };
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    for (name, content) in [("bundle.json", json), ("bundle.sha256", digest)] {
        let out = out_dir.join(name);
        if let Err(e) = std::fs::write(&out, content) {
            fail(&format!("cannot write {}: {e}", out.display()));
        }
    }
}

fn fail(message: &str) -> ! {
    println!("cargo::error={message}");
    std::process::exit(1);
}
