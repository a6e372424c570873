//! The precompiled cache is only as safe as its files: used only from a private directory of
//! this user, only when a file's digest matches the one written beside it, written atomically
//! and readable by this user alone.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{root, scratch};

const SITE: &str = "examples/topologies/stretched-high-bandwidth.yaml";

fn check_with_cache(cache: &Path) -> (i32, String, String) {
    crate::support::cli_in(&root(), cache, &["--no-config", "check", SITE])
}

/// The precompiled file of the embedded module and its digest file.
fn cached_files(cache: &Path) -> (PathBuf, PathBuf) {
    let prefix = pchat_guard::module::MODULE_DIGEST
        .get(..32)
        .unwrap_or_default()
        .to_string();
    let find = |suffix: &str| {
        std::fs::read_dir(cache)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                name.starts_with(&prefix) && name.ends_with(suffix)
            })
            .unwrap_or_else(|| panic!("no cached `{suffix}` for the module in {}", cache.display()))
    };
    (find(".cwasm"), find(".cwasm.xxh3"))
}

/// Flips the middle byte of the precompiled file in place, checks, and asserts the run still
/// succeeds and the file was compiled and written again; returns the damaged bytes.
fn flip_a_byte_and_check(cache: &Path, cwasm: &Path, good: &[u8]) -> Vec<u8> {
    let mut damaged = good.to_vec();
    if let Some(b) = damaged.get_mut(good.len() / 2) {
        *b ^= 0xff;
    }
    std::fs::write(cwasm, &damaged).unwrap_or_default();
    let (code, stdout, stderr) = check_with_cache(cache);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("no findings"));
    assert_eq!(std::fs::read(cwasm).unwrap_or_default(), good, "rewritten");
    damaged
}

fn fresh(name: &str) -> PathBuf {
    let dir = scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_cache_is_private_and_its_files_are_checked_before_use() {
    let cache = fresh("cache-private").join("cache");
    let (code, stdout, stderr) = check_with_cache(&cache);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("no findings") && stderr.is_empty(),
        "{stderr}"
    );
    // Created private; files readable by this user only; no temporary file left.
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&cache), 0o700);
    let (cwasm, digest) = cached_files(&cache);
    assert_eq!((mode(&cwasm), mode(&digest)), (0o600, 0o600));
    let names: Vec<String> = std::fs::read_dir(&cache)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    let good = std::fs::read(&cwasm).unwrap_or_default();
    assert_eq!(
        std::fs::read_to_string(&digest).unwrap_or_default(),
        pchat_guard::host::cache_checksum(&good)
    );

    // A damaged file (a byte flipped in the middle) is compiled again, not run.
    let damaged = flip_a_byte_and_check(&cache, &cwasm, &good);

    // A swapped file (another module's precompiled code, with its digest file left as it was)
    // is compiled again too.
    std::fs::write(&cwasm, b"\x7fELF not the module").unwrap_or_default();
    let (code, _, stderr) = check_with_cache(&cache);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read(&cwasm).unwrap_or_default(), good);
    // A digest file that lies about a damaged file does not make it run either: wasmtime's
    // header check refuses it, and the run still succeeds by compiling.
    std::fs::write(&cwasm, &damaged[..damaged.len() / 3]).unwrap_or_default();
    std::fs::write(
        &digest,
        pchat_guard::host::cache_checksum(&damaged[..damaged.len() / 3]),
    )
    .unwrap_or_default();
    let (code, _, stderr) = check_with_cache(&cache);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_verified_file_is_known_by_its_identity_and_a_changed_one_is_checksummed_again() {
    let cache = fresh("cache-identity").join("cache");
    let (code, _, stderr) = check_with_cache(&cache);
    assert_eq!(code, 0, "{stderr}");
    let (cwasm, digest) = cached_files(&cache);
    let good = std::fs::read(&cwasm).unwrap_or_default();
    let checksum = pchat_guard::host::cache_checksum(&good);
    // Just written: checksum only (a file changed in the last second gets no identity).
    assert_eq!(
        std::fs::read_to_string(&digest).unwrap_or_default(),
        checksum
    );

    // Verified again once it has settled: the sidecar records the file's identity.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (code, _, stderr) = check_with_cache(&cache);
    assert_eq!(code, 0, "{stderr}");
    let sidecar = std::fs::read_to_string(&digest).unwrap_or_default();
    let mut lines = sidecar.lines();
    assert_eq!(lines.next(), Some(checksum.as_str()), "{sidecar}");
    assert!(
        lines.next().is_some_and(|l| l.starts_with("verified ")),
        "{sidecar}"
    );

    // A byte flipped in place (same size, same inode) changes the file's change time, so the
    // recorded identity no longer vouches for it: it is checksummed, refused and compiled again.
    flip_a_byte_and_check(&cache, &cwasm, &good);
    assert_eq!(
        std::fs::read_to_string(&digest).unwrap_or_default(),
        checksum
    );
}

#[test]
fn a_cache_others_may_write_is_not_used() {
    let cache = fresh("cache-shared").join("cache");
    std::fs::create_dir_all(&cache).unwrap_or_default();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap_or_default();
    let (code, stdout, stderr) = check_with_cache(&cache);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("no findings"));
    assert!(
        stderr.contains("note: not using the precompiled cache")
            && stderr.contains("others may write it (mode 777)"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&cache).into_iter().flatten().count(),
        0,
        "nothing written there"
    );

    // A directory of another user (when this user may hand one over: root in CI).
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o755)).unwrap_or_default();
    match std::os::unix::fs::chown(&cache, Some(65534), None) {
        Ok(()) => {
            let (code, _, stderr) = check_with_cache(&cache);
            assert_eq!(code, 0, "{stderr}");
            assert!(stderr.contains("it belongs to user 65534"), "{stderr}");
        }
        Err(e) => eprintln!(
            "SKIPPED (loudly): cannot give a directory to another user here ({e}); the ownership refusal is not exercised in this run"
        ),
    }
}
