//! `cargo xtask gen N [--violate LETTERS] [-o FILE]`: N complete stretched Persistent Chat pools in
//! the manifest schema, for the benchmarks. The same bytes as the generator the first figures
//! were measured with (`gen_manifest.py`), so figures stay comparable: each pool has 8 servers
//! over two data centers (4 active), two Front End pools, 11 SQL instances and 3 shares; by
//! default every pool breaks rules e and f; `--violate ''` gives a clean topology.

// serde_json's `Index` (`value["key"]`, `value[0]`) gives `Null` for what is missing; it
// does not panic, but clippy cannot tell it from slice indexing.
#![allow(clippy::indexing_slicing)]

use serde_json::{Value, json};

const TZ: &str = "America/New_York";
const OTHER_TZ: &str = "America/Chicago";

/// The faults that can be injected, by letter (see `bench/README.md`).
pub const VIOLATIONS: [&str; 9] = [
    "a",
    "a-missing",
    "b",
    "b-missing",
    "c",
    "d",
    "d-total",
    "e",
    "f",
];

fn sql(id: &str, host: &str, dc: &str, databases: &[&str], availability: &str, port: u32) -> Value {
    let instance = if databases.first().is_some_and(|d| *d != "backend") {
        "PCHAT"
    } else {
        "RTC"
    };
    json!({
        "id": id, "host": host, "instance": instance, "data_center": dc, "version": "2012",
        "edition": "enterprise", "bitness": 64, "mirroring_port": port,
        "databases": databases, "availability": availability,
    })
}

struct Pool {
    pool: Value,
    fronts: Vec<Value>,
    instances: Vec<Value>,
    shares: Vec<Value>,
}

