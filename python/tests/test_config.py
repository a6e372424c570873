"""The project configuration in the Python CLI: the same file the `pchat-guard` CLI reads, the
same settings where this CLI can honour them, and an error (never a silent skip) where not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CLI_ENV, REPO, TODAY

SITE = REPO / "examples" / "topologies" / "stretched-high-bandwidth.yaml"
ACME = REPO / "tests" / "fixtures" / "packs" / "acme"


@pytest.fixture(scope="module")
def own_cache(tmp_path_factory) -> Path:
    """A cache of these tests' own: the run's shared one must stay empty until its first
    checker is made (conftest's `first_checker`)."""
    return tmp_path_factory.mktemp("config-cache")


def run(cwd: Path, own_cache: Path, *args: str, program=None):
    """`python -m pchat_guard` (or the CLI) run in `cwd`, where it looks for the configuration."""
    command = [program] if program else [sys.executable, "-m", "pchat_guard"]
    env = dict(CLI_ENV if program else os.environ, PCHAT_GUARD_CACHE_DIR=str(own_cache))
    if program is None:
        env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, env=env, timeout=600)


def project(tmp_path: Path, config: str, name: str = "pchat-guard.toml") -> Path:
    (tmp_path / "site.yaml").write_text(SITE.read_text().replace("$schema: ../../schemas/topology.schema.json\n", ""))
    (tmp_path / name).write_text(config)
    (tmp_path / "sub").mkdir()
    return tmp_path


def test_settings_apply_as_in_the_cli(tmp_path, own_cache, cli):
    dir = project(tmp_path, 'fail-on = "info"\nformat = "json"\nmax-memory-mib = 512\n')
    broken = dir / "broken.yaml"
    broken.write_text(SITE.read_text().replace("next_hop: fe-east", "next_hop: fe-north"))
    got = run(dir / "sub", own_cache, "check", "--today", TODAY, "../broken.yaml")
    want = run(dir / "sub", own_cache, "check", "--today", TODAY, "../broken.yaml", program=cli)
    assert got.returncode == want.returncode == 1, got.stderr
    assert json.loads(got.stdout) == json.loads(want.stdout), "json from the file, as the CLI"
    # The command line overrides the file.
    got = run(dir, own_cache, "check", "--format", "human-lite", "--fail-on", "never", "site.yaml")
    assert got.returncode == 0 and got.stdout.decode().startswith("1 file checked"), got.stdout


def test_keys_it_cannot_honour_fail_closed(tmp_path, own_cache):
    for config, expected in [
        ('waivers = ["w.yaml"]\n', "`waivers` is set, and the Python CLI cannot honour it"),
        ('format = "sarif"\n', "format `sarif`: the Python CLI writes human-lite and json"),
        (f'extend = ["{ACME.as_posix()}"]\n', "pass `--module FILE` from `pchat-guard compile`"),
        ('fial-on = "error"\n', "pchat-guard.toml:1: unknown key `fial-on`; did you mean `fail-on`?"),
        ('fail-on = "sometimes"\n', "pchat-guard.toml:1: `fail-on` cannot be 'sometimes'"),
    ]:
        sub = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
        sub.mkdir()
        dir = project(sub, config)
        got = run(dir, own_cache, "check", "site.yaml")
        assert got.returncode == 2, (config, got.stderr)
        assert expected in got.stderr.decode(), (config, got.stderr)
        assert got.stdout == b""
        assert run(dir, own_cache, "check", "--no-config", "site.yaml").returncode == 0


def test_extension_packs_run_from_a_compiled_module(tmp_path, own_cache, cli):
    dir = project(tmp_path, f'extend = ["{ACME.as_posix()}"]\nfail-on = "warning"\nformat = "json"\n')
    module = tmp_path / "team.wasm"
    compiled = run(dir, own_cache, "compile", "-o", str(module), program=cli)
    assert compiled.returncode == 0, compiled.stderr
    got = run(dir, own_cache, "check", "--module", str(module), "site.yaml")
    assert got.returncode == 1, got.stderr
    codes = [f["code"] for f in json.loads(got.stdout)["files"][0]["findings"]]
    assert codes.count("ACME-SQL-001") == 12
    # A module that does not run the configured pack is refused.
    other = run(dir, own_cache, "check", "--module", str(REPO / "python" / "src" / "pchat_guard" / "pchat_guard.wasm"), "site.yaml")
    assert other.returncode == 2 and "compile it again" in other.stderr.decode(), other.stderr


def test_pyproject_table_and_explicit_file(tmp_path, own_cache):
    dir = project(tmp_path, '[project]\nname = "x"\n\n[tool.pchat-guard]\nformat = "json"\n', "pyproject.toml")
    got = run(dir / "sub", own_cache, "check", "../site.yaml")
    assert got.returncode == 0 and json.loads(got.stdout)["summary"]["files"] == 1
    other = tmp_path / "other.toml"
    other.write_text("no-cache = 3\n")
    got = run(dir, own_cache, "check", "--config", str(other), "site.yaml")
    assert got.returncode == 2 and "`no-cache` cannot be 3" in got.stderr.decode()


def test_the_keys_are_the_clis():
    # The Python CLI knows the same keys as the CLI's schema for the file.
    from pchat_guard import _config

    schema = json.loads((REPO / "schemas" / "config.schema.json").read_text())
    assert sorted(_config.KEYS) == sorted(schema["properties"])
