//! The files that steer a pchat-guard run besides the manifests: waiver files
//! (`check --waivers FILE`) and baselines (`check --baseline FILE`).
//!
//! Everything here works on text already read: the host reads the file (with its size limit and
//! its own error reports) and hands the text over, so the same code serves the CLI, other hosts
//! and the fuzz targets in `fuzz/`. A file that cannot be used comes back as a report whose
//! findings say where and why.

pub mod baseline;
pub mod settings;
pub mod waivers;
