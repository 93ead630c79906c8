"""File helpers every stage shares: a streamed sha256, a manifest-style file entry.

A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks (memory does not grow with the file)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, sha256) of a file."""
    return path.stat().st_size, file_sha256(path)


def bytes_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
