//! pchat-guard's host side: the embedded module, the wasmtime host, input reading and rendering.
//!
//! The binary (`main.rs`) is a thin clap layer over this library; tests use it directly.

pub use pchat_guard_files::{baseline, settings, waivers};
pub mod commands;
pub mod config;
pub mod formats;
pub mod host;
pub mod inject;
pub mod input;
pub mod module;
pub mod policy;
pub mod render;
