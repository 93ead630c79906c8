"""The `manifest` suite's view of a local release folder: one row per file, with what matches."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newscorpus.files import file_sha256
from newscorpus.validation.view_specs import MANIFEST_CHECKS, MANIFEST_FIELDS


def manifest_view(release: Path, manifest: dict, required: list[str], data_files: list[str]) -> pa.Table:
    """The validation view of the `manifest` suite: one row per file that the manifest lists, that the
    folder holds, or that every release must hold, with what matches (null where it does not apply)."""
    outputs = {e["path"]: e for e in manifest.get("outputs", []) if isinstance(e, dict) and "path" in e}
    on_disk = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()} - {"manifest.json"}
    rows: dict[str, list] = {name: [] for name in ("path", "listed", "present", "sha256_matches", "bytes_match")}
    rows["rows_match"] = []
    for path in sorted(set(outputs) | on_disk | set(required)):
        entry, file = outputs.get(path), release / path
        present = path in on_disk
        checked = entry is not None and present
        rows["path"].append(path)
        rows["listed"].append(entry is not None)
        rows["present"].append(present)
        rows["sha256_matches"].append(file_sha256(file) == entry.get("sha256") if checked else None)
        rows["bytes_match"].append(file.stat().st_size == entry.get("bytes") if checked else None)
        counted = checked and (path in data_files or "rows" in entry)
        rows["rows_match"].append(_parquet_rows(file) == entry.get("rows") if counted else None)
    return pa.table(rows, schema=pa.schema([*MANIFEST_FIELDS, *MANIFEST_CHECKS]))


def _parquet_rows(path: Path) -> int | None:
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except (pa.ArrowException, OSError):
        return None
