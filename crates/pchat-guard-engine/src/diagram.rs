//! An SVG picture of a topology with its findings drawn on it, laid out as the Persistent Chat
//! high-availability and disaster-recovery figures are: one column per data center, the link
//! between them, the Front End pools, then each Persistent Chat pool as a band across the
//! columns with its servers (active filled, idle outlined), its SQL Server stores grouped by role
//! with mirroring and witness lines, log shipping from the backup share to the copy destination,
//! and its shares.
//!
//! Drawn in the engine, so every host (CLI, Node, browser) gets the same bytes: no fonts are
//! fetched (text widths are estimated), nothing depends on the clock or on hash order, and the
//! size is bounded ([`MAX_ELEMENTS`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::{FileReport, Finding, Severity};

/// The most elements (data centers, links, Front End pools, pools, servers, store roles,
/// shares) one diagram draws. A larger topology is drawn one pool at a time (`pool`).
pub const MAX_ELEMENTS: usize = 400;

const COLUMN: i64 = 340;
const GAP: i64 = 100;
const MARGIN: i64 = 20;
const ROW: i64 = 30;
const SPACE: i64 = 8;
const CHAR: f64 = 6.0;

const ERROR: &str = "#cf222e";
const WARNING: &str = "#bf8700";
const INFO: &str = "#0969da";
const WAIVED: &str = "#8c959f";
const INK: &str = "#1f2328";
const MUTED: &str = "#57606a";

/// Why a manifest cannot be drawn as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declined(pub String);

/// One drawn thing: where, what it shows, and the pointers of the manifest it stands for.
#[derive(Debug, Clone)]
struct Element {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
    kind: Kind,
    label: String,
    detail: String,
    pointers: Vec<String>,
    findings: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Header,
    DataCenter,
    Link,
    FrontEnd,
    Pool,
    Active,
    Idle,
    Sql,
    Share,
}

