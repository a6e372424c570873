//! `pchat-guard init`: every layout, product and format writes a manifest that checks clean
//! and draws; options that cannot make a clean manifest, and existing files, are refused.

use crate::support::{cli, outcome, scratch};

#[test]
fn every_combination_checks_clean_and_draws() {
    let dir = scratch("init-combinations");
    for layout in ["high-bandwidth", "low-bandwidth"] {
        for product in ["lync2013", "skype2015"] {
            for format in ["yaml", "json"] {
                let file = dir.join(format!("{layout}-{product}.{format}"));
                let _ = std::fs::remove_file(&file);
                let path = file.to_string_lossy().into_owned();
                let (code, _, stderr) = outcome(&cli(&[
                    "init",
                    &path,
                    "--layout",
                    layout,
                    "--product",
                    product,
                    "--format",
                    format,
                ]));
                assert_eq!(code, 0, "{layout} {product} {format}: {stderr}");
                assert!(stderr.contains("it checks clean"), "{stderr}");
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                assert!(
                    text.contains(&format!("\"{product}\""))
                        || text.contains(&format!("product: {product}"))
                );
                if format == "yaml" {
                    assert!(
                        text.starts_with("# yaml-language-server: $schema="),
                        "{layout} {product}"
                    );
                    assert!(
                        text.contains("\n$schema: ") && text.matches("\n# ").count() > 10,
                        "comments"
                    );
                } else {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                    assert!(
                        v["$schema"].is_string()
                            && v["persistent_chat_pools"][0]["servers"]
                                .as_array()
                                .map(Vec::len)
                                == Some(8)
                    );
                }
                // Checked independently of init's own check, and drawn.
                let (code, stdout, stderr) = outcome(&cli(&["check", &path]));
                assert_eq!(code, 0, "{path}: {stdout}{stderr}");
                assert!(stdout.contains("no findings"), "{stdout}");
                let (code, svg, stderr) = outcome(&cli(&["diagram", &path]));
                assert_eq!(code, 0, "{stderr}");
                let active = svg.matches(r#"class="server active""#).count();
                assert_eq!(active, 4, "{layout}: 4 active servers");
                let link = if layout == "high-bandwidth" {
                    "high bandwidth"
                } else {
                    "low bandwidth"
                };
                assert!(svg.contains(link));
            }
        }
    }
}

#[test]
fn options_name_the_site_domain_and_data_centers() {
    let dir = scratch("init-options");
    let file = dir.join("acme.yaml");
    let _ = std::fs::remove_file(&file);
    let path = file.to_string_lossy().into_owned();
    let (code, _, stderr) = outcome(&cli(&[
        "init",
        &path,
        "--layout",
        "low-bandwidth",
        "--name",
        "ACME: HQ # pool",
        "--site",
        "site-par",
        "--domain",
        "acme.example",
        "--primary-dc",
        "par-1",
        "--backup-dc",
        "lon_1",
        "--primary-time-zone",
        "Europe/Paris",
        "--backup-time-zone",
        "Europe/London",
        "--schema-ref",
        "../schemas/topology.schema.json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    for expected in [
        "name: \"ACME: HQ # pool\"",
        "id: site-par",
        "id: par-1",
        "id: lon_1",
        "time_zone: Europe/London",
        "fqdn: pchat01-lon-1.acme.example",
        "next_hop: fe-par-1",
        "$schema: ../schemas/topology.schema.json",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    let (code, stdout, _) = outcome(&cli(&["check", "--format", "json", &path]));
    assert_eq!(code, 0, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    assert_eq!(report["summary"]["errors"], 0);

    // `-` writes to standard output.
    let (code, stdout, _) = outcome(&cli(&["init", "-", "--format", "json"]));
    assert_eq!(code, 0);
    assert!(stdout.trim_start().starts_with('{'));
}

#[test]
fn existing_files_and_impossible_options_are_refused() {
    let dir = scratch("init-refusals");
    let file = dir.join("topology.yaml");
    std::fs::write(&file, "mine").unwrap_or_default();
    let path = file.to_string_lossy().into_owned();
    let (code, _, stderr) = outcome(&cli(&["init", &path]));
    assert_eq!(code, 2);
    assert!(stderr.contains("exists; use --force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap_or_default(), "mine");
    let (code, _, stderr) = outcome(&cli(&["init", &path, "--force"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("persistent_chat_pools:")
    );

    // High bandwidth puts active servers in both data centers: one time zone (F7).
    let (code, _, stderr) = outcome(&cli(&["init", "-", "--backup-time-zone", "Europe/London"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("(F7)") && stderr.contains("--layout low-bandwidth"),
        "{stderr}"
    );
    // Names the schema refuses: the findings, not a broken file.
    let (code, stdout, stderr) = outcome(&cli(&["init", "-", "--domain", "bad domain"]));
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("does not check clean")
            && stderr.contains("PCG-SCHEMA-FORMAT")
            && stderr.contains("more"),
        "{stderr}"
    );
    let (code, _, stderr) = outcome(&cli(&[
        "init",
        "-",
        "--primary-dc",
        "x",
        "--backup-dc",
        "x",
    ]));
    assert_eq!(code, 2, "{stderr}");
}
