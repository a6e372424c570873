//! Integration tests of pchat-guard, built as one binary (fast to link), one module per area.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions fail the test by panicking"
)]

mod adoption;
mod bad_input;
mod cache;
mod cli;
mod compile;
mod config;
mod diagram;
mod differential;
mod fail_closed;
mod fixtures;
mod formats;
mod init;
mod integrations;
mod javascript;
mod module;
mod node;
mod pack;
mod pipelines;
mod python;
mod robustness;
mod rules;
mod sandbox;
mod support;
mod terraform;
mod tidy;
mod web;
