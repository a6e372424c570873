"""The compiled-module cache is only as safe as its files: a cached file is loaded only from a
directory this user owns that no one else may write, and only when its SHA-256 matches the digest
written beside it (as the CLI's host, `crates/pchat-guard/src/host.rs`). Anything else compiles
in memory, and the check still gives the right report."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import wasmtime

import pchat_guard
from conftest import CLI_ENV, REPO, TODAY, run_cli
from pchat_guard._host import _engine
from test_reports import CLEAN, FINDINGS, fake_module

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid"), reason="the cache directory checks are POSIX only"
)


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700)
    os.chmod(path, 0o700)
    return path


def copy_of_the_cache(checker, tmp_path: Path) -> Path:
    """A private directory holding a copy of the run's cache files (the real module, compiled
    once by the session's first checker), to damage without touching the run's cache."""
    assert checker.cache_path is not None and sidecar(checker.cache_path).is_file()
    copy = private_dir(tmp_path / "cache")
    shutil.copy(checker.cache_path, copy / checker.cache_path.name)
    shutil.copy(sidecar(checker.cache_path), copy / sidecar(checker.cache_path).name)
    return copy


def expected_report(cli, path):
    done = run_cli(cli, "check", "--format", "json", "--today", TODAY, path)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)["files"][0]


def check(checker, path):
    return checker.check((REPO / path).read_text(encoding="utf-8"), path, today=TODAY)


def assert_cache_written(directory: Path, checker) -> None:
    path = checker.cache_path
    assert path is not None and path.parent == directory
    data = path.read_bytes()
    assert sidecar(path).read_text(encoding="ascii") == hashlib.sha256(data).hexdigest()
    assert mode(path) == 0o600 and mode(sidecar(path)) == 0o600
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


# -- the digest ----------------------------------------------------------------------------------


def test_a_second_checker_loads_from_the_cache(cli, first_checker, tmp_path):
    directory = copy_of_the_cache(first_checker, tmp_path)
    second = pchat_guard.Checker(cache_dir=directory)
    assert second.loaded_from_cache is True
    assert second.cache_note is None
    assert second.cache_path == directory / first_checker.cache_path.name
    assert check(second, FINDINGS) == expected_report(cli, FINDINGS)


def test_a_damaged_cache_file_is_compiled_again_not_loaded(cli, first_checker, tmp_path):
    directory = copy_of_the_cache(first_checker, tmp_path)
    path = directory / first_checker.cache_path.name
    data = bytearray(path.read_bytes())
    # Bytes flipped in the middle (compiled code and its metadata), the header left intact: only
    # the digest tells this file from the one written.
    middle = len(data) // 2
    for i in range(middle, middle + 64):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    damaged = pchat_guard.Checker(cache_dir=directory)
    assert damaged.loaded_from_cache is False
    assert damaged.cache_note is None
    assert check(damaged, FINDINGS) == expected_report(cli, FINDINGS)
    assert check(damaged, CLEAN) == expected_report(cli, CLEAN)
    # Both files were written again: the next checker loads them.
    assert path.read_bytes() != bytes(data)
    assert_cache_written(directory, damaged)
    assert pchat_guard.Checker(cache_dir=directory).loaded_from_cache is True


def test_a_swapped_cache_file_is_compiled_again(first_checker, tmp_path):
    # The fake module's cache file swapped for other valid bytes, the real module's compiled
    # code, its digest left as it was.
    directory = private_dir(tmp_path / "cache")
    first = pchat_guard.Checker(fake_module(), cache_dir=directory)
    assert first.loaded_from_cache is False and first.describe() == {}
    shutil.copy(first_checker.cache_path, first.cache_path)
    # wasmtime alone would load the swapped file: it is valid for this engine.
    assert wasmtime.Module.deserialize_file(_engine(), str(first.cache_path)).exports
    swapped = pchat_guard.Checker(fake_module(), cache_dir=directory)
    assert swapped.loaded_from_cache is False
    # The fake module's answer, not the real module's.
    assert swapped.describe() == {}
    assert_cache_written(directory, swapped)
    assert pchat_guard.Checker(fake_module(), cache_dir=directory).describe() == {}


@pytest.mark.parametrize("damage", ["missing", "empty", "not hex", "a directory", "uppercase"])
def test_a_digest_missing_or_unreadable_means_compiling(tmp_path, damage):
    directory = private_dir(tmp_path / "cache")
    first = pchat_guard.Checker(fake_module(), cache_dir=directory)
    digest = sidecar(first.cache_path)
    good = digest.read_text(encoding="ascii")
    digest.unlink()
    if damage == "empty":
        digest.write_bytes(b"")
    elif damage == "not hex":
        digest.write_bytes(b"\xff" * 64)
    elif damage == "a directory":
        digest.mkdir()
    elif damage == "uppercase":
        digest.write_text(good.upper(), encoding="ascii")
    again = pchat_guard.Checker(fake_module(), cache_dir=directory)
    assert again.loaded_from_cache is False
    assert again.describe() == {}
    if damage == "a directory":
        # The digest cannot be written over a directory: the next run compiles again, and
        # nothing fails.
        assert digest.is_dir()
        assert pchat_guard.Checker(fake_module(), cache_dir=directory).loaded_from_cache is False
    else:
        assert_cache_written(directory, again)
        assert pchat_guard.Checker(fake_module(), cache_dir=directory).loaded_from_cache is True


def test_a_digest_with_a_trailing_newline_is_accepted(tmp_path):
    # The CLI trims the digest it reads; so does the package.
    directory = private_dir(tmp_path / "cache")
    first = pchat_guard.Checker(fake_module(), cache_dir=directory)
    digest = sidecar(first.cache_path)
    digest.write_text(digest.read_text(encoding="ascii") + "\n", encoding="ascii")
    assert pchat_guard.Checker(fake_module(), cache_dir=directory).loaded_from_cache is True


def test_a_cache_from_before_digests_is_rewritten_private(tmp_path):
    # A file an older version wrote: no digest beside it, mode 0644.
    directory = private_dir(tmp_path / "cache")
    first = pchat_guard.Checker(fake_module(), cache_dir=directory)
    sidecar(first.cache_path).unlink()
    os.chmod(first.cache_path, 0o644)
    again = pchat_guard.Checker(fake_module(), cache_dir=directory)
    assert again.loaded_from_cache is False
    assert_cache_written(directory, again)


# -- the directory -------------------------------------------------------------------------------


def note(directory, why):
    return f"not using the precompiled cache `{directory}`: {why}; compiling in memory"


@pytest.mark.parametrize("bits", [0o777, 0o770, 0o702, 0o1777])
def test_a_directory_others_may_write_is_refused(tmp_path, bits):
    directory = tmp_path / "shared"
    directory.mkdir()
    os.chmod(directory, bits)
    refused = pchat_guard.Checker(fake_module(), cache_dir=directory)
    assert refused.cache_note == note(
        directory, f"others may write it (mode {bits & 0o777:o}); `chmod go-w` it"
    )
    assert refused.loaded_from_cache is False
    assert refused.cache_path is None
    assert refused.describe() == {}
    assert list(directory.iterdir()) == []
    assert mode(directory) == bits & 0o7777


def test_a_refused_directory_is_not_read(tmp_path):
    # Valid files (right digest) planted in a directory others may write are not loaded, nor
    # rewritten.
    safe = private_dir(tmp_path / "safe")
    first = pchat_guard.Checker(fake_module(), cache_dir=safe)
    shared = tmp_path / "shared"
    shutil.copytree(safe, shared)
    os.chmod(shared, 0o777)
    planted = {p.name: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in shared.iterdir()}
    assert first.cache_path.name in planted
    refused = pchat_guard.Checker(fake_module(), cache_dir=shared)
    assert refused.loaded_from_cache is False
    assert refused.cache_note is not None and "others may write it (mode 777)" in refused.cache_note
    assert {p.name: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in shared.iterdir()} == planted


def test_a_directory_of_another_user_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user (os.chown) needs root; run as root to test this refusal")
    directory = private_dir(tmp_path / "theirs")
    os.chown(directory, 65534, -1)
    refused = pchat_guard.Checker(fake_module(), cache_dir=directory)
    assert refused.cache_note == note(directory, "it belongs to user 65534, not to this user (0)")
    assert refused.loaded_from_cache is False and refused.cache_path is None
    assert refused.describe() == {}
    assert list(directory.iterdir()) == []


def test_a_cache_dir_that_is_a_file_or_cannot_be_created_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    refused = pchat_guard.Checker(fake_module(), cache_dir=blocker)
    assert refused.cache_note == note(blocker, "it is not a directory")
    below = blocker / "cache"
    refused = pchat_guard.Checker(fake_module(), cache_dir=below)
    assert refused.cache_note == note(below, "it cannot be created (Not a directory (os error 20))")
    assert refused.describe() == {}
    assert blocker.read_text() == "not a directory"


def test_a_missing_directory_is_created_private(tmp_path):
    directory = tmp_path / "new" / "pchat-guard"
    made = pchat_guard.Checker(fake_module(), cache_dir=directory)
    assert made.cache_note is None and made.loaded_from_cache is False
    # The CLI creates the missing parents private too.
    assert mode(directory) == 0o700 and mode(directory.parent) == 0o700
    assert sorted(p.name for p in directory.iterdir()) == [
        made.cache_path.name,
        sidecar(made.cache_path).name,
    ]
    assert_cache_written(directory, made)
    again = pchat_guard.Checker(fake_module(), cache_dir=directory)
    assert again.loaded_from_cache is True and again.cache_note is None


def test_an_existing_private_directory_keeps_its_mode(tmp_path):
    directory = tmp_path / "cache"
    directory.mkdir()
    os.chmod(directory, 0o755)
    kept = pchat_guard.Checker(fake_module(), cache_dir=directory)
    assert kept.cache_note is None
    assert mode(directory) == 0o755
    assert_cache_written(directory, kept)


# -- the command line ----------------------------------------------------------------------------


def test_the_python_cli_prints_the_clis_note_once(cli, tmp_path):
    directory = tmp_path / "shared"
    directory.mkdir()
    os.chmod(directory, 0o777)
    args = ["check", "--format", "json", "--today", TODAY, CLEAN, FINDINGS]
    env = dict(CLI_ENV, PCHAT_GUARD_CACHE_DIR=str(directory))
    want = subprocess.run([cli, *args], cwd=REPO, capture_output=True, env=env, timeout=600)
    got = subprocess.run(
        [sys.executable, "-m", "pchat_guard", *args],
        cwd=REPO,
        capture_output=True,
        env=env,
        timeout=600,
    )
    line = "note: " + note(directory, "others may write it (mode 777); `chmod go-w` it") + "\n"
    assert got.stderr.decode() == line
    assert want.stderr.decode() == line
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout)
    assert list(directory.iterdir()) == []
