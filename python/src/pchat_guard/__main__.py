"""`python -m pchat_guard`: the `check`, `describe` and `schema` commands of the CLI, over the
same module, with the CLI's exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 an input
could not be checked, 3 internal error (a limit, a module that cannot be used)."""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from . import __version__
from ._errors import ModuleError
from ._host import DEFAULT_FUEL, Checker
from ._report import (
    exit_code,
    human_lite,
    normalize_path,
    run_report,
    to_json,
    too_large,
    unreadable,
    not_utf8_report,
)

#: The largest manifest read, in bytes (the module's default `max_bytes`).
MAX_BYTES = 64 * 1024 * 1024


def parse_date(text: str) -> str:
    """`YYYY-MM-DD`, checked as the CLI checks `--today`."""
    bad = f"`{text}` is not a date of the form YYYY-MM-DD"
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise argparse.ArgumentTypeError(bad)
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
    if month in (1, 3, 5, 7, 8, 10, 12):
        days = 31
    elif month in (4, 6, 9, 11):
        days = 30
    elif month == 2:
        days = 29 if leap else 28
    else:
        raise argparse.ArgumentTypeError(f"`{text}` has no month {month}")
    if day == 0 or day > days:
        raise argparse.ArgumentTypeError(f"`{text}` is not a day of that month")
    return text


def _io_reason(error: OSError) -> str:
    """The OS error as the CLI words it: its description, lowercase."""
    if error.errno is not None:
        return os.strerror(error.errno).lower()
    return str(error).lower()


def read_input(path: str, shown: str) -> Tuple[Optional[str], Optional[dict]]:
    """A manifest's text, or the report of why it cannot be read (the CLI's wording)."""
    if path == "-":
        try:
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        except OSError as e:
            return None, unreadable(shown, f"cannot read standard input: {e}")
    else:
        try:
            if os.path.isdir(path):
                return None, unreadable(
                    shown,
                    f"`{path}` is a directory, not a manifest file",
                    "name the manifest files inside it",
                )
            size = os.stat(path).st_size
            if size > MAX_BYTES:
                return None, too_large(shown, size, MAX_BYTES)
            with open(path, "rb") as f:
                data = f.read(MAX_BYTES + 1)
        except OSError as e:
            return None, unreadable(shown, f"cannot read `{path}`: {_io_reason(e)}")
    if len(data) > MAX_BYTES:
        return None, too_large(shown, len(data), MAX_BYTES)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, not_utf8_report(shown, data, e)


def _shown(path: str) -> str:
    return path.replace("\\", "/") if os.name == "nt" else path


def _checker(args: argparse.Namespace) -> Checker:
    return Checker(
        args.module,
        fuel=args.max_fuel,
        max_memory=args.max_memory_mib * 1024 * 1024,
        cache=not args.no_cache,
    )


def _write(text: str) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def _error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")


def _configure(args: argparse.Namespace) -> Optional[int]:
    """Applies the project configuration (docs/configuration.md) to the options the command line
    left unset, then the defaults; an exit code when the configuration cannot be used."""
    from . import _config

    given = [k for k in ("module",) if getattr(args, k) is not None]
    path = None if args.no_config else (Path(args.config) if args.config else _config.discover())
    try:
        if path is not None:
            args.config_settings, args.config_dir = _config.load(path)
            args.config_path = path
            packs = None
            if args.config_settings.get("extend") or args.config_settings.get("policies"):
                if args.module is not None:
                    try:
                        described = Checker(args.module, cache=False).describe()
                    except (ModuleError, OSError) as e:
                        _error(f"cannot read `{args.module}`: {e}")
                        return 2
                    packs = [p.get("name") for p in described.get("packs", [])]
            _config.apply(args, given, packs)
    except _config.ConfigError as e:
        _error(str(e))
        return 2
    for attr, default in (
        ("format", "human-lite"),
        ("fail_on", "error"),
        ("ignore_manifest_waivers", False),
        ("max_fuel", DEFAULT_FUEL),
        ("max_memory_mib", 1024),
        ("no_cache", False),
    ):
        if getattr(args, attr) is None:
            setattr(args, attr, default)
    return None


