"""One Label Studio export file -> its tasks, one at a time, in memory that does not grow with the file.

Label Studio hands a whole project over as one JSON list; at 100,000 tasks that is
~2 GB of JSON, and parsing it whole takes several times that in Python objects. Here
the list is read incrementally (ijson's C backend): one task is alive at a time.

Before anything is opened, the path must be an export (`export_names`): a plain file under
a name `annotate pull` writes. A file that cannot be read is one problem naming the file,
worded as Python's own `json` module words it (message, line, column), because that is
what the reader can act on: when ijson stops, the file is read again with the standard
library's decoder, element by element, only to locate the error (`json_window`). A file
that does not start with `[` is not a task list whatever it holds; it is parsed whole once
to say what it is. A lone surrogate escape, which ijson would read as `?`, is a problem
naming its task and field (`surrogates`).
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import ijson

from newscorpus.errors import InputError, Problem
from newscorpus.files import stream_sha256
from newscorpus.labelstudio import json_window
from newscorpus.labelstudio.export_names import SIDECAR_SUFFIX, check_export_path, check_sidecar_path
from newscorpus.labelstudio.surrogates import SurrogateScan, lone_surrogates, suspect_bytes

READ_SIZE = 1 << 22  # bytes read at a time (4 MiB)
_WHITESPACE = " \t\n\r"
_DOWNLOAD_AGAIN = "download the export again (Label Studio native JSON)"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def iter_tasks(path: Path, name: str) -> Iterator[object]:
    """The tasks of one export, in file order. Raises InputError when the file is unusable.

    The error may come after some tasks were yielded: the caller must then discard
    what it made of this file's tasks (the build does, per file).
    """
    check_path(path, name)
    check_sidecar(path, name)
    if _first_character(path, name) != "[":
        yield from load_whole(path, name)
        return
    try:
        with open_export(path, name) as handle:
            scan = SurrogateScan(handle)
            for task in ijson.items(scan, "item", use_float=True, buf_size=1 << 16):
                if scan.suspect:
                    _check_surrogates(scan, path, name)
                yield task
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
        raise InputError([unreadable(path, name, str(exc).splitlines()[0])]) from None
    if scan.suspect:
        _check_surrogates(scan, path, name)


def _check_surrogates(scan: SurrogateScan, path: Path, name: str) -> None:
    """The scan saw what may be a lone surrogate: read the file exactly once to say where, or clear it."""
    if scan.cleared:
        return
    problems = lone_surrogates(path, name, READ_SIZE)
    if problems:
        raise InputError(problems)
    scan.cleared = True  # the escapes were text after an escaped backslash: the whole file is clean


def check_path(path: Path, name: str) -> None:
    problem = check_export_path(path, name)
    if problem is not None:
        raise InputError([problem])


def open_export(path: Path, name: str) -> BinaryIO:
    """The file opened for reading, if it is still a plain file (a pipe put there meanwhile must not block)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError([Problem(name, message=f"cannot be read: {exc.strerror}", fix=_DOWNLOAD_AGAIN)]) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError([Problem(name, message="not a plain file", fix="keep annotation/exports/ as pulled")])
    return os.fdopen(fd, "rb")


