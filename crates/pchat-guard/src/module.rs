//! The embedded WebAssembly module and its JS glue, built by `build.rs`.

use sha2::{Digest, Sha256};

/// The module: one file for every host (wasmtime, Node, browsers, Python).
pub static MODULE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/module/pchat_guard_bg.wasm"));

/// The IR of the pack the module embeds (the same bytes its build compiled), for `--extend`.
pub const SHIPPED_PACK: &str = include_str!(concat!(env!("OUT_DIR"), "/module/shipped-pack.json"));

/// The wasm-bindgen JS glue (`--target web` style: `init`/`initSync` plus typed functions).
pub const JS_GLUE: &str = include_str!(concat!(env!("OUT_DIR"), "/module/pchat_guard.js"));

/// TypeScript declarations of the glue.
pub const JS_TYPES: &str = include_str!(concat!(env!("OUT_DIR"), "/module/pchat_guard.d.ts"));

/// TypeScript declarations of the module's exports.
pub const WASM_TYPES: &str =
    include_str!(concat!(env!("OUT_DIR"), "/module/pchat_guard_bg.wasm.d.ts"));

/// The file name the glue loads the module from by default.
pub const MODULE_FILE_NAME: &str = "pchat_guard_bg.wasm";

/// The raw ABI version this host speaks.
pub const ABI_VERSION: u32 = 3;

/// SHA-256 of [`MODULE`], computed when it was built.
pub const MODULE_DIGEST: &str = include_str!(concat!(env!("OUT_DIR"), "/module/module.sha256"));

/// SHA-256 of module bytes, as lowercase hex ([`MODULE_DIGEST`] for the embedded module).
pub fn digest(bytes: &[u8]) -> String {
    if std::ptr::eq(bytes, MODULE) {
        return MODULE_DIGEST.to_string();
    }
    format!("{:x}", Sha256::digest(bytes))
}

/// The JS glue files, by file name, for `pchat-guard module --js-out DIR`.
pub fn js_files() -> [(&'static str, &'static str); 3] {
    [
        ("pchat_guard.js", JS_GLUE),
        ("pchat_guard.d.ts", JS_TYPES),
        ("pchat_guard_bg.wasm.d.ts", WASM_TYPES),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_time_digest_is_the_modules() {
        let computed = format!("{:x}", Sha256::digest(MODULE));
        assert_eq!(MODULE_DIGEST, computed);
        assert_eq!(digest(MODULE), computed);
        let copy = MODULE.to_vec();
        assert_eq!(digest(&copy), computed, "other bytes are hashed");
    }
}