def run_check(args: argparse.Namespace) -> int:
    if sum(1 for f in args.files if f == "-") > 1:
        _error("standard input (`-`) can be given once")
        return 2
    stop = _configure(args)
    if stop is not None:
        return stop
    today = args.today or _dt.datetime.now(_dt.timezone.utc).date().isoformat()
    # Inputs sorted by their name in reports, each once (the first spelling given is kept).
    inputs: List[Tuple[str, str]] = []
    for arg in args.files:
        shown = args.stdin_filename if arg == "-" else _shown(arg)
        inputs.append((arg, shown))
    inputs.sort(key=lambda i: normalize_path(i[1]))
    unique: List[Tuple[str, str]] = []
    for item in inputs:
        if not unique or normalize_path(unique[-1][1]) != normalize_path(item[1]):
            unique.append(item)
    try:
        checker = _checker(args)
    except ModuleError as e:
        _error(str(e))
        return 3
    except OSError as e:
        _error(f"cannot read `{args.module}`: {_io_reason(e)}")
        return 2
    # A refused cache directory, once per run, as the CLI's `check` says it.
    if checker.cache_note is not None:
        sys.stderr.write(f"note: {checker.cache_note}\n")
    files: List[Dict] = []
    for path, shown in unique:
        text, problem = read_input(path, shown)
        if problem is not None:
            files.append(problem)
            continue
        try:
            files.append(
                checker.check(
                    text,
                    shown,
                    today=today,
                    input_format=args.input_format,
                    ignore_manifest_waivers=args.ignore_manifest_waivers,
                )
            )
        except ModuleError as e:
            _error(f"while checking `{shown}`: {e}")
            return 3
    report = run_report(files, __version__)
    _write(to_json(report) if args.format == "json" else human_lite(report))
    return exit_code(report, args.fail_on)


def _mib(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 4096:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number of MiB from 1 to 4096")
    return value


def _host_arguments(parser: argparse.ArgumentParser, defaults: bool = True) -> None:
    # Without defaults, unset options stay None so that the configuration can fill them.
    parser.add_argument("--no-cache", action="store_true", default=False if defaults else None, help="compile the module in memory instead of using the cache")
    parser.add_argument("--max-fuel", type=int, default=DEFAULT_FUEL if defaults else None, metavar="UNITS", help=f"fuel for each call (default {DEFAULT_FUEL})")
    parser.add_argument(
        "--max-memory-mib",
        type=_mib,
        default=1024 if defaults else None,
        metavar="MIB",
        help="largest memory the module may use, in MiB (1-4096, default 1024)",
    )
    parser.add_argument("--module", metavar="FILE.wasm", help="run this module instead of the embedded one")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m pchat_guard",
        description="Check Persistent Chat topology manifests with the pchat-guard module.",
    )
    top.add_argument("--version", action="version", version=f"pchat-guard (Python) {__version__}")
    commands = top.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check manifest files")
    check.add_argument("files", nargs="+", metavar="FILE", help="manifest files; `-` for standard input")
    check.add_argument("--format", choices=["human-lite", "json"], default=None, help="output format (default human-lite)")
    check.add_argument("--today", type=parse_date, metavar="DATE", help="the date waivers' `expires` is compared with, YYYY-MM-DD (default: today, UTC)")
    check.add_argument("--fail-on", choices=["error", "warning", "info", "never"], default=None, help="lowest severity that makes the run fail (exit 1; default error)")
    check.add_argument("--input-format", choices=["json", "yaml"], help="read inputs as this format instead of inferring it from the extension")
    check.add_argument("--stdin-filename", default="<stdin>", metavar="NAME", help="the file name to report for standard input")
    check.add_argument("--ignore-manifest-waivers", action="store_true", default=None, help="ignore the waivers written in the manifests themselves")
    check.add_argument("--config", metavar="FILE", help="read this configuration file instead of looking for pchat-guard.toml (or [tool.pchat-guard] in pyproject.toml) here and above")
    check.add_argument("--no-config", action="store_true", help="read no configuration file")
    _host_arguments(check, defaults=False)
    describe = commands.add_parser("describe", help="print what the module says of itself, as JSON")
    _host_arguments(describe)
    schema = commands.add_parser("schema", help="print the manifest JSON Schema")
    _host_arguments(schema)
    return top


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "check":
        return run_check(args)
    try:
        checker = _checker(args)
        if args.command == "describe":
            _write(to_json(checker.describe()))
        else:
            text = checker.schema()
            _write(text if text.endswith("\n") else text + "\n")
    except ModuleError as e:
        _error(str(e))
        return 3
    except OSError as e:
        _error(f"cannot read `{args.module}`: {_io_reason(e)}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
