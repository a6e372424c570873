//! Builds the WebAssembly module that the CLI embeds, so `cargo run` and `cargo install` need
//! nothing else: a nested cargo build of `pchat-guard-wasm` for wasm32 (installing that target
//! through rustup when it is missing), wasm-bindgen (as a library) for the JS glue, then
//! pre-initialisation with Wizer.
//!
//! The module's bytes depend only on the sources, the lock file and the toolchain: no optional
//! tool found on the machine (such as binaryen's `wasm-opt`) takes part, so every machine builds
//! the same digest. The script reruns when a file that goes into the module changes, and only
//! then: the nested build's dep-info names every source file, the pack names its rule files.
//!
//! The nested cargo must not inherit this build's flags (`CARGO_ENCODED_RUSTFLAGS` and friends
//! would replace the wasm32 flags below and bring imports back), so its environment is cleaned
//! and its flags are passed explicitly. A test asserts the embedded module imports nothing.

use std::env;

use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Flags for the wasm32 build: getrandom's custom backend (the module defines it; no imports),
/// no reference types (so wasm-bindgen's output needs no externref table or imports), and
/// LLVM's inliner at twice its `-O3` threshold: fewer, larger functions (5,020 → 4,705), so each
/// process reads less of wasmtime's per-function metadata and takes fewer page faults (394 → 329
/// for a 1-pool check), and fewer calls in the check itself. A 1-pool process is 7.38 M → 7.12 M
/// instructions and about a quarter faster; the module grows from 4.80 to 5.58 MB (brotli 0.97 →
/// 1.07 MB). At 1,000 the threshold gave 6.93 M and 7.12 MB (docs/performance.md).
const WASM_RUSTFLAGS: &[&str] = &[
    "--cfg",
    "getrandom_backend=\"custom\"",
    "-C",
    "target-feature=-reference-types",
    "-C",
    "llvm-args=-inline-threshold=500",
];

fn main() {
    if let Err(message) = run() {
        println!("cargo::error={message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    // The CLI is linked as a fixed-address executable on Linux (glibc): as a position-independent
    // one, the loader relocated 32,497 pointers at every start, copying each page that holds one
    // (126 page faults, about 14% of a one-pool check; docs/performance.md). Libraries, stack,
    // heap and mappings stay randomised; PCHAT_GUARD_PIE=1 keeps the default (docs/security.md).
    println!("cargo::rerun-if-env-changed=PCHAT_GUARD_PIE");
    let linux_gnu = env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu && env::var_os("PCHAT_GUARD_PIE").is_none_or(|v| v.is_empty() || v == "0") {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let root = manifest_dir
        .parent()
        .and_then(Path::parent)
        .ok_or("the crate is not inside the workspace")?
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    println!("cargo::rerun-if-env-changed=PCHAT_GUARD_MODULE_TARGET_DIR");
    println!("cargo::rerun-if-env-changed=PCHAT_GUARD_PREINIT");
    for manifest in [
        "Cargo.lock",
        "Cargo.toml",
        "crates/pchat-guard-engine/Cargo.toml",
        "crates/pchat-guard-lang/Cargo.toml",
        "crates/pchat-guard-pack/Cargo.toml",
        "crates/pchat-guard-wasm/Cargo.toml",
        "crates/pchat-guard-wasm/build.rs",
        "schemas/topology.schema.json",
    ] {
        println!("cargo::rerun-if-changed={}", root.join(manifest).display());
    }
    let policies = root.join("policies");
    for file in pchat_guard_pack::source_files(&policies)
        .into_iter()
        .chain(pchat_guard_pack::facts_files(&policies))
    {
        println!("cargo::rerun-if-changed={}", file.display());
    }

    let target_dir = env::var_os("PCHAT_GUARD_MODULE_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("pchat-guard-module"));
    ensure_wasm_target()?;
    let raw = build_module(&root, &target_dir)?;
    watch_dep_info(&root, &target_dir)?;

    let module_dir = out_dir.join("module");
    std::fs::create_dir_all(&module_dir).map_err(|e| e.to_string())?;
    // The shipped pack's IR, compiled as the module's build script compiles it (same sources,
    // same compiler, same bytes): `--extend` adds packs to it.
    let (_, shipped) = pchat_guard_pack::compile_pack(
        &policies,
        "persistent-chat",
        env!("CARGO_PKG_VERSION"),
        Some(&root),
    )?;
    let shipped = shipped
        .bundle
        .ok_or("the shipped policy pack does not compile")?;
    let shipped = serde_json::to_string(&shipped).map_err(|e| e.to_string())?;
    std::fs::write(module_dir.join("shipped-pack.json"), shipped).map_err(|e| e.to_string())?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&raw)
        .out_name("pchat_guard")
        .web(true)
        .map_err(|e| e.to_string())?
        .typescript(true)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&module_dir)
        .map_err(|e| format!("wasm-bindgen failed: {e:#}"))?;

    let module = module_dir.join("pchat_guard_bg.wasm");
    pre_initialise(&module)?;
    // Pre-initialisation removes the `wizer-initialize` export; its line in the raw exports'
    // typings is not TypeScript either (a hyphen in a member name), so it goes too.
    let typings = module_dir.join("pchat_guard_bg.wasm.d.ts");
    let text = std::fs::read_to_string(&typings).map_err(|e| e.to_string())?;
    let kept: String = text
        .lines()
        .filter(|line| !line.contains("wizer-initialize"))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&typings, kept).map_err(|e| e.to_string())?;
    // Its digest names the precompiled cache file: computed here, not in every process
    // (hashing 2.5 MB took a tenth of a warm `check`).
    let bytes = std::fs::read(&module).map_err(|e| e.to_string())?;
    let digest = format!("{:x}", sha2::Sha256::digest(&bytes));
    std::fs::write(module_dir.join("module.sha256"), digest).map_err(|e| e.to_string())?;
    Ok(())
}

/// Builds `pchat-guard-wasm` for wasm32 and returns the path of the raw module.
fn build_module(root: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let inherited =
            (key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_MAKEFLAGS")
                || key.starts_with("RUSTFLAGS")
                || key.starts_with("RUSTDOCFLAGS")
                || key == "RUSTC_WRAPPER"
                || key == "RUSTC_WORKSPACE_WRAPPER"
                || key == "TARGET"
                || key == "HOST"
                || key == "OUT_DIR"
                || key == "PROFILE"
                || key == "OPT_LEVEL"
                || key == "DEBUG"
                || key == "NUM_JOBS";
        if inherited {
            command.env_remove(key.as_ref());
        }
    }
    let home = env::var("CARGO_HOME").unwrap_or_default();
    let mut flags: Vec<String> = WASM_RUSTFLAGS.iter().map(|s| s.to_string()).collect();
    flags.push(format!(
        "--remap-path-prefix={}=/pchat-guard",
        root.display()
    ));
    if !home.is_empty() {
        flags.push(format!("--remap-path-prefix={home}=/cargo"));
    }
    command
        .current_dir(root)
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"))
        .args(["build", "--package", "pchat-guard-wasm", "--lib"])
        .args(["--target", "wasm32-unknown-unknown", "--profile", "wasm"])
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"));
    let output = command
        .output()
        .map_err(|e| format!("cannot run cargo to build the module: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("wasm32-unknown-unknown")
            && stderr.contains("target may not be installed")
        {
            "\nthe wasm32 target is missing: run `rustup target add wasm32-unknown-unknown`"
        } else {
            ""
        };
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "building the WebAssembly module failed{hint}\n{}",
            tail.join("\n")
        ));
    }
    Ok(target_dir
        .join("wasm32-unknown-unknown")
        .join("wasm")
        .join("pchat_guard_wasm.wasm"))
}

