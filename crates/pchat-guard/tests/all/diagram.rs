//! The topology diagram (`pchat-guard diagram`, `pcg_diagram`): drawn by the module, the
//! reference layouts as the docs draw them, every finding on an element, bounded size.

use std::path::Path;

use pchat_guard::policy::read_case;
use pchat_guard_engine::{CheckRequest, DiagramRequest, DiagramResponse, FileReport};

use crate::support::{cli, files_in, outcome, relative, root, scratch, session, snapshot_settings};

/// Draws through the module in wasmtime: the report and the SVG (or why none).
fn draw(request: CheckRequest, pool: Option<&str>) -> (FileReport, Result<String, String>) {
    let name = request.path.clone();
    let request = DiagramRequest {
        check: request,
        pool: pool.map(str::to_string),
    };
    match session().diagram(&request) {
        Ok(DiagramResponse::Ok {
            report,
            svg: Some(svg),
            ..
        }) => (report, Ok(svg)),
        Ok(DiagramResponse::Ok {
            report, declined, ..
        }) => (report, Err(declined.unwrap_or_default())),
        other => panic!("{name}: unexpected answer {other:?}"),
    }
}

fn request(path: &Path) -> CheckRequest {
    let mut r = crate::support::request_for(path);
    r.today = pchat_guard_engine::waiver::Date::parse("2026-11-26").ok();
    r
}

/// The `data-findings` fingerprints of every element of a well-formed SVG (parsing fails the
/// test when the SVG is not XML).
fn drawn_fingerprints(svg: &str, name: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut found = Vec::new();
    let mut depth = 0i64;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                depth += 1;
                for a in e.attributes() {
                    let a = a.unwrap_or_else(|err| panic!("{name}: bad attribute: {err}"));
                    if a.key.as_ref() == b"data-findings" {
                        let value = String::from_utf8_lossy(&a.value).into_owned();
                        found.extend(value.split(' ').map(str::to_string));
                    }
                }
            }
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{name}: the SVG is not well-formed XML: {e}"),
        }
    }
    assert_eq!(depth, 0, "{name}: unbalanced elements");
    found
}

#[test]
fn reference_and_broken_topologies_as_drawn() {
    let settings = snapshot_settings();
    for (file, snapshot) in [
        (
            "examples/topologies/stretched-high-bandwidth.yaml",
            "diagram-high-bandwidth",
        ),
        (
            "examples/topologies/stretched-low-bandwidth.yaml",
            "diagram-low-bandwidth",
        ),
        (
            "tests/fixtures/manifests/dangling-ref-sql.json",
            "diagram-dangling-ref-sql",
        ),
    ] {
        let (_, svg) = draw(request(&root().join(file)), None);
        let svg = svg.unwrap_or_else(|why| panic!("{file}: not drawn: {why}"));
        settings.bind(|| insta::assert_snapshot!(snapshot, svg));
    }
}

