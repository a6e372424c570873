//! Sandbox guarantees of the host, each with a module made here from WAT: what a module may not
//! do (import, lack the ABI, speak another version, loop, grow, answer with bytes outside its
//! memory or with something that is not the JSON asked for) is refused with a clear message and
//! the documented exit code, never trusted.

use pchat_guard::host::{Host, HostError, HostOptions};

use crate::support::{outcome, scratch};

/// The ABI's exports around `body` (WAT of more functions), with `version` as the ABI version.
/// `pcg_check` answers what `check` computes; memory is 1 page, growable.
fn module(version: u32, check: &str, body: &str) -> Vec<u8> {
    let text = format!(
        r#"(module
          (memory (export "memory") 1)
          (data (i32.const 16) "{{\"status\":\"ok\"}}")
          (func (export "pcg_abi_version") (result i32) i32.const {version})
          (func (export "pcg_alloc") (param i32) (result i32) i32.const 1024)
          (func (export "pcg_free") (param i32 i32))
          (func (export "pcg_check") (param i32 i32) (result i64) {check})
          (func (export "pcg_diagram") (param i32 i32) (result i64) i64.const 0)
          (func (export "pcg_load_bundle") (param i32 i32) (result i64) i64.const 0)
          (func (export "pcg_describe") (result i64) i64.const 0)
          (func (export "pcg_schema") (result i64) i64.const 0)
          {body})"#
    );
    wat::parse_str(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn options() -> HostOptions {
    HostOptions {
        cache_dir: None,
        fuel: 50_000_000,
        max_memory: 4 << 20,
    }
}

/// What checking `{}` through this module gives.
fn check_with(bytes: &[u8]) -> Result<String, HostError> {
    Host::new(bytes, options())?.session()?.check(b"{}")
}

#[test]
fn a_wellformed_fake_is_accepted_so_the_refusals_below_are_for_their_reason() {
    // (16 << 32) | 15: the 15 bytes of `{"status":"ok"}` at offset 16.
    let answer = check_with(&module(3, "i64.const 68719476751", ""));
    assert_eq!(answer, Ok(r#"{"status":"ok"}"#.to_string()));
}

#[test]
fn modules_that_are_not_of_this_abi_are_refused() {
    let refused = |bytes: &[u8], expected: &str| match Host::new(bytes, options())
        .and_then(|h| h.session())
    {
        Err(HostError::BadModule(message)) => assert!(message.contains(expected), "{message}"),
        Err(other) => panic!("wrong error for {expected}: {other}"),
        Ok(_) => panic!("accepted: {expected}"),
    };
    refused(
        &module(2, "i64.const 0", ""),
        "it speaks ABI version 2; this host speaks version 3",
    );
    refused(
        &wat::parse_str(r#"(module (import "wasi" "clock" (func)) (memory (export "memory") 1))"#)
            .unwrap_or_default(),
        "imports `wasi::clock`",
    );
    refused(
        &wat::parse_str(r#"(module (memory (export "memory") 1))"#).unwrap_or_default(),
        "does not export `pcg_abi_version`",
    );
    // A second memory would get a second memory cap.
    let two_memories = module(3, "i64.const 0", "(memory 1)");
    match Host::new(&two_memories, options()).and_then(|h| h.session()) {
        Err(HostError::BadModule(message)) => {
            assert!(
                message.contains("multi-memory") || message.contains("memor"),
                "{message}"
            )
        }
        Err(other) => panic!("wrong error for two memories: {other}"),
        Ok(_) => panic!("accepted a module with two memories"),
    }
    // The optional export, when present, must have its type.
    refused(
        &module(
            3,
            "i64.const 0",
            r#"(func (export "pcg_check_text") (param i32 i32) (result i64) i64.const 0)"#,
        ),
        "export `pcg_check_text`",
    );
    refused(b"\0asm\x01\0\0\0\xff\xff", "");
    refused(b"not a module at all", "");
}

#[test]
fn a_module_that_loops_forever_is_stopped_by_fuel() {
    let looping = module(3, "(loop $l (br $l)) i64.const 0", "");
    match check_with(&looping) {
        Err(HostError::Limit { limit, detail }) => {
            assert_eq!(limit, "fuel limit");
            assert!(detail.contains("--max-fuel"), "{detail}");
        }
        other => panic!("not stopped by fuel: {other:?}"),
    }
}

#[test]
fn a_module_that_grows_past_the_cap_is_stopped_by_the_memory_limit() {
    // 100 pages (6.4 MiB) against a 4 MiB cap.
    let growing = module(3, "(drop (memory.grow (i32.const 100))) i64.const 0", "");
    match check_with(&growing) {
        Err(HostError::Limit { limit, detail }) => {
            assert_eq!(limit, "memory limit");
            assert!(detail.contains("--max-memory-mib"), "{detail}");
        }
        other => panic!("not stopped by the memory limit: {other:?}"),
    }
    // Growing within the cap is fine.
    let modest = module(
        3,
        "(drop (memory.grow (i32.const 2))) i64.const 68719476751",
        "",
    );
    assert!(check_with(&modest).is_ok());
}

#[test]
fn answers_outside_memory_or_not_utf8_are_refused_not_trusted() {
    // A pointer past the end of memory, and a length of 4 GiB - 1: refused before reading.
    for packed in [
        "i64.const 0x00fffff00000000f",
        "i64.const 0x00000010ffffffff",
    ] {
        match check_with(&module(3, packed, "")) {
            Err(HostError::Failure(message)) => {
                assert!(message.contains("outside its memory"), "{message}")
            }
            other => panic!("{packed}: {other:?}"),
        }
    }
    // Bytes that are not UTF-8 (the 0xff at offset 8).
    let bytes = module(
        3,
        "i64.const 0x0000000800000004",
        r#"(data (i32.const 8) "\ff\fe\fd\fc")"#,
    );
    match check_with(&bytes) {
        Err(HostError::Failure(message)) => assert!(message.contains("not UTF-8"), "{message}"),
        other => panic!("{other:?}"),
    }
}

/// The CLI with such modules: exit 3 with the reason, nothing on standard output; and JSON that
/// is not a response is refused too.
#[test]
fn the_cli_exits_three_on_modules_that_misbehave() {
    let dir = scratch("sandbox-cli");
    let manifest = dir.join("site.yaml");
    std::fs::write(&manifest, crate::support::clean_minimal_manifest()).unwrap_or_default();
    for (name, bytes, expected) in [
        (
            "loop",
            module(3, "(loop $l (br $l)) i64.const 0", ""),
            "fuel limit",
        ),
        (
            "grow",
            module(3, "(drop (memory.grow (i32.const 30000))) i64.const 0", ""),
            "memory limit",
        ),
        ("abi2", module(2, "i64.const 0", ""), "ABI version 2"),
        (
            "outside",
            module(3, "i64.const 0x00fffff00000000f", ""),
            "outside its memory",
        ),
        (
            "not-a-response",
            module(3, "i64.const 68719476751", ""),
            "unreadable response",
        ),
    ] {
        let path = dir.join(format!("{name}.wasm"));
        std::fs::write(&path, &bytes).unwrap_or_default();
        let (code, stdout, stderr) = outcome(&crate::support::cli(&[
            "check",
            "--no-cache",
            "--max-memory-mib",
            "64",
            "--max-fuel",
            "100000000",
            "--module",
            &path.to_string_lossy(),
            &manifest.to_string_lossy(),
        ]));
        assert_eq!(code, 3, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}
