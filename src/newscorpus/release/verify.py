"""Reading a release folder back: its files against the manifest, and a summary as a user loads it.

Part of the release format: imports `errors`, `schema`, `files` and `release.manifest` only.
"""

from __future__ import annotations

from pathlib import Path

from newscorpus.files import file_digest
from newscorpus.release.manifest import MANIFEST_NAME, read_manifest
from newscorpus.schema import CONFIGS


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
        size, digest = file_digest(path)
        if digest != entry["sha256"] or size != entry["bytes"]:
            problems.append(f"{entry['path']}: sha256 differs from the manifest (the file was changed or corrupted)")
    extra = sorted(
        p.relative_to(release).as_posix()
        for p in release.rglob("*")
        if p.is_file() and p.name != MANIFEST_NAME and p.relative_to(release).as_posix() not in listed
    )
    problems += [f"{name}: not in the manifest" for name in extra]
    return problems


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
