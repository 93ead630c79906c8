"""The one sha256 of the package: of a file (streamed), of an open file, of bytes.

A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks (memory does not grow with the file)."""
    with open(path, "rb") as handle:
        return stream_sha256(handle)


def stream_sha256(handle: BinaryIO) -> str:
    """The sha256 of what is left to read in an open binary file, read in blocks."""
    return hashlib.file_digest(handle, "sha256").hexdigest()


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, sha256) of a file."""
    return path.stat().st_size, file_sha256(path)


def bytes_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
