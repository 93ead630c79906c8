"""Named bad inputs, each run through the CLI: exit 1, the exact message, and corpus/ untouched.

tests/bad_inputs/_base/ is a valid project (one seed, one export); each case folder
replaces some of its files (seeds/, exports/) and holds expected.txt, the exact
stderr, reviewed by hand.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from newscorpus.cli import main
from tests.helpers import REPO, tree_bytes

SUITE = REPO / "tests" / "bad_inputs"
CASES = sorted(p for p in SUITE.iterdir() if p.is_dir() and not p.name.startswith("_"))


def make_project(case: Path, root: Path) -> Path:
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "validation", root / "validation")
    shutil.copy2(REPO / "DATACARD.md", root / "DATACARD.md")
    shutil.copytree(SUITE / "_base" / "seeds", root / "seeds")
    shutil.copytree(SUITE / "_base" / "exports", root / "annotation" / "exports")
    shutil.copy2(REPO / "annotation" / "GUIDELINES.md", root / "annotation" / "GUIDELINES.md")
    for sub, target in (("seeds", "seeds"), ("exports", "annotation/exports")):
        if (case / sub).is_dir():
            shutil.copytree(case / sub, root / target, dirs_exist_ok=True)
    shutil.copytree(REPO / "corpus" / "v0.1.0", root / "corpus" / "v0.1.0")
    return root


def run_build(root: Path, capsys) -> tuple[int, str, str]:
    code = main(["--root", str(root), "build", "--version", "0.2.0"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_base_project_builds(tmp_path, capsys):
    root = make_project(SUITE / "_base", tmp_path / "repo")
    code, out, err = run_build(root, capsys)
    assert (code, err) == (0, "")
    assert out.endswith(
        "wrote corpus/v0.2.0 (documents 1, entities 4, events 1, quotes 1, tokens 2, chains 4, event_arguments 3"
        " rows)\n"
    )


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_bad_input(case: Path, tmp_path: Path, capsys):
    root = make_project(case, tmp_path / "repo")
    before = tree_bytes(root / "corpus"), tree_bytes(root / "annotation")
    code, out, err = run_build(root, capsys)
    expected = (case / "expected.txt").read_text(encoding="utf-8")
    assert code == 1
    assert out == ""
    assert err == expected, f"{case.name}: the message changed; if intended, review it and update expected.txt"
    assert (tree_bytes(root / "corpus"), tree_bytes(root / "annotation")) == before


# -- entries of annotation/exports/ that git cannot hold, or that a test makes at run time ---------

EXPORT = "annotation/exports/20261120T100000Z-project-1.json"
TAIL = "fix: move it out of annotation/exports/; that folder holds only the files `annotate pull` writes"
LINK_FIX = "fix: put the export file itself in annotation/exports/ (as downloaded by `annotate pull`), not a link"


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()
    (path / "task.json").write_text("[]", encoding="utf-8")


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "gone.json")


def _link_to_export(path: Path) -> None:
    path.symlink_to(path.parent / "20261120T100000Z-project-1.json")


SPECIAL_ENTRIES = {
    "fifo": ("20261121T100000Z-project-1.json", _fifo, f"a named pipe (FIFO), not an export file; {TAIL}"),
    "folder": ("20261121T100000Z-project-1.json", _folder, f"a folder, not an export file; {TAIL}"),
    "dangling_symlink": (
        "20261121T100000Z-project-1.json",
        _dangling,
        f"a symbolic link to nothing (dangling), not an export file; {LINK_FIX}",
    ),
    "symlink_to_an_export": (
        "20261121T100000Z-project-1.json",
        _link_to_export,
        f"a symbolic link, not an export file; {LINK_FIX}",
    ),
    "fifo_with_another_name": ("backup.json", _fifo, f"a named pipe (FIFO), not an export file; {TAIL}"),
}


@pytest.fixture
def alarm():
    """Fail instead of hanging: a build that opens a pipe would block forever."""

    def timeout(signum, frame):
        raise TimeoutError("the build blocked")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("entry", sorted(SPECIAL_ENTRIES))
def test_an_entry_that_is_no_plain_file_is_named(entry, tmp_path, capsys, alarm):
    name, make, message = SPECIAL_ENTRIES[entry]
    root = make_project(SUITE / "_base", tmp_path / "repo")
    make(root / "annotation" / "exports" / name)
    before = tree_bytes(root / "corpus"), tree_bytes(root / "annotation")
    code, out, err = run_build(root, capsys)
    assert (code, out) == (1, "")
    assert err == (f"error: 1 problem in the input; nothing was written:\n  [annotation/exports/{name}]: {message}\n")
    assert (tree_bytes(root / "corpus"), tree_bytes(root / "annotation")) == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_folder, "20261120T100000Z-project-1.json.sha256 is a folder, not a checksum file; " + TAIL),
        (_fifo, "20261120T100000Z-project-1.json.sha256 is a named pipe (FIFO), not a checksum file; " + TAIL),
        (
            lambda p: p.write_bytes(b"\xff\xfe not a checksum\n"),
            "20261120T100000Z-project-1.json.sha256 does not start with a sha256 (64 hexadecimal digits);"
            " fix: restore the file as `annotate pull` wrote it, or pull a new export",
        ),
        (
            lambda p: p.write_text("", encoding="utf-8"),
            "20261120T100000Z-project-1.json.sha256 does not start with a sha256 (64 hexadecimal digits);"
            " fix: restore the file as `annotate pull` wrote it, or pull a new export",
        ),
    ],
    ids=["folder", "fifo", "binary", "empty"],
)
def test_a_checksum_file_that_is_not_one_is_named(make, message, tmp_path, capsys, alarm):
    root = make_project(SUITE / "_base", tmp_path / "repo")
    make(root / f"{EXPORT}.sha256")
    before = tree_bytes(root / "corpus"), tree_bytes(root / "annotation")
    code, out, err = run_build(root, capsys)
    assert (code, out) == (1, "")
    assert err == f"error: 1 problem in the input; nothing was written:\n  [{EXPORT}] field=sha256: {message}\n"
    assert (tree_bytes(root / "corpus"), tree_bytes(root / "annotation")) == before


def test_a_name_with_a_trailing_newline_is_shown_escaped(tmp_path, capsys):
    root = make_project(SUITE / "_base", tmp_path / "repo")
    (root / "annotation/exports/20261121T100000Z-project-1.json\n").write_bytes((root / EXPORT).read_bytes())
    code, out, err = run_build(root, capsys)
    assert (code, out) == (1, "")
    assert err == (
        "error: 1 problem in the input; nothing was written:\n"
        "  [annotation/exports/20261121T100000Z-project-1.json\\n]: not an export (`newscorpus annotate pull` names"
        " exports YYYYMMDDTHHMMSSZ-project-N.json, with a .sha256 beside each); fix: rename it to the name it was"
        " pulled under, or move it out of annotation/exports/\n"
    )


def test_hidden_files_that_are_not_json_are_left_alone(tmp_path, capsys):
    """A pull's temporary file and a .gitkeep are no inputs."""
    root = make_project(SUITE / "_base", tmp_path / "repo")
    (root / "annotation/exports/.gitkeep").write_text("", encoding="utf-8")
    (root / "annotation/exports/.20261121T100000Z-project-1.json.123.tmp").write_text("[", encoding="utf-8")
    code, _, err = run_build(root, capsys)
    assert (code, err) == (0, "")


def test_surrogate_pairs_are_characters(tmp_path, capsys):
    """An emoji written as a pair of escapes, in the text and in a region id, is read as the emoji."""
    root = make_project(SUITE / "_base", tmp_path / "repo")
    export = root / EXPORT
    raw = export.read_text(encoding="utf-8")
    raw = raw.replace("Zvešan 🙂", "Zvešan \\ud83d\\ude42").replace('"E1"', '"e\\ud83d\\ude00"')
    export.write_text(raw, encoding="utf-8")
    code, _, err = run_build(root, capsys)
    assert (code, err) == (0, "")
    entities = pq.read_table(root / "corpus/v0.2.0/entities").to_pylist()
    assert "e😀" in {row["id"] for row in entities}


def test_an_escaped_backslash_before_u_d800_is_text(tmp_path, capsys):
    """`\\\\ud800` in JSON is a backslash and the letters ud800: no surrogate (the scan suspects, the check clears)."""
    root = make_project(SUITE / "_base", tmp_path / "repo")
    export = root / EXPORT
    export.write_text(export.read_text(encoding="utf-8").replace('"Police"', '"Police", "note": "\\\\ud800"'))
    code, _, err = run_build(root, capsys)
    assert (code, err) == (0, "")
