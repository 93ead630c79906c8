"""Reading exports: the lone-surrogate scan over the bytes ijson reads, and the exact check behind it."""

from __future__ import annotations

import io
import json
import random

import pytest

from newscorpus.labelstudio.surrogates import SurrogateScan, lone_surrogates
from newscorpus.labelstudio.visible import visible

PIECES = ["a", "é", "😀", "\ud800", "\udbff", "\udc00", "\udfff", "\\", "u", "d", "8", "c", '"', " "]


def _scanned(raw: bytes, size: int) -> bool:
    scan = SurrogateScan(io.BytesIO(raw))
    assert scan.read(0) == b""
    read = b""
    while block := scan.read(size):
        read += block
    assert read == raw
    return scan.suspect


@pytest.mark.parametrize("size", [1, 2, 5, 7, 13, 64])
def test_the_scan_misses_no_lone_surrogate_and_suspects_no_pair_at_any_block_size(size):
    rng = random.Random(size)
    for _ in range(300):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 12)))
        raw = json.dumps([{"id": 1, "data": {"text": text}}]).encode()  # ASCII: pairs and lone halves as escapes
        decoded = json.loads(raw)[0]["data"]["text"]  # a high and a low half side by side make one character
        lone = any(0xD800 <= ord(ch) <= 0xDFFF for ch in decoded)
        suspect = _scanned(raw, size)
        if lone:
            assert suspect, raw
        elif "\\" not in text:
            assert not suspect, raw  # a pair split by a block boundary is still a pair


def test_the_exact_check_names_the_task_and_field(tmp_path):
    path = tmp_path / "export.json"
    tasks = [
        {"id": 1, "data": {"doc_id": "d1", "text": "fine 😀"}},
        {
            "id": 2,
            "data": {"doc_id": "d2", "text": "x\ud800y"},
            "annotations": [{"id": 20, "result": [{"id": "e\udc00"}]}],
        },
        {"id": 3, "data": {"doc_id": "d3", "text": "\\ud800 is text"}},
    ]
    path.write_text(json.dumps(tasks), encoding="ascii")
    found = [(p.task_id, p.annotation_id, p.region_id, p.field) for p in lone_surrogates(path, "x.json", 5)]
    assert found == [(2, None, None, "data.text"), (2, 20, "e\\udc00", "id")]


def test_visible_escapes_what_cannot_be_seen():
    assert visible("plain “text” 😀 é") == "plain “text” 😀 é"
    assert visible("a\u00a0b\u200bc\n\\") == "a\\u00a0b\\u200bc\\n\\\\"
    assert visible("\ud800\U000e0001") == "\\ud800\\U000e0001"