fn pool(k: usize, width: usize, violations: &[&str]) -> Pool {
    let has = |v: &str| violations.contains(&v);
    let s = format!("{k:0width$}");
    let dom = "contoso.com";
    let pid = format!("pchat{s}.{dom}");
    let (fe1, fe2) = (format!("fe{s}-dc1.{dom}"), format!("fe{s}-dc2.{dom}"));
    let i = |name: &str| format!("sql-{name}-{s}");
    let m = "mirroring";
    let mut instances = vec![
        sql(
            &i("chat-pri"),
            &format!("sqlc{s}a.dc1.{dom}"),
            "dc1",
            &["mgc"],
            m,
            5022,
        ),
        sql(
            &i("chat-mir"),
            &format!("sqlc{s}b.dc1.{dom}"),
            "dc1",
            &["mgc"],
            m,
            5022,
        ),
        sql(
            &i("chat-wit"),
            &format!("sqlw{s}.dc1.{dom}"),
            "dc1",
            &[],
            m,
            5023,
        ),
        sql(
            &i("chat-bak"),
            &format!("sqlc{s}c.dc2.{dom}"),
            "dc2",
            &["mgc"],
            "none",
            5022,
        ),
        sql(
            &i("chat-bmir"),
            &format!("sqlc{s}d.dc2.{dom}"),
            "dc2",
            &["mgc"],
            m,
            5022,
        ),
        sql(
            &i("cmp-pri"),
            &format!("sqlk{s}a.dc1.{dom}"),
            "dc1",
            &["mgccomp"],
            m,
            5022,
        ),
        sql(
            &i("cmp-mir"),
            &format!("sqlk{s}b.dc1.{dom}"),
            "dc1",
            &["mgccomp"],
            m,
            5022,
        ),
        sql(
            &i("cmp-bak"),
            &format!("sqlk{s}c.dc2.{dom}"),
            "dc2",
            &["mgccomp"],
            "none",
            5022,
        ),
        sql(
            &i("cmp-bmir"),
            &format!("sqlk{s}d.dc2.{dom}"),
            "dc2",
            &["mgccomp"],
            m,
            5022,
        ),
        sql(
            &i("be-dc1"),
            &format!("sqlbe{s}.dc1.{dom}"),
            "dc1",
            &["backend"],
            "none",
            5022,
        ),
        sql(
            &i("be-dc2"),
            &format!("sqlbe{s}.dc2.{dom}"),
            "dc2",
            &["backend"],
            "none",
            5022,
        ),
    ];
    let fronts = vec![
        json!({"id": fe1, "fqdn": fe1, "edition": "enterprise", "data_center": "dc1", "time_zone": TZ,
               "servers": (1..=3).map(|j| format!("fe{s}-{j}.dc1.{dom}")).collect::<Vec<_>>()}),
        json!({"id": fe2, "fqdn": fe2, "edition": "enterprise", "data_center": "dc2", "time_zone": TZ,
               "servers": (1..=3).map(|j| format!("fe{s}-{j}.dc2.{dom}")).collect::<Vec<_>>()}),
    ];
    let mut servers: Vec<Value> = (0..8)
        .map(|j| {
            let dc = if j < 4 { "dc1" } else { "dc2" };
            json!({"fqdn": format!("pc{s}-{}.{dc}.{dom}", j + 1), "data_center": dc,
                   "active": j < 4, "time_zone": TZ})
        })
        .collect();
    let mut chat = json!({"primary": i("chat-pri"), "mirror": i("chat-mir"), "witness": i("chat-wit"),
                          "backup": i("chat-bak"), "backup_mirror": i("chat-bmir")});
    let comp = json!({"primary": i("cmp-pri"), "mirror": i("cmp-mir"),
                      "backup": i("cmp-bak"), "backup_mirror": i("cmp-bmir")});
    let pchat_dbs: Vec<String> = instances
        .iter()
        .filter(|x| {
            x["databases"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d == "mgc" || d == "mgccomp"))
        })
        .filter_map(|x| x["id"].as_str().map(str::to_string))
        .collect();
    let mut logship = json!({
        "id": format!("share-logship-{s}"), "unc": format!("\\\\fs{s}.dc1.{dom}\\pchatlogs"),
        "host": format!("fs{s}.dc1.{dom}"), "data_center": "dc1", "purpose": "log_shipping",
        "file_store_role": false,
        "access": pchat_dbs.iter().map(|x| json!({"principal": x, "rights": "read_write"})).collect::<Vec<_>>(),
    });
    let copydest = json!({
        "id": format!("share-logcopy-{s}"), "unc": format!("\\\\sqlc{s}c.dc2.{dom}\\pchatlogcopy"),
        "host": format!("sqlc{s}c.dc2.{dom}"), "data_center": "dc2", "purpose": "log_copy_destination",
        "file_store_role": false,
        "access": [{"principal": i("chat-bak"), "rights": "read_write"},
                   {"principal": i("cmp-bak"), "rights": "read_write"},
                   {"principal": i("chat-pri"), "rights": "read"}],
    });
    let files = json!({
        "id": format!("share-files-{s}"), "unc": format!("\\\\fs{s}.dc1.{dom}\\pchatfiles"),
        "host": format!("fs{s}.dc1.{dom}"), "data_center": "dc1", "purpose": "file_store",
        "file_store_role": true,
    });
    // The injected faults, as the Python generator injects them.
    let mut set_dc = |id: String, dc: &str| {
        for x in instances.iter_mut().filter(|x| x["id"] == id.as_str()) {
            x["data_center"] = json!(dc);
        }
    };
    if has("a") {
        set_dc(i("chat-mir"), "dc2");
    }
    if has("b") {
        set_dc(i("chat-bak"), "dc1");
        set_dc(i("chat-bmir"), "dc1");
    }
    if has("c") {
        set_dc(i("chat-bmir"), "dc1");
    }
    if has("a-missing") {
        chat["mirror"] = json!(i("chat-mir-typo"));
    }
    if has("b-missing") {
        chat["backup"] = json!(i("chat-bak-typo"));
    }
    if has("d") {
        servers[4]["active"] = json!(true);
    }
    if has("d-total") {
        servers.push(
            json!({"fqdn": format!("pc{s}-9.dc2.{dom}"), "data_center": "dc2",
                            "active": false, "time_zone": TZ}),
        );
    }
    if has("e") {
        servers[1]["time_zone"] = json!(OTHER_TZ);
    }
    if has("f") {
        let target = i("cmp-bmir");
        if let Some(access) = logship["access"].as_array_mut() {
            for a in access
                .iter_mut()
                .filter(|a| a["principal"] == target.as_str())
            {
                a["rights"] = json!("read");
            }
        }
    }
    let pool = json!({
        "id": pid, "fqdn": pid, "site": "site1", "pool_type": "multiple_computer",
        "next_hop": fe1, "port": 5041, "state": "normal", "compliance": true,
        "disaster_recovery": true, "file_store": format!("share-files-{s}"),
        "servers": servers,
        "stores": {"chat": chat, "compliance": comp},
        "log_shipping": {"backup_share": logship["id"], "copy_destination": copydest["id"],
                         "backup_interval_minutes": 15, "copy_interval_minutes": 15,
                         "restore_interval_minutes": 15, "restore_mode": "no_recovery",
                         "restore_delay_minutes": 0},
    });
    Pool {
        pool,
        fronts,
        instances,
        shares: vec![logship, copydest, files],
    }
}

