//! `pchat-guard init`: writes a complete manifest of one of the two reference layouts (a pool
//! stretched over two data centers joined by a high-bandwidth/low-latency or a
//! low-bandwidth/high-latency link), commented section by section, that checks clean. A new user
//! edits names instead of writing 300 lines from nothing.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::ValueEnum;
use pchat_guard_engine::{CheckRequest, Limits, Response};

use super::check::utc_today;
use super::{ExitStatus, HostArgs, Outcome, host_options, module_bytes, say};
use crate::host::Host;

/// The two reference layouts of the documentation (F8, F10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    /// 2 active and 2 idle servers in each data center.
    HighBandwidth,
    /// The 4 servers of the primary data center active, the 4 of the backup idle.
    LowBandwidth,
}

/// The product the topology is for; it decides the SQL Server versions (F17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Product {
    /// Lync Server 2013: SQL Server 2012.
    Lync2013,
    /// Skype for Business Server 2015: SQL Server 2014 CU6.
    Skype2015,
}

/// The format of the written manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManifestFormat {
    /// YAML with comments explaining each section.
    Yaml,
    /// JSON (no comments).
    Json,
}

/// Arguments of `init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The file to write (default: `topology.yaml`, or `topology.json` with `--format json`);
    /// `-` writes to standard output.
    #[arg(value_name = "FILE")]
    pub file: Option<String>,
    /// The reference layout.
    #[arg(long, value_enum, default_value_t = Layout::HighBandwidth)]
    pub layout: Layout,
    /// The product.
    #[arg(long, value_enum, default_value_t = Product::Skype2015)]
    pub product: Product,
    /// The manifest's format.
    #[arg(long, value_enum, default_value_t = ManifestFormat::Yaml)]
    pub format: ManifestFormat,
    /// The topology's name.
    #[arg(
        long,
        default_value = "Persistent Chat pool stretched over two data centers"
    )]
    pub name: String,
    /// The id of the Lync site the pool lives in.
    #[arg(long, value_name = "ID", default_value = "site-1")]
    pub site: String,
    /// The DNS domain of every host.
    #[arg(long, default_value = "contoso.com")]
    pub domain: String,
    /// The id of the primary data center (the next-hop Front End pool, the primary databases).
    #[arg(long, value_name = "ID", default_value = "dc-primary")]
    pub primary_dc: String,
    /// The id of the backup data center (the log-shipping secondary databases).
    #[arg(long, value_name = "ID", default_value = "dc-backup")]
    pub backup_dc: String,
    /// The IANA time zone of the primary data center.
    #[arg(long, value_name = "TZ", default_value = "UTC")]
    pub primary_time_zone: String,
    /// The IANA time zone of the backup data center (default: the primary's).
    #[arg(long, value_name = "TZ")]
    pub backup_time_zone: Option<String>,
    /// The `$schema` the manifest names, for editors (default: the schema's `$id`; for example
    /// a path to the file `pchat-guard schema` writes).
    #[arg(long, value_name = "URI")]
    pub schema_ref: Option<String>,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
    /// How to run the module (the written manifest is checked before it is written).
    #[command(flatten)]
    pub host: HostArgs,
}

/// What a manifest is made of: the options, resolved.
struct Plan<'a> {
    args: &'a InitArgs,
    backup_tz: &'a str,
    schema: String,
}

