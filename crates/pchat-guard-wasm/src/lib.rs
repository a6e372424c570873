//! The pchat-guard WebAssembly module: the engine behind a raw ABI and wasm-bindgen exports.
//!
//! Raw ABI (every host; see `docs/abi.md`): `pcg_abi_version`, `pcg_alloc`, `pcg_free`,
//! `pcg_check`, `pcg_load_bundle`, `pcg_describe`, `pcg_schema`. JS hosts get the same functions
//! typed through wasm-bindgen (`abiVersion`, `check`, `loadBundle`, `describe`, `schema`). The
//! module imports nothing.

use std::sync::{Mutex, OnceLock};

use pchat_guard_engine::describe::Description;
use pchat_guard_engine::{Checker, Leftovers, ir};
use wasm_bindgen::prelude::wasm_bindgen;

/// Version of the raw ABI; a host refuses a module whose version it does not know.
pub const ABI_VERSION: u32 = 3;

/// The shipped policy pack, compiled to IR by `build.rs`.
pub const BUNDLE_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/bundle.json"));

/// SHA-256 of [`BUNDLE_JSON`], reported by `describe` as the pack's digest.
pub const BUNDLE_SHA256: &str = include_str!(concat!(env!("OUT_DIR"), "/bundle.sha256"));

/// Where `pchat-guard compile` writes a custom pack: magic, then pointer and length of the image
/// in memory (zero when the module runs its embedded pack), then the locator's version. The
/// module exports the static's address as the global `PCG_BUNDLE_LOCATOR`.
#[repr(C)]
pub struct Locator {
    magic: u32,
    ptr: u32,
    len: u32,
    version: u32,
}

/// The locator, patched by `pchat-guard compile` through a data segment.
#[unsafe(no_mangle)]
pub static PCG_BUNDLE_LOCATOR: Locator = Locator {
    magic: pchat_guard_engine::image::LOCATOR_MAGIC,
    ptr: 0,
    len: 0,
    version: 1,
};

/// The injected image, if `pchat-guard compile` wrote one.
fn injected_image() -> Option<&'static [u8]> {
    // INVARIANT: read volatile, or LTO folds the static and an injected pack is silently ignored.
    // SAFETY: the static is valid for reads; its fields are plain integers.
    let locator = unsafe { core::ptr::read_volatile(&raw const PCG_BUNDLE_LOCATOR) };
    if locator.ptr == 0 || locator.magic != pchat_guard_engine::image::LOCATOR_MAGIC {
        return None;
    }
    // SAFETY: `pchat-guard compile` placed `len` bytes at `ptr` in pages added to the module's
    // initial memory, which the allocator never hands out (it only grows memory above them).
    Some(unsafe { core::slice::from_raw_parts(locator.ptr as *const u8, locator.len as usize) })
}

/// The pack this module runs and its digest: an injected one, else the embedded one.
fn pack() -> Result<(pchat_guard_engine::ir::Bundle, &'static str), String> {
    match injected_image() {
        Some(image) => {
            let (payload, digest) = pchat_guard_engine::image::decode(image)?;
            let bundle = serde_json::from_slice(payload)
                .map_err(|e| format!("the injected rule pack is damaged: {e}"))?;
            Ok((bundle, digest))
        }
        None => {
            let bundle = serde_json::from_str(BUNDLE_JSON)
                .map_err(|e| format!("the embedded rule pack is damaged: {e}"))?;
            Ok((bundle, BUNDLE_SHA256))
        }
    }
}

