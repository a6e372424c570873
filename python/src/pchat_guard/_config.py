"""The project configuration for `python -m pchat_guard check`: the same `pchat-guard.toml` (or
`[tool.pchat-guard]` in `pyproject.toml`), found the same way, as the `pchat-guard` CLI reads
(docs/configuration.md). The command line overrides it.

The Python CLI runs one module and compiles no rules, so it cannot honour every key. It fails
closed: a key it cannot honour is an error (exit 2), never silently skipped. `extend` and
`policies` are accepted only with `--module FILE`, a module from `pchat-guard compile` that
runs those packs (checked against the packs the module names).
"""

import difflib
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

FILE_NAME = "pchat-guard.toml"

#: Every key of the configuration (the CLI's `config::KEYS`).
KEYS = (
    "extend",
    "policies",
    "waivers",
    "baseline",
    "fail-on",
    "format",
    "output",
    "include",
    "exclude",
    "ignore-manifest-waivers",
    "max-fuel",
    "max-memory-mib",
    "no-cache",
)

#: Keys this CLI cannot honour (it checks files named on the command line, with one module).
UNSUPPORTED = ("waivers", "baseline", "output", "include", "exclude")


class ConfigError(Exception):
    """A configuration that cannot be used: `file:line: message`."""


def _toml():
    try:
        import tomllib  # Python 3.11+

        return tomllib
    except ImportError:
        try:
            import tomli  # type: ignore[import-not-found]

            return tomli
        except ImportError:
            return None


def _has_table(path: Path) -> bool:
    toml = _toml()
    if toml is None:
        return "[tool.pchat-guard]" in path.read_text(encoding="utf-8", errors="replace")
    try:
        data = toml.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data.get("tool"), dict) and "pchat-guard" in data["tool"]


def discover(start: Optional[Path] = None) -> Optional[Path]:
    """The first `pchat-guard.toml`, or `pyproject.toml` with a `[tool.pchat-guard]` table, in
    `start` (default: the current directory) or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        own = folder / FILE_NAME
        if own.is_file():
            return own
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_table(pyproject):
            return pyproject
    return None


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if stripped.startswith(key) and stripped[len(key) :].lstrip().startswith("="):
            return number
    return 1


def load(path: Path) -> Tuple[Dict[str, Any], Path]:
    """The settings of a configuration file and the directory its paths start from."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{shown}: cannot read it: {e.strerror or e}") from e
    toml = _toml()
    if toml is None:
        raise ConfigError(f"{shown}: reading it needs Python 3.11 or the `tomli` package")
    try:
        data = toml.loads(text)
    except ValueError as e:
        raise ConfigError(f"{shown}: {e}") from e
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("pchat-guard")
        if not isinstance(table, dict):
            raise ConfigError(f"{shown}: it has no [tool.pchat-guard] table")
        data = table
    for key in data:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise ConfigError(
                f"{shown}:{_line_of(text, key)}: unknown key `{key}`{hint} (the keys are {', '.join(KEYS)})"
            )
    expected = {
        "fail-on": lambda v: v in ("error", "warning", "info", "never"),
        "format": lambda v: v in ("human", "json", "sarif", "junit", "github", "gitlab", "azure"),
        "ignore-manifest-waivers": lambda v: isinstance(v, bool),
        "no-cache": lambda v: isinstance(v, bool),
        "max-fuel": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "max-memory-mib": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096,
        "extend": lambda v: isinstance(v, list) and all(isinstance(p, str) and p for p in v),
        "policies": lambda v: isinstance(v, list) and all(isinstance(p, str) and p for p in v),
    }
    for key, valid in expected.items():
        if key in data and not valid(data[key]):
            raise ConfigError(f"{shown}:{_line_of(text, key)}: `{key}` cannot be {data[key]!r}")
    return data, path.parent


def apply(args: Any, given: List[str], module_packs: Optional[List[str]] = None) -> None:
    """Fills the `check` options the command line left as None from the configuration in
    `args.config_settings`; raises ConfigError for what this CLI cannot honour."""
    data: Dict[str, Any] = args.config_settings
    shown = str(args.config_path)
    for key in UNSUPPORTED:
        if key in data:
            raise ConfigError(
                f"{shown}: `{key}` is set, and the Python CLI cannot honour it; run the `pchat-guard` CLI, or --no-config"
            )
    if data.get("format") is not None and args.format is None:
        mapping = {"human": "human-lite", "json": "json"}
        if data["format"] not in mapping:
            raise ConfigError(
                f"{shown}: format `{data['format']}`: the Python CLI writes human-lite and json; run the `pchat-guard` CLI for it"
            )
        args.format = mapping[data["format"]]
    packs = [*data.get("policies", []), *data.get("extend", [])]
    if packs and "module" not in given:
        raise ConfigError(
            f"{shown}: `extend`/`policies` name rule packs, which the Python CLI cannot compile: pass `--module FILE` from `pchat-guard compile` (it reads them from this file)"
        )
    if packs and module_packs is not None:
        missing = [p for p in packs if (args.config_dir / p).resolve().name not in module_packs]
        if missing:
            raise ConfigError(
                f"{shown}: the module runs the packs {', '.join(module_packs)}, not {', '.join(missing)}: compile it again with `pchat-guard compile`"
            )
    for key, attr in (
        ("fail-on", "fail_on"),
        ("ignore-manifest-waivers", "ignore_manifest_waivers"),
        ("max-fuel", "max_fuel"),
        ("max-memory-mib", "max_memory_mib"),
        ("no-cache", "no_cache"),
    ):
        if key in data and getattr(args, attr) is None:
            setattr(args, attr, data[key])