def check_sidecar(path: Path, name: str) -> None:
    """An export's `<name>.sha256`, when present, must still match the file (read in blocks)."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    problem = check_sidecar_path(sidecar, name)
    if problem is not None:
        raise InputError([problem])
    if not os.path.lexists(sidecar):
        return
    with open_export(sidecar, name) as handle:
        head = handle.read(4096)  # "<sha256>  <name>\n"; a file far longer is no checksum file
    recorded = head.split()[:1]
    if len(recorded) != 1 or _SHA256.fullmatch(recorded[0].decode("latin-1")) is None:
        raise InputError(
            [
                Problem(
                    name,
                    field="sha256",
                    message=f"{sidecar.name} does not start with a sha256 (64 hexadecimal digits)",
                    fix="restore the file as `annotate pull` wrote it, or pull a new export",
                )
            ]
        )
    with open_export(path, name) as handle:
        digest = stream_sha256(handle)
    if recorded[0].decode("ascii") != digest:
        raise InputError(
            [
                Problem(
                    name,
                    field="sha256",
                    message=f"the file no longer matches {sidecar.name}",
                    fix="exports are immutable: restore the file as downloaded, or pull a new export",
                )
            ]
        )


def load_whole(path: Path, name: str) -> list:
    """Parse a whole export with the standard library: small files, and files that are not a list (to say what)."""
    with open_export(path, name) as handle:
        raw = handle.read()
    try:
        decoded = raw.decode("utf-8")
        tasks = json.loads(decoded)
    except UnicodeDecodeError as exc:
        raise InputError([_not_utf8(name, exc.start)]) from None
    except json.JSONDecodeError as exc:
        at_end = exc.pos >= len(decoded.rstrip())
        raise InputError([_not_json(name, exc.msg, exc.lineno, exc.colno, at_end)]) from None
    if not isinstance(tasks, list):
        raise InputError(
            [
                Problem(
                    name,
                    message=f"expected a JSON list of tasks, got {type(tasks).__name__}",
                    fix="export the project as Label Studio JSON (not JSON_MIN, CSV or a single task)",
                )
            ]
        )
    if suspect_bytes(raw):
        problems = lone_surrogates(path, name, READ_SIZE)
        if problems:
            raise InputError(problems)
    return tasks


def unreadable(path: Path, name: str, fallback: str) -> Problem:
    """Why a file that starts like a list cannot be read: the first bad byte, else the JSON error."""
    bad_byte = first_invalid_utf8(path, name)
    if bad_byte is not None:
        return _not_utf8(name, bad_byte)
    located = locate_json_error(path)
    if located is None and "integer overflow" in fallback:  # valid JSON, beyond what the reader (and int64) holds
        return Problem(
            name,
            message="holds an integer beyond 64 bits (over 9223372036854775807); no id or offset is that large",
            fix=_DOWNLOAD_AGAIN,
        )
    if located is None:  # Python would accept it (e.g. NaN), JSON does not
        return Problem(name, message=f"not valid JSON: {fallback}", fix=_DOWNLOAD_AGAIN)
    return _not_json(name, *located)


def locate_json_error(path: Path) -> tuple[str, int, int, bool] | None:
    """(message, line, column, at end of file) of the first JSON error, as `json.loads` reports it."""
    return json_window.locate_json_error(path, READ_SIZE)


def first_invalid_utf8(path: Path, name: str = "") -> int | None:
    """Byte offset of the first byte that is not UTF-8, read in blocks; None when the file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open_export(path, name or path.name) as handle:
        while True:
            block = handle.read(READ_SIZE)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                # exc.start counts from the bytes the decoder still held from the previous block.
                held = len(exc.object) - len(block)
                return offset - held + exc.start
            if not block:
                return None
            offset += len(block)


def _first_character(path: Path, name: str) -> str:
    with open_export(path, name) as handle:
        head = handle.read(4096).lstrip(_WHITESPACE.encode())
    return head[:1].decode("latin-1")


def _not_utf8(name: str, byte: int) -> Problem:
    return Problem(name, message=f"not UTF-8 (byte {byte})", fix="download the export again")


def _not_json(name: str, message: str, line: int, column: int, at_end: bool) -> Problem:
    if message.startswith("Unterminated string"):
        # "Unterminated string starting at": the decoder found no closing quote before the file's end
        message, at_end = "Unterminated string starting", True
    hint = "; the file ends too early (truncated download?)" if at_end else ""
    return Problem(
        name,
        message=f"not valid JSON: {message} at line {line} column {column}{hint}",
        fix=_DOWNLOAD_AGAIN,
    )
