"""Reading a release folder back: checksums, the manifest validation view, reproduction from inputs, a summary."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newscorpus.errors import ReleaseError
from newscorpus.project import Project
from newscorpus.schema import CONFIGS
from newscorpus.validation_view import MANIFEST_CHECKS, MANIFEST_FIELDS


def read_manifest(release: Path) -> dict:
    path = release / "manifest.json"
    if not path.is_file():
        raise ReleaseError(f"{release.name}: no manifest.json; is this a release folder (corpus/vX.Y.Z)?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReleaseError(f"{release.name}/manifest.json: not valid JSON ({exc})") from None


def verify(release: Path) -> list[str]:
    """Every output file named in the manifest exists with its sha256 and size; no extra file. Returns problems."""
    manifest = read_manifest(release)
    problems = []
    listed = {entry["path"] for entry in manifest.get("outputs", [])}
    for entry in manifest.get("outputs", []):
        path = release / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["bytes"]:
            problems.append(f"{entry['path']}: sha256 differs from the manifest (the file was changed or corrupted)")
    extra = sorted(
        p.relative_to(release).as_posix()
        for p in release.rglob("*")
        if p.is_file() and p.name != "manifest.json" and p.relative_to(release).as_posix() not in listed
    )
    problems += [f"{name}: not in the manifest" for name in extra]
    return problems


# Manifest fields added after some releases were built: such a release is compared without them.
LATER_MANIFEST_FIELDS = ("validation", "layout")


@dataclass(frozen=True)
class Reproduction:
    identical: list[str]
    different: list[str]
    changed_inputs: list[str]
    predated: dict[str, list[str]] = field(default_factory=dict)  # file -> fields the release predates


def reproduce(project: Project, release: Path) -> Reproduction:
    """Rebuild the release's version from the current inputs in a scratch folder and compare byte for byte."""
    from newscorpus.build import build_release
    from newscorpus.card import input_entry
    from newscorpus.shards import MAX_SHARD_BYTES

    manifest = read_manifest(release)
    changed = []
    for entry in manifest.get("inputs", []):
        path = project.root / entry["path"]
        if not path.is_file():
            changed.append(entry["path"])
        elif "hashed" in entry:  # DATACARD.md: hashed without its generated blocks
            if input_entry(path, entry["path"])["sha256"] != entry["sha256"]:
                changed.append(entry["path"])
        elif hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            changed.append(entry["path"])
    with tempfile.TemporaryDirectory(prefix="newscorpus-reproduce-") as scratch:
        # The releases beside this one are its history (its card figures and CHANGELOG.md).
        # The same layout as the release (its largest file size), so that the same files come out.
        max_bytes = (manifest.get("layout") or {}).get("max_shard_bytes", MAX_SHARD_BYTES)
        rebuilt = build_release(
            project,
            manifest["version"],
            corpus_dir=Path(scratch),
            history_dir=release.parent,
            max_shard_bytes=max_bytes,
        ).path
        names = sorted(
            {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
            | {p.relative_to(rebuilt).as_posix() for p in rebuilt.rglob("*") if p.is_file()}
        )
        identical, different, predated = [], [], {}
        for name in names:
            a, b = release / name, rebuilt / name
            same = a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()
            if not same and name == "manifest.json" and a.is_file() and b.is_file():
                fields = _predated_fields(manifest, json.loads(b.read_text(encoding="utf-8")))
                if fields and a.read_bytes() == _without(b, fields):
                    predated[name] = fields
                    continue
            (identical if same else different).append(name)
    return Reproduction(identical, different, changed, predated)


def _predated_fields(released: dict, rebuilt: dict) -> list[str]:
    return [key for key in LATER_MANIFEST_FIELDS if key in rebuilt and key not in released]


def _without(manifest_path: Path, fields: list[str]) -> bytes:
    from newscorpus.build import manifest_text

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return manifest_text({k: v for k, v in manifest.items() if k not in fields}).encode("utf-8")


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
        rows["sha256_matches"].append(_sha256(file) == entry.get("sha256") if checked else None)
        rows["bytes_match"].append(file.stat().st_size == entry.get("bytes") if checked else None)
        counted = checked and (path in data_files or "rows" in entry)
        rows["rows_match"].append(_parquet_rows(file) == entry.get("rows") if counted else None)
    return pa.table(rows, schema=pa.schema([*MANIFEST_FIELDS, *MANIFEST_CHECKS]))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _parquet_rows(path: Path) -> int | None:
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except (pa.ArrowException, OSError):
        return None


def summarize(release: Path) -> list[str]:
    """Load every config with `datasets.load_dataset`, as a user would, and describe what came back."""
    from datasets import load_dataset

    lines = []
    loaded = {config: load_dataset(str(release), config, split="train") for config in CONFIGS}
    for config, dataset in loaded.items():
        lines.append(f"{config}: {dataset.num_rows} rows, columns {', '.join(dataset.column_names)}")
    documents = loaded["documents"]
    for doc in documents.select(range(min(5, documents.num_rows))):
        lines.append(
            f"  {doc['doc_id']} ({doc['published'].isoformat()}, {doc['language']}): {len(doc['text'])} characters,"
            f" {len(doc['entities'])} entity mentions, {len(doc['events'])} events, {len(doc['quotes'])} quotes"
        )
        for quote in doc["quotes"]:
            excerpt = quote["text"] if len(quote["text"]) <= 50 else quote["text"][:47] + "..."
            cue = quote["cue"]["text"] if quote["cue"] else "-"
            lines.append(f"    {quote['kind']:<8} {quote['speaker'] or '?'} [{cue}]: {excerpt}")
    return lines
