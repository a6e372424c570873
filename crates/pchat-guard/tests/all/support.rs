//! Shared helpers: paths, the native checker, one compiled module per test run, the CLI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use pchat_guard::host::{Host, HostOptions, Session};
use pchat_guard::module::MODULE;
use pchat_guard_engine::{CheckRequest, Checker, FileReport, Response};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_default()
}

/// Files of a folder under the root, sorted, with the given extensions.
pub fn files_in(folder: &str, extensions: &[&str]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(folder))
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e))
    });
    files.sort();
    assert!(!files.is_empty(), "no files in {folder}");
    files
}

/// The path of a file relative to the root, with forward slashes, as reports show it.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The native checker, built once.
pub fn checker() -> &'static Checker {
    static CHECKER: OnceLock<Checker> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let bundle = shipped_bundle();
        Checker::new()
            .and_then(|c| c.with_bundle(bundle))
            .unwrap_or_else(|e| panic!("the checker does not build: {e}"))
    })
}

/// The shipped policy pack, compiled natively as the module's build compiles it (the module
/// embeds the same IR).
pub fn shipped_bundle() -> pchat_guard_engine::ir::Bundle {
    let (_, compiled) = pchat_guard_pack::compile_pack(
        &root().join("policies"),
        "persistent-chat",
        env!("CARGO_PKG_VERSION"),
        Some(&root()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    compiled.bundle.unwrap_or_else(|| {
        panic!(
            "the shipped pack does not compile: {:?}",
            compiled.diagnostics
        )
    })
}

/// The request a host sends for a file.
pub fn request_for(path: &Path) -> CheckRequest {
    let source =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    CheckRequest {
        source,
        path: relative(path),
        ..Default::default()
    }
}

/// Checks natively.
pub fn native_report(request: &CheckRequest) -> FileReport {
    checker().check(request)
}

/// Where this test run keeps its caches and scratch files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("pchat-guard-tests")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// The embedded module compiled once per test run (cranelift is the slow part).
pub fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        let options = HostOptions {
            cache_dir: Some(scratch("module-cache")),
            ..HostOptions::default()
        };
        Host::new(MODULE, options).unwrap_or_else(|e| panic!("the module does not load: {e}"))
    })
}

/// One instance shared by the tests of a run (calls are serialised).
pub fn session() -> std::sync::MutexGuard<'static, Session> {
    static SESSION: OnceLock<Mutex<Session>> = OnceLock::new();
    SESSION
        .get_or_init(|| {
            Mutex::new(
                host()
                    .session()
                    .unwrap_or_else(|e| panic!("no instance: {e}")),
            )
        })
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Checks through the WebAssembly module in wasmtime.
pub fn wasm_report(request: &CheckRequest) -> FileReport {
    let json = serde_json::to_vec(request).unwrap_or_default();
    let response = session()
        .check(&json)
        .unwrap_or_else(|e| panic!("{}: the module failed: {e}", request.path));
    match serde_json::from_str::<Response>(&response) {
        Ok(Response::Ok { report }) => report,
        other => panic!("{}: unexpected response {other:?}", request.path),
    }
}

/// Runs the CLI with a private cache, from the workspace root.
pub fn cli(args: &[&str]) -> Output {
    cli_with_stdin(args, None)
}

/// Runs the CLI with some standard input.
pub fn cli_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut command = Command::new(env!("CARGO_BIN_EXE_pchat-guard"));
    command
        .args(args)
        .current_dir(root())
        .env("PCHAT_GUARD_CACHE_DIR", scratch("cli-cache"))
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run the CLI: {e}"));
    if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), stdin) {
        let _ = pipe.write_all(bytes);
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("the CLI did not finish: {e}"))
}

/// Runs the CLI in `dir` with the precompiled cache in `cache` and no colour; exit code, stdout
/// and stderr as text.
pub fn cli_in(dir: &Path, cache: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_pchat-guard"))
        .args(args)
        .current_dir(dir)
        .env("PCHAT_GUARD_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run the CLI: {e}"));
    outcome(&output)
}

/// Exit code, stdout and stderr of a run, as text.
pub fn outcome(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// insta settings of every snapshot: in `tests/snapshots/`, named as given, without the expression.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// The structurally clean minimal manifest, without its `$schema` line (whose relative path only
/// holds where the fixture lives), to copy into scratch folders.
pub fn clean_minimal_manifest() -> String {
    std::fs::read_to_string(root().join("tests/fixtures/manifests/clean-minimal.yaml"))
        .unwrap_or_else(|e| panic!("clean-minimal.yaml: {e}"))
        .replace("$schema: ../../../schemas/topology.schema.json\n", "")
}

/// A one-rule custom pack: every pool names its file store (the minimal manifest's pool names
/// none, so it fires there), with the given severity.
pub fn custom_rule(severity: &str) -> String {
    format!(
        r#"
/// Every pool names its file store.
rule CUSTOM-FS-001 {{
  severity {severity}
  title "Pools name a file store"
  facts F15
  for pool in persistent_chat_pools
  where pool.file_store == none
  report at pool.fqdn message "pool `{{pool.id}}` names no file store"
}}
"#
    )
}
