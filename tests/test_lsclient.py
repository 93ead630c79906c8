"""Pieces of the client that need no server: the export's file name, never overwriting, the shown URL."""

from __future__ import annotations

import datetime as dt
import hashlib

from newscorpus.labelstudio.client import Connection
from newscorpus.labelstudio.exports import export_name, store_export


def test_export_name_is_utc_and_orders_by_time():
    at = dt.datetime(2026, 11, 29, 13, 45, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert export_name(at, 12) == "20261129T114530Z-project-12.json"


def test_store_export_writes_the_bytes_and_a_sidecar_and_never_overwrites(tmp_path):
    first = dt.datetime(2026, 11, 29, 11, 45, 30, tzinfo=dt.UTC)
    clock = iter([first, first, first + dt.timedelta(seconds=1)])
    raw = b'[{"id": 1, "data": {"doc_id": "d", "text": "\xc5\xa1"}}]'
    path = store_export(tmp_path / "exports", raw, 3, lambda: next(clock))
    assert path.name == "20261129T114530Z-project-3.json"
    second = store_export(tmp_path / "exports", b"[]", 3, lambda: next(clock))
    assert second.name == "20261129T114531Z-project-3.json"  # the same second: the next name, not a replacement
    assert path.read_bytes() == raw
    assert path.with_name(path.name + ".sha256").read_text() == f"{hashlib.sha256(raw).hexdigest()}  {path.name}\n"
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == [
        "20261129T114530Z-project-3.json",
        "20261129T114530Z-project-3.json.sha256",
        "20261129T114531Z-project-3.json",
        "20261129T114531Z-project-3.json.sha256",
    ]


def test_shown_url_drops_credentials_and_repr_hides_the_key():
    connection = Connection("http://user:pass@127.0.0.1:8080", "SENTINEL-key")
    assert connection.shown_url == "http://127.0.0.1:8080"
    assert "SENTINEL" not in repr(connection)
