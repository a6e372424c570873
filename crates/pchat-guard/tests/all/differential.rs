//! Differential property test: topologies generated from the schema's shapes (several pools
//! and sites, servers, store roles, shares, log shipping, waivers; valid and broken, with
//! dangling references and wrong values), written as JSON or as block YAML, give byte-identical
//! reports natively and through the WebAssembly module. 1,000 cases per run; proptest shrinks a
//! failure to a small topology.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use pchat_guard_engine::{CheckRequest, InputFormat, Response};

use crate::support::{native_report, session};

/// An id from a small pool, so that references sometimes match and sometimes dangle.
fn id(prefix: &'static str, n: usize) -> impl Strategy<Value = String> {
    (0..n).prop_map(move |i| format!("{prefix}-{i}"))
}

fn sql_instance() -> impl Strategy<Value = Value> {
    (
        id("sql", 8),
        id("dc", 3),
        prop::sample::select(vec!["2008R2", "2012", "2014", "2016"]),
        prop::sample::select(vec!["standard", "enterprise", "express"]),
        prop::sample::select(vec![32u64, 64]),
        prop::option::of(prop::sample::select(vec!["mirroring", "clustering", "alwayson"])),
        prop::collection::vec(prop::sample::select(vec!["mgc", "mgccomp", "rtc"]), 0..3),
    )
        .prop_map(|(id, dc, version, edition, bitness, availability, databases)| {
            let mut v = json!({
                "id": id, "host": format!("{id}.contoso.com"), "data_center": dc,
                "version": version, "edition": edition, "bitness": bitness, "databases": databases,
            });
            if let (Some(a), Some(map)) = (availability, v.as_object_mut()) {
                map.insert("availability".to_string(), json!(a));
            }
            v
        })
}

fn share() -> impl Strategy<Value = Value> {
    (
        id("share", 4),
        id("dc", 3),
        prop::sample::select(vec!["log_shipping", "log_copy_destination", "file_store"]),
        any::<bool>(),
        prop::collection::vec((id("sql", 8), prop::sample::select(vec!["read", "read_write"])), 0..4),
    )
        .prop_map(|(id, dc, purpose, role, access)| {
            json!({
                "id": id, "unc": format!("\\\\{id}.contoso.com\\{id}"), "host": format!("{id}.contoso.com"),
                "data_center": dc, "purpose": purpose, "file_store_role": role,
                "access": access.into_iter().map(|(p, r)| json!({"principal": p, "rights": r})).collect::<Vec<_>>(),
            })
        })
}

fn store() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            prop::sample::select(vec![
                "primary",
                "mirror",
                "witness",
                "backup",
                "backup_mirror",
                "backup_witness",
            ]),
            id("sql", 8),
        ),
        0..6,
    )
    .prop_map(|roles| {
        let mut map = serde_json::Map::new();
        for (role, sql) in roles {
            map.insert(role.to_string(), json!(sql));
        }
        Value::Object(map)
    })
}

fn pool(index: usize) -> impl Strategy<Value = Value> {
    (
        prop::collection::vec((id("dc", 3), any::<bool>()), 1..10),
        id("fe", 3),
        prop::sample::select(vec!["normal", "failed_over"]),
        any::<bool>(),
        any::<bool>(),
        store(),
        prop::option::of(store()),
        prop::option::of((id("share", 4), id("share", 4), 0u64..120)),
        prop::option::of(id("share", 4)),
    )
        .prop_map(move |(servers, next_hop, state, compliance, dr, chat, comp, shipping, file_store)| {
            let mut v = json!({
                "id": format!("pool-{index}"), "fqdn": format!("pchat{index}.contoso.com"), "site": "site-0",
                "pool_type": "multiple_computer", "next_hop": next_hop, "state": state,
                "compliance": compliance, "disaster_recovery": dr,
                "servers": servers.into_iter().enumerate().map(|(i, (dc, active))| json!({
                    "fqdn": format!("p{index}s{i}.contoso.com"), "data_center": dc, "active": active,
                })).collect::<Vec<_>>(),
                "stores": {"chat": chat},
            });
            if let Some(map) = v.as_object_mut() {
                if let Some(comp) = comp {
                    map.insert("stores".to_string(), json!({"chat": map["stores"]["chat"].clone(), "compliance": comp}));
                }
                if let Some((backup, copy, minutes)) = shipping {
                    map.insert("log_shipping".to_string(), json!({
                        "backup_share": backup, "copy_destination": copy,
                        "backup_interval_minutes": minutes, "restore_mode": "no_recovery",
                    }));
                }
                if let Some(fs) = file_store {
                    map.insert("file_store".to_string(), json!(fs));
                }
            }
            v
        })
}

fn waiver() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "PCHAT-HA-001",
            "PCHAT-POOL-001",
            "PCHAT-DR-004",
            "PCHAT-SQL-001",
            "NOT-A-RULE",
        ]),
        prop::sample::select(vec![
            "pool-0",
            "/persistent_chat_pools/0",
            "/sql_instances/1",
            "sql-3",
            "nothing",
        ]),
        prop::option::of(prop::sample::select(vec![
            "2026-01-01",
            "2026-11-26",
            "2030-02-28",
            "2026-02-30",
        ])),
    )
        .prop_map(|(rule, target, expires)| {
            let mut v = json!({"rule": rule, "target": target, "reason": "accepted for the test"});
            if let (Some(e), Some(map)) = (expires, v.as_object_mut()) {
                map.insert("expires".to_string(), json!(e));
            }
            v
        })
}

