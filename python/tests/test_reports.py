"""The package against the CLI: the same reports, the same JSON bytes, the same exit codes;
and the host's own duties (refusing modules, limits, the cache)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import wasmtime

import pchat_guard
from conftest import REPO, TODAY, manifest_fixtures, run_cli, run_python

FIXTURES = manifest_fixtures()
CLEAN = "examples/topologies/two-pools-one-site.yaml"
FINDINGS = "tests/fixtures/manifests/duplicate-key.json"
MALFORMED = "tests/fixtures/manifests/malformed-tab.yaml"
MISSING = "tests/fixtures/manifests/no-such-file.yaml"


def test_the_package_is_installed_not_the_source_tree():
    assert "site-packages" in pchat_guard.__file__ or "dist-packages" in pchat_guard.__file__


def test_there_are_fixtures():
    assert len([f for f in FIXTURES if f.startswith("tests/")]) >= 20
    assert len([f for f in FIXTURES if f.startswith("examples/")]) >= 6


def test_the_package_runs_the_clis_module(cli, checker, tmp_path):
    out = tmp_path / "cli.wasm"
    done = run_cli(cli, "module", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == checker.module_sha256


@pytest.mark.parametrize("path", FIXTURES)
def test_check_equals_the_cli_report(cli, checker, path):
    done = run_cli(cli, "check", "--format", "json", "--today", TODAY, path)
    assert done.returncode in (0, 1, 2), done.stderr
    expected = json.loads(done.stdout)["files"][0]
    text = (REPO / path).read_text(encoding="utf-8")
    assert checker.check(text, path, today=TODAY) == expected


@pytest.mark.parametrize("path", FIXTURES)
def test_module_function_check_equals_the_cli_report(cli, cache_dir, checker, path, monkeypatch):
    # The module-level API (the process-wide default checker), given a datetime.date.
    import datetime

    monkeypatch.setenv("PCHAT_GUARD_CACHE_DIR", str(cache_dir))
    done = run_cli(cli, "check", "--format", "json", "--today", TODAY, path)
    expected = json.loads(done.stdout)["files"][0]
    text = (REPO / path).read_text(encoding="utf-8")
    assert pchat_guard.check(text, path, today=datetime.date(2026, 11, 26)) == expected


@pytest.mark.parametrize("path", FIXTURES)
def test_json_output_is_the_clis_byte_for_byte(cli, cache_dir, checker, path):
    args = ("check", "--format", "json", "--today", TODAY, path)
    want = run_cli(cli, *args)
    got = run_python(cache_dir, *args)
    assert got.stdout == want.stdout, got.stderr.decode()
    assert got.returncode == want.returncode


def test_one_run_over_every_file_is_the_clis(cli, cache_dir, checker):
    # Unsorted, a `./` spelling of a file given twice, a missing file: sorting, dedup, counts.
    files = list(reversed(FIXTURES)) + ["./" + CLEAN, MISSING]
    args = ("check", "--format", "json", "--today", TODAY, *files)
    want = run_cli(cli, *args)
    got = run_python(cache_dir, *args)
    assert got.stdout == want.stdout, got.stderr.decode()
    assert got.returncode == want.returncode == 2


@pytest.mark.parametrize(
    "path, code",
    [(CLEAN, 0), (FINDINGS, 1), (MALFORMED, 2), (MISSING, 2)],
    ids=["clean", "findings", "malformed", "missing"],
)
def test_exit_codes_are_the_clis(cli, cache_dir, checker, path, code):
    for fmt in ("json", "human-lite"):
        got = run_python(cache_dir, "check", "--format", fmt, "--today", TODAY, path)
        assert got.returncode == code, got.stderr.decode()
    assert run_cli(cli, "check", "--format", "json", "--today", TODAY, path).returncode == code


@pytest.mark.parametrize("fail_on", ["error", "warning", "info", "never"])
def test_fail_on_is_the_clis(cli, cache_dir, checker, fail_on):
    args = ("check", "--format", "json", "--today", TODAY, "--fail-on", fail_on, FINDINGS, CLEAN)
    assert run_python(cache_dir, *args).returncode == run_cli(cli, *args).returncode


def test_not_utf8_and_stdin_are_the_clis(cli, cache_dir, checker, tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("servers:\n  - id: caf\u00e9\n".encode("latin-1"))
    args = ("check", "--format", "json", "--today", TODAY, str(bad))
    want, got = run_cli(cli, *args), run_python(cache_dir, *args)
    assert got.stdout == want.stdout and got.returncode == want.returncode == 2
    # check() on bytes that are not UTF-8 gives the same report.
    report = checker.check(bad.read_bytes(), str(bad), today=TODAY)
    assert report == json.loads(want.stdout)["files"][0]

    source = (REPO / CLEAN).read_bytes()
    args = ("check", "--format", "json", "--today", TODAY, "--stdin-filename", "in.yaml", "-")
    want, got = run_cli(cli, *args, stdin=source), run_python(cache_dir, *args, stdin=source)
    assert got.stdout == want.stdout and got.returncode == want.returncode == 0


def test_human_lite_ends_with_the_clis_summary(cli, cache_dir, checker):
    args = ("check", "--today", TODAY, FINDINGS, CLEAN, MISSING)
    want = run_cli(cli, *args, "--color", "never").stdout.decode().splitlines()[-1]
    got = run_python(cache_dir, *args, "--format", "human-lite").stdout.decode().splitlines()
    assert got[-1] == want
    assert any(line.startswith(f"{MISSING}:1:1: error[PCG-UNREADABLE]: ") for line in got)
    assert got[0].startswith(f"{FINDINGS}:53:7: error[PCG-DUPLICATE-KEY]: ")


def test_describe_and_schema_are_the_clis(cli, checker):
    description = checker.describe()
    assert description["pack"]["name"] == "persistent-chat"
    assert description["abi_version"] == 3
    assert description == json.loads(run_cli(cli, "describe").stdout)
    assert checker.schema() == run_cli(cli, "schema").stdout.decode()


def test_diagram_is_the_clis(cli, checker):
    # The SVG is drawn in the module: the CLI's bytes, and every finding on an element.
    want = run_cli(cli, "diagram", "--today", TODAY, FINDINGS)
    assert want.returncode == 0, want.stderr
    drawn = checker.diagram((REPO / FINDINGS).read_text(), FINDINGS, today=TODAY)
    assert drawn["svg"] == want.stdout.decode()
    for finding in drawn["report"]["findings"]:
        assert finding["fingerprint"] in drawn["svg"]
    # A pool that is not there, and a manifest that cannot be read: declined with the reason.
    assert "no Persistent Chat pool `nope`" in checker.diagram((REPO / CLEAN).read_text(), CLEAN, pool="nope")["declined"]
    unreadable = checker.diagram((REPO / MALFORMED).read_text(), MALFORMED)
    assert unreadable["report"]["checked"] is False and "svg" not in unreadable


def test_module_level_describe(cache_dir, checker, monkeypatch):
    monkeypatch.setenv("PCHAT_GUARD_CACHE_DIR", str(cache_dir))
    assert pchat_guard.describe()["pack"]["name"] == "persistent-chat"
    assert json.loads(pchat_guard.schema())["$schema"].startswith("https://json-schema.org/")


def test_options_reach_the_module(checker):
    text = (REPO / CLEAN).read_text(encoding="utf-8")
    as_json = checker.check(text, "topology.txt", today=TODAY, input_format="json")
    assert as_json["input_format"] == "json" and as_json["checked"] is False
    ignored = checker.check(text, CLEAN, today=TODAY, ignore_manifest_waivers=True)
    assert ignored["checked"] is True
    default_today = checker.check(text, CLEAN)  # today's UTC date
    assert default_today["checked"] is True


def test_an_error_response_raises(checker):
    with pytest.raises(pchat_guard.RequestError, match="no month 13"):
        checker.check("a: 1", "x.yaml", today="2026-13-01")
    with pytest.raises(pchat_guard.RequestError):
        checker.check("a: 1", "x.yaml", today=TODAY, waivers=[{"no": "such field"}])
    # The instance is still usable after an error response.
    assert checker.check("a: 1", "x.yaml", today=TODAY)["checked"] is True


# -- modules that are refused ------------------------------------------------------------------

ABI_EXPORTS = """
  (memory (export "memory") 1)
  (func (export "pcg_abi_version") (result i32) i32.const {version})
  (func (export "pcg_alloc") (param i32) (result i32) i32.const 1024)
  (func (export "pcg_free") (param i32 i32))
  (func (export "pcg_check") (param i32 i32) (result i64) i64.const 0)
  (func (export "pcg_diagram") (param i32 i32) (result i64) i64.const 0)
  (func (export "pcg_load_bundle") (param i32 i32) (result i64) i64.const 0)
  (func (export "pcg_describe") (result i64) i64.const 2)
  (data (i32.const 0) "{{}}")
  (func (export "pcg_schema") (result i64) i64.const 2)
