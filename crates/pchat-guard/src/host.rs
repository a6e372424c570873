//! The wasmtime host: loads the module (through a cache of its precompiled form), and runs
//! checks with fuel and memory limits on every call.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::{Config, Engine, Instance, Memory, Module, ResourceLimiter, Store, Trap, TypedFunc};

use pchat_guard_engine::describe::Description;
use pchat_guard_engine::{CheckRequest, DiagramRequest, DiagramResponse};

use crate::module::{ABI_VERSION, digest};

/// Exports the raw ABI requires.
pub const REQUIRED_EXPORTS: [&str; 9] = [
    "memory",
    "pcg_abi_version",
    "pcg_alloc",
    "pcg_free",
    "pcg_check",
    "pcg_diagram",
    "pcg_load_bundle",
    "pcg_describe",
    "pcg_schema",
];

/// Settings of a host.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Where precompiled modules are cached; `None` compiles in memory every time.
    pub cache_dir: Option<PathBuf>,
    /// Fuel (about one unit per WebAssembly instruction) for each call.
    pub fuel: u64,
    /// Largest linear memory the module may grow to, in bytes.
    pub max_memory: usize,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            cache_dir: default_cache_dir(),
            fuel: 50_000_000_000,
            max_memory: 1024 * 1024 * 1024,
        }
    }
}

/// `$PCHAT_GUARD_CACHE_DIR`, else the user's cache directory plus `pchat-guard`.
pub fn default_cache_dir() -> Option<PathBuf> {
    match std::env::var_os("PCHAT_GUARD_CACHE_DIR") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => dirs::cache_dir().map(|d| d.join("pchat-guard")),
    }
}

/// Why the host could not do its part. Every one of these is exit code 3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The module is not one this host can run (imports, missing exports, ABI version).
    #[error("the module cannot be used: {0}")]
    BadModule(String),
    /// A limit stopped the call.
    #[error("the {limit} was reached ({detail})")]
    Limit {
        /// Which limit.
        limit: &'static str,
        /// What the host saw.
        detail: String,
    },
    /// The module trapped or answered something unreadable.
    #[error("the module failed: {0}")]
    Failure(String),
}

/// A compiled module, ready to instantiate.
pub struct Host {
    engine: Engine,
    module: Module,
    options: HostOptions,
    cache_note: Option<String>,
}

impl Host {
    /// Compiles (or loads from the cache) `bytes` and checks it is a module of this ABI.
    pub fn new(bytes: &[u8], options: HostOptions) -> Result<Host, HostError> {
        let mut config = Config::new();
        config.consume_fuel(true);
        // One linear memory: the memory cap applies per memory, so a module with several could
        // use it several times over. The limiter also allows one instance, memory and table.
        config.wasm_multi_memory(false);
        let engine = Engine::new(&config).map_err(|e| HostError::BadModule(format!("{e:#}")))?;
        let (module, cache_note) = load(&engine, bytes, options.cache_dir.as_deref())?;
        if let Some(import) = module.imports().next() {
            return Err(HostError::BadModule(format!(
                "it imports `{}::{}`; a pchat-guard module imports nothing",
                import.module(),
                import.name()
            )));
        }
        for name in REQUIRED_EXPORTS {
            if module.get_export(name).is_none() {
                return Err(HostError::BadModule(format!("it does not export `{name}`")));
            }
        }
        Ok(Host {
            engine,
            module,
            options,
            cache_note,
        })
    }

    /// Why the precompiled cache was not used, when it was refused (a directory another user
    /// owns or others may write): the module was compiled in memory instead.
    pub fn cache_note(&self) -> Option<&str> {
        self.cache_note.as_deref()
    }