fn topology() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["lync2013", "skype2015", "ocs2007"]),
        prop::collection::vec((prop::sample::select(vec!["UTC", "Europe/Paris", "America/New_York"]), 0..2usize), 1..4),
        prop::collection::vec(prop::sample::select(vec!["high_bandwidth_low_latency", "low_bandwidth_high_latency"]), 0..2),
        prop::collection::vec(id("dc", 3), 1..3),
        prop::collection::vec(sql_instance(), 0..8),
        prop::collection::vec(share(), 0..4),
        (1..4usize).prop_flat_map(|n| (0..n).map(pool).collect::<Vec<_>>()),
        prop::collection::vec(waiver(), 0..3),
    )
        .prop_map(|(product, dcs, links, fe_dcs, sql, shares, pools, waivers)| {
            json!({
                "name": "generated", "product": product,
                "sites": [{"id": "site-0", "default_persistent_chat_pool": "pool-0"}, {"id": "site-1"}],
                "data_centers": dcs.iter().enumerate().map(|(i, (tz, site))| json!({
                    "id": format!("dc-{i}"), "site": format!("site-{site}"), "time_zone": tz,
                })).collect::<Vec<_>>(),
                "links": links.iter().map(|class| json!({"between": ["dc-0", "dc-1"], "class": class})).collect::<Vec<_>>(),
                "front_end_pools": fe_dcs.iter().enumerate().map(|(i, dc)| json!({
                    "id": format!("fe-{i}"), "fqdn": format!("fe{i}.contoso.com"), "edition": "enterprise",
                    "data_center": dc, "servers": [format!("fe{i}a.contoso.com")],
                })).collect::<Vec<_>>(),
                "sql_instances": sql, "file_shares": shares, "persistent_chat_pools": pools,
                "waivers": waivers,
            })
        })
}

/// Block-style YAML of a JSON value (strings double-quoted, which YAML reads as JSON does).
fn yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml(v, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml(v, indent + 2, out);
                    }
                    scalar => out.push_str(&format!("{pad}{k}: {scalar}\n")),
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        yaml(item, indent + 2, &mut inner);
                        // The first key goes on the dash's line.
                        out.push_str(&format!("{pad}- {}", inner.trim_start()));
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        yaml(item, indent + 2, out);
                    }
                    scalar => out.push_str(&format!("{pad}- {scalar}\n")),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{scalar}\n")),
    }
}

#[test]
fn generated_topologies_give_the_same_report_natively_and_in_wasm() {
    let mut runner = TestRunner::new(Config {
        cases: 1000,
        failure_persistence: None,
        ..Config::default()
    });
    // What the cases covered: the codes seen, and how many were YAML and had waivers applied.
    let codes = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let (yaml_cases, waived) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let result = runner.run(&(topology(), any::<bool>()), |(manifest, as_yaml)| {
        let source = if as_yaml {
            let mut text = String::new();
            yaml(&manifest, 0, &mut text);
            text
        } else {
            serde_json::to_string_pretty(&manifest).unwrap_or_default()
        };
        let request = CheckRequest {
            source,
            path: if as_yaml { "gen.yaml" } else { "gen.json" }.to_string(),
            input_format: Some(if as_yaml {
                InputFormat::Yaml
            } else {
                InputFormat::Json
            }),
            today: pchat_guard_engine::waiver::Date::parse("2026-11-26").ok(),
            ..CheckRequest::default()
        };
        let native = native_report(&request);
        codes
            .borrow_mut()
            .extend(native.findings.iter().map(|f| f.code.clone()));
        yaml_cases.set(yaml_cases.get() + usize::from(as_yaml));
        waived.set(
            waived.get()
                + native
                    .findings
                    .iter()
                    .filter(|f| f.waived.is_some())
                    .count(),
        );
        // The generator writes what it means: both forms are read and checked.
        prop_assert!(
            native.checked,
            "not checked: {:?}\n{}",
            native.findings.first(),
            request.source
        );
        let response = session()
            .check(&serde_json::to_vec(&request).unwrap_or_default())
            .map_err(|e| TestCaseError::fail(format!("the module failed: {e}")))?;
        match serde_json::from_str::<Response>(&response) {
            Ok(Response::Ok { report }) => prop_assert_eq!(report, native),
            other => prop_assert!(false, "unexpected response {:?}", other),
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator reaches most rules and codes, both formats and the waivers (a generator that
    // only made clean or unreadable topologies would prove little).
    let codes = codes.into_inner();
    assert!(codes.len() >= 25, "only {} codes: {codes:?}", codes.len());
    assert!(yaml_cases.get() > 300, "{} YAML cases", yaml_cases.get());
    assert!(waived.get() > 20, "{} waived findings", waived.get());
}
