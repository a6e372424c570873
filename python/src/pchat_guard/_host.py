"""The wasmtime host: loads the module (through a cache of its compiled form) and runs checks
with fuel and memory limits on every call. A port of `crates/pchat-guard/src/host.rs`; the ABI
is `docs/abi.md` (version 3)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import stat
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import wasmtime

from ._errors import LimitError, ModuleError, ModuleRefusedError, RequestError

#: The ABI version this host speaks.
ABI_VERSION = 3

#: Exports the raw ABI requires.
REQUIRED_EXPORTS = (
    "memory",
    "pcg_abi_version",
    "pcg_alloc",
    "pcg_free",
    "pcg_check",
    "pcg_diagram",
    "pcg_load_bundle",
    "pcg_describe",
    "pcg_schema",
)

#: Fuel (about one unit per WebAssembly instruction) for each call: the CLI's default.
DEFAULT_FUEL = 50_000_000_000

#: Largest linear memory the module may grow to, in bytes: the CLI's default (1024 MiB).
DEFAULT_MAX_MEMORY = 1024 * 1024 * 1024

_MASK64 = 0xFFFFFFFFFFFFFFFF
_MASK32 = 0xFFFFFFFF

PathLike = Union[str, "os.PathLike[str]"]


def wasmtime_version() -> str:
    """The version of the `wasmtime` Python package in use."""
    try:
        from importlib.metadata import version

        return version("wasmtime")
    except Exception:  # pragma: no cover - metadata missing (vendored copy)
        return "unknown"


def default_cache_dir() -> Optional[Path]:
    """`$PCHAT_GUARD_CACHE_DIR`, else the user's cache directory plus `pchat-guard` (the CLI's
    rule, so both hosts share one directory; their file names differ)."""
    env = os.environ.get("PCHAT_GUARD_CACHE_DIR")
    if env:
        return Path(env)
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        root = Path(base) if base else None
    elif sys.platform == "darwin":
        root = home / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".cache"
    return root / "pchat-guard" if root is not None else None


def module_bytes() -> bytes:
    """The module embedded in this package (`pchat_guard/pchat_guard.wasm`)."""
    try:
        from importlib.resources import files

        return files(__package__).joinpath("pchat_guard.wasm").read_bytes()
    except (FileNotFoundError, OSError) as e:
        raise ModuleRefusedError(
            "the package holds no module (pchat_guard/pchat_guard.wasm): build the wheel with "
            f"python/build.sh ({e})"
        ) from None


def _engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    config.consume_fuel = True
    return wasmtime.Engine(config)


def _classify(error: Exception, during: str, memory_used: Optional[int], max_memory: int) -> ModuleError:
    """Names the limit behind a trap, when one was hit.

    wasmtime-py cannot make a refused `memory.grow` trap (the CLI sets `trap_on_grow_failure`):
    the grow answers -1, the module's allocator fails and the module aborts with `unreachable`.
    So an `unreachable` trap once the memory has grown to at least a quarter of the cap is the
    memory limit; the module has no other abort (panics are denied in its code)."""
    text = str(error)
    code = getattr(error, "trap_code", None) if isinstance(error, wasmtime.Trap) else None
    if code == wasmtime.TrapCode.OUT_OF_FUEL:
        return LimitError("fuel limit", f"{during}: all fuel consumed; raise the fuel")
    near_cap = memory_used is not None and memory_used * 4 >= max_memory
    if code == wasmtime.TrapCode.ALLOCATION_TOO_LARGE or (
        code == wasmtime.TrapCode.UNREACHABLE and near_cap
    ):
        used = f"{memory_used / 1048576:.1f} MiB" if memory_used is not None else "?"
        return LimitError(
            "memory limit",
            f"{during}: the module ran out of memory at {used} of "
            f"{max_memory / 1048576:.0f} MiB; raise max_memory",
        )
    lowered = text.lower()
    if "memory" in lowered and ("grow" in lowered or "limit" in lowered):
        first = text.strip().splitlines()[0] if text.strip() else text
        return LimitError("memory limit", f"{during}: {first}; raise max_memory")
    return ModuleError(f"the module failed: {during}: {text}")


class Checker:
    """One compiled module and one instance of it, reused for any number of calls.

    `module` is the module's bytes or a path to a `.wasm` file (default: the module embedded in
    the package). `fuel` is given afresh to every call; `max_memory` caps the module's linear
    memory, in bytes. The compiled module is cached in `cache_dir` (default
    `$PCHAT_GUARD_CACHE_DIR`, else the platform cache directory plus `pchat-guard`), unless
    `cache` is false; any cache problem falls back to compiling in memory. The cache is used only
    from a directory this user owns that group and others cannot write (created 0o700 when
    missing; POSIX), and a cached file only when its SHA-256 matches the digest written beside
    it; a refused directory leaves a one-line reason in `cache_note`.

    The module is checked on load (no imports, the ABI's exports, ABI version 3): a module that
    is not usable raises `ModuleRefusedError`. Calls are serialised by a lock; a trap (a limit)
    leaves the instance unusable, so the next call makes a new one.
    """

    def __init__(
        self,
        module: Union[bytes, bytearray, PathLike, None] = None,
        *,
        fuel: int = DEFAULT_FUEL,
        max_memory: int = DEFAULT_MAX_MEMORY,
        cache: bool = True,
        cache_dir: Optional[PathLike] = None,
    ) -> None:
        if isinstance(module, (bytes, bytearray)):
            data = bytes(module)
        elif module is None:
            data = module_bytes()
        else:
            data = Path(module).read_bytes()
        if fuel <= 0:
            raise ValueError("fuel must be positive")
        if max_memory <= 0:
            raise ValueError("max_memory must be positive")
        self.fuel = int(fuel)
        self.max_memory = int(max_memory)
        #: SHA-256 (hex) of the module's bytes.
        self.module_sha256 = hashlib.sha256(data).hexdigest()
        #: The cache file of the compiled module (None without a cache).
        self.cache_path: Optional[Path] = None
        #: True when the compiled module came from the cache, False when it was compiled.
        self.loaded_from_cache = False
        #: Seconds spent compiling or loading the compiled module.
        self.load_seconds = 0.0
        #: Why the cache directory was refused (another user owns it, others may write it, it
        #: cannot be created), when it was: the module was then compiled in memory. One line.
        self.cache_note: Optional[str] = None
        self._lock = threading.Lock()
        self._engine = _engine()
        directory = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) if cache else None
        self._module = self._load(data, directory)
        self._verify()
        self._session: Optional[_Session] = None
        with self._lock:
            self._session = self._new_session()

    # -- loading ---------------------------------------------------------------------------------

    def _compile(self, data: bytes) -> wasmtime.Module:
        try:
            return wasmtime.Module(self._engine, data)
        except Exception as e:  # WasmtimeError: not WebAssembly, a feature off...
            raise ModuleRefusedError(f"the module cannot be used: {e}") from None

    def _load(self, data: bytes, directory: Optional[Path]) -> wasmtime.Module:
        """The compiled module, from the cache or compiled (and then cached).

        A precompiled module is only as safe as the file: it is used only from a directory this
        user owns that no one else may write (`_safe_cache_dir`), and only when its SHA-256
        matches the digest written beside it (`<name>.sha256`); a damaged or swapped file is
        compiled again and both files rewritten. A refused directory is not used at all: the
        module is compiled in memory and `cache_note` says why. Any other cache problem also
        falls back to compiling in memory."""
        import time

        start = time.perf_counter()
        try:
            if directory is None:
                return self._compile(data)
            try:
                why = _safe_cache_dir(directory)
            except Exception as e:  # a path the OS rejects (a NUL byte...)
                why = f"it cannot be read ({e})"
            if why is not None:
                self.cache_note = (
                    f"not using the precompiled cache `{directory}`: {why}; compiling in memory"
                )
                return self._compile(data)
            arch = platform.machine().lower() or "unknown"
            name = (
                f"{self.module_sha256[:32]}-wasmtime-py{wasmtime_version()}-{sys.platform}-{arch}-fuel.cwasm"
            )
            path = directory / name
            digest_path = directory / (name + ".sha256")
            self.cache_path = path
            if _digest_matches(path, digest_path):
                try:
                    # The file is one this host wrote with `Module.serialize` for the same
                    # wasmtime version and engine settings (its name says so), unchanged since
                    # (its digest matches), in a directory only this user can write (so only
                    # this user could replace it between the digest and the load); wasmtime
                    # also checks the header and refuses a foreign file. `deserialize_file`
                    # maps the file: under 1 ms, where `deserialize` of the bytes takes 15-25.
                    module = wasmtime.Module.deserialize_file(self._engine, str(path))
                    self.loaded_from_cache = True
                    return module
                except Exception:
                    pass
            module = self._compile(data)
            # A cache that cannot be written costs the next run a compile, nothing else. The
            # digest goes last: a reader that sees the new file with the old digest compiles again.
            try:
                serialized = bytes(module.serialize())
                _write_atomically(directory, path, serialized)
                _write_atomically(
                    directory, digest_path, hashlib.sha256(serialized).hexdigest().encode("ascii")
                )
            except Exception:
                pass
            return module
        finally:
            self.load_seconds = time.perf_counter() - start

    def _verify(self) -> None:
        imports = self._module.imports
        if imports:
            first = imports[0]
            raise ModuleRefusedError(
                f"the module cannot be used: it imports `{first.module}::{first.name}`; "
                "a pchat-guard module imports nothing"
            )
        exports = {e.name: e.type for e in self._module.exports}
        for name in REQUIRED_EXPORTS:
            if name not in exports:
                raise ModuleRefusedError(f"the module cannot be used: it does not export `{name}`")
            wanted = wasmtime.MemoryType if name == "memory" else wasmtime.FuncType
            if not isinstance(exports[name], wanted):
                raise ModuleRefusedError(
                    f"the module cannot be used: its export `{name}` is not a "
                    f"{'memory' if name == 'memory' else 'function'}"
                )

    def _new_session(self) -> "_Session":
        return _Session(self._engine, self._module, self.fuel, self.max_memory)

    def _with_session(self, action):
        with self._lock:
            if self._session is None:
                self._session = self._new_session()
            session = self._session
            try:
                return action(session)
            except ModuleError:
                if session.dead:
                    self._session = None
                raise

    # -- the API -------------------------------------------------------------------------------------

    def request(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """Sends a raw check request (a dict, as `docs/abi.md` describes it); returns the
        parsed response, `{"status": "ok", "report": ...}` or `{"status": "error", ...}`."""
        payload = json.dumps(request, ensure_ascii=False).encode("utf-8")
        return self._with_session(lambda s: _parse(s.call_with("pcg_check", payload), "pcg_check"))

    def check(
        self,
        text: Union[str, bytes],
        filename: str = "<stdin>",
        today: Union[_dt.date, str, None] = None,
        waivers: Optional[List[Dict[str, Any]]] = None,
        input_format: Optional[str] = None,
        ignore_manifest_waivers: bool = False,
    ) -> Dict[str, Any]:
        """Checks one manifest; returns the module's report (FileReport) as a dict, keys in the
        module's order. `text` that is bytes and not UTF-8 gets the CLI's `PCG-UNREADABLE`
        report. `today` (a date or `YYYY-MM-DD`) defaults to today's UTC date."""
        from ._report import fill_fingerprints, not_utf8_report

        if isinstance(text, (bytes, bytearray)):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError as e:
                return fill_fingerprints(not_utf8_report(filename, bytes(text), e))
        if not isinstance(text, str):
            raise TypeError("text must be str or bytes")
        if input_format not in (None, "json", "yaml"):
            raise ValueError("input_format must be None, 'json' or 'yaml'")
        request: Dict[str, Any] = {"source": text, "path": filename}
        # Hashed here (OpenSSL uses the processor's SHA instructions), not in the module.
        request["source_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if input_format is not None:
            request["input_format"] = input_format
        request["today"] = _date_text(today)
        if waivers:
            request["waivers"] = list(waivers)
        if ignore_manifest_waivers:
            request["ignore_manifest_waivers"] = True

        def send(session: "_Session") -> Dict[str, Any]:
            if "pcg_check_text" not in session.funcs:
                payload = json.dumps(request, ensure_ascii=False).encode("utf-8")
                return _parse(session.call_with("pcg_check", payload), "pcg_check")
            fields = {k: v for k, v in request.items() if k != "source"}
            header = json.dumps(fields, ensure_ascii=False).encode("utf-8")
            answer = session.call_text(header, text.encode("utf-8"))
            return _parse(answer, "pcg_check_text")

        response = self._with_session(send)
        status = response.get("status") if isinstance(response, dict) else None
        if status == "ok" and isinstance(response.get("report"), dict):
            return response["report"]
        if status == "error":
            raise RequestError(
                f"the module refused the request for `{filename}`: {response.get('message')}"
            )
        raise ModuleError(f"the module failed: unreadable response for `{filename}`")

    def diagram(
        self,
        text: str,
        filename: str = "<stdin>",
        pool: Optional[str] = None,
        today: Union[_dt.date, str, None] = None,
        input_format: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Checks one manifest and draws it: returns `{"report": ..., "svg": "<svg ...>"}`, or
        `{"report": ..., "declined": "why"}` when it cannot be drawn (unreadable, too large for
        one picture: then name a `pool`). The SVG is the CLI's `diagram`, byte for byte."""
        if not isinstance(text, str):
            raise TypeError("text must be str")
        if input_format not in (None, "json", "yaml"):
            raise ValueError("input_format must be None, 'json' or 'yaml'")
        check: Dict[str, Any] = {"source": text, "path": filename, "today": _date_text(today)}
        if input_format is not None:
            check["input_format"] = input_format
        request: Dict[str, Any] = {"check": check}
        if pool is not None:
            request["pool"] = pool
        payload = json.dumps(request).encode("utf-8")
        response = self._with_session(lambda s: _parse(s.call_with("pcg_diagram", payload), "pcg_diagram"))
        status = response.get("status") if isinstance(response, dict) else None
        if status == "ok" and isinstance(response.get("report"), dict):
            return {k: v for k, v in response.items() if k != "status"}
        if status == "error":
            raise RequestError(f"the module refused to draw `{filename}`: {response.get('message')}")
        raise ModuleError(f"the module failed: unreadable response for `{filename}`")

    def describe(self) -> Dict[str, Any]:
        """What the module says of itself: versions, its pack, rules and codes."""
        return self._with_session(lambda s: _parse(s.call("pcg_describe"), "pcg_describe"))

    def schema(self) -> str:
        """The manifest JSON Schema the module validates against (the text the CLI's
        `pchat-guard schema` prints)."""
        return self._with_session(lambda s: s.call("pcg_schema"))

    @property
    def fuel_used(self) -> int:
        """Fuel the last call used (about one unit per WebAssembly instruction)."""
        session = self._session
        return session.fuel_used() if session is not None else 0


def _parse(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise ModuleError(f"the module failed: unreadable answer of `{name}`: {e}") from None


def _date_text(today: Union[_dt.date, str, None]) -> str:
    if today is None:
        return _dt.datetime.now(_dt.timezone.utc).date().isoformat()
    if isinstance(today, _dt.datetime):
        return today.date().isoformat()
    if isinstance(today, _dt.date):
        return today.isoformat()
    if isinstance(today, str):
        return today  # the module checks it (an error response names the problem)
    raise TypeError("today must be a datetime.date, a YYYY-MM-DD string or None")


def _os_reason(error: OSError) -> str:
    """An OS error as the CLI words it: `Permission denied (os error 13)`."""
    if error.errno is not None and error.strerror:
        return f"{error.strerror} (os error {error.errno})"
    return str(error)


def _make_private_dirs(directory: Path) -> None:
    """Creates `directory` and any missing parent with mode 0o700 (less the umask), as the CLI
    does (`os.makedirs` would give the parents the default mode)."""
    parent = directory.parent
    if parent != directory and not parent.exists():
        _make_private_dirs(parent)
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        if not directory.is_dir():
            raise


def _safe_cache_dir(directory: Path) -> Optional[str]:
    """None when `directory` may hold precompiled code this process will run, else why not (the
    CLI's wording). A missing directory is created private (0o700). On POSIX systems an existing
    one must be a directory this user owns that group and others cannot write; elsewhere the
    user's own cache directory is trusted as it is."""
    if not hasattr(os, "geteuid"):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            return f"it cannot be created ({_os_reason(e)})"
        return None
    try:
        meta = os.stat(directory)
    except OSError:
        # Missing (or not reachable: the CLI then tries to create it too).
        try:
            _make_private_dirs(directory)
        except OSError as e:
            return f"it cannot be created ({_os_reason(e)})"
        # Checked like an existing one below: someone may have made it first.
        try:
            meta = os.stat(directory)
        except OSError as e:
            return f"it cannot be read ({_os_reason(e)})"
    if not stat.S_ISDIR(meta.st_mode):
        return "it is not a directory"
    me = os.geteuid()
    if meta.st_uid != me:
        return f"it belongs to user {meta.st_uid}, not to this user ({me})"
    if meta.st_mode & 0o022:
        return f"others may write it (mode {stat.S_IMODE(meta.st_mode) & 0o777:o}); `chmod go-w` it"
    return None


#: The longest digest file read (a SHA-256 in hex is 64 characters).
_DIGEST_READ_LIMIT = 1024


def _digest_matches(path: Path, digest_path: Path) -> bool:
    """Whether the cache file's SHA-256 is the digest written beside it; False when either file
    is missing or unreadable or they differ."""
    try:
        with open(digest_path, "rb") as f:
            expected = f.read(_DIGEST_READ_LIMIT).decode("ascii").strip()
        if len(expected) != 64:
            return False
        hasher = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                hasher.update(chunk)
    except (OSError, ValueError):
        return False
    return hasher.hexdigest() == expected


def _write_atomically(directory: Path, path: Path, data: bytes) -> None:
    """Writes `path` through a temporary file in `directory` and a rename, readable by this user
    only (mode 0o600): a reader sees the old file or the new one, never half of one."""
    # mkstemp creates the file with mode 0o600, opened exclusively.
    fd, temp = tempfile.mkstemp(dir=str(directory), prefix=f".{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


class _Session:
    """One instance of the module in its own store."""

    def __init__(self, engine: wasmtime.Engine, module: wasmtime.Module, fuel: int, max_memory: int):
        self.fuel = fuel
        self.max_memory = max_memory
        self.dead = False
        self.memory: Optional[wasmtime.Memory] = None
        store = wasmtime.Store(engine)
        store.set_limits(memory_size=max_memory)
        store.set_fuel(fuel)
        self.store = store
        try:
            instance = wasmtime.Instance(store, module, [])
        except Exception as e:
            self.dead = True
            raise self._classify(e, "instantiate") from None
        exports = instance.exports(store)
        self.memory = exports["memory"]
        self.funcs = {name: exports[name] for name in REQUIRED_EXPORTS if name != "memory"}
        # Optional (docs/abi.md): the manifest text in a buffer of its own, not escaped in JSON.
        try:
            self.funcs["pcg_check_text"] = exports["pcg_check_text"]
        except KeyError:
            pass
        version = self._invoke("pcg_abi_version")
        if version != ABI_VERSION:
            self.dead = True
            raise ModuleRefusedError(
                f"the module cannot be used: it speaks ABI version {version}; "
                f"this host speaks version {ABI_VERSION}"
            )

    def _classify(self, error: Exception, during: str) -> ModuleError:
        used = None
        if self.memory is not None:
            try:
                used = self.memory.data_len(self.store)
            except Exception:
                used = None
        return _classify(error, during, used, self.max_memory)

    def _invoke(self, name: str, *args: int) -> Any:
        try:
            return self.funcs[name](self.store, *args)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
            self.dead = True
            raise self._classify(e, name) from None

    def _refuel(self) -> None:
        if self.dead:
            raise ModuleError("the module failed: the instance trapped before")
        self.store.set_fuel(self.fuel)

    def call(self, name: str) -> str:
        self._refuel()
        packed = self._invoke(name)
        return self._take_response(packed)

    def call_with(self, name: str, data: bytes) -> str:
        self._refuel()
        length = len(data)
        if length > _MASK32:
            raise LimitError("memory limit", "the request is larger than 4 GiB")
        ptr = self._invoke("pcg_alloc", length) & _MASK32
        try:
            self.memory.write(self.store, data, ptr)
        except Exception as e:
            self.dead = True
            raise ModuleError(f"the module failed: writing the request: {e}") from None
        packed = self._invoke(name, ptr, length)
        self._invoke("pcg_free", ptr, length)
        return self._take_response(packed)

    def call_text(self, header: bytes, text: bytes) -> str:
        """`pcg_check_text`: the request without `source` and the text, each in its buffer; the
        module keeps the text's buffer."""
        self._refuel()
        if max(len(header), len(text)) > _MASK32:
            raise LimitError("memory limit", "the request is larger than 4 GiB")
        buffers = []
        for data in (header, text):
            ptr = self._invoke("pcg_alloc", len(data)) & _MASK32
            try:
                self.memory.write(self.store, data, ptr)
            except Exception as e:
                self.dead = True
                raise ModuleError(f"the module failed: writing the request: {e}") from None
            buffers.append((ptr, len(data)))
        (ptr, length), (text_ptr, text_length) = buffers
        packed = self._invoke("pcg_check_text", ptr, length, text_ptr, text_length)
        # The module took the text's buffer over (it became the request's `source`).
        self._invoke("pcg_free", ptr, length)
        return self._take_response(packed)

    def _take_response(self, packed: int) -> str:
        packed &= _MASK64
        ptr, length = packed >> 32, packed & _MASK32
        try:
            data = bytes(self.memory.read(self.store, ptr, ptr + length))
        except Exception as e:
            self.dead = True
            raise ModuleError(f"the module failed: reading the response: {e}") from None
        if len(data) != length:
            self.dead = True
            raise ModuleError("the module failed: the response lies outside its memory")
        self._invoke("pcg_free", ptr, length)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ModuleError("the module failed: the response is not UTF-8") from None

    def fuel_used(self) -> int:
        try:
            return max(0, self.fuel - self.store.get_fuel())
        except Exception:
            return self.fuel