    /// A fresh instance with its own store and limits.
    pub fn session(&self) -> Result<Session, HostError> {
        let limits = Limiter {
            max_memory: self.options.max_memory,
            memory_hit: false,
        };
        let mut store = Store::new(&self.engine, limits);
        store.limiter(|l| l);
        store
            .set_fuel(self.options.fuel)
            .map_err(|e| HostError::Failure(format!("{e:#}")))?;
        let instance = Instance::new(&mut store, &self.module, &[])
            .map_err(|e| classify(e, "instantiate", store.data().memory_hit))?;
        let bad = |what: &str, e: wasmtime::Error| {
            HostError::BadModule(format!("export `{what}`: {e:#}"))
        };
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| HostError::BadModule("it does not export `memory`".to_string()))?;
        let abi: TypedFunc<(), u32> = instance
            .get_typed_func(&mut store, "pcg_abi_version")
            .map_err(|e| bad("pcg_abi_version", e))?;
        let version = abi
            .call(&mut store, ())
            .map_err(|e| classify(e, "pcg_abi_version", store.data().memory_hit))?;
        if version != ABI_VERSION {
            return Err(HostError::BadModule(format!(
                "it speaks ABI version {version}; this host speaks version {ABI_VERSION}"
            )));
        }
        Ok(Session {
            alloc: instance
                .get_typed_func(&mut store, "pcg_alloc")
                .map_err(|e| bad("pcg_alloc", e))?,
            free: instance
                .get_typed_func(&mut store, "pcg_free")
                .map_err(|e| bad("pcg_free", e))?,
            check: instance
                .get_typed_func(&mut store, "pcg_check")
                .map_err(|e| bad("pcg_check", e))?,
            // Optional: a module without it gets the text inside the JSON request. One that has
            // it with another type is refused like any wrong export.
            check_text: match instance.get_export(&mut store, "pcg_check_text") {
                None => None,
                Some(_) => Some(
                    instance
                        .get_typed_func(&mut store, "pcg_check_text")
                        .map_err(|e| bad("pcg_check_text", e))?,
                ),
            },
            diagram: instance
                .get_typed_func(&mut store, "pcg_diagram")
                .map_err(|e| bad("pcg_diagram", e))?,
            load_bundle: instance
                .get_typed_func(&mut store, "pcg_load_bundle")
                .map_err(|e| bad("pcg_load_bundle", e))?,
            describe: instance
                .get_typed_func(&mut store, "pcg_describe")
                .map_err(|e| bad("pcg_describe", e))?,
            schema: instance
                .get_typed_func(&mut store, "pcg_schema")
                .map_err(|e| bad("pcg_schema", e))?,
            memory,
            store,
            fuel: self.options.fuel,
        })
    }
}

/// Loads the precompiled module from the cache, or compiles it and stores it there. A
/// precompiled file is only as safe as the file: it is used only from a directory this user owns
/// that no one else may write, and only when its checksum matches the one written beside it
/// (a damaged or swapped file is compiled again; see [`cache_file_is_intact`] for when a file
/// already verified is not checksummed again). The checksum is XXH3-128, not SHA-256: it guards
/// against damage and swaps, not against this user (who could replace the binary as well), and
/// SHA-256 of the 11 MB file took longer than the whole check. Returns the module and, when the
/// directory was refused, why.
fn load(
    engine: &Engine,
    bytes: &[u8],
    cache_dir: Option<&Path>,
) -> Result<(Module, Option<String>), HostError> {
    let compile = || Module::new(engine, bytes).map_err(|e| HostError::BadModule(format!("{e:#}")));
    let Some(dir) = cache_dir else {
        return Ok((compile()?, None));
    };
    if let Err(why) = safe_cache_dir(dir) {
        let note = format!(
            "not using the precompiled cache `{}`: {why}; compiling in memory",
            dir.display()
        );
        return Ok((compile()?, Some(note)));
    }
    let path = dir.join(cache_file_name(engine, bytes));
    let digest_path = path.with_extension("cwasm.xxh3");
    if let Ok(sidecar) = std::fs::read_to_string(&digest_path)
        && cache_file_is_intact(&path, &digest_path, &sidecar)
    {
        // SAFETY: the file is one this host wrote with `Module::serialize` for the same engine
        // settings (the name carries the module digest, the wasmtime version and the engine's
        // compatibility hash), unchanged since (its checksum matches, or it is the very file
        // whose checksum matched before), in a directory only this user can write; wasmtime
        // also checks the header and refuses a foreign file. It is mapped, not read: only the
        // pages the check runs are loaded (reading and copying the 11 MB file cost more page
        // faults than the whole check).
        if let Ok(module) = unsafe { Module::deserialize_file(engine, &path) } {
            return Ok((module, None));
        }
    }
    let module = compile()?;
    // A cache that cannot be written costs the next run a compile, nothing else. The digest goes
    // last: a reader that sees the new file with the old digest compiles again.
    if let Ok(serialized) = module.serialize() {
        let _ = write_atomically(dir, &path, &serialized).and_then(|()| {
            write_atomically(dir, &digest_path, cache_checksum(&serialized).as_bytes())
        });
    }
    Ok((module, None))
}