"""


def fake_module(version=3, imports=""):
    return wasmtime.wat2wasm(f"(module {imports} {ABI_EXPORTS.format(version=version)})")


def test_a_module_with_an_import_is_refused(tmp_path):
    module = fake_module(imports='(import "env" "now" (func (result i64)))')
    with pytest.raises(pchat_guard.ModuleRefusedError, match="imports `env::now`"):
        pchat_guard.Checker(module, cache_dir=tmp_path)


def test_another_abi_version_is_refused(tmp_path):
    with pytest.raises(pchat_guard.ModuleRefusedError, match="ABI version 1"):
        pchat_guard.Checker(fake_module(version=1), cache_dir=tmp_path)


def test_a_module_without_the_abi_is_refused(tmp_path):
    module = wasmtime.wat2wasm('(module (memory (export "memory") 1))')
    with pytest.raises(pchat_guard.ModuleRefusedError, match="does not export `pcg_abi_version`"):
        pchat_guard.Checker(module, cache=False)
    with pytest.raises(pchat_guard.ModuleRefusedError):
        pchat_guard.Checker(b"not wasm", cache=False)


def test_the_fake_module_is_accepted(tmp_path):
    # The refusals above are for the reasons named, not for the fake as such.
    fake = pchat_guard.Checker(fake_module(), cache_dir=tmp_path)
    assert fake.describe() == {}


# -- limits --------------------------------------------------------------------------------------


def test_fuel_exhaustion_raises_the_fuel_limit(cache_dir, checker):
    small = pchat_guard.Checker(fuel=1000, cache_dir=cache_dir)
    text = (REPO / CLEAN).read_text(encoding="utf-8")
    with pytest.raises(pchat_guard.LimitError, match="fuel limit") as caught:
        small.check(text, CLEAN, today=TODAY)
    assert caught.value.limit == "fuel limit"
    assert isinstance(caught.value, pchat_guard.ModuleError)
    # A new instance replaces the trapped one: the next call hits the limit again, cleanly.
    with pytest.raises(pchat_guard.LimitError):
        small.check(text, CLEAN, today=TODAY)


def test_the_default_fuel_and_memory_are_the_clis(cli):
    help_text = run_cli(cli, "check", "--help").stdout.decode()
    assert f"[default: {pchat_guard.DEFAULT_FUEL}]" in help_text
    assert pchat_guard.DEFAULT_MAX_MEMORY == 1024 * 1024 * 1024


def test_the_memory_limit_is_named(cache_dir, checker):
    small = pchat_guard.Checker(max_memory=3 * 1024 * 1024, cache_dir=cache_dir)
    big = "a: [" + ",".join(["1"] * 100_000) + "]\n"
    with pytest.raises(pchat_guard.LimitError, match="memory limit") as caught:
        small.check(big, "big.yaml", today=TODAY)
    assert caught.value.limit == "memory limit"
    # The trapped instance is replaced: a small manifest still checks.
    text = (REPO / CLEAN).read_text(encoding="utf-8")
    assert small.check(text, CLEAN, today=TODAY)["checked"] is True
    with pytest.raises(pchat_guard.LimitError, match="memory limit"):
        pchat_guard.Checker(max_memory=1024 * 1024, cache_dir=cache_dir)


def test_a_limit_is_exit_code_3(cache_dir, checker):
    got = run_python(cache_dir, "check", "--max-fuel", "1000", "--today", TODAY, CLEAN)
    assert got.returncode == 3
    assert b"fuel limit" in got.stderr


# -- the cache ------------------------------------------------------------------------------------


def test_the_cache_is_written_then_reused(first_checker, cache_dir):
    assert first_checker.loaded_from_cache is False
    path = first_checker.cache_path
    assert path is not None and path.parent == cache_dir and path.is_file()
    assert first_checker.module_sha256[:32] in path.name
    assert f"wasmtime-py{wasmtime_version()}" in path.name
    assert not [p for p in cache_dir.iterdir() if p.name.endswith(".tmp")]
    second = pchat_guard.Checker(cache_dir=cache_dir)
    assert second.loaded_from_cache is True
    assert second.cache_path == path
    assert second.describe()["pack"]["name"] == "persistent-chat"


def test_the_cache_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PCHAT_GUARD_CACHE_DIR", str(tmp_path))
    assert pchat_guard.default_cache_dir() == tmp_path


def test_a_damaged_cache_file_is_replaced(tmp_path):
    first = pchat_guard.Checker(fake_module(), cache_dir=tmp_path)
    assert first.loaded_from_cache is False and first.cache_path.is_file()
    first.cache_path.write_bytes(b"garbage")
    second = pchat_guard.Checker(fake_module(), cache_dir=tmp_path)
    assert second.loaded_from_cache is False
    third = pchat_guard.Checker(fake_module(), cache_dir=tmp_path)
    assert third.loaded_from_cache is True


def test_a_cache_that_cannot_be_written_still_checks(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    fake = pchat_guard.Checker(fake_module(), cache_dir=blocker / "cache")
    assert fake.loaded_from_cache is False
    assert fake.describe() == {}
    without = pchat_guard.Checker(fake_module(), cache=False)
    assert without.cache_path is None


def wasmtime_version():
    from importlib.metadata import version

    return version("wasmtime")