/// The wasm32 target of the toolchain building this crate must be installed: when it is not,
/// rustup (when present) installs it for that toolchain, so a fresh machine needs nothing but
/// the README's command; without rustup the build stops with the command to run.
fn ensure_wasm_target() -> Result<(), String> {
    const TARGET: &str = "wasm32-unknown-unknown";
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run `{rustc} --print sysroot`: {e}"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    let installed = Path::new(&sysroot)
        .join("lib")
        .join("rustlib")
        .join(TARGET)
        .join("lib");
    if installed.is_dir() {
        return Ok(());
    }
    let toolchain = env::var("RUSTUP_TOOLCHAIN").ok();
    let mut command = Command::new("rustup");
    command.args(["target", "add", TARGET]);
    let mut manual = format!("rustup target add {TARGET}");
    if let Some(toolchain) = &toolchain {
        command.args(["--toolchain", toolchain]);
        manual.push_str(&format!(" --toolchain {toolchain}"));
    }
    match command.output() {
        Ok(output) if output.status.success() && installed.is_dir() => {
            println!(
                "cargo::warning=installed the `{TARGET}` target through rustup (`{manual}`): \
                 pchat-guard's checks run in a WebAssembly module built for it"
            );
            Ok(())
        }
        Ok(output) => Err(format!(
            "the `{TARGET}` target is not installed for the Rust compiler at `{sysroot}`, \
             and `{manual}` failed:\n{}\ninstall the target and build again",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(_) => Err(format!(
            "the `{TARGET}` target is not installed for the Rust compiler at `{sysroot}`, and \
             rustup is not available to install it: run `{manual}` (or install your \
             distribution's Rust standard library for {TARGET}) and build again"
        )),
    }
}

/// Watches every file that went into the module: the nested build's dep-info lists the
/// sources of the module's crates (cargo leaves registry crates out: they change only through
/// `Cargo.lock`), and the rule compiler, which writes the embedded pack from the module crate's
/// build script, is watched file by file.
fn watch_dep_info(root: &Path, target_dir: &Path) -> Result<(), String> {
    let module_deps = target_dir
        .join("wasm32-unknown-unknown")
        .join("wasm")
        .join("pchat_guard_wasm.d");
    let text = std::fs::read_to_string(&module_deps)
        .map_err(|e| format!("cannot read the dep-info `{}`: {e}", module_deps.display()))?;
    // Files the nested build generated itself (the embedded pack's JSON in its OUT_DIR) are
    // left out: they follow from the sources watched here, and a build of another profile
    // rewrites them, which would rerun this script for nothing.
    for path in dep_info_paths(&text) {
        if !Path::new(&path).starts_with(target_dir) {
            println!("cargo::rerun-if-changed={path}");
        }
    }
    for compiler in ["crates/pchat-guard-lang/src", "crates/pchat-guard-pack/src"] {
        watch_files(&root.join(compiler));
    }
    Ok(())
}

/// One `rerun-if-changed` per file below `dir`.
fn watch_files(dir: &Path) {
    for path in pchat_guard_pack::files_below(dir) {
        println!("cargo::rerun-if-changed={}", path.display());
    }
}

/// The prerequisites of a Makefile-style dep-info file (`target: a b\ c`): the first rule's
/// right-hand side, with escaped spaces restored.
fn dep_info_paths(text: &str) -> Vec<String> {
    let Some(first) = text.lines().next() else {
        return Vec::new();
    };
    let Some((_, prerequisites)) = first.split_once(": ") else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut chars = prerequisites.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                current.push(' ');
                chars.next();
            }
            ' ' => {
                if !current.is_empty() {
                    paths.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        paths.push(current);
    }
    paths
}

/// Runs the module's `wizer-initialize` (which builds the schema validator and parses the
/// embedded pack) and writes the instance's state back as the module: every host then starts
/// where that call left off, instead of paying for it on its first check. Set
/// PCHAT_GUARD_PREINIT=0 to skip.
fn pre_initialise(module: &Path) -> Result<(), String> {
    if env::var("PCHAT_GUARD_PREINIT").is_ok_and(|v| v == "0") {
        return Ok(());
    }
    let bytes = std::fs::read(module).map_err(|e| e.to_string())?;
    let wizer = wasmtime_wizer::Wizer::new();
    let (context, instrumented) = wizer
        .instrument(&bytes)
        .map_err(|e| format!("cannot instrument the module: {e:#}"))?;
    let engine = wasmtime::Engine::default();
    let compiled = wasmtime::Module::new(&engine, &instrumented)
        .map_err(|e| format!("cannot compile the instrumented module: {e:#}"))?;
    let mut store = wasmtime::Store::new(&engine, ());
    let instance = wasmtime::Instance::new(&mut store, &compiled, &[])
        .map_err(|e| format!("cannot instantiate the module: {e:#}"))?;
    instance
        .get_typed_func::<(), ()>(&mut store, wizer.get_init_func())
        .and_then(|init| init.call(&mut store, ()))
        .map_err(|e| format!("`{}` failed: {e:#}", wizer.get_init_func()))?;
    let mut state = Snapshotting { store, instance };
    let snapshot = block_on(wizer.snapshot(&context, &mut state))
        .map_err(|e| format!("cannot snapshot the module: {e:#}"))?;
    std::fs::write(module, snapshot).map_err(|e| e.to_string())
}

/// The instance Wizer reads globals and memory from.
struct Snapshotting {
    store: wasmtime::Store<()>,
    instance: wasmtime::Instance,
}

impl wasmtime_wizer::InstanceState for Snapshotting {
    async fn global_get(
        &mut self,
        name: &str,
        _type_hint: wasmtime_wizer::ValType,
    ) -> wasmtime_wizer::SnapshotVal {
        use wasmtime_wizer::SnapshotVal;
        let value = self
            .instance
            .get_global(&mut self.store, name)
            .map(|g| g.get(&mut self.store));
        match value {
            Some(wasmtime::Val::I32(v)) => SnapshotVal::I32(v),
            Some(wasmtime::Val::I64(v)) => SnapshotVal::I64(v),
            Some(wasmtime::Val::F32(v)) => SnapshotVal::F32(v),
            Some(wasmtime::Val::F64(v)) => SnapshotVal::F64(v),
            Some(wasmtime::Val::V128(v)) => SnapshotVal::V128(v.as_u128()),
            #[allow(
                clippy::panic,
                reason = "the trait has no error path; a build script reports by failing the build"
            )]
            other => panic!("global `{name}` cannot be snapshotted: {other:?}"),
        }
    }

    #[allow(
        clippy::panic,
        reason = "the trait has no error path; a build script reports by failing the build"
    )]
    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        match self.instance.get_memory(&mut self.store, name) {
            Some(memory) => contents(memory.data(&self.store)),
            None => panic!("memory `{name}` is not exported by the instrumented module"),
        }
    }
}

/// Drives a future that never waits (the snapshot reads a synchronous store) to completion.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}