/// Whether the precompiled file at `path` is the one its sidecar describes.
///
/// The sidecar's first line is the file's checksum. Checksumming the 11 MB file took about a
/// quarter of a whole one-manifest run, so once a file has been verified, its identity (device,
/// inode, size, modification and change times) is added as a second line, and a file with that
/// same identity is not checksummed again: any write to the file or swap of it changes its
/// change time or inode, which no program can set back. As git does for its index, a file
/// changed within the last second is not given an identity yet: a change in the same clock tick
/// as the verification would otherwise go unseen.
fn cache_file_is_intact(path: &Path, digest_path: &Path, sidecar: &str) -> bool {
    let mut lines = sidecar.lines();
    let expected = lines.next().unwrap_or_default().trim();
    let verified = lines.next().and_then(|l| l.strip_prefix("verified "));
    let identity = file_identity(path);
    if let (Some(verified), Some((identity, _))) = (verified, &identity)
        && verified == identity
    {
        return true;
    }
    if mapped_checksum(path).is_none_or(|sum| sum != expected) {
        return false;
    }
    if let Some((identity, true)) = identity {
        // Best effort: a sidecar that cannot be updated costs the next run a checksum.
        let dir = digest_path.parent().unwrap_or(Path::new("."));
        let _ = write_atomically(
            dir,
            digest_path,
            format!("{expected}\nverified {identity}\n").as_bytes(),
        );
    }
    true
}

/// A file's identity as the sidecar records it, and whether the file has been left alone for
/// more than a second (only then may the identity stand in for a checksum).
#[cfg(unix)]
fn file_identity(path: &Path) -> Option<(String, bool)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let settled = i64::try_from(now).is_ok_and(|now| meta.ctime() < now - 1);
    let identity = format!(
        "{} {} {} {}.{:09} {}.{:09}",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec()
    );
    Some((identity, settled))
}

/// Other systems: no change time to rely on, so the file is checksummed on every load.
#[cfg(not(unix))]
fn file_identity(_path: &Path) -> Option<(String, bool)> {
    None
}

/// The checksum of the file at `path`, read through a read-only mapping (no copy).
fn mapped_checksum(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: a private read-only mapping of a file in a directory only this user can write;
    // were the file changed meanwhile, the checksum would differ or wasmtime's own checks refuse.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    Some(cache_checksum(&map))
}

/// The checksum written beside a precompiled file: XXH3-128, as 32 hex digits.
pub fn cache_checksum(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// Whether `dir` may hold precompiled code this process will run: created private when
/// missing; otherwise a directory this user owns that group and others cannot write.
#[cfg(unix)]
fn safe_cache_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if !dir.exists() {
        return std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("it cannot be created ({e})"));
    }
    let meta = std::fs::metadata(dir).map_err(|e| format!("it cannot be read ({e})"))?;
    if !meta.is_dir() {
        return Err("it is not a directory".to_string());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "it belongs to user {}, not to this user ({me})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "others may write it (mode {:o}); `chmod go-w` it",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

/// Other systems: the user's own cache directory is trusted as it is.
#[cfg(not(unix))]
fn safe_cache_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("it cannot be created ({e})"))
}

/// `<module digest>-wasmtime<version>-<engine settings hash>.cwasm`
fn cache_file_name(engine: &Engine, bytes: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let module_digest = digest(bytes);
    format!(
        "{}-wasmtime{}-{:016x}.cwasm",
        module_digest.get(..32).unwrap_or(&module_digest),
        wasmtime_version(),
        hasher.finish()
    )
}

/// The wasmtime version this host was built with.
pub fn wasmtime_version() -> &'static str {
    "48.0.8"
}

/// Writes `path` through a temporary file of this process and a rename, readable by this user
/// only: a reader sees the old file or the new one, never half of one.
fn write_atomically(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&temp)?.write_all(data)?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// The store's resource limits: memory up to `max_memory` (growing past it traps, and the
/// limiter remembers it, so a trap is named by what happened rather than by its text), tables
/// up to a fixed size.
struct Limiter {
    max_memory: usize,
    memory_hit: bool,
}

/// The most table elements an instance may have (the module has a few hundred).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.memory_hit = true;
            return Err(wasmtime::format_err!(
                "the module asked for {desired} bytes of memory, more than the limit of {}",
                self.max_memory
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        1
    }
}

/// Names the limit behind a trap, when one was hit: fuel by the trap code, memory by what the
/// limiter saw.
fn classify(error: wasmtime::Error, during: &str, memory_hit: bool) -> HostError {
    let text = format!("{error:#}");
    if error.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        HostError::Limit {
            limit: "fuel limit",
            detail: format!("{during}: all fuel consumed; raise --max-fuel"),
        }
    } else if memory_hit {
        HostError::Limit {
            limit: "memory limit",
            detail: format!("{during}: {text}; raise --max-memory-mib"),
        }
    } else {
        HostError::Failure(format!("{during}: {text}"))
    }
}