#[test]
fn the_reference_layouts_show_what_the_figures_show() {
    let (_, svg) = draw(
        request(&root().join("examples/topologies/stretched-high-bandwidth.yaml")),
        None,
    );
    let svg = svg.unwrap_or_default();
    // Two data-center columns joined by the link, named by its class.
    assert!(svg.contains("Data center dc-east") && svg.contains("Data center dc-west"));
    assert!(svg.contains("high bandwidth") && svg.contains("low latency"));
    // High bandwidth: 2 active and 2 idle servers in each data center.
    assert_eq!(svg.matches(r#"class="server active""#).count(), 4);
    assert_eq!(svg.matches(r#"class="server idle""#).count(), 4);
    // Every store role of both databases, mirroring and witness lines, log shipping.
    for role in [
        "primary",
        "mirror",
        "witness",
        "backup",
        "backup mirror",
        "backup witness",
    ] {
        assert!(svg.contains(&format!("chat {role}: ")), "chat {role}");
        assert!(
            svg.contains(&format!("compliance {role}: ")),
            "compliance {role}"
        );
    }
    assert_eq!(svg.matches("<title>database mirroring</title>").count(), 4);
    assert_eq!(svg.matches("<title>mirroring witness</title>").count(), 4);
    assert_eq!(svg.matches("<title>log shipping</title>").count(), 1);
    assert!(svg.contains("next hop of pchat-pool"));
    assert!(svg.contains(">no findings<"));

    let (_, low) = draw(
        request(&root().join("examples/topologies/stretched-low-bandwidth.yaml")),
        None,
    );
    let low = low.unwrap_or_default();
    assert!(low.contains("low bandwidth") && low.contains("high latency"));
    // Low bandwidth: the 4 servers of the primary data center active, the other 4 idle.
    assert_eq!(low.matches(r#"class="server active""#).count(), 4);
    assert_eq!(low.matches(r#"class="server idle""#).count(), 4);
}

/// Every finding of every manifest the project ships (fixtures, examples, the pack's 111 policy
/// cases: single and several pools, YAML and JSON, failed over, broken in every way the rules
/// know) is drawn on an element, and each SVG is well-formed XML.
#[test]
fn every_finding_is_drawn_on_an_element() {
    let mut requests: Vec<CheckRequest> = files_in("tests/fixtures/manifests", &["json", "yaml"])
        .iter()
        .chain(&files_in("examples/topologies", &["json", "yaml"]))
        .map(|p| request(p))
        .collect();
    for case in files_in("policies/persistent-chat/tests", &["json", "yaml"]) {
        let read = read_case(&case).unwrap_or_else(|e| panic!("{e}"));
        requests.push(CheckRequest {
            source: read.source,
            path: relative(&case),
            input_format: read.input_format,
            today: read.today,
            ..CheckRequest::default()
        });
    }
    assert!(requests.len() > 130, "{}", requests.len());
    let (mut drawn, mut findings) = (0, 0);
    for r in requests {
        let name = r.path.clone();
        let (report, svg) = draw(r, None);
        let svg = match svg {
            Ok(svg) => svg,
            Err(why) => {
                assert!(
                    !report.checked,
                    "{name}: a checked manifest was not drawn: {why}"
                );
                continue;
            }
        };
        drawn += 1;
        let on_elements = drawn_fingerprints(&svg, &name);
        for f in &report.findings {
            let fp = f.fingerprint.clone().unwrap_or_default();
            assert!(
                on_elements.contains(&fp),
                "{name}: {} at {} is not drawn",
                f.code,
                f.pointer
            );
            findings += 1;
        }
    }
    assert!(
        drawn > 120 && findings > 150,
        "{drawn} drawn, {findings} findings"
    );
}

/// A large topology (40 pools, 480 elements) is drawn one pool at a time: the whole is declined with the pools to pick
/// from, `pool` draws one, and an unknown pool is named.
#[test]
fn large_topologies_are_drawn_one_pool_at_a_time() {
    let manifest = many_pools(40);
    let big = CheckRequest {
        source: manifest.clone(),
        path: "many.json".to_string(),
        ..CheckRequest::default()
    };
    let (report, whole) = draw(big.clone(), None);
    assert!(report.checked);
    let Err(why) = whole else {
        panic!("40 pools are more than the limit, yet they were drawn")
    };
    assert!(
        why.contains("more than the limit of 400") && why.contains("pool-07"),
        "{why}"
    );

    let (_, one) = draw(big.clone(), Some("pool-07"));
    let one = one.unwrap_or_else(|why| panic!("one pool: {why}"));
    assert!(one.contains("Persistent Chat pool pool-07"));
    assert!(!one.contains("Persistent Chat pool pool-08"));
    assert!(one.len() < 64 * 1024, "{} bytes", one.len());

    let (_, none) = draw(big, Some("pool-99"));
    let Err(why) = none else {
        panic!("an unknown pool was drawn")
    };
    assert!(why.contains("no Persistent Chat pool `pool-99`"), "{why}");

    // The CLI: exit 2 with the module's reason and the option to use; then one pool drawn.
    let dir = scratch("diagram-large");
    let path = dir.join("many.json");
    std::fs::write(&path, &manifest).unwrap_or_else(|e| panic!("{e}"));
    let shown = path.to_string_lossy().into_owned();
    let (code, stdout, stderr) = outcome(&cli(&["diagram", &shown]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("--pool") && stderr.contains("pool-01"),
        "{stderr}"
    );
    let svg_path = dir.join("one.svg");
    let (code, _, stderr) = outcome(&cli(&[
        "diagram",
        &shown,
        "--pool",
        "pool-03",
        "-o",
        &svg_path.to_string_lossy(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let svg = std::fs::read_to_string(&svg_path).unwrap_or_default();
    assert!(svg.contains("Persistent Chat pool pool-03"));
}

/// A manifest of `n` pools, each with its own servers and stores (structure only: the drawing
/// does not need the manifest to be clean).
fn many_pools(n: usize) -> String {
    let mut pools = Vec::new();
    let mut sql = Vec::new();
    for i in 1..=n {
        let mut stores = serde_json::Map::new();
        for role in [
            "primary",
            "mirror",
            "witness",
            "backup",
            "backup_mirror",
            "backup_witness",
        ] {
            let id = format!("sql-{i:02}-{}", role.replace('_', "-"));
            sql.push(serde_json::json!({
                "id": id, "host": format!("{id}.contoso.com"),
                "data_center": if role.starts_with("backup") { "dc-b" } else { "dc-a" },
                "version": "2014", "cumulative_update": 6, "edition": "enterprise", "bitness": 64,
                "availability": "mirroring", "mirroring_port": 5022, "databases": ["mgc"],
            }));
            stores.insert(role.to_string(), serde_json::Value::String(id));
        }
        pools.push(serde_json::json!({
            "id": format!("pool-{i:02}"), "fqdn": format!("pool{i:02}.contoso.com"), "site": "site-1",
            "pool_type": "multiple_computer", "next_hop": "fe-a",
            "servers": [
                {"fqdn": format!("p{i:02}a.contoso.com"), "data_center": "dc-a", "active": true},
                {"fqdn": format!("p{i:02}b.contoso.com"), "data_center": "dc-b", "active": false},
            ],
            "stores": {"chat": stores},
        }));
    }
    serde_json::to_string_pretty(&serde_json::json!({
        "name": "many pools", "product": "skype2015",
        "sites": [{"id": "site-1"}],
        "data_centers": [
            {"id": "dc-a", "site": "site-1", "time_zone": "UTC"},
            {"id": "dc-b", "site": "site-1", "time_zone": "UTC"},
        ],
        "front_end_pools": [{"id": "fe-a", "fqdn": "fe-a.contoso.com", "edition": "enterprise", "data_center": "dc-a", "servers": ["fe1.contoso.com"]}],
        "sql_instances": sql,
        "persistent_chat_pools": pools,
    }))
    .unwrap_or_default()
}

#[test]
fn the_cli_writes_the_modules_svg_and_refuses_what_it_cannot_draw() {
    let file = "examples/topologies/stretched-low-bandwidth.yaml";
    let (code, stdout, stderr) = outcome(&cli(&["diagram", file, "--today", "2026-11-26"]));
    assert_eq!(code, 0, "{stderr}");
    let (_, svg) = draw(request(&root().join(file)), None);
    assert_eq!(
        stdout,
        svg.unwrap_or_default(),
        "the CLI prints the module's SVG"
    );

    // A malformed manifest: its parse error, located, and exit 2; nothing on stdout.
    let (code, stdout, stderr) = outcome(&cli(&[
        "diagram",
        "tests/fixtures/manifests/malformed-tab.yaml",
    ]));
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("malformed-tab.yaml:"), "{stderr}");
    // A file that does not exist.
    let (code, _, stderr) = outcome(&cli(&["diagram", "no/such/file.yaml"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("no/such/file.yaml"), "{stderr}");
}

/// The failed-over state is named on the pool, and a waived finding is drawn dashed grey.
#[test]
fn failed_over_and_waived_are_shown() {
    let failed = root().join("policies/persistent-chat/tests");
    let case = files_in(&relative(&failed), &["yaml", "json"])
        .into_iter()
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("failed_over")))
        .unwrap_or_else(|| panic!("no failed-over case"));
    let read = read_case(&case).unwrap_or_else(|e| panic!("{e}"));
    let (_, svg) = draw(
        CheckRequest {
            source: read.source,
            path: relative(&case),
            input_format: read.input_format,
            ..CheckRequest::default()
        },
        None,
    );
    assert!(
        svg.unwrap_or_default().contains("FAILED OVER"),
        "{}",
        case.display()
    );

    let (report, svg) = draw(
        request(&root().join("tests/fixtures/waivers/waived.yaml")),
        None,
    );
    assert!(report.findings.iter().any(|f| f.waived.is_some()));
    let svg = svg.unwrap_or_default();
    assert!(
        svg.contains("(waived)")
            && svg.contains(r##"stroke="#8c959f" stroke-width="2" stroke-dasharray="5 3""##)
    );
}

/// Headless Chromium renders the high-bandwidth reference to PNG (kept under
/// `target/diagram/` for review). Chromium is installed by `.ci/run`; without it this fails.
#[test]
fn chromium_renders_the_diagram() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    assert!(
        Path::new(&chromium).exists(),
        "no Chromium at {chromium}: apt-get install -y chromium (or set CHROMIUM)"
    );
    let out = root().join("target/diagram");
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{e}"));
    for (file, name) in [
        (
            "examples/topologies/stretched-high-bandwidth.yaml",
            "high-bandwidth",
        ),
        (
            "tests/fixtures/manifests/dangling-ref-sql.json",
            "dangling-ref-sql",
        ),
    ] {
        let (_, svg) = draw(request(&root().join(file)), None);
        let svg = svg.unwrap_or_default();
        let svg_path = out.join(format!("{name}.svg"));
        let png = out.join(format!("{name}.png"));
        std::fs::write(&svg_path, &svg).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_file(&png);
        let size = |key: &str| -> String {
            let at = svg.find(&format!(r#"{key}=""#)).unwrap_or(0) + key.len() + 2;
            svg[at..].chars().take_while(char::is_ascii_digit).collect()
        };
        let profile = scratch("chromium-profile");
        let status = std::process::Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                &format!("--user-data-dir={}", profile.display()),
                &format!("--window-size={},{}", size("width"), size("height")),
                &format!("--screenshot={}", png.display()),
                &format!("file://{}", svg_path.display()),
            ])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {chromium}: {e}"));
        let bytes = std::fs::read(&png).unwrap_or_else(|e| {
            panic!(
                "{name}: no screenshot ({e}): {}",
                String::from_utf8_lossy(&status.stderr)
            )
        });
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
            "{name}: {} bytes",
            bytes.len()
        );
    }
}

/// The pictures in the docs are what the module draws today.
#[test]
fn the_docs_pictures_are_current() {
    for (file, image) in [
        (
            "examples/topologies/stretched-high-bandwidth.yaml",
            "docs/images/stretched-high-bandwidth.svg",
        ),
        (
            "tests/fixtures/manifests/dangling-ref-sql.json",
            "docs/images/dangling-ref-sql.svg",
        ),
    ] {
        let (code, svg, stderr) = outcome(&cli(&["diagram", "--today", "2026-11-26", file]));
        assert_eq!(code, 0, "{stderr}");
        let shipped = std::fs::read_to_string(root().join(image)).unwrap_or_default();
        assert!(
            shipped == svg,
            "{image} is out of date: pchat-guard diagram {file} -o {image}"
        );
    }
}
