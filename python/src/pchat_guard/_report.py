"""Reports the host makes itself (unreadable inputs), fingerprints, and the run report of
`python -m pchat_guard check`, shaped as the CLI's (`schemas/report.schema.json`)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, List, Optional

#: Version of the report format of one file.
REPORT_FORMAT_VERSION = 1
#: Version of the run report.
RUN_REPORT_VERSION = 1

_START = {"line": 1, "column": 1, "offset": 0}


def normalize_path(path: str) -> str:
    """A path as reports, fingerprints and waiver globs see it: forward slashes, no leading
    `./`."""
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def fingerprint(path: str, finding: Dict[str, Any]) -> str:
    """The first 32 hex digits of the SHA-256 of code, path, pointer and message, NUL-separated."""
    text = "\0".join(
        [finding["code"], normalize_path(path), finding["pointer"], finding["message"]]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def fill_fingerprints(report: Dict[str, Any]) -> Dict[str, Any]:
    """Gives every finding without one its fingerprint (the module's own findings have one)."""
    for finding in report.get("findings", []):
        if "fingerprint" not in finding:
            finding["fingerprint"] = fingerprint(report["path"], finding)
    return report


def infer_format(path: str) -> str:
    """The input format of a file that could not be read, from its name alone."""
    lower = path.lower()
    if lower.endswith(".yaml") or lower.endswith(".yml"):
        return "yaml"
    if lower.endswith(".json"):
        return "json"
    return "yaml"


def not_checked(
    code: str, path: str, message: str, help: Optional[str] = None, at: Optional[Dict[str, int]] = None
) -> Dict[str, Any]:
    """A report of an input that could not be checked at all, as the CLI makes it."""
    position = dict(at or _START)
    finding: Dict[str, Any] = {
        "code": code,
        "severity": "error",
        "message": message,
        "pointer": "",
        "location": {"start": position, "end": dict(position)},
    }
    if help is not None:
        finding["help"] = help
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "path": path,
        "input_format": infer_format(path),
        "checked": False,
        "findings": [finding],
    }


def unreadable(path: str, message: str, help: Optional[str] = None, at=None) -> Dict[str, Any]:
    return not_checked("PCG-UNREADABLE", path, message, help, at)


def too_large(path: str, size: int, limit: int) -> Dict[str, Any]:
    return not_checked(
        "PCG-LIMIT",
        path,
        f"`{path}` is {size} bytes or more, past the limit of {limit} bytes",
        "split the manifest",
    )


def not_utf8_report(shown: str, data: bytes, error: UnicodeDecodeError) -> Dict[str, Any]:
    """`PCG-UNREADABLE` at the first byte that is not UTF-8, with its line and column."""
    valid = error.start
    prefix = data[:valid]
    line = prefix.count(b"\n") + 1
    line_start = prefix.rfind(b"\n") + 1
    column = len(prefix[line_start:].decode("utf-8", errors="replace")) + 1
    return unreadable(
        shown,
        f"`{shown}` is not UTF-8 text: invalid byte at line {line}, column {column}",
        "save the manifest as UTF-8",
        {"line": line, "column": column, "offset": valid},
    )


def run_report(files: List[Dict[str, Any]], version: str) -> Dict[str, Any]:
    """The report of a run: files sorted by normalized path, every finding fingerprinted,
    counts over all files."""
    files = sorted(files, key=lambda f: normalize_path(f["path"]))
    summary = {
        "files": len(files),
        "checked": 0,
        "errors": 0,
        "warnings": 0,
        "infos": 0,
        "waived": 0,
        "baselined": 0,
    }
    for file in files:
        fill_fingerprints(file)
        summary["checked"] += 1 if file.get("checked") else 0
        for finding in file.get("findings", []):
            if finding.get("waived") is not None:
                summary["waived"] += 1
            elif finding["severity"] == "error":
                summary["errors"] += 1
            elif finding["severity"] == "warning":
                summary["warnings"] += 1
            else:
                summary["infos"] += 1
    return {
        "format_version": RUN_REPORT_VERSION,
        "tool": {"name": "pchat-guard", "version": version},
        "files": files,
        "summary": summary,
    }


def to_json(value: Any) -> str:
    """serde_json's pretty format: 2-space indent, `": "`, no ASCII escaping, a final newline."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


_RANK = {"info": 0, "warning": 1, "error": 2}


def exit_code(report: Dict[str, Any], fail_on: str) -> int:
    """2 when an input could not be checked; else 1 when an unwaived finding reaches `fail_on`;
    else 0."""
    summary = report["summary"]
    if summary["checked"] < summary["files"]:
        return 2
    if fail_on == "never":
        return 0
    threshold = _RANK[fail_on]
    for file in report["files"]:
        for finding in file.get("findings", []):
            if finding.get("waived") is None and _RANK.get(finding["severity"], 2) >= threshold:
                return 1
    return 0


def human_lite(report: Dict[str, Any]) -> str:
    """One line per finding (`path:line:column: severity[code]: message`, with the help and
    the waiver on indented lines), then the CLI's summary line."""
    out = []
    for file in report["files"]:
        for f in file.get("findings", []):
            start = f["location"]["start"]
            out.append(
                f"{file['path']}:{start['line']}:{start['column']}: "
                f"{f['severity']}[{f['code']}]: {f['message']}"
            )
            if f.get("help"):
                out.append(f"  help: {f['help']}")
            if f.get("waived") is not None:
                out.append(f"  waived: {f['waived'].get('reason', '')}")
    s = report["summary"]
    total = s["errors"] + s["warnings"] + s["infos"]
    unchecked = s["files"] - s["checked"]
    aside = []
    if s["waived"]:
        aside.append(f"{s['waived']} waived")
    if s["baselined"]:
        aside.append(f"{s['baselined']} in the baseline")
    aside_text = f" ({', '.join(aside)})" if aside else ""

    def plural(n: int) -> str:
        return "" if n == 1 else "s"

    files = f"{s['files']} file{plural(s['files'])}"
    if total == 0 and unchecked == 0:
        out.append(f"{files} checked: no findings{aside_text}")
    else:
        scope = f"{files} checked" if unchecked == 0 else f"{files}, {unchecked} not checked"
        out.append(
            f"{scope}: {s['errors']} error{plural(s['errors'])}, "
            f"{s['warnings']} warning{plural(s['warnings'])}, "
            f"{s['infos']} info{plural(s['infos'])}{aside_text}"
        )
    return "\n".join(out) + "\n"
