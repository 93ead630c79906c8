"""Reading a release folder back: its files against the manifest, and a summary as a user loads it.

Part of the release format: imports `errors`, `files`, `release.manifest` and `release.formats` only.
"""

from __future__ import annotations

import os
from pathlib import Path

from newscorpus.files import file_digest
from newscorpus.release.formats import configs
from newscorpus.release.manifest import MANIFEST_NAME, checked_outputs, file_problem, read_manifest, release_format


def verify(release: Path) -> list[str]:
    """Every output file named in the manifest exists with its sha256 and size; no extra file. Returns problems.

    A manifest that is malformed, or names a path outside the release, is a ReleaseError
    (`checked_outputs`); a listed file that is missing, special (a FIFO, a folder, a dangling
    symlink) or unreadable is a problem, and is never opened in a way that could block.
    """
    manifest = read_manifest(release)
    outputs = checked_outputs(release, manifest)
    problems = []
    for entry in outputs:
        name = entry["path"]
        if (problem := file_problem(release / name)) is None:
            problem = _content_problem(release / name, entry)
        if problem is not None:
            problems.append(f"{name}: {problem}")
    return problems + _unlisted(release, {entry["path"] for entry in outputs})


def _content_problem(path: Path, entry: dict) -> str | None:
    try:
        size, digest = file_digest(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if size != entry["bytes"]:
        text = f"bytes {entry['bytes']} in the manifest, the file has {size}"
        if digest == entry["sha256"]:
            return text + " although its sha256 matches (the manifest's size was edited)"
        return text + " (the file was changed or corrupted)"
    if digest != entry["sha256"]:
        return "sha256 differs from the manifest (the file was changed or corrupted)"
    return None


def _unlisted(release: Path, listed: set[str]) -> list[str]:
    """Everything in the release but folders (files, symlinks, FIFOs) that is not listed; symlinks are not followed."""
    found = []

    def unreadable(error: OSError) -> None:
        name = Path(error.filename).relative_to(release).as_posix()
        found.append(f"{name}: a folder that cannot be listed ({error.strerror})")

    for folder, folders, files in os.walk(release, onerror=unreadable):
        here = Path(folder)
        for name in files + [f for f in folders if (here / f).is_symlink()]:
            relative = (here / name).relative_to(release).as_posix()
            if relative != MANIFEST_NAME and relative not in listed:
                found.append(f"{relative}: not in the manifest")
    return sorted(found)


def summarize(release: Path) -> list[str]:
    """Load every config with `datasets.load_dataset`, as a user would, and describe what came back."""
    from datasets import load_dataset

    lines = []
    names = configs(release_format(read_manifest(release)))
    loaded = {config: load_dataset(str(release), config, split="train") for config in names}
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