/// One instance of the module, reused for many calls.
pub struct Session {
    store: Store<Limiter>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    check: TypedFunc<(u32, u32), u64>,
    check_text: Option<TypedFunc<(u32, u32, u32, u32), u64>>,
    diagram: TypedFunc<(u32, u32), u64>,
    load_bundle: TypedFunc<(u32, u32), u64>,
    describe: TypedFunc<(), u64>,
    schema: TypedFunc<(), u64>,
    fuel: u64,
}

/// The module's answer to `pcg_load_bundle`.
#[derive(serde::Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Loaded {
    Ok { description: Description },
    Error { message: String },
}

impl Session {
    /// Sends a JSON check request; returns the JSON response.
    pub fn check(&mut self, request: &[u8]) -> Result<String, HostError> {
        let check = self.check.clone();
        self.call_with(check, "pcg_check", request)
    }

    /// Checks one manifest: the request's JSON and, apart from it, the manifest text when the
    /// module exports `pcg_check_text` (the text is then neither escaped here nor unescaped in
    /// the module); the whole request as JSON through `pcg_check` otherwise. Returns the JSON
    /// response. The request's `source` is taken out while the other fields are encoded and put
    /// back before this returns.
    pub fn check_request(&mut self, request: &mut CheckRequest) -> Result<String, HostError> {
        let mut text = std::mem::take(&mut request.source);
        let answer = self.check_apart(request, &mut text, true);
        request.source = text;
        answer
    }

    /// [`Session::check_request`] for a caller that no longer needs the text (`request.source`
    /// is ignored): the host's copy is freed as soon as it is in the module, before the check
    /// runs, so the two copies are never alive while the module builds its tree.
    pub fn check_text(
        &mut self,
        request: &CheckRequest,
        text: String,
    ) -> Result<String, HostError> {
        let mut text = text;
        self.check_apart(request, &mut text, false)
    }

    /// Checks `text` with the other fields of `request`; unless `keep`, `text` is emptied (its
    /// buffer freed) once the module has its copy.
    fn check_apart(
        &mut self,
        request: &CheckRequest,
        text: &mut String,
        keep: bool,
    ) -> Result<String, HostError> {
        let encode =
            |e: serde_json::Error| HostError::Failure(format!("encoding the request: {e}"));
        let mut fields = match serde_json::to_value(request).map_err(encode)? {
            serde_json::Value::Object(fields) => fields,
            _ => return Err(HostError::Failure("a request is not an object".to_string())),
        };
        let Some(check_text) = self.check_text.clone() else {
            fields.insert("source".to_string(), serde_json::Value::from(text.as_str()));
            if !keep {
                *text = String::new();
            }
            let json = serde_json::to_vec(&fields).map_err(encode)?;
            return self.check(&json);
        };
        fields.remove("source");
        let header = serde_json::to_vec(&fields).map_err(encode)?;
        self.refuel()?;
        let header_at = self.put(&header)?;
        let text_at = self.put(text.as_bytes())?;
        if !keep {
            *text = String::new();
        }
        let packed = check_text
            .call(
                &mut self.store,
                (header_at.0, header_at.1, text_at.0, text_at.1),
            )
            .map_err(|e| classify(e, "pcg_check_text", self.store.data().memory_hit))?;
        // The module took the text's buffer over (it became the request's `source`).
        self.free
            .call(&mut self.store, header_at)
            .map_err(|e| classify(e, "pcg_free", self.store.data().memory_hit))?;
        self.take_response(packed)
    }

    /// Copies `input` into a buffer of the module; returns its pointer and length.
    fn put(&mut self, input: &[u8]) -> Result<(u32, u32), HostError> {
        let len = u32::try_from(input.len()).map_err(|_| HostError::Limit {
            limit: "memory limit",
            detail: "the request is larger than 4 GiB".to_string(),
        })?;
        let ptr = self
            .alloc
            .call(&mut self.store, len)
            .map_err(|e| classify(e, "pcg_alloc", self.store.data().memory_hit))?;
        self.memory
            .write(&mut self.store, ptr as usize, input)
            .map_err(|e| HostError::Failure(format!("writing the request: {e}")))?;
        Ok((ptr, len))
    }

    /// Sends a JSON diagram request; returns the module's answer: the report and the SVG, or why
    /// it drew none.
    pub fn diagram(&mut self, request: &DiagramRequest) -> Result<DiagramResponse, HostError> {
        let request = serde_json::to_vec(request)
            .map_err(|e| HostError::Failure(format!("cannot write the diagram request: {e}")))?;
        let diagram = self.diagram.clone();
        let answer = self.call_with(diagram, "pcg_diagram", &request)?;
        serde_json::from_str(&answer).map_err(|e| {
            HostError::Failure(format!("unreadable answer to the diagram request: {e}"))
        })
    }