/// The checker with its pack and digest, built on first use and kept for the life of the instance.
///
/// The embedded pack's checker is built by `wizer-initialize` when the module is pre-initialised
/// at build time, so a fresh instance starts with it (schema validator compiled, rules parsed).
/// A pack injected later by `pchat-guard compile` is found through the locator at run time and
/// gets its own checker, built on its first use.
fn checker_and_digest() -> Result<&'static (Checker, &'static str), &'static str> {
    static EMBEDDED: OnceLock<Result<(Checker, &'static str), String>> = OnceLock::new();
    static INJECTED: OnceLock<Result<(Checker, &'static str), String>> = OnceLock::new();
    let build = || {
        let (bundle, digest) = pack()?;
        Ok((Checker::new()?.with_bundle(bundle)?, digest))
    };
    let cell = if injected_image().is_some() {
        &INJECTED
    } else {
        &EMBEDDED
    };
    cell.get_or_init(build).as_ref().map_err(String::as_str)
}

/// Checks the shipped examples once, so that what the first check of every instance would
/// otherwise build lazily (the regular expressions' caches, the allocator's free lists) is in
/// the snapshot. The answers and what the checks leave are dropped.
#[cfg(target_arch = "wasm32")]
fn warm_up() {
    for (path, source) in [
        (
            "warm-up.yaml",
            include_str!("../../../examples/topologies/stretched-high-bandwidth.yaml"),
        ),
        (
            "warm-up.json",
            include_str!("../../../examples/topologies/stretched-low-bandwidth.json"),
        ),
    ] {
        let request = serde_json::json!({"path": path, "source": source});
        drop(check_json(request.to_string().as_bytes()));
    }
    drop(
        LEFTOVERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take(),
    );
}

/// Builds the checker ahead of the first call; Wizer runs it at build time and snapshots the
/// instance, then removes the export. Memory freed meanwhile is zeroed, so that the snapshot
/// does not carry the garbage of the build as data.
#[cfg(target_arch = "wasm32")]
#[unsafe(export_name = "wizer-initialize")]
pub extern "C" fn wizer_initialize() {
    zeroing::ZERO_FREED.store(true, core::sync::atomic::Ordering::Relaxed);
    let _ = checker_and_digest();
    warm_up();
    zeroing::ZERO_FREED.store(false, core::sync::atomic::Ordering::Relaxed);
}

#[cfg(target_arch = "wasm32")]
mod zeroing {
    //! The system allocator, zeroing what is freed while `ZERO_FREED` is set (pre-initialisation).

    use core::alloc::{GlobalAlloc, Layout};
    use core::sync::atomic::{AtomicBool, Ordering};
    use std::alloc::System;

    /// Set while `wizer-initialize` runs.
    pub static ZERO_FREED: AtomicBool = AtomicBool::new(false);

    struct Zeroing;

    // SAFETY: every call is forwarded to `System` with the caller's own arguments; the only
    // addition writes zeros over a block the caller is giving up, within its layout.
    unsafe impl GlobalAlloc for Zeroing {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded as is.
            unsafe { System.alloc(layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded as is.
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if ZERO_FREED.load(Ordering::Relaxed) {
                // SAFETY: `ptr` is valid for `layout.size()` bytes until it is freed below.
                unsafe { ptr.write_bytes(0, layout.size()) };
            }
            // SAFETY: forwarded as is.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            if !ZERO_FREED.load(Ordering::Relaxed) {
                // SAFETY: forwarded as is.
                return unsafe { System.realloc(ptr, layout, new_size) };
            }
            // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            // SAFETY: a fresh block; on success the old one's bytes are copied and it is freed
            // (zeroed) through `dealloc`.
            unsafe {
                let fresh = System.alloc(new_layout);
                if !fresh.is_null() {
                    core::ptr::copy_nonoverlapping(ptr, fresh, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                fresh
            }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Zeroing = Zeroing;
}

fn checker() -> Result<&'static Checker, &'static str> {
    checker_and_digest().map(|(c, _)| c)
}

/// The pack a host loaded into this instance with `pcg_load_bundle`, run instead of the module's
/// own until another is loaded. Read and validated once, whatever the number of checks.
static LOADED: Mutex<Option<ir::Bundle>> = Mutex::new(None);

fn with_loaded<T>(f: impl FnOnce(Option<&ir::Bundle>) -> T) -> T {
    // A poisoned lock cannot happen without panics, which abort in this module; read it anyway.
    let guard = LOADED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f(guard.as_ref())
}

/// What the last check left (its tree and text), dropped at the start of the next check: an
/// instance discarded after its last check is spared walking the tree to free it.
static LEFTOVERS: Mutex<Option<Leftovers>> = Mutex::new(None);

/// Runs a check, first freeing what the previous one left, and keeps what this one leaves.
fn leaving(check: impl FnOnce() -> (String, Leftovers)) -> String {
    let mut held = LEFTOVERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    drop(held.take());
    let (answer, leftovers) = check();
    *held = Some(leftovers);
    answer
}

/// Whether the last check's tree is still held.
#[cfg(test)]
fn holds_leftovers() -> bool {
    LEFTOVERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        .is_some_and(Leftovers::holds_tree)
}

/// Answers a JSON check request with a JSON response.
pub fn check_json(request: &[u8]) -> String {
    match checker() {
        Ok(c) => {
            leaving(|| with_loaded(|loaded| c.handle_json_leaving(request, loaded.or(c.bundle()))))
        }
        Err(e) => error_response(e),
    }
}

/// Answers a check request whose manifest text comes apart from the JSON (`pcg_check_text`).
pub fn check_text_json(request: &[u8], text: Vec<u8>) -> String {
    match checker() {
        Ok(c) => leaving(|| {
            with_loaded(|loaded| c.handle_text_leaving(request, text, loaded.or(c.bundle())))
        }),
        Err(e) => error_response(e),
    }
}

/// Checks one manifest and draws it with its findings: a JSON diagram request in, a JSON
/// response (the report and the SVG, or why it was not drawn) out.
pub fn diagram_json(request: &[u8]) -> String {
    match checker() {
        Ok(c) => with_loaded(|loaded| c.handle_diagram_json_with(request, loaded.or(c.bundle()))),
        Err(e) => error_response(e),
    }
}

/// Loads a compiled pack (IR bundle JSON) into this instance, or with an empty text goes back to
/// the module's own pack; answers with the description of what now runs.
pub fn load_bundle_json(bundle: &[u8]) -> String {
    let loaded = if bundle.is_empty() {
        None
    } else {
        match Checker::read_bundle(bundle) {
            Ok(b) => Some(b),
            Err(message) => {
                return pchat_guard_engine::to_json(
                    &serde_json::json!({ "status": "error", "message": message }),
                );
            }
        }
    };
    *LOADED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = loaded;
    match description() {
        Ok(d) => {
            pchat_guard_engine::to_json(&serde_json::json!({ "status": "ok", "description": d }))
        }
        Err(e) => error_response(e),
    }
}

fn description() -> Result<Description, &'static str> {
    let (checker, digest) = checker_and_digest()?;
    Ok(with_loaded(|loaded| match loaded {
        Some(bundle) => Description::new(ABI_VERSION, Some(bundle), None),
        None => Description::new(ABI_VERSION, checker.bundle(), Some(digest)),
    }))
}

/// Describes the module as JSON: versions, the pack that runs and its rules, the codes.
pub fn describe_json() -> String {
    match description() {
        Ok(d) => pchat_guard_engine::to_json(&d),
        Err(e) => error_response(e),
    }
}

/// The manifest JSON Schema the module validates against.
pub fn schema_json() -> String {
    pchat_guard_engine::schema::SCHEMA_TEXT.to_string()
}

/// What `render` is asked for: a report format and the file reports of a run.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderRequest {
    /// `json` (the run report of `--format json`) or `sarif`.
    format: String,
    /// The reports of the run's files, as `check` returned them.
    files: Vec<pchat_guard_engine::FileReport>,
}

/// Builds the document of a run over the given file reports in the format asked for, exactly as
/// the CLI's `--format json` or `--format sarif` would (the rules are those of the pack that
/// runs). Answers `{"status": "ok", "document": ...}` or an error.
pub fn render_json(request: &[u8]) -> String {
    let request: RenderRequest = match serde_json::from_slice(request) {
        Ok(r) => r,
        Err(e) => return failed(format!("bad render request: {e}")),
    };
    let report = pchat_guard_engine::run::RunReport::new(request.files, 0);
    let document = match request.format.as_str() {
        "json" => match serde_json::to_value(&report) {
            Ok(v) => v,
            Err(e) => return failed(format!("cannot write the run report: {e}")),
        },
        "sarif" => match description() {
            Ok(d) => pchat_guard_engine::sarif::sarif(
                &report,
                &pchat_guard_engine::sarif::rule_metas(&d),
                false,
            ),
            Err(e) => return error_response(e),
        },
        other => {
            return failed(format!(
                "unknown report format `{other}`: use `json` or `sarif`"
            ));
        }
    };
    pchat_guard_engine::to_json(&serde_json::json!({ "status": "ok", "document": document }))
}

/// An error response for a request the module cannot answer.
fn failed(message: String) -> String {
    pchat_guard_engine::to_json(&serde_json::json!({ "status": "error", "message": message }))
}

fn error_response(message: &str) -> String {
    serde_json::json!({ "status": "error", "message": format!("the module cannot start: {message}") })
        .to_string()
}

/// The ABI version, for JS hosts.
#[wasm_bindgen(js_name = abiVersion)]
pub fn abi_version_js() -> u32 {
    ABI_VERSION
}

/// Checks one manifest: a JSON request in, a JSON response out (see `docs/abi.md`).
#[wasm_bindgen(js_name = check)]
pub fn check_js(request: &str) -> String {
    check_json(request.as_bytes())
}

/// Describes the module: versions, the pack that runs and its rules, the codes, as JSON.
#[wasm_bindgen(js_name = describe)]
pub fn describe_js() -> String {
    describe_json()
}

/// Loads a compiled pack (IR bundle JSON) to run for every later check; `""` goes back to the
/// module's own pack. Returns `{"status": "ok", "description": ...}` or an error.
#[wasm_bindgen(js_name = loadBundle)]
pub fn load_bundle_js(bundle: &str) -> String {
    load_bundle_json(bundle.as_bytes())
}

/// The document of a run in a report format: `{"format": "json"|"sarif", "files": [...]}` in,
/// `{"status": "ok", "document": ...}` out.
#[wasm_bindgen(js_name = render)]
pub fn render_js(request: &str) -> String {
    render_json(request.as_bytes())
}

/// Checks one manifest and draws it: a JSON diagram request in, a JSON response out.
#[wasm_bindgen(js_name = diagram)]
pub fn diagram_js(request: &str) -> String {
    diagram_json(request.as_bytes())
}

/// The manifest JSON Schema.
#[wasm_bindgen(js_name = schema)]
pub fn schema_js() -> String {
    schema_json()
}

#[cfg(target_arch = "wasm32")]
mod raw {
    //! The raw C ABI. Pointers and lengths are 32-bit; a returned `u64` packs `ptr << 32 | len`.

    /// The ABI version.
    #[unsafe(no_mangle)]
    pub extern "C" fn pcg_abi_version() -> u32 {
        super::ABI_VERSION
    }

    /// Allocates `len` bytes for the host to write a request into; free with `pcg_free`.
    #[unsafe(no_mangle)]
    pub extern "C" fn pcg_alloc(len: u32) -> u32 {
        let buffer = vec![0u8; len as usize].into_boxed_slice();
        Box::into_raw(buffer).cast::<u8>() as u32
    }

    /// Frees a buffer from `pcg_alloc`, or a response from `pcg_check` / `pcg_describe`.
    ///
    /// # Safety
    /// `ptr` and `len` must come from one allocation of this module, freed once.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn pcg_free(ptr: u32, len: u32) {
        if ptr == 0 {
            return;
        }
        let slice = core::ptr::slice_from_raw_parts_mut(ptr as *mut u8, len as usize);
        // SAFETY: the caller passes back exactly what `pcg_alloc` or `leak` handed out.
        drop(unsafe { Box::from_raw(slice) });
    }

    /// Checks the JSON request in `ptr..ptr+len`; returns the packed response.
    ///
    /// # Safety
    /// `ptr..ptr+len` must be readable memory of this module (normally from `pcg_alloc`).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn pcg_check(ptr: u32, len: u32) -> u64 {
        // SAFETY: the caller guarantees the range is valid for reads.
        let request = unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) };
        leak(super::check_json(request))
    }

    /// Checks the manifest text in `text..text+text_len` with the JSON request (without
    /// `source`) in `ptr..ptr+len`; returns the packed response. The text's buffer becomes the
    /// request's `source` without a copy, and is freed with it: the host frees only `ptr`.
    ///
    /// # Safety
    /// `ptr..ptr+len` must be readable memory of this module; `text` and `text_len` must be one
    /// buffer from `pcg_alloc`, which the host gives up.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn pcg_check_text(ptr: u32, len: u32, text: u32, text_len: u32) -> u64 {
        // SAFETY: the caller guarantees the range is valid for reads.
        let request = unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) };
        let text = core::ptr::slice_from_raw_parts_mut(text as *mut u8, text_len as usize);
        // SAFETY: the caller hands over exactly what `pcg_alloc(text_len)` returned, once.
        let text = unsafe { Box::from_raw(text) }.into_vec();
        leak(super::check_text_json(request, text))
    }

    /// Checks and draws the manifest of the JSON diagram request in `ptr..ptr+len`; returns the
    /// packed response.
    ///
    /// # Safety
    /// `ptr..ptr+len` must be readable memory of this module (normally from `pcg_alloc`).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn pcg_diagram(ptr: u32, len: u32) -> u64 {
        // SAFETY: the caller guarantees the range is valid for reads.
        let request = unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) };
        leak(super::diagram_json(request))
    }

    /// Describes the module; returns the packed response.
    #[unsafe(no_mangle)]
    pub extern "C" fn pcg_describe() -> u64 {
        leak(super::describe_json())
    }

    /// Loads the IR bundle JSON in `ptr..ptr+len` as the pack of every later check (length 0:
    /// back to the module's own pack); returns the packed response.
    ///
    /// # Safety
    /// `ptr..ptr+len` must be readable memory of this module (normally from `pcg_alloc`).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn pcg_load_bundle(ptr: u32, len: u32) -> u64 {
        let bundle = if len == 0 {
            &[][..]
        } else {
            // SAFETY: the caller guarantees the range is valid for reads.
            unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) }
        };
        leak(super::load_bundle_json(bundle))
    }

    /// The manifest JSON Schema; returns the packed text.
    #[unsafe(no_mangle)]
    pub extern "C" fn pcg_schema() -> u64 {
        leak(super::schema_json())
    }

    /// Hands a string to the host as `ptr << 32 | len`; the host frees it with `pcg_free`.
    fn leak(response: String) -> u64 {
        let bytes = response.into_bytes().into_boxed_slice();
        let len = bytes.len() as u64;
        let ptr = Box::into_raw(bytes).cast::<u8>() as u64;
        (ptr << 32) | len
    }

    /// getrandom's custom backend: the engine needs no randomness, and hash seeds must be the
    /// same on every run so that the same request gives the same bytes.
    ///
    /// # Safety
    /// `dest` must be valid for `len` bytes of writes.
    #[unsafe(no_mangle)]
    unsafe extern "Rust" fn __getrandom_v03_custom(
        dest: *mut u8,
        len: usize,
    ) -> Result<(), getrandom::Error> {
        let mut state: u32 = 0x9e37_79b9;
        for i in 0..len {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            // SAFETY: `i < len` and the caller guarantees `dest` is valid for `len` bytes.
            unsafe { dest.add(i).write(state as u8) };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_check_leaves_its_tree_to_the_next_call() {
        let request = serde_json::json!({"path": "a.yaml", "source": "product: skype2015\n"});
        let answer = super::check_json(request.to_string().as_bytes());
        assert!(answer.contains(r#""status":"ok""#), "{answer}");
        assert!(super::holds_leftovers());
        let refused = super::check_json(b"not a request");
        assert!(refused.contains(r#""status":"error""#), "{refused}");
        assert!(
            !super::holds_leftovers(),
            "the next call frees the last tree"
        );
    }
}
