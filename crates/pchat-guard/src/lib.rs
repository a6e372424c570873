//! pchat-guard's host side: the embedded module, the wasmtime host, input reading and rendering.
//!
//! The binary (`main.rs`) is a thin clap layer over this library; tests use it directly.

pub mod host;
pub mod input;
pub mod module;
pub mod render;