impl Plan<'_> {
    /// A DNS label made from an id: lower case, letters, digits and `-`.
    fn label(id: &str) -> String {
        let label: String = id
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let label = label.trim_matches('-');
        if label.is_empty() {
            "dc".to_string()
        } else {
            label.to_string()
        }
    }

    fn host(&self, name: &str) -> String {
        format!("{name}.{}", self.args.domain)
    }

    fn yaml(&self) -> String {
        let a = self.args;
        let (p, b) = (a.primary_dc.as_str(), a.backup_dc.as_str());
        let (pl, bl) = (Self::label(p), Self::label(b));
        let product = match a.product {
            Product::Lync2013 => "lync2013",
            Product::Skype2015 => "skype2015",
        };
        let (product_name, sql_note, sql_version) = match a.product {
            Product::Lync2013 => (
                "Lync Server 2013",
                "SQL Server 2012, 64-bit Enterprise, as Lync Server 2013 supports (F17).",
                "    version: '2012'\n",
            ),
            Product::Skype2015 => (
                "Skype for Business Server 2015",
                "SQL Server 2014 CU6, 64-bit Enterprise, as Skype for Business 2015 supports (F17).",
                "    version: '2014'\n    cumulative_update: 6\n",
            ),
        };
        let (link, layout_note) = match a.layout {
            Layout::HighBandwidth => (
                "high_bandwidth_low_latency",
                "a high-bandwidth/low-latency link (F8, F9). 8 servers: each data center\n# runs 2 active and 2 idle Persistent Chat servers (F10).",
            ),
            Layout::LowBandwidth => (
                "low_bandwidth_high_latency",
                "a low-bandwidth/high-latency link (F8, F9). 8 servers: the 4 in the primary\n# data center are active, the 4 in the backup data center idle (F10).",
            ),
        };
        let mut y = String::with_capacity(12 * 1024);
        let _ = write!(
            y,
            "# yaml-language-server: $schema={schema}\n#\n\
             # {product_name} Persistent Chat pool stretched over two data centers\n\
             # of one Lync site, joined by {layout_note}\n\
             #\n\
             # Written by `pchat-guard init`; it checks clean under every rule of the pack.\n\
             # Rename hosts and ids to yours, then run `pchat-guard check` on it, and\n\
             # `pchat-guard diagram` to see it as the documentation's figure.\n\
             $schema: {schema}\n\
             name: {name}\n\
             product: {product}\n\n",
            schema = self.schema,
            name = yaml_string(&a.name),
        );
        let _ = write!(
            y,
            "# One Lync site; the stretched pool is its default Persistent Chat pool (F9, F15).\n\
             sites:\n  - id: {site}\n    default_persistent_chat_pool: pchat-pool\n\n\
             # Two data centers of the one site. The primary holds the next-hop Front End pool\n\
             # and the primary databases with their mirrors and witnesses; the backup holds the\n\
             # log-shipping secondary (backup) databases with theirs (F1-F3).\n\
             data_centers:\n  - id: {p}\n    site: {site}\n    time_zone: {ptz}\n  - id: {b}\n    site: {site}\n    time_zone: {btz}\n\n",
            site = a.site,
            ptz = a.primary_time_zone,
            btz = self.backup_tz,
        );
        let link_note = match a.layout {
            Layout::HighBandwidth => {
                "High-bandwidth/low-latency: active servers may run in both data centers (F8, F10)."
            }
            Layout::LowBandwidth => {
                "Low-bandwidth/high-latency: active servers only beside the store in use (F8, F10, F21)."
            }
        };
        let _ = write!(
            y,
            "# {link_note}\nlinks:\n  - between:\n      - {p}\n      - {b}\n    class: {link}\n\n"
        );
        let _ = write!(
            y,
            "# One Enterprise Edition Front End pool per data center; fe-{pl} is the next hop,\n\
             # in the time zone of the active servers (F7, F16).\nfront_end_pools:\n"
        );
        for (dc, label, tz) in [
            (p, &pl, a.primary_time_zone.as_str()),
            (b, &bl, self.backup_tz),
        ] {
            let _ = write!(
                y,
                "  - id: fe-{label}\n    fqdn: {fqdn}\n    edition: enterprise\n    data_center: {dc}\n    time_zone: {tz}\n    servers:\n",
                fqdn = self.host(&format!("fepool-{label}"))
            );
            for n in 1..=3 {
                let _ = writeln!(y, "      - {}", self.host(&format!("fe{n:02}-{label}")));
            }
        }
        let _ = write!(
            y,
            "\n# Twelve dedicated SQL Server instances, one per host (F1-F4, F17, F18): chat (mgc)\n\
             # and compliance (mgccomp) each get primary, mirror and witness in {p}, and\n\
             # backup, backup mirror and backup witness in {b}.\n# {sql_note}\nsql_instances:\n"
        );
        for (db, short) in [("mgc", "chat"), ("mgccomp", "comp")] {
            for (role, dc, witness) in [
                ("primary", p, false),
                ("mirror", p, false),
                ("witness", p, true),
                ("backup", b, false),
                ("backup-mirror", b, false),
                ("backup-witness", b, true),
            ] {
                let id = format!("sql-{short}-{role}");
                let _ = write!(
                    y,
                    "  - id: {id}\n    host: {host}\n    data_center: {dc}\n{sql_version}    edition: enterprise\n    bitness: 64\n    availability: mirroring\n",
                    host = self.host(&id),
                );
                if witness {
                    y.push_str("    mirroring_port: 7022\n    databases: []\n");
                } else {
                    let _ = write!(
                        y,
                        "    mirroring_port: 5022\n    databases:\n      - {db}\n"
                    );
                }
            }
        }
        let principals = |roles: &[&str]| -> String {
            let mut s = String::new();
            for short in ["chat", "comp"] {
                for role in roles {
                    let _ = write!(
                        s,
                        "      - principal: sql-{short}-{role}\n        rights: read_write\n"
                    );
                }
            }
            s
        };
        let _ = write!(
            y,
            "\nfile_shares:\n\
             # Receives the transaction logs from the primaries (F5): not a FileStore role,\n\
             # read/write for every instance holding mgc or mgccomp, in both data centers.\n\
             \x20 - id: share-logship\n    unc: '\\\\{logship}\\pchat-logship'\n    host: {logship}\n    data_center: {p}\n    purpose: log_shipping\n    file_store_role: false\n    access:\n{all}\
             # Copy destination on the chat backup database server (F6, F22).\n\
             \x20 - id: share-logcopy\n    unc: '\\\\{backup}\\pchat-logcopy'\n    host: {backup}\n    data_center: {b}\n    purpose: log_copy_destination\n    file_store_role: false\n    access:\n{backups}\
             # The pool's file store, a UNC share (F16).\n\
             \x20 - id: share-filestore\n    unc: '\\\\{fs}\\pchat-filestore'\n    host: {fs}\n    data_center: {p}\n    purpose: file_store\n    file_store_role: true\n\n",
            logship = self.host(&format!("logship01-{pl}")),
            backup = self.host("sql-chat-backup"),
            fs = self.host(&format!("fs01-{pl}")),
            all = principals(&["primary", "mirror", "backup", "backup-mirror"]),
            backups = principals(&["backup", "backup-mirror"]),
        );
        let servers_note = match a.layout {
            Layout::HighBandwidth => {
                "8 servers, 4 per data center: 2 active and 2 idle in each (F10, F11).".to_string()
            }
            Layout::LowBandwidth => {
                format!("8 servers: the 4 in {p} active, the 4 in {b} idle (F10, F11).")
            }
        };
        let _ = write!(
            y,
            "persistent_chat_pools:\n  - id: pchat-pool\n    fqdn: {fqdn}\n    site: {site}\n    pool_type: multiple_computer\n    next_hop: fe-{pl}\n    port: 5041\n    state: normal\n    compliance: true\n    disaster_recovery: true\n    file_store: share-filestore\n    # {servers_note}\n    servers:\n",
            fqdn = self.host("pchatpool"),
            site = a.site,
        );
        for (dc, label, primary) in [(p, &pl, true), (b, &bl, false)] {
            for n in 1..=4 {
                let active = match a.layout {
                    Layout::HighBandwidth => n <= 2,
                    Layout::LowBandwidth => primary,
                };
                let _ = write!(
                    y,
                    "      - fqdn: {}\n        data_center: {dc}\n        active: {active}\n",
                    self.host(&format!("pchat{n:02}-{label}"))
                );
            }
        }
        y.push_str("    stores:\n");
        for (store, short) in [("chat", "chat"), ("compliance", "comp")] {
            let _ = writeln!(y, "      {store}:");
            for (key, role) in [
                ("primary", "primary"),
                ("mirror", "mirror"),
                ("witness", "witness"),
                ("backup", "backup"),
                ("backup_mirror", "backup-mirror"),
                ("backup_witness", "backup-witness"),
            ] {
                let _ = writeln!(y, "        {key}: sql-{short}-{role}");
            }
        }
        y.push_str(
            "    # The secondary restores with no recovery and no delay; copy and restore follow\n\
             \x20   # the backup schedule (F19).\n\
             \x20   log_shipping:\n      backup_share: share-logship\n      copy_destination: share-logcopy\n      backup_interval_minutes: 15\n      copy_interval_minutes: 15\n      restore_interval_minutes: 15\n      restore_mode: no_recovery\n      restore_delay_minutes: 0\n",
        );
        y
    }
}

