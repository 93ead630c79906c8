"""Inputs and conditions a build must refuse with one message, exit 1 (130 for Ctrl-C), and nothing written.

Each case here cannot live in the bad-input folders (special files, names with a newline,
a full or read-only disk, a signal), so the test makes it at run time. Every case checks
the exact message and that corpus/ and annotation/ are byte for byte as before.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
from filelock import FileLock

from newscorpus.cli import main
from tests.helpers import REPO, SEED_ID, copy_project, tree_bytes


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    copy_project(root, with_corpus=True)
    return root


def build(root, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--root", str(root), "build", *(args or ("--version", "0.9.0"))])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def untouched(root) -> dict[str, bytes]:
    return {**tree_bytes(root / "corpus"), **{f"annotation/{k}": v for k, v in tree_bytes(root / "annotation").items()}}


def seed_problem(name: str, doc_id: str, message: str) -> str:
    fix = "replace it with the article as a UTF-8 text file in seeds/"
    head = "error: 1 problem in the input; nothing was written:"
    return f"{head}\n  [{name}] doc_id={doc_id} field=file: {message}; fix: {fix}\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: os.mkfifo(path), "is a FIFO, not a text file"),
        (lambda path: path.mkdir(), "is a folder, not a text file"),
        (lambda path: path.symlink_to("gone.txt"), "is a symlink to 'gone.txt', which does not exist"),
        (
            lambda path: path.symlink_to(REPO / "seeds" / f"{SEED_ID}.txt"),
            "is a symlink to a file outside the repository (a release must depend only on files it holds)",
        ),
    ],
    ids=["fifo", "folder", "dangling-symlink", "symlink-outside"],
)
def test_a_seed_that_is_not_a_file_of_the_repository_is_named(repo, capsys, make, message):
    make(repo / "seeds" / "001_odd.txt")
    before = untouched(repo)
    assert build(repo, capsys) == (1, "", seed_problem("seeds/001_odd.txt", "001_odd", message))
    assert untouched(repo) == before


def test_a_symlinked_seed_inside_the_repository_is_read(repo, capsys):
    (repo / "elsewhere").mkdir()
    (repo / "seeds" / f"{SEED_ID}.txt").rename(repo / "elsewhere" / "seed.txt")
    (repo / "seeds" / f"{SEED_ID}.txt").symlink_to(repo / "elsewhere" / "seed.txt")
    code, out, err = build(repo, capsys)
    assert (code, err) == (0, "")
    assert out.endswith(
        "wrote corpus/v0.9.0 (documents 1, entities 66, events 16, quotes 8, tokens 13, chains 33, event_arguments 36"
        " rows)\n"
    )


def test_a_seed_name_with_a_final_newline_is_not_a_doc_id(repo, capsys):
    (repo / "seeds" / "nl_doc\n.txt").write_text("date 2023-06-01\nText.\n", encoding="utf-8")
    before = untouched(repo)
    code, out, err = build(repo, capsys)
    assert (code, out) == (1, "")
    assert err == (
        "error: 1 problem in the input; nothing was written:\n"
        "  [seeds/nl_doc\n.txt] doc_id=nl_doc\n field=doc_id: file name stem 'nl_doc\\n' is not a valid doc_id"
        " ([A-Za-z0-9][A-Za-z0-9_-]{0,127}); fix: rename the file using only letters, digits, '_' and '-'\n"
    )
    assert untouched(repo) == before


@pytest.mark.parametrize("version", ["1.0.0\n", "1.0.0 ", "v1.0", "01.0.0"])
def test_a_version_must_be_exactly_x_y_z(repo, capsys, version):
    before = untouched(repo)
    assert build(repo, capsys, "--version", version) == (
        1,
        "",
        f"error: version {version.removeprefix('v')!r} is not X.Y.Z (e.g. 0.1.0); see README: Versioning\n",
    )
    assert untouched(repo) == before


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "lots"])
def test_the_shard_size_must_be_a_positive_number_of_mib(repo, capsys, value):
    before = untouched(repo)
    with pytest.raises(SystemExit) as exited:
        main(["--root", str(repo), "build", "--version", "0.9.0", "--max-shard-mib", value])
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"error: argument --max-shard-mib: {value!r} is not a whole number of MiB >= 1\n"
    )
    assert untouched(repo) == before


def test_a_read_only_corpus_folder_is_one_message(repo, capsys, monkeypatch):
    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(repo / "corpus" / ".build.lock"))

    monkeypatch.setattr(FileLock, "acquire", read_only)
    before = untouched(repo)
    assert build(repo, capsys) == (
        1,
        "",
        "error: cannot take the build lock corpus/.build.lock (Read-only file system);"
        " the corpus folder must be writable; nothing was written\n",
    )
    assert untouched(repo) == before


def test_a_full_disk_is_one_message_and_leaves_nothing(repo, capsys, monkeypatch):
    def full(self, table, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    before = untouched(repo)
    assert build(repo, capsys) == (1, "", "error: corpus: No space left on device; nothing was written\n")
    assert untouched(repo) == before


def test_ctrl_c_during_a_build_exits_130_and_leaves_nothing(repo):
    before = untouched(repo)
    process = subprocess.Popen(
        [sys.executable, "-m", "newscorpus.cli", "--root", str(repo), "build", "--version", "0.9.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell may start its background jobs with SIGINT ignored; Ctrl-C reaches a foreground one.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    corpus = repo / "corpus"
    while not any(p.name.startswith(".tmp-") for p in corpus.iterdir()):
        assert process.poll() is None and time.monotonic() < deadline, "the build ended before it could be interrupted"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (130, "error: interrupted; no release was written\n")
    assert "Traceback" not in out
    assert untouched(repo) == before


def test_a_reader_that_goes_away_is_no_traceback(repo):
    # `newscorpus validate ... | head -1` when head has gone: every write meets a closed pipe.
    read_end, write_end = os.pipe()
    os.close(read_end)
    command = [sys.executable, "-m", "newscorpus.cli", "--root", str(repo), "validate", "corpus/v0.1.2"]
    try:
        result = subprocess.run(command, cwd=repo, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (141, "")
