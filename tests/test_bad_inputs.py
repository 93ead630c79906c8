"""Named bad inputs, each run through the CLI: exit 1, the exact message, and corpus/ untouched.

tests/bad_inputs/_base/ is a valid project (one seed, one export); each case folder
replaces some of its files (seeds/, exports/) and holds expected.txt, the exact
stderr, reviewed by hand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

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
    assert out.endswith("wrote corpus/v0.2.0 (documents 1, entities 4, events 1, quotes 1 rows)\n")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_bad_input(case: Path, tmp_path: Path, capsys):
    root = make_project(case, tmp_path / "repo")
    before = tree_bytes(root / "corpus")
    code, out, err = run_build(root, capsys)
    expected = (case / "expected.txt").read_text(encoding="utf-8")
    assert code == 1
    assert out == ""
    assert err == expected, f"{case.name}: the message changed; if intended, review it and update expected.txt"
    assert tree_bytes(root / "corpus") == before
