//! `bench-inproc [--fuel] FILE...` (built with `--features bench`): in-process figures for each
//! manifest, as one JSON line each: pchat-guard's module in the wasmtime host (instantiate from
//! the warm cache, first check on a fresh instance, warm check) and Regorus' interpreter in
//! process on the same manifest with `bench/pchat.rego` (input set and `data.pchat.deny`
//! evaluated). With `--fuel`, only the fuel of each manifest's check (see `fuel_only`).
//!
//! The warm check is timed twice: with the whole request as JSON through `pcg_check`, the module
//! hashing the text (what a host without SHA instructions does: the JS and browser hosts), and as
//! the CLI sends it and reads the answer: the text apart through `pcg_check_text`, hashed by
//! the host with the processor's instructions, the findings' fingerprints left to the host, and
//! the hashing, the reading of the response and the fingerprints all inside the time.

use std::path::Path;
use std::time::{Duration, Instant};

use pchat_guard::host::{Host, HostOptions, Session};
use pchat_guard_engine::report::sha256_hex;
use pchat_guard_engine::{CheckRequest, Response};

/// The median of `runs` timings of `f`, in microseconds.
fn median_us(runs: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<f64, String> {
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times.get(runs / 2).map_or(0.0, |d| d.as_secs_f64() * 1e6))
}

/// One check as the CLI sends it and reads the answer: the text apart, hashed by the host, the
/// findings' fingerprints filled in by the host.
fn check_as_the_cli(session: &mut Session, name: &str, text: &str) -> Result<(), String> {
    let request = CheckRequest {
        source_sha256: Some(sha256_hex(text.as_bytes())),
        path: name.to_string(),
        host_fingerprints: true,
        ..CheckRequest::default()
    };
    let response = session
        .check_text(&request, text.to_string())
        .map_err(|e| e.to_string())?;
    match serde_json::from_str::<Response>(&response) {
        Ok(Response::Ok { mut report }) => {
            report.fill_fingerprints();
            Ok(())
        }
        Ok(Response::Error { message }) => Err(message),
        Err(e) => Err(e.to_string()),
    }
}

/// The file name a manifest is checked under.
fn file_name(file: &str) -> String {
    Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("x.json")
        .to_string()
}

/// `bench-inproc --fuel FILE...`: the fuel of one check of each manifest on a fresh instance, as
/// the CLI process does it, as one JSON line each. No timing: fuel counts the module's work
/// exactly, so this column compares across runs and machines where the times do not.
fn fuel_only(files: &[String], options: impl Fn() -> HostOptions) -> Result<(), String> {
    let host = Host::new(pchat_guard::module::MODULE, options()).map_err(|e| e.to_string())?;
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        let mut session = host.session().map_err(|e| e.to_string())?;
        check_as_the_cli(&mut session, &file_name(file), &text)?;
        println!(
            "{}",
            serde_json::json!({"file": file, "fuel_first_check_cli": session.fuel_used()})
        );
    }
    Ok(())
}

pub fn run(args: Vec<String>) -> Result<(), String> {
    let root = crate::root();
    let cache = root.join("target/bench/cache-inproc");
    let options = || HostOptions {
        cache_dir: Some(cache.clone()),
        ..HostOptions::default()
    };
    if let Some(files) = args.strip_prefix(&["--fuel".to_string()]) {
        return fuel_only(files, options);
    }
    let files = args;
    let module = pchat_guard::module::MODULE;
    // Fills the cache, then loads it again once the file has settled, which records its identity
    // (until then every load checksums the file; see `cache_file_is_intact` in the host).
    Host::new(module, options()).map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(2_500));
    Host::new(module, options()).map_err(|e| e.to_string())?;
    let rego = root.join("bench/pchat.rego");
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
        let name = file_name(&file);
        let request = serde_json::to_vec(&serde_json::json!({
            "path": name,
            "source": text,
        }))
        .map_err(|e| e.to_string())?;
        let small = text.len() < 100_000;
        let (warm_runs, fresh_runs) = if small { (2000, 50) } else { (5, 3) };
        let instantiate = median_us(fresh_runs, || {
            let host = Host::new(module, options()).map_err(|e| e.to_string())?;
            host.session().map(drop).map_err(|e| e.to_string())
        })?;
        let host = Host::new(module, options()).map_err(|e| e.to_string())?;
        let mut first_times = Vec::new();
        for _ in 0..fresh_runs {
            let mut session = host.session().map_err(|e| e.to_string())?;
            let start = Instant::now();
            session.check(&request).map_err(|e| e.to_string())?;
            first_times.push(start.elapsed());
        }
        first_times.sort();
        let first = first_times
            .get(first_times.len() / 2)
            .map_or(0.0, |d| d.as_secs_f64() * 1e6);
        let mut session = host.session().map_err(|e| e.to_string())?;
        let warm = median_us(warm_runs, || {
            session.check(&request).map(drop).map_err(|e| e.to_string())
        })?;
        let warm_cli = median_us(warm_runs, || check_as_the_cli(&mut session, &name, &text))?;
        // The module's work in that check, counted exactly: unlike the times, comparable across
        // runs and machines.
        let fuel_cli = session.fuel_used();
        let mut engine = regorus::Engine::new();
        engine
            .add_policy_from_file(&rego)
            .map_err(|e| format!("{}: {e}", rego.display()))?;
        let rego_input = if file.ends_with(".json") {
            text.clone()
        } else {
            String::new()
        };
        let rego_warm = if rego_input.is_empty() {
            None
        } else {
            Some(median_us(warm_runs, || {
                engine
                    .set_input_json(&rego_input)
                    .map_err(|e| e.to_string())?;
                engine
                    .eval_rule("data.pchat.deny".to_string())
                    .map(drop)
                    .map_err(|e| e.to_string())
            })?)
        };
        println!(
            "{}",
            serde_json::json!({
                "file": file,
                "instantiate_from_cache_us": instantiate,
                "first_check_us": first,
                "warm_check_us": warm,
                "warm_check_cli_us": warm_cli,
                "fuel_cli": fuel_cli,
                "regorus_in_process_us": rego_warm,
            })
        );
    }
    Ok(())
}