/// A connector between two elements (indexes), drawn under the boxes.
#[derive(Debug, Clone, Copy)]
struct Edge {
    from: usize,
    to: usize,
    style: EdgeStyle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeStyle {
    Mirroring,
    Witness,
    LogShipping,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn items<'a>(root: &'a Value, key: &str) -> &'a [Value] {
    root.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The id of the `index`-th item of a collection, or a stand-in when it has none.
fn id_of(v: &Value, what: &str, index: usize) -> String {
    text(v, "id").unwrap_or_else(|| format!("({what} {})", index + 1))
}

/// Where each thing with a data center goes: a column per data center, and one more for things
/// whose data center is missing or names none.
struct Columns {
    ids: Vec<String>,
    unknown: bool,
}

impl Columns {
    fn of(&mut self, dc: Option<&str>) -> usize {
        match dc.and_then(|d| self.ids.iter().position(|i| i == d)) {
            Some(i) => i,
            None => {
                self.unknown = true;
                self.ids.len()
            }
        }
    }
    fn count(&self) -> usize {
        self.ids.len() + usize::from(self.unknown)
    }
    fn x(column: usize) -> i64 {
        MARGIN + i64::try_from(column).unwrap_or(0) * (COLUMN + GAP)
    }
}

/// What a pool band holds in one column, in drawing order.
#[derive(Default)]
struct Cell {
    servers: Vec<(Kind, String, String, String)>,
    sql: Vec<(String, String, Vec<String>, String)>,
    shares: Vec<(String, String, Vec<String>, String)>,
}

/// Draws `root` (the manifest as JSON) with the findings of `report` on it. `pool` limits the
/// drawing to one Persistent Chat pool; without it every pool is drawn, as long as the drawing
/// stays within [`MAX_ELEMENTS`].
pub fn draw(root: &Value, report: &FileReport, pool: Option<&str>) -> Result<String, Declined> {
    let pools = items(root, "persistent_chat_pools");
    let selected: Vec<usize> = match pool {
        Some(wanted) => {
            let found: Vec<usize> = pools
                .iter()
                .enumerate()
                .filter(|(_, p)| text(p, "id").as_deref() == Some(wanted))
                .map(|(i, _)| i)
                .collect();
            if found.is_empty() {
                return Err(Declined(format!(
                    "there is no Persistent Chat pool `{wanted}` in the manifest{}",
                    pool_list(pools)
                )));
            }
            found
        }
        None => (0..pools.len()).collect(),
    };
    let size = element_count(root, &selected);
    if size > MAX_ELEMENTS {
        return Err(Declined(format!(
            "the drawing would have {size} elements, more than the limit of {MAX_ELEMENTS}: draw one pool at a time{}",
            pool_list(pools)
        )));
    }
    let mut d = Drawing::default();
    d.layout(root, &selected);
    d.attach(&report.findings);
    Ok(d.svg(report, pool))
}

fn pool_list(pools: &[Value]) -> String {
    let ids: Vec<String> = pools
        .iter()
        .filter_map(|p| text(p, "id"))
        .take(20)
        .collect();
    if ids.is_empty() {
        String::new()
    } else {
        let more = if pools.len() > ids.len() { ", …" } else { "" };
        format!(" (pools: {}{more})", ids.join(", "))
    }
}

const ROLES: [(&str, &str); 6] = [
    ("primary", "primary"),
    ("mirror", "mirror"),
    ("witness", "witness"),
    ("backup", "backup"),
    ("backup_mirror", "backup mirror"),
    ("backup_witness", "backup witness"),
];

fn element_count(root: &Value, selected: &[usize]) -> usize {
    let pools = items(root, "persistent_chat_pools");
    let mut n = 1
        + items(root, "data_centers").len()
        + items(root, "links").len()
        + items(root, "front_end_pools").len();
    for &i in selected {
        let Some(p) = pools.get(i) else { continue };
        n += 1 + items(p, "servers").len() + 3;
        for store in ["chat", "compliance"] {
            if let Some(s) = p.get("stores").and_then(|s| s.get(store)) {
                n += ROLES.iter().filter(|(k, _)| s.get(*k).is_some()).count();
            }
        }
    }
    n
}

#[derive(Default)]
struct Drawing {
    elements: Vec<Element>,
    edges: Vec<Edge>,
    columns: usize,
    width: i64,
    height: i64,
    /// Findings drawn on no element (their value is not in the drawing).
    elsewhere: usize,
}

impl Drawing {
    fn push(&mut self, e: Element) -> usize {
        self.elements.push(e);
        self.elements.len() - 1
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one pass down the figure, row by row"
    )]
    fn layout(&mut self, root: &Value, selected: &[usize]) {
        let dcs = items(root, "data_centers");
        let mut columns = Columns {
            ids: dcs
                .iter()
                .enumerate()
                .map(|(i, d)| id_of(d, "data center", i))
                .collect(),
            unknown: false,
        };
        // Decide the columns first: anything drawn with a missing or unknown data center.
        let sql = items(root, "sql_instances");
        let shares = items(root, "file_shares");
        let fes = items(root, "front_end_pools");
        let pools = items(root, "persistent_chat_pools");
        let sql_by_id: BTreeMap<String, usize> = sql
            .iter()
            .enumerate()
            .filter_map(|(i, s)| text(s, "id").map(|id| (id, i)))
            .collect();
        let share_by_id: BTreeMap<String, usize> = shares
            .iter()
            .enumerate()
            .filter_map(|(i, s)| text(s, "id").map(|id| (id, i)))
            .collect();
        for fe in fes {
            columns.of(text(fe, "data_center").as_deref());
        }

        let mut y = MARGIN;
        // Header (the topology itself: findings with no element of their own land here).
        let header_w = 0; // set once the columns are known
        let header = self.push(Element {
            x: MARGIN,
            y,
            w: header_w,
            h: 46,
            kind: Kind::Header,
            label: text(root, "name").unwrap_or_else(|| "(unnamed topology)".to_string()),
            detail: text(root, "product").unwrap_or_default(),
            pointers: vec![String::new()],
            findings: Vec::new(),
        });
        y += 46 + 2 * SPACE;

        // Pool bands: gather every cell first, so the columns are all known before drawing.
        struct Band {
            pool: usize,
            cells: BTreeMap<usize, Cell>,
            shipping: Option<(String, String)>,
        }
        let mut bands = Vec::new();
        for &pi in selected {
            let Some(p) = pools.get(pi) else { continue };
            let base = format!("/persistent_chat_pools/{pi}");
            let mut cells: BTreeMap<usize, Cell> = BTreeMap::new();
            for (si, s) in items(p, "servers").iter().enumerate() {
                let active = s.get("active").and_then(Value::as_bool).unwrap_or(false);
                let col = columns.of(text(s, "data_center").as_deref());
                let fqdn = text(s, "fqdn").unwrap_or_else(|| format!("(server {})", si + 1));
                cells.entry(col).or_default().servers.push((
                    if active { Kind::Active } else { Kind::Idle },
                    short(&fqdn),
                    fqdn,
                    format!("{base}/servers/{si}"),
                ));
            }
            for store in ["chat", "compliance"] {
                let Some(s) = p.get("stores").and_then(|s| s.get(store)) else {
                    continue;
                };
                for (key, name) in ROLES {
                    let Some(id) = s.get(key).and_then(Value::as_str) else {
                        continue;
                    };
                    let at = format!("{base}/stores/{store}/{key}");
                    let instance = sql_by_id.get(id).copied();
                    let (col, host, pointers) =
                        match instance.and_then(|i| sql.get(i).map(|s| (i, s))) {
                            Some((i, s)) => (
                                columns.of(text(s, "data_center").as_deref()),
                                text(s, "host").unwrap_or_default(),
                                vec![at.clone(), format!("/sql_instances/{i}")],
                            ),
                            None => (
                                columns.of(None),
                                "no such SQL instance".to_string(),
                                vec![at.clone()],
                            ),
                        };
                    cells.entry(col).or_default().sql.push((
                        format!("{store} {name}: {id}"),
                        host,
                        pointers,
                        format!("{store}/{key}"),
                    ));
                }
            }
            let mut shipping = None;
            let mut share_refs = vec![(
                "file store",
                format!("{base}/file_store"),
                p.get("file_store"),
            )];
            if let Some(ls) = p.get("log_shipping") {
                share_refs.push((
                    "log-shipping share",
                    format!("{base}/log_shipping/backup_share"),
                    ls.get("backup_share"),
                ));
                share_refs.push((
                    "copy destination",
                    format!("{base}/log_shipping/copy_destination"),
                    ls.get("copy_destination"),
                ));
                if let (Some(a), Some(b)) = (
                    ls.get("backup_share").and_then(Value::as_str),
                    ls.get("copy_destination").and_then(Value::as_str),
                ) {
                    shipping = Some((a.to_string(), b.to_string()));
                }
            }
            for (name, at, id) in share_refs {
                let Some(id) = id.and_then(Value::as_str) else {
                    continue;
                };
                let (col, unc, pointers) = match share_by_id
                    .get(id)
                    .and_then(|&i| shares.get(i).map(|s| (i, s)))
                {
                    Some((i, s)) => (
                        columns.of(text(s, "data_center").as_deref()),
                        text(s, "unc").unwrap_or_default(),
                        vec![at, format!("/file_shares/{i}")],
                    ),
                    None => (columns.of(None), "no such file share".to_string(), vec![at]),
                };
                cells.entry(col).or_default().shares.push((
                    format!("{name}: {id}"),
                    unc,
                    pointers,
                    id.to_string(),
                ));
            }
            bands.push(Band {
                pool: pi,
                cells,
                shipping,
            });
        }

        self.columns = columns.count().max(1);
        let columns_n = i64::try_from(self.columns).unwrap_or(1);
        self.width = 2 * MARGIN + columns_n * COLUMN + (columns_n - 1) * GAP;
        if let Some(h) = self.elements.get_mut(header) {
            h.w = self.width - 2 * MARGIN;
        }

        // Data centers, and the links between them.
        let mut dc_boxes = Vec::new();
        for (i, dc) in dcs.iter().enumerate() {
            let detail = [
                text(dc, "time_zone"),
                text(dc, "site").map(|s| format!("site {s}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            dc_boxes.push(self.push(Element {
                x: Columns::x(i),
                y,
                w: COLUMN,
                h: 40,
                kind: Kind::DataCenter,
                label: format!("Data center {}", id_of(dc, "data center", i)),
                detail,
                pointers: vec![format!("/data_centers/{i}")],
                findings: Vec::new(),
            }));
        }
        if columns.unknown {
            self.push(Element {
                x: Columns::x(columns.ids.len()),
                y,
                w: COLUMN,
                h: 40,
                kind: Kind::DataCenter,
                label: "No known data center".to_string(),
                detail: "a data center that is missing or names none".to_string(),
                pointers: Vec::new(),
                findings: Vec::new(),
            });
        }
        for (li, link) in items(root, "links").iter().enumerate() {
            let ends: Vec<usize> = link
                .get("between")
                .and_then(Value::as_array)
                .map(|b| {
                    b.iter()
                        .filter_map(|d| d.as_str())
                        .filter_map(|d| columns.ids.iter().position(|c| c == d))
                        .collect()
                })
                .unwrap_or_default();
            let left = ends.iter().copied().min().unwrap_or(0);
            let right = ends.iter().copied().max().unwrap_or(left + 1);
            let class = text(link, "class").unwrap_or_default();
            let (label, detail) = match class.as_str() {
                "high_bandwidth_low_latency" => ("high bandwidth", "low latency"),
                "low_bandwidth_high_latency" => ("low bandwidth", "high latency"),
                "" => ("link", ""),
                other => (other, ""),
            };
            let x = Columns::x(left) + COLUMN + 4;
            let span = Columns::x(right.max(left + 1)) - 4 - x;
            let link_y = y + 6 + i64::try_from(li).unwrap_or(0) * 4;
            self.push(Element {
                x,
                y: link_y,
                w: span.max(GAP - 8),
                h: 28,
                kind: Kind::Link,
                label: label.replace('_', " "),
                detail: detail.to_string(),
                pointers: vec![format!("/links/{li}")],
                findings: Vec::new(),
            });
        }
        y += 40 + 2 * SPACE;

        // Front End pools, by data center; a pool's next hop says so.
        let next_hops: Vec<(String, String)> = selected
            .iter()
            .filter_map(|&i| pools.get(i))
            .filter_map(|p| Some((text(p, "next_hop")?, text(p, "id")?)))
            .collect();
        let mut fe_y = vec![y; self.columns];
        for (i, fe) in fes.iter().enumerate() {
            let col = columns.of(text(fe, "data_center").as_deref());
            let id = id_of(fe, "Front End pool", i);
            let hops: Vec<&str> = next_hops
                .iter()
                .filter(|(hop, _)| *hop == id)
                .map(|(_, p)| p.as_str())
                .collect();
            let mut detail = text(fe, "fqdn").unwrap_or_default();
            if !hops.is_empty() {
                detail = format!("next hop of {} · {detail}", hops.join(", "));
            }
            let Some(slot) = fe_y.get_mut(col) else {
                continue;
            };
            self.push(Element {
                x: Columns::x(col),
                y: *slot,
                w: COLUMN,
                h: 36,
                kind: Kind::FrontEnd,
                label: format!("Front End pool {id}"),
                detail,
                pointers: vec![format!("/front_end_pools/{i}")],
                findings: Vec::new(),
            });
            *slot += 36 + SPACE;
        }
        y = fe_y.iter().copied().max().unwrap_or(y) + SPACE;

        // One band per pool.
        for band in bands {
            let Some(p) = pools.get(band.pool) else {
                continue;
            };
            let id = id_of(p, "pool", band.pool);
            let flags = [
                text(p, "state").map(|s| {
                    if s == "failed_over" {
                        "FAILED OVER".to_string()
                    } else {
                        s
                    }
                }),
                text(p, "fqdn"),
                p.get("compliance")
                    .and_then(Value::as_bool)
                    .filter(|c| *c)
                    .map(|_| "compliance".to_string()),
                p.get("disaster_recovery")
                    .and_then(Value::as_bool)
                    .filter(|c| *c)
                    .map(|_| "disaster recovery".to_string()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            let pool_box = self.push(Element {
                x: MARGIN,
                y,
                w: self.width - 2 * MARGIN,
                h: 0, // set when the band's height is known
                kind: Kind::Pool,
                label: format!("Persistent Chat pool {id}"),
                detail: flags,
                pointers: vec![format!("/persistent_chat_pools/{}", band.pool)],
                findings: Vec::new(),
            });
            let top = y + 44;
            let mut bottom = top;
            let mut role_box: BTreeMap<String, usize> = BTreeMap::new();
            let mut share_box: BTreeMap<String, usize> = BTreeMap::new();
            for (&col, cell) in &band.cells {
                let x = Columns::x(col) + 10;
                let inner = COLUMN - 20;
                let mut cy = top;
                let half = (inner - SPACE) / 2;
                for (k, (kind, label, fqdn, pointer)) in cell.servers.iter().enumerate() {
                    let left = k % 2 == 0;
                    self.push(Element {
                        x: if left { x } else { x + half + SPACE },
                        y: cy,
                        w: half,
                        h: ROW - 4,
                        kind: *kind,
                        label: label.clone(),
                        detail: format!(
                            "{fqdn} ({})",
                            if *kind == Kind::Active {
                                "active"
                            } else {
                                "idle"
                            }
                        ),
                        pointers: vec![pointer.clone()],
                        findings: Vec::new(),
                    });
                    if !left || k + 1 == cell.servers.len() {
                        cy += ROW;
                    }
                }
                if !cell.servers.is_empty() {
                    cy += SPACE;
                }
                // Store roles, then shares: a box each, remembered for the lines between them.
                let stores = cell.sql.iter().map(|b| (Kind::Sql, b));
                let shares = cell.shares.iter().map(|b| (Kind::Share, b));
                for (kind, (label, detail, pointers, key)) in stores.chain(shares) {
                    let e = self.push(Element {
                        x: x + 14,
                        y: cy,
                        w: inner - 14,
                        h: 36,
                        kind,
                        label: label.clone(),
                        detail: detail.clone(),
                        pointers: pointers.clone(),
                        findings: Vec::new(),
                    });
                    if kind == Kind::Sql {
                        role_box.insert(key.clone(), e);
                    } else {
                        share_box.entry(key.clone()).or_insert(e);
                    }
                    cy += 36 + SPACE;
                }
                bottom = bottom.max(cy);
            }
            // Mirroring and witness lines; log shipping.
            for store in ["chat", "compliance"] {
                for (a, b, style) in [
                    ("primary", "mirror", EdgeStyle::Mirroring),
                    ("primary", "witness", EdgeStyle::Witness),
                    ("backup", "backup_mirror", EdgeStyle::Mirroring),
                    ("backup", "backup_witness", EdgeStyle::Witness),
                ] {
                    if let (Some(&from), Some(&to)) = (
                        role_box.get(&format!("{store}/{a}")),
                        role_box.get(&format!("{store}/{b}")),
                    ) {
                        self.edges.push(Edge { from, to, style });
                    }
                }
            }
            if let Some((from, to)) = &band.shipping
                && let (Some(&from), Some(&to)) = (share_box.get(from), share_box.get(to))
                && from != to
            {
                self.edges.push(Edge {
                    from,
                    to,
                    style: EdgeStyle::LogShipping,
                });
            }
            let height = bottom - y + SPACE;
            if let Some(e) = self.elements.get_mut(pool_box) {
                e.h = height;
            }
            y += height + 2 * SPACE;
        }
        if selected.is_empty() {
            y += SPACE;
        }
        // Room for the legend.
        self.height = y + 60;
    }

    /// Puts each finding on the elements that stand for the deepest pointer at or above its
    /// own; a finding whose value is not drawn goes on the header.
    fn attach(&mut self, findings: &[Finding]) {
        for (fi, f) in findings.iter().enumerate() {
            let mut best: Option<usize> = None;
            for e in &self.elements {
                for p in &e.pointers {
                    if p.is_empty() {
                        continue;
                    }
                    let covers = f.pointer == *p
                        || (f.pointer.starts_with(p.as_str())
                            && f.pointer.as_bytes().get(p.len()) == Some(&b'/'));
                    if covers && best.is_none_or(|b| p.len() > b) {
                        best = Some(p.len());
                    }
                }
            }
            let mut placed = false;
            if let Some(len) = best {
                for e in &mut self.elements {
                    let hit = e.pointers.iter().any(|p| {
                        p.len() == len
                            && (f.pointer == *p
                                || (f.pointer.starts_with(p.as_str())
                                    && f.pointer.as_bytes().get(p.len()) == Some(&b'/')))
                    });
                    if hit {
                        e.findings.push(fi);
                        placed = true;
                    }
                }
            }
            if !placed {
                if let Some(h) = self.elements.iter_mut().find(|e| e.kind == Kind::Header) {
                    h.findings.push(fi);
                }
                if !f.pointer.is_empty() {
                    self.elsewhere += 1;
                }
            }
        }
    }

    fn svg(&self, report: &FileReport, pool: Option<&str>) -> String {
        let findings = &report.findings;
        let mut out = String::with_capacity(16 * 1024);
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Segoe UI, system-ui, sans-serif" font-size="11" role="img">"#,
            w = self.width,
            h = self.height
        );
        out.push_str(concat!(
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">",
            "<path d=\"M0,0L10,5L0,10z\" fill=\"#6e7781\"/></marker></defs>",
        ));
        let _ = write!(
            out,
            r##"<rect width="{}" height="{}" fill="#ffffff"/>"##,
            self.width, self.height
        );
        // Column backgrounds.
        for c in 0..self.columns {
            let _ = write!(
                out,
                r##"<rect x="{}" y="{}" width="{COLUMN}" height="{}" rx="6" fill="#f6f8fa"/>"##,
                Columns::x(c),
                MARGIN + 46 + SPACE,
                self.height - MARGIN - 46 - SPACE - 60
            );
        }
        for e in self.elements.iter().filter(|e| e.kind == Kind::Pool) {
            self.element(&mut out, e, findings, report, pool);
        }
        for edge in &self.edges {
            self.edge(&mut out, edge);
        }
        for e in self.elements.iter().filter(|e| e.kind != Kind::Pool) {
            self.element(&mut out, e, findings, report, pool);
        }
        self.legend(&mut out);
        out.push_str("</svg>\n");
        out
    }

    fn edge(&self, out: &mut String, edge: &Edge) {
        let (Some(a), Some(b)) = (self.elements.get(edge.from), self.elements.get(edge.to)) else {
            return;
        };
        let (stroke, dash, marker, title) = match edge.style {
            EdgeStyle::Mirroring => ("#1a7f37", "", "", "database mirroring"),
            EdgeStyle::Witness => (
                "#8250df",
                r#" stroke-dasharray="4 3""#,
                "",
                "mirroring witness",
            ),
            EdgeStyle::LogShipping => (
                "#6e7781",
                r#" stroke-dasharray="7 4""#,
                r#" marker-end="url(#arrow)""#,
                "log shipping",
            ),
        };
        let path = if a.x == b.x {
            // Same column: a bracket on the left of the boxes.
            let x = a.x;
            let off = match edge.style {
                EdgeStyle::Mirroring => 7,
                EdgeStyle::Witness => 12,
                EdgeStyle::LogShipping => 4,
            };
            let (y1, y2) = (a.y + a.h / 2, b.y + b.h / 2);
            format!("M{x},{y1}h-{off}V{y2}h{off}")
        } else {
            let (x1, x2) = if a.x < b.x {
                (a.x + a.w, b.x)
            } else {
                (a.x, b.x + b.w)
            };
            format!("M{x1},{}L{x2},{}", a.y + a.h / 2, b.y + b.h / 2)
        };
        let _ = write!(
            out,
            r#"<path d="{path}" fill="none" stroke="{stroke}" stroke-width="1.6"{dash}{marker}><title>{title}</title></path>"#
        );
    }

    fn element(
        &self,
        out: &mut String,
        e: &Element,
        findings: &[Finding],
        report: &FileReport,
        pool: Option<&str>,
    ) {
        let open: Vec<&Finding> = e
            .findings
            .iter()
            .filter_map(|&i| findings.get(i))
            .filter(|f| f.waived.is_none())
            .collect();
        let worst = open.iter().map(|f| f.severity).min_by_key(|s| rank(*s));
        let waived_only = worst.is_none() && !e.findings.is_empty();
        let (fill, stroke, ink) = match e.kind {
            Kind::Header => ("#ffffff", "#d0d7de", INK),
            Kind::DataCenter => ("#ddf4ff", "#54aeff", INK),
            Kind::Link => ("#ffffff", "#8c959f", MUTED),
            Kind::FrontEnd => ("#fff8c5", "#d4a72c", INK),
            Kind::Pool => ("none", "#8c959f", INK),
            Kind::Active => ("#0969da", "#0969da", "#ffffff"),
            Kind::Idle => ("#ffffff", "#0969da", "#0969da"),
            Kind::Sql => ("#ffffff", "#6e7781", INK),
            Kind::Share => ("#fbefff", "#a475f9", INK),
        };
        let (stroke, width) = match worst {
            Some(Severity::Error) => (ERROR, "3"),
            Some(Severity::Warning) => (WARNING, "3"),
            Some(Severity::Info) => (INFO, "2.5"),
            None if waived_only => (WAIVED, "2"),
            None => (stroke, "1"),
        };
        let fingerprints: Vec<&str> = e
            .findings
            .iter()
            .filter_map(|&i| findings.get(i))
            .filter_map(|f| f.fingerprint.as_deref())
            .collect();
        let _ = write!(
            out,
            r#"<g class="{}" data-pointer="{}""#,
            kind_class(e.kind),
            xml(e.pointers.first().map_or("", String::as_str))
        );
        if !fingerprints.is_empty() {
            let _ = write!(out, r#" data-findings="{}""#, fingerprints.join(" "));
        }
        out.push('>');
        // The tooltip: what it is, then each finding.
        let mut title = e.label.clone();
        if !e.detail.is_empty() {
            title.push_str(&format!("\n{}", e.detail));
        }
        for &i in &e.findings {
            if let Some(f) = findings.get(i) {
                title.push_str(&format!(
                    "\n{} {}{}: {}",
                    f.severity.as_str(),
                    f.code,
                    if f.waived.is_some() { " (waived)" } else { "" },
                    f.message
                ));
            }
        }
        let _ = write!(out, "<title>{}</title>", xml(&title));
        let dash = if waived_only {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash}/>"#,
            e.x,
            e.y,
            e.w,
            e.h,
            if matches!(e.kind, Kind::Pool | Kind::Header) {
                8
            } else {
                4
            }
        );
        match e.kind {
            Kind::Header => {
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" font-size="15" font-weight="600" fill="{INK}">{}</text>"#,
                    e.x + 10,
                    e.y + 20,
                    xml(&fit(&e.label, e.w - 260, 8.8))
                );
                let product = match e.detail.as_str() {
                    "lync2013" => "Lync Server 2013",
                    "skype2015" => "Skype for Business Server 2015",
                    other => other,
                };
                let mut sub = format!("{product} · {}", report.path);
                if let Some(p) = pool {
                    sub.push_str(&format!(" · pool {p}"));
                }
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" fill="{MUTED}">{}</text>"#,
                    e.x + 10,
                    e.y + 37,
                    xml(&fit(&sub, e.w - 240, CHAR))
                );
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" text-anchor="end" font-size="13" font-weight="600" fill="{}">{}</text>"#,
                    e.x + e.w - 10,
                    e.y + 20,
                    summary_color(findings),
                    xml(&summary(findings))
                );
                if self.elsewhere > 0 {
                    let _ = write!(
                        out,
                        r#"<text x="{}" y="{}" text-anchor="end" fill="{MUTED}">{} on values not drawn (listed in this box's tooltip)</text>"#,
                        e.x + e.w - 10,
                        e.y + 37,
                        self.elsewhere
                    );
                }
            }
            Kind::Link => {
                let cx = e.x + e.w / 2;
                let _ = write!(
                    out,
                    r#"<text x="{cx}" y="{}" text-anchor="middle" font-size="10" fill="{ink}">{}</text>"#,
                    e.y + 12,
                    xml(&fit(&e.label, e.w - 4, 5.8))
                );
                let _ = write!(
                    out,
                    r#"<text x="{cx}" y="{}" text-anchor="middle" font-size="10" fill="{ink}">{}</text>"#,
                    e.y + 24,
                    xml(&fit(&e.detail, e.w - 4, 5.8))
                );
            }
            Kind::Active | Kind::Idle => {
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" fill="{ink}">{}</text>"#,
                    e.x + 7,
                    e.y + e.h / 2 + 4,
                    xml(&fit(&e.label, e.w - 14, CHAR))
                );
            }
            _ => {
                let weight = if e.kind == Kind::Pool { "600" } else { "500" };
                let size = if e.kind == Kind::Pool { 13 } else { 11 };
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" font-weight="{weight}" font-size="{size}" fill="{ink}">{}</text>"#,
                    e.x + 8,
                    e.y + 15,
                    xml(&fit(
                        &e.label,
                        e.w - 16,
                        if size == 13 { 7.6 } else { CHAR }
                    ))
                );
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" fill="{MUTED}">{}</text>"#,
                    e.x + 8,
                    e.y + if e.kind == Kind::Pool { 32 } else { 29 },
                    xml(&fit(&e.detail, e.w - 16, CHAR))
                );
            }
        }
        self.badges(out, e, findings);
        out.push_str("</g>");
    }

    /// The codes of an element's findings, right-aligned at its top edge.
    fn badges(&self, out: &mut String, e: &Element, findings: &[Finding]) {
        let mut codes: Vec<(&str, Option<Severity>)> = Vec::new();
        for &i in &e.findings {
            let Some(f) = findings.get(i) else { continue };
            let sev = if f.waived.is_some() {
                None
            } else {
                Some(f.severity)
            };
            if !codes.iter().any(|(c, s)| *c == f.code && *s == sev) {
                codes.push((&f.code, sev));
            }
        }
        let mut right = e.x + e.w - 4;
        let shown = if e.kind == Kind::Header { 0 } else { 2 };
        for (k, (code, sev)) in codes.iter().enumerate() {
            let label = if k == shown && codes.len() > shown + 1 {
                format!("+{}", codes.len() - shown)
            } else if k > shown {
                break;
            } else {
                (*code).to_string()
            };
            let w = i64::try_from(label.chars().count()).unwrap_or(0) * 6 + 12;
            let color = match sev {
                Some(Severity::Error) => ERROR,
                Some(Severity::Warning) => WARNING,
                Some(Severity::Info) => INFO,
                None => WAIVED,
            };
            let x = right - w;
            let y = e.y - 7;
            let _ = write!(
                out,
                r##"<rect x="{x}" y="{y}" width="{w}" height="14" rx="7" fill="{color}"/><text x="{}" y="{}" text-anchor="middle" font-size="9" font-weight="600" fill="#ffffff">{}</text>"##,
                x + w / 2,
                y + 10,
                xml(&label)
            );
            right = x - 3;
        }
    }

    fn legend(&self, out: &mut String) {
        let y = self.height - 40;
        let mut x = MARGIN;
        let r = |fill: &str, stroke: &str, extra: &str| {
            format!(
                r#"<rect x="{{X}}" y="{}" width="20" height="14" rx="3" fill="{fill}" stroke="{stroke}"{extra}/>"#,
                y + 4
            )
        };
        let line = |stroke: &str, extra: &str| {
            format!(
                r#"<path d="M{{X}},{}h20" stroke="{stroke}" stroke-width="1.6" fill="none"{extra}/>"#,
                y + 11
            )
        };
        let entries: [(String, &str, i64); 9] = [
            (
                r("#0969da", "#0969da", r#" stroke-width="1.5""#),
                "active server",
                110,
            ),
            (
                r("#ffffff", "#0969da", r#" stroke-width="1.5""#),
                "idle server",
                100,
            ),
            (line("#1a7f37", ""), "mirroring", 95),
            (line("#8250df", r#" stroke-dasharray="4 3""#), "witness", 85),
            (
                line(
                    "#6e7781",
                    r#" stroke-dasharray="7 4" marker-end="url(#arrow)""#,
                ),
                "log shipping",
                110,
            ),
            (r("#ffffff", ERROR, r#" stroke-width="3""#), "error", 70),
            (r("#ffffff", WARNING, r#" stroke-width="3""#), "warning", 85),
            (r("#ffffff", INFO, r#" stroke-width="3""#), "info", 65),
            (
                r("#ffffff", WAIVED, r#" stroke-dasharray="5 3""#),
                "waived",
                80,
            ),
        ];
        for (swatch, label, width) in entries {
            let _ = write!(
                out,
                r#"{}<text x="{}" y="{}" fill="{MUTED}">{}</text>"#,
                swatch.replace("{X}", &x.to_string()),
                x + 26,
                y + 14,
                xml(label)
            );
            x += width;
        }
    }
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    }
}

fn kind_class(k: Kind) -> &'static str {
    match k {
        Kind::Header => "topology",
        Kind::DataCenter => "data-center",
        Kind::Link => "link",
        Kind::FrontEnd => "front-end-pool",
        Kind::Pool => "pool",
        Kind::Active => "server active",
        Kind::Idle => "server idle",
        Kind::Sql => "sql-instance",
        Kind::Share => "file-share",
    }
}

fn summary(findings: &[Finding]) -> String {
    let mut counts = [0usize; 4];
    for f in findings {
        let slot = if f.waived.is_some() {
            3
        } else {
            usize::from(rank(f.severity))
        };
        if let Some(c) = counts.get_mut(slot) {
            *c += 1;
        }
    }
    let [errors, warnings, infos, waived] = counts;
    if findings.is_empty() {
        return "no findings".to_string();
    }
    let mut parts = Vec::new();
    for (n, word) in [(errors, "error"), (warnings, "warning"), (infos, "info")] {
        if n > 0 {
            parts.push(format!(
                "{n} {word}{}",
                if n == 1 || word == "info" { "" } else { "s" }
            ));
        }
    }
    if waived > 0 {
        parts.push(format!("{waived} waived"));
    }
    parts.join(", ")
}

fn summary_color(findings: &[Finding]) -> &'static str {
    match findings
        .iter()
        .filter(|f| f.waived.is_none())
        .map(|f| f.severity)
        .min_by_key(|s| rank(*s))
    {
        Some(Severity::Error) => ERROR,
        Some(Severity::Warning) => WARNING,
        Some(Severity::Info) => INFO,
        None => "#1a7f37",
    }
}

/// The first DNS label of a host name.
fn short(fqdn: &str) -> String {
    fqdn.split('.').next().unwrap_or(fqdn).to_string()
}

/// `text` cut with an ellipsis to about `width` pixels at `per_char` pixels a character.
fn fit(text: &str, width: i64, per_char: f64) -> String {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "small positive pixel counts"
    )]
    let max = ((width.max(0) as f64) / per_char) as usize;
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Escapes text for XML content and attribute values.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
