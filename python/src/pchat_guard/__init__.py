"""pchat_guard: the pchat-guard policy checker for Persistent Chat topology manifests, in
Python. It runs the same WebAssembly module as the `pchat-guard` CLI (embedded in this package)
with wasmtime, through the raw ABI of `docs/abi.md` (version 3).

    import pchat_guard
    report = pchat_guard.check(open("topology.yaml").read(), "topology.yaml")
    for finding in report["findings"]:
        print(finding["code"], finding["message"])
"""

from __future__ import annotations

import datetime as _dt
import threading as _threading
from typing import Any, Dict, List, Optional, Union

from ._errors import LimitError, ModuleError, ModuleRefusedError, RequestError
from ._host import (
    ABI_VERSION,
    DEFAULT_FUEL,
    DEFAULT_MAX_MEMORY,
    REQUIRED_EXPORTS,
    Checker,
    default_cache_dir,
)

__version__ = "0.1.0"

__all__ = [
    "ABI_VERSION",
    "DEFAULT_FUEL",
    "DEFAULT_MAX_MEMORY",
    "REQUIRED_EXPORTS",
    "Checker",
    "LimitError",
    "ModuleError",
    "ModuleRefusedError",
    "RequestError",
    "check",
    "default_cache_dir",
    "describe",
    "schema",
    "__version__",
]

_default: Optional[Checker] = None
_default_lock = _threading.Lock()


def default_checker() -> Checker:
    """The process-wide checker behind `check`, `describe` and `schema`: made on first use
    (the module is compiled once, or loaded from the cache), then reused."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Checker()
        return _default


def check(
    text: Union[str, bytes],
    filename: str = "<stdin>",
    today: Union[_dt.date, str, None] = None,
    waivers: Optional[List[Dict[str, Any]]] = None,
    input_format: Optional[str] = None,
    ignore_manifest_waivers: bool = False,
) -> Dict[str, Any]:
    """Checks one manifest text; returns the module's report of it (a FileReport dict).

    `filename` is the name reported back (its extension picks the format unless
    `input_format`, `"json"` or `"yaml"`, is given). `today` (a `datetime.date` or
    `YYYY-MM-DD`) dates the waivers; default today's UTC date. `waivers` are waivers from outside
    the manifest (`{"rule", "target", "reason", "expires"?, "origin"?}`);
    `ignore_manifest_waivers` ignores the manifest's own. A malformed manifest is a report with
    `checked: False`; `ModuleError` (or a subclass) is raised when the module answers an error,
    hits a limit or cannot be used.
    """
    return default_checker().check(
        text,
        filename,
        today=today,
        waivers=waivers,
        input_format=input_format,
        ignore_manifest_waivers=ignore_manifest_waivers,
    )


def describe() -> Dict[str, Any]:
    """What the module says of itself: `abi_version`, `engine_version`,
    `report_format_version`, `pack` (`name`, `version`, `digest`), `rules`, `codes`."""
    return default_checker().describe()


def schema() -> str:
    """The manifest JSON Schema (text) the module validates against."""
    return default_checker().schema()
