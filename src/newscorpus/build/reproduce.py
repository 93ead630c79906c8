"""Rebuild a release from its inputs in a scratch folder and compare it byte for byte."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from newscorpus.build.builder import build_release
from newscorpus.card.datacard import input_entry
from newscorpus.files import file_sha256
from newscorpus.project import Project
from newscorpus.release.manifest import LATER_MANIFEST_FIELDS, manifest_text, read_manifest
from newscorpus.release.shards import MAX_SHARD_BYTES


@dataclass(frozen=True)
class Reproduction:
    identical: list[str]
    different: list[str]
    changed_inputs: list[str]
    predated: dict[str, list[str]] = field(default_factory=dict)  # file -> fields the release predates


def reproduce(project: Project, release: Path) -> Reproduction:
    """Rebuild the release's version from the current inputs in a scratch folder and compare byte for byte."""
    manifest = read_manifest(release)
    changed = []
    for entry in manifest.get("inputs", []):
        path = project.root / entry["path"]
        if not path.is_file():
            changed.append(entry["path"])
        elif "hashed" in entry:  # DATACARD.md: hashed without its generated blocks
            if input_entry(path, entry["path"])["sha256"] != entry["sha256"]:
                changed.append(entry["path"])
        elif file_sha256(path) != entry["sha256"]:
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
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return manifest_text({k: v for k, v in manifest.items() if k not in fields}).encode("utf-8")
