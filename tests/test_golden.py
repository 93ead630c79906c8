"""Golden folders: Label Studio exports in, hand-reviewed release rows out.

Each tests/golden/<case>/ holds seeds/, exports/ (native Label Studio JSON) and
expected.json, written and checked by hand. The case is built into a release
and read back with datasets.load_dataset, as a user would.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

from newscorpus.build.builder import build_release
from tests.helpers import REPO, data_file, project_for

GOLDEN = REPO / "tests" / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir())


def plain(row: dict) -> dict:
    row = dict(row)
    row["published"] = row["published"].isoformat()
    return row


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden_case(case: Path, tmp_path: Path):
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    release = build_release(project_for(case, tmp_path / "repo"), "1.0.0")

    documents = [plain(r) for r in load_dataset(str(release.path), "documents", split="train")]
    for row in documents:
        assert row.pop("text_sha256") == hashlib.sha256(row["text"].encode("utf-8")).hexdigest()
        # Format 2's provenance columns: the golden seeds state none (tests/test_derived_configs.py reads some).
        assert [row.pop(c) for c in ("url", "title", "publisher", "author", "article_language")] == [None] * 5
        assert row.pop("annotators") == []  # no golden case has a roster (tests/test_roster.py has one)
    hint = f"{case.name}/expected.json is written by hand: if the change is intended, edit it and review the diff"
    assert documents == expected["documents"], hint

    manifest = json.loads((release.path / "manifest.json").read_text(encoding="utf-8"))
    summary = {k: v for k, v in manifest["annotation"].items() if k != "adjudication"}
    assert summary == expected["annotation"], hint

    # The flat configs hold the same records, one row each, with their doc_id.
    for layer in ("entities", "events", "quotes"):
        nested = [{"doc_id": doc["doc_id"], **record} for doc in documents for record in doc[layer]]
        if not nested:  # datasets cannot load an empty split; the typed, empty file is still there
            table = pq.read_table(release.path / data_file(layer))
            assert table.num_rows == 0 and table.schema.names[0] == "doc_id"
            continue
        flat = list(load_dataset(str(release.path), layer, split="train"))
        assert flat == nested, layer


def test_every_case_has_its_expectation():
    assert CASES, "no golden cases found"
    for case in CASES:
        assert (case / "expected.json").is_file(), case.name
        assert list((case / "exports").glob("*.json")), case.name
