"""Shared set-up: the CLI to compare with (env `PCHAT_GUARD_CLI`, required), the repository,
and a private cache directory for the package under test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TODAY = "2026-11-26"
# The environment the run started with: the CLI keeps its own cache whatever a test sets.
CLI_ENV = dict(os.environ)


def pytest_configure(config):
    cli = os.environ.get("PCHAT_GUARD_CLI")
    if not cli:
        raise pytest.UsageError(
            "PCHAT_GUARD_CLI is not set: give the path of a pchat-guard CLI binary to compare with"
        )
    if not (os.path.isfile(cli) and os.access(cli, os.X_OK)):
        raise pytest.UsageError(f"PCHAT_GUARD_CLI={cli} is not an executable file")


def manifest_fixtures():
    """Every manifest the reports are compared on, relative to the repository root."""
    found = sorted(
        p
        for pattern in ("*.json", "*.yaml")
        for p in (REPO / "tests" / "fixtures" / "manifests").glob(pattern)
    )
    found += sorted(p for p in (REPO / "examples" / "topologies").iterdir() if p.is_file())
    return [p.relative_to(REPO).as_posix() for p in found]


@pytest.fixture(scope="session")
def cli() -> str:
    return os.environ["PCHAT_GUARD_CLI"]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """The package's cache for this run (the CLI keeps its own)."""
    return tmp_path_factory.mktemp("pchat-guard-cache")


@pytest.fixture(scope="session")
def first_checker(cache_dir):
    """The first checker of the run, made on an empty cache: it compiles and writes the cache."""
    import pchat_guard

    assert not any(cache_dir.iterdir())
    checker = pchat_guard.Checker(cache_dir=cache_dir)
    return checker


@pytest.fixture(scope="session")
def checker(first_checker):
    return first_checker


def run_cli(cli, *args, stdin=None):
    """The CLI, run from the repository root."""
    return subprocess.run(
        [cli, *args], cwd=REPO, capture_output=True, input=stdin, env=CLI_ENV, timeout=600
    )


def run_python(cache_dir, *args, stdin=None):
    """`python -m pchat_guard`, run from the repository root with the run's cache."""
    env = dict(os.environ, PCHAT_GUARD_CACHE_DIR=str(cache_dir))
    return subprocess.run(
        [sys.executable, "-m", "pchat_guard", *args],
        cwd=REPO,
        capture_output=True,
        input=stdin,
        env=env,
        timeout=600,
    )
