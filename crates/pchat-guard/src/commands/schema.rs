//! `pchat-guard schema [KIND]`: the JSON Schemas of the files pchat-guard reads and writes, for
//! editors and for pipelines that check them.

use clap::ValueEnum;

use super::Outcome;

/// The options of `schema`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which schema.
    #[arg(value_enum, default_value_t = SchemaKind::Topology)]
    pub kind: SchemaKind,
}

/// The schemas.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    /// Topology manifests.
    Topology,
    /// Waiver files (`check --waivers`).
    Waivers,
    /// Baselines (`check --baseline`).
    Baseline,
    /// The JSON report (`check --format json`).
    Report,
    /// The project configuration (`pchat-guard.toml`; editors with a TOML language server
    /// read JSON Schemas).
    Config,
}

/// Prints the schema.
pub fn run(args: &SchemaArgs) -> Outcome {
    let text = match args.kind {
        SchemaKind::Topology => pchat_guard_engine::schema::SCHEMA_TEXT,
        SchemaKind::Waivers => crate::settings::WAIVERS_SCHEMA,
        SchemaKind::Baseline => crate::settings::BASELINE_SCHEMA,
        SchemaKind::Report => crate::render::REPORT_SCHEMA,
        SchemaKind::Config => crate::config::SCHEMA,
    };
    let mut out = Outcome::default();
    out.emit(format!("{}\n", text.trim_end()));
    out
}
