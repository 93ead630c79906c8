"""Faults: builds killed at random points, two builds at once. No partial release, no stale lock."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newscorpus.release.verify import verify
from tests.helpers import copy_project

# Runs the real CLI with each Parquet write slowed down, so that a kill lands while the
# release is being written (the window that matters) rather than only during start-up.
SLOW_BUILD = """
import sys, time
import pyarrow.parquet as pq
write = pq.ParquetWriter.write_table
def slow_write(self, table, *args, **kwargs):
    time.sleep(0.25)
    return write(self, table, *args, **kwargs)
pq.ParquetWriter.write_table = slow_write
from newscorpus.cli import main
sys.exit(main(sys.argv[1:]))
"""


def start_build(root: Path, version: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_BUILD, "--root", str(root), "build", "--version", version],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@pytest.mark.parametrize("delay", [None, 0.0, 0.3, 0.6, 0.9])
def test_a_killed_build_leaves_no_partial_release_and_no_lock(tmp_path, delay):
    root = tmp_path / "repo"
    copy_project(root)
    corpus = root / "corpus"
    process = start_build(root, "0.7.0")
    if delay is None:  # killed while still importing and converting
        time.sleep(0.5)
    else:  # killed while writing: the temporary folder exists
        wait_for(lambda: corpus.is_dir() and any(p.name.startswith(".tmp-") for p in corpus.iterdir()))
        time.sleep(delay)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    release = corpus / "v0.7.0"
    if delay is not None and delay < 0.5:  # four slowed writes take > 1 s: this kill hit the writing
        assert not release.exists() and any(p.name.startswith(".tmp-") for p in corpus.iterdir())
    if release.exists():  # the rename happened before the kill: then the release must be whole
        assert verify(release) == []
        names = sorted(p.name for p in corpus.iterdir())
        # Killed after the rename, maybe before it removed its lock file: then a file no one holds.
        assert names in (["v0.7.0"], [".build.lock", "v0.7.0"])
        if ".build.lock" in names:
            with open(corpus / ".build.lock", "a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    else:
        rerun = subprocess.run(
            [sys.executable, "-m", "newscorpus.cli", "--root", str(root), "build", "--version", "0.7.0"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rerun.returncode == 0, rerun.stderr
        assert verify(release) == []
        # The rerun took over the killed build's lock file (if it had made one) and removed it with its own.
        assert sorted(p.name for p in corpus.iterdir()) == ["v0.7.0"]


def test_two_builds_of_one_version_at_once(tmp_path):
    root = tmp_path / "repo"
    copy_project(root)
    first, second = start_build(root, "0.8.0"), start_build(root, "0.8.0")
    results = [(p.wait(timeout=120), *p.communicate()) for p in (first, second)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    loser_error = next(err for code, _, err in results if code == 1)
    assert loser_error in {
        "error: another build holds the lock on corpus/; wait for it to finish\n",
        "error: corpus/v0.8.0 was written by another build meanwhile; nothing written\n",
        "error: corpus/v0.8.0 exists; releases are never overwritten: build a new version (see README: Versioning)\n",
    }
    assert verify(root / "corpus" / "v0.8.0") == []
    assert sorted(p.name for p in (root / "corpus").iterdir()) == ["v0.8.0"]
