"""A release's manifest.json and its versions: the format's leaf module.

`manifest.json` lists the inputs and outputs of a release with sha256 and size, and what
the build found and checked. Everything that reads or writes a manifest, or orders
versions, goes through here. Imports only `errors`, `files` and `schema`.
"""

from __future__ import annotations

import json
from pathlib import Path

from newscorpus.errors import ReleaseError
from newscorpus.files import file_digest
from newscorpus.schema import VERSION_PATTERN

MANIFEST_NAME = "manifest.json"
# Manifest fields added after some releases were built: such a release is compared without them.
LATER_MANIFEST_FIELDS = ("validation", "layout")


def check_version(version: str) -> str:
    """`X.Y.Z` (a leading `v` allowed) -> `X.Y.Z`; anything else is an error."""
    version = version.removeprefix("v")
    if not VERSION_PATTERN.fullmatch(version):
        raise ReleaseError(f"version {version!r} is not X.Y.Z (e.g. 0.1.0); see README: Versioning")
    return version


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of an `X.Y.Z` version: 0.10.0 comes after 0.9.0."""
    return tuple(int(x) for x in version.split("."))


def release_versions(corpus_dir: Path) -> list[str]:
    """Committed releases, oldest first."""
    found = [
        p.name[1:] for p in corpus_dir.glob("v*") if p.is_dir() and VERSION_PATTERN.fullmatch(p.name[1:]) is not None
    ]
    return sorted(found, key=version_key)


def read_manifest(release: Path) -> dict:
    path = release / MANIFEST_NAME
    if not path.is_file():
        raise ReleaseError(f"{release.name}: no manifest.json; is this a release folder (corpus/vX.Y.Z)?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReleaseError(f"{release.name}/manifest.json: not valid JSON ({exc})") from None


def manifest_text(manifest: dict) -> str:
    """The manifest as written: fixed key order, UTF-8, one trailing newline."""
    return json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def file_entry(path: Path, name: str) -> dict:
    """A manifest entry for one file: its path in the release or repository, sha256 and size."""
    size, digest = file_digest(path)
    return {"path": name, "sha256": digest, "bytes": size}