/// The manifest of `n` pools with the faults `violations`, as compact JSON with a final newline.
pub fn manifest(n: usize, violations: &[&str]) -> String {
    let width = n.to_string().len().max(4);
    let (mut pools, mut fronts, mut instances, mut shares) = (vec![], vec![], vec![], vec![]);
    for k in 1..=n {
        let p = pool(k, width, violations);
        pools.push(p.pool);
        fronts.extend(p.fronts);
        instances.extend(p.instances);
        shares.extend(p.shares);
    }
    let default_pool = pools
        .first()
        .map(|p| p["id"].clone())
        .unwrap_or(Value::Null);
    let m = json!({
        "product": "lync2013",
        "sites": [{"id": "site1", "default_persistent_chat_pool": default_pool}],
        "data_centers": [{"id": "dc1", "site": "site1", "time_zone": TZ},
                         {"id": "dc2", "site": "site1", "time_zone": TZ}],
        "links": [{"between": ["dc1", "dc2"], "class": "high_bandwidth_low_latency"}],
        "front_end_pools": fronts, "sql_instances": instances, "file_shares": shares,
        "persistent_chat_pools": pools,
    });
    m.to_string() + "\n"
}

/// Parses `--violate`: comma-separated letters, `''` for none.
pub fn violations(text: &str) -> Result<Vec<&'static str>, String> {
    let mut found = Vec::new();
    for v in text.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        match VIOLATIONS.iter().find(|k| **k == v) {
            Some(k) => found.push(*k),
            None => {
                return Err(format!(
                    "unknown violation `{v}`; choose from {}",
                    VIOLATIONS.join(", ")
                ));
            }
        }
    }
    Ok(found)
}

pub fn run(args: Vec<String>) -> Result<(), String> {
    let mut n = None;
    let mut violate = "e,f".to_string();
    let mut output = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--violate" => violate = args.next().unwrap_or_default(),
            "-o" => output = args.next(),
            other => {
                n = Some(
                    other
                        .parse::<usize>()
                        .map_err(|_| format!("not a number of pools: `{other}`"))?,
                )
            }
        }
    }
    let n = n.ok_or("usage: cargo xtask gen N [--violate LETTERS] [-o FILE]")?;
    let text = manifest(n, &violations(&violate)?);
    match output {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| format!("cannot write `{path}`: {e}"))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(text: &str, collection: &str) -> usize {
        let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        value[collection].as_array().map_or(0, Vec::len)
    }

    #[test]
    fn each_pool_is_complete() {
        let text = manifest(3, &[]);
        assert_eq!(count(&text, "persistent_chat_pools"), 3);
        assert_eq!(count(&text, "front_end_pools"), 6);
        assert_eq!(count(&text, "sql_instances"), 33);
        assert_eq!(count(&text, "file_shares"), 9);
        assert_eq!(text, manifest(3, &[]), "the same bytes every time");
    }

    #[test]
    fn faults_change_only_what_they_name() {
        let clean = manifest(1, &[]);
        let e = manifest(1, &["e"]);
        assert_ne!(clean, e);
        assert_eq!(e.matches(OTHER_TZ).count(), 1);
        let f = manifest(1, &["f"]);
        assert_eq!(
            f.matches("\"rights\":\"read\"").count(),
            clean.matches("\"rights\":\"read\"").count() + 1
        );
        assert!(violations("e,zz").is_err());
        assert_eq!(violations(""), Ok(vec![]));
    }
}