    /// Loads a compiled pack (IR bundle JSON) into the instance, once for any number of checks;
    /// returns the description of what the instance now runs. A pack the module refuses (another
    /// IR version, not a bundle) is `HostError::Failure` with the module's reason.
    pub fn load_bundle(&mut self, bundle: &[u8]) -> Result<Description, HostError> {
        let load = self.load_bundle.clone();
        let answer = self.call_with(load, "pcg_load_bundle", bundle)?;
        match serde_json::from_str::<Loaded>(&answer) {
            Ok(Loaded::Ok { description }) => Ok(description),
            Ok(Loaded::Error { message }) => Err(HostError::Failure(format!(
                "the module refused the rule pack: {message}"
            ))),
            Err(e) => Err(HostError::Failure(format!(
                "unreadable answer to loading the rule pack: {e}"
            ))),
        }
    }

    /// Asks the module to describe itself: versions, the pack it runs and its rules, the codes.
    pub fn describe(&mut self) -> Result<Description, HostError> {
        let describe = self.describe.clone();
        let json = self.call(describe, "pcg_describe")?;
        serde_json::from_str(&json)
            .map_err(|e| HostError::Failure(format!("unreadable description: {e}")))
    }

    /// The manifest JSON Schema the module validates against.
    pub fn schema(&mut self) -> Result<String, HostError> {
        let schema = self.schema.clone();
        self.call(schema, "pcg_schema")
    }

    /// Calls an export that takes no argument and answers with a packed response.
    fn call(&mut self, func: TypedFunc<(), u64>, name: &str) -> Result<String, HostError> {
        self.refuel()?;
        let packed = func
            .call(&mut self.store, ())
            .map_err(|e| classify(e, name, self.store.data().memory_hit))?;
        self.take_response(packed)
    }

    /// Copies `input` into the module, calls an export on it and frees it; returns the response.
    fn call_with(
        &mut self,
        func: TypedFunc<(u32, u32), u64>,
        name: &str,
        input: &[u8],
    ) -> Result<String, HostError> {
        self.refuel()?;
        let (ptr, len) = self.put(input)?;
        let packed = func
            .call(&mut self.store, (ptr, len))
            .map_err(|e| classify(e, name, self.store.data().memory_hit))?;
        self.free
            .call(&mut self.store, (ptr, len))
            .map_err(|e| classify(e, "pcg_free", self.store.data().memory_hit))?;
        self.take_response(packed)
    }

    /// Every call gets the whole fuel budget.
    fn refuel(&mut self) -> Result<(), HostError> {
        self.store
            .set_fuel(self.fuel)
            .map_err(|e| HostError::Failure(format!("{e:#}")))
    }

    /// Fuel the last call used (about one unit per WebAssembly instruction): a measure of work
    /// that does not depend on the machine, for tests and benchmarks.
    pub fn fuel_used(&self) -> u64 {
        self.fuel
            .saturating_sub(self.store.get_fuel().unwrap_or(self.fuel))
    }

    /// The size of the instance's linear memory in bytes (for diagnostics and tests).
    pub fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// Copies `len` bytes of the instance's memory at `offset` (for diagnostics and tests).
    pub fn read_memory(&self, offset: usize, len: usize) -> Option<Vec<u8>> {
        let mut buffer = vec![0u8; len];
        self.memory.read(&self.store, offset, &mut buffer).ok()?;
        Some(buffer)
    }

    /// Copies out a packed response and frees it in the module.
    fn take_response(&mut self, packed: u64) -> Result<String, HostError> {
        let (ptr, len) = ((packed >> 32) as u32, packed as u32);
        // Never trust the module's pointer: a range outside its memory is refused before any
        // buffer is allocated for it.
        let size = self.memory.data_size(&self.store);
        if (ptr as usize).saturating_add(len as usize) > size {
            return Err(HostError::Failure(format!(
                "the module answered with bytes {ptr}..{} outside its memory of {size} bytes",
                u64::from(ptr) + u64::from(len)
            )));
        }
        let mut buffer = vec![0u8; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut buffer)
            .map_err(|e| HostError::Failure(format!("reading the response: {e}")))?;
        self.free
            .call(&mut self.store, (ptr, len))
            .map_err(|e| classify(e, "pcg_free", self.store.data().memory_hit))?;
        String::from_utf8(buffer)
            .map_err(|_| HostError::Failure("the response is not UTF-8".to_string()))
    }
}
