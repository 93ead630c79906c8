"""Every released document whose annotation changed is named: in the build's summary and in CHANGELOG.md."""

from __future__ import annotations

import json
import shutil

import pytest

from newscorpus.cli import main
from newscorpus.release.changelog import render_changelog
from newscorpus.release.diff import diff_releases
from tests.helpers import REPO, copy_static

BASE = REPO / "tests" / "bad_inputs" / "_base"
EXPORT = "20261120T100000Z-project-1.json"
CORRECTED = "20261125T100000Z-project-1.json"


@pytest.mark.parametrize(("old", "new"), [("v0.1.0", "v0.1.1"), ("v0.1.1", "v0.1.2")])
def test_the_committed_changelogs_come_out_as_released(old, new):
    """No committed release corrected a released document, so their CHANGELOG.md text is the same as before."""
    corpus = REPO / "corpus"
    text = render_changelog(diff_releases(corpus / old, corpus / new))
    assert text == (corpus / new / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Annotation changed in" not in text


def build(root, version: str, capsys) -> str:
    assert main(["--root", str(root), "build", "--version", version]) == 0
    return capsys.readouterr().out


def test_a_corrected_released_document_is_named(tmp_path, capsys):
    root = tmp_path / "repo"
    copy_static(root)
    shutil.copytree(BASE / "seeds", root / "seeds")
    shutil.copytree(BASE / "exports", root / "annotation" / "exports")
    out = build(root, "0.1.0", capsys)
    assert "released in" not in out  # a first release has nothing released before it
    assert "Annotation changed" not in (root / "corpus" / "v0.1.0" / "CHANGELOG.md").read_text(encoding="utf-8")

    # Pulled again with nothing changed: a patch release names no document.
    out = build(root, "0.1.1", capsys)
    assert "no document released in v0.1.0 has a changed annotation\n" in out

    # A correction in Label Studio: "Police" is an ORG no longer but a PERSON group.
    tasks = json.loads((root / "annotation" / "exports" / EXPORT).read_text(encoding="utf-8"))
    annotation = tasks[0]["annotations"][0]
    for item in annotation["result"]:
        if item.get("id") == "E1" and item["from_name"] == "entity":
            item["value"]["labels"] = ["PERSON"]
    annotation["updated_at"] = "2026-11-25T10:00:00.000000Z"
    (root / "annotation" / "exports" / CORRECTED).write_text(json.dumps(tasks), encoding="utf-8")
    out = build(root, "0.1.2", capsys)
    assert "annotation changed in 1 document(s) released in v0.1.1: doc1\n" in out
    changelog = (root / "corpus" / "v0.1.2" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "\nAnnotation changed in 1 document(s) released in v0.1.1: `doc1`.\n" in changelog
    assert "~ entity E1: label ORG -> PERSON" in changelog
