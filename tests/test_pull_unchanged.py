"""When `annotate pull` counts the project's export as the newest stored one (and writes nothing)."""

from __future__ import annotations

import json

from newscorpus.labelstudio.pull import newest_export, same_export
from newscorpus.labelstudio.user_records import write_record

TASKS = [
    {"id": 1, "data": {"doc_id": "a", "text": "A."}, "annotations": [{"id": 5, "completed_by": 2, "result": []}]},
    {"id": 2, "data": {"doc_id": "b", "text": "B."}, "annotations": []},
]


def stored(tmp_path, tasks, **dump) -> tuple:
    path = tmp_path / "20261201T000000Z-project-3.json"
    path.write_text(json.dumps(tasks, **dump), encoding="utf-8")
    return path


def test_the_same_bytes_are_the_same_export(tmp_path):
    raw = json.dumps(TASKS).encode()
    assert same_export(stored(tmp_path, TASKS), raw, json.loads(raw))


def test_key_order_whitespace_and_task_order_are_no_change(tmp_path):
    """None of them is anything a build reads, and Label Studio does not promise to keep them."""
    path = stored(tmp_path, list(reversed(TASKS)), sort_keys=True, indent=2)
    raw = json.dumps(TASKS).encode()
    assert path.read_bytes() != raw
    assert same_export(path, raw, json.loads(raw))


def test_a_changed_annotation_is_a_new_export(tmp_path):
    path = stored(tmp_path, TASKS)
    changed = json.loads(json.dumps(TASKS))
    changed[0]["annotations"][0]["result"] = [{"type": "relation", "from_id": "x", "to_id": "y"}]
    assert not same_export(path, json.dumps(changed).encode(), changed)
    assert not same_export(path, json.dumps(TASKS[:1]).encode(), TASKS[:1])


def test_an_unreadable_stored_export_is_no_match(tmp_path):
    path = tmp_path / "20261201T000000Z-project-3.json"
    path.write_bytes(b"[{")
    assert not same_export(path, json.dumps(TASKS).encode(), TASKS)


def test_the_newest_export_of_the_same_project_is_compared(tmp_path):
    names = ("20261201T000000Z-project-3.json", "20261202T000000Z-project-3.json", "20261203T000000Z-project-4.json")
    for name in names:
        (tmp_path / name).write_text("[]", encoding="utf-8")
        write_record(tmp_path / name, {}, "test")
    assert newest_export(tmp_path, 3).name == "20261202T000000Z-project-3.json"
    assert newest_export(tmp_path, 4).name == "20261203T000000Z-project-4.json"
    assert newest_export(tmp_path, 5) is None