/// A YAML scalar for any text: plain when that reads back as the same string, else quoted.
fn yaml_string(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '/' | '.' | '(' | ')' | ',')
        })
        && !text.starts_with(['-', ' '])
        && !text.ends_with(' ')
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        )
        && text.parse::<f64>().is_err();
    if plain {
        text.to_string()
    } else {
        serde_json::Value::String(text.to_string()).to_string()
    }
}

/// Writes the manifest: refused when the file exists (unless `--force`) and when the options
/// make a manifest that does not check clean (the findings are listed; exit 2).
pub fn run(args: &InitArgs) -> Outcome {
    let mut out = Outcome::default();
    let backup_tz = args
        .backup_time_zone
        .as_deref()
        .unwrap_or(&args.primary_time_zone);
    if args.layout == Layout::HighBandwidth && backup_tz != args.primary_time_zone {
        say!(
            out,
            "error: the high-bandwidth layout runs active servers in both data centers, and active servers must be in the next hop's time zone (F7): `{}` is in {}, `{}` in {backup_tz}",
            args.primary_dc,
            args.primary_time_zone,
            args.backup_dc
        );
        say!(
            out,
            "help: give both data centers the same time zone, or use `--layout low-bandwidth`"
        );
        return out.with(ExitStatus::CannotCheck);
    }
    if args.primary_dc == args.backup_dc {
        say!(
            out,
            "error: the primary and backup data centers must differ (both are `{}`)",
            args.primary_dc
        );
        return out.with(ExitStatus::CannotCheck);
    }
    let plan = Plan {
        args,
        backup_tz,
        schema: args
            .schema_ref
            .clone()
            .unwrap_or_else(|| "https://pchat-guard.dev/schemas/topology.schema.json".to_string()),
    };
    let yaml = plan.yaml();
    let path = args.file.clone().unwrap_or_else(|| {
        match args.format {
            ManifestFormat::Yaml => "topology.yaml",
            ManifestFormat::Json => "topology.json",
        }
        .to_string()
    });
    let text = match args.format {
        ManifestFormat::Yaml => yaml,
        ManifestFormat::Json => {
            match pchat_guard_engine::parse::parse_yaml(&yaml, &Limits::default())
                .map(|root| root.to_json())
                .map_err(|e| e.message)
                .and_then(|v| serde_json::to_string_pretty(&v).map_err(|e| e.to_string()))
            {
                Ok(json) => json + "\n",
                Err(e) => {
                    say!(out, "error: cannot write the manifest as JSON: {e}");
                    return out.with(ExitStatus::Internal);
                }
            }
        }
    };

    // The options (names, domain, time zones) must still make a manifest that checks clean.
    let bytes = match module_bytes(&args.host, &mut out) {
        Ok(b) => b,
        Err(status) => return out.with(status),
    };
    let request = CheckRequest {
        source: text.clone(),
        path: path.clone(),
        today: Some(utc_today()),
        ..CheckRequest::default()
    };
    let answer = serde_json::to_vec(&request)
        .map_err(|e| crate::host::HostError::Failure(e.to_string()))
        .and_then(|r| {
            Host::new(&bytes, host_options(&args.host))
                .and_then(|h| h.session())
                .and_then(|mut s| s.check(&r))
        });
    let report = match answer.map(|a| serde_json::from_str::<Response>(&a)) {
        Ok(Ok(Response::Ok { report })) => report,
        Ok(Ok(Response::Error { message })) => {
            say!(out, "error: the module refused the manifest: {message}");
            return out.with(ExitStatus::Internal);
        }
        Ok(Err(e)) => {
            say!(out, "error: unreadable answer from the module: {e}");
            return out.with(ExitStatus::Internal);
        }
        Err(e) => return out.internal(&e),
    };
    if !report.checked || !report.findings.is_empty() {
        say!(
            out,
            "error: these options make a manifest that does not check clean:"
        );
        for f in report.findings.iter().take(5) {
            say!(out, "  {} at {}: {}", f.code, f.pointer, f.message);
        }
        if report.findings.len() > 5 {
            say!(out, "  ... and {} more", report.findings.len() - 5);
        }
        say!(
            out,
            "help: check the ids (letters, digits, `.`, `_`, `-`), the domain and the time zones (IANA names such as Europe/Paris, or UTC)"
        );
        return out.with(ExitStatus::CannotCheck);
    }

    if path == "-" {
        out.emit(text);
        return out.with(ExitStatus::Clean);
    }
    let target = PathBuf::from(&path);
    if target.exists() && !args.force {
        say!(out, "error: `{path}` exists; use --force to overwrite it");
        return out.with(ExitStatus::CannotCheck);
    }
    if let Err(e) = std::fs::write(&target, text) {
        say!(out, "error: cannot write `{path}`: {e}");
        return out.with(ExitStatus::CannotCheck);
    }
    say!(
        out,
        "wrote {path}: {} layout for {}; it checks clean. Next: `pchat-guard check {path}` and `pchat-guard diagram {path} -o topology.svg`",
        match args.layout {
            Layout::HighBandwidth => "high-bandwidth",
            Layout::LowBandwidth => "low-bandwidth",
        },
        match args.product {
            Product::Lync2013 => "Lync Server 2013",
            Product::Skype2015 => "Skype for Business Server 2015",
        }
    );
    out.with(ExitStatus::Clean)
}
