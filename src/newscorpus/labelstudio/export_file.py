"""One Label Studio export file -> its tasks, one at a time, in memory that does not grow with the file.

Label Studio hands a whole project over as one JSON list; at 100,000 tasks that is
~2 GB of JSON, and parsing it whole takes several times that in Python objects. Here
the list is read incrementally (ijson's C backend): one task is alive at a time.

A file that cannot be read is one problem naming the file, worded as Python's own
`json` module words it (message, line, column), because that is what the reader can
act on: when ijson stops, the file is read again with the standard library's decoder,
element by element, only to locate the error. A file that does not start with `[` is
not a task list whatever it holds; it is parsed whole once to say what it is.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import ijson

from newscorpus.errors import InputError, Problem

READ_SIZE = 1 << 22  # bytes read at a time (4 MiB)
_WHITESPACE = " \t\n\r"
_DOWNLOAD_AGAIN = "download the export again (Label Studio native JSON)"


def iter_tasks(path: Path, name: str) -> Iterator[object]:
    """The tasks of one export, in file order. Raises InputError (one problem) when the file is unusable.

    The error may come after some tasks were yielded: the caller must then discard
    what it made of this file's tasks (the build does, per file).
    """
    check_sidecar(path, name)
    if _first_character(path) != "[":
        yield from load_whole(path, name)
        return
    try:
        with open(path, "rb") as handle:
            yield from ijson.items(handle, "item", use_float=True, buf_size=1 << 16)
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
        raise InputError([unreadable(path, name, str(exc).splitlines()[0])]) from None


def check_sidecar(path: Path, name: str) -> None:
    """An export's `<name>.sha256`, when present, must still match the file (read in blocks)."""
    sidecar = path.with_name(path.name + ".sha256")
    if not sidecar.exists():
        return
    recorded = sidecar.read_text(encoding="utf-8").split()[:1]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(READ_SIZE):
            digest.update(block)
    if recorded != [digest.hexdigest()]:
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
    """Parse a whole export with the standard library: for files that are not a list (to name what they are)."""
    raw = path.read_bytes()
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
    return tasks


def unreadable(path: Path, name: str, fallback: str) -> Problem:
    """Why a file that starts like a list cannot be read: the first bad byte, else the JSON error."""
    bad_byte = first_invalid_utf8(path)
    if bad_byte is not None:
        return _not_utf8(name, bad_byte)
    located = locate_json_error(path)
    if located is None:  # Python would accept it (e.g. NaN), JSON does not
        return Problem(name, message=f"not valid JSON: {fallback}", fix=_DOWNLOAD_AGAIN)
    return _not_json(name, *located)


def first_invalid_utf8(path: Path) -> int | None:
    """Byte offset of the first byte that is not UTF-8, read in blocks; None when the file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as handle:
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


def locate_json_error(path: Path) -> tuple[str, int, int, bool] | None:
    """(message, line, column, at end of file) of the first JSON error, as `json.loads` reports it."""
    reader = _TextWindow(path)
    decoder = json.JSONDecoder()
    try:
        pos = reader.skip_whitespace(0)
        if reader.char(pos) != "[":
            return None  # not a list: load_whole handles such files
        pos = reader.skip_whitespace(pos + 1)
        if reader.char(pos) == "]":
            pos += 1
        else:
            while True:
                pos = reader.decode_value(decoder, pos)
                pos = reader.skip_whitespace(pos)
                if reader.char(pos) == "]":
                    pos += 1
                    break
                if reader.char(pos) != ",":
                    raise reader.error("Expecting ',' delimiter", pos)
                pos = reader.skip_whitespace(pos + 1)
        pos = reader.skip_whitespace(pos)
        if reader.char(pos) != "":
            raise reader.error("Extra data", pos)
    except _Located as found:
        return found.args
    return None


class _Located(Exception):
    """A JSON error with its place in the whole file."""


class _TextWindow:
    """The decoded file seen through a sliding window; positions count characters from the file's start."""

    def __init__(self, path: Path):
        # newline="": positions must count the file's own characters, "\r\n" included
        self.handle = open(path, encoding="utf-8", newline="")  # noqa: SIM115 - closed at the end of the file
        self.text = ""
        self.start = 0  # file position of text[0]
        self.lines_before = 0  # newlines before text[0]
        self.column_before = 0  # characters since the last newline before text[0]
        self.eof = False

    def _fill(self, until: int) -> None:
        """Make sure the window holds file positions up to `until` (or the end of the file)."""
        while self.start + len(self.text) < until and not self.eof:
            block = self.handle.read(READ_SIZE)
            if not block:
                self.eof = True
                self.handle.close()
            self.text += block

    def _drop_before(self, pos: int) -> None:
        dropped = self.text[: pos - self.start]
        if not dropped:
            return
        newlines = dropped.count("\n")
        self.lines_before += newlines
        self.column_before = len(dropped) - dropped.rfind("\n") - 1 if newlines else self.column_before + len(dropped)
        self.text = self.text[len(dropped) :]
        self.start = pos

    def char(self, pos: int) -> str:
        self._fill(pos + 1)
        index = pos - self.start
        return self.text[index] if index < len(self.text) else ""

    def skip_whitespace(self, pos: int) -> int:
        while self.char(pos) in _WHITESPACE and self.char(pos) != "":
            pos += 1
        return pos

    def decode_value(self, decoder: json.JSONDecoder, pos: int) -> int:
        """Decode one value at `pos`; widen the window until it fits or the file ends."""
        self._drop_before(pos)
        ahead = READ_SIZE
        while True:
            self._fill(pos + ahead)
            try:
                _, end = decoder.raw_decode(self.text, pos - self.start)
                return self.start + end
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise self.error(exc.msg, self.start + exc.pos) from None
                ahead *= 2  # the value may go on past the window

    def error(self, message: str, pos: int) -> _Located:
        self._fill(pos + 1)
        index = pos - self.start
        head = self.text[:index]
        newlines = head.count("\n")
        line = self.lines_before + newlines + 1
        column = index - head.rfind("\n") if newlines else self.column_before + index + 1
        return _Located(message, line, column, self._only_whitespace_after(index))

    def _only_whitespace_after(self, index: int) -> bool:
        """Is the rest of the file blank from here (so the file ended too early)? Read on without keeping it."""
        if self.text[index:].strip():
            return False
        while not self.eof:
            block = self.handle.read(READ_SIZE)
            if not block:
                self.eof = True
                self.handle.close()
            elif block.strip():
                return False
        return True


def _first_character(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(4096).lstrip(_WHITESPACE.encode())
    return head[:1].decode("latin-1")


def _not_utf8(name: str, byte: int) -> Problem:
    return Problem(name, message=f"not UTF-8 (byte {byte})", fix="download the export again")


def _not_json(name: str, message: str, line: int, column: int, at_end: bool) -> Problem:
    hint = "; the file ends too early (truncated download?)" if at_end else ""
    return Problem(
        name,
        message=f"not valid JSON: {message} at line {line} column {column}{hint}",
        fix=_DOWNLOAD_AGAIN,
    )
