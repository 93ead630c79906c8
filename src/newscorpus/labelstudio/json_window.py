"""An export's top-level list read again with the standard library's JSON decoder, one element at a time.

The build streams exports with ijson's C backend. When that stops, or when an export holds
something that backend reads differently from the JSON text (a lone surrogate escape), the
file is read once more here, element by element through a sliding window, so that a 2 GB
export is never held whole: to say where the first JSON error is, worded as Python's own
`json` module words it (message, line, column), or to look at each task as the standard
library decodes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

READ_SIZE = 1 << 22  # characters read at a time (callers may pass smaller windows; the tests do)
_WHITESPACE = " \t\n\r"


def locate_json_error(path: Path, read_size: int = READ_SIZE) -> tuple[str, int, int, bool] | None:
    """(message, line, column, at end of file) of the first JSON error, as `json.loads` reports it."""
    try:
        for _ in _elements(path, read_size):
            pass
    except _Located as found:
        return found.args
    return None


def decoded_elements(path: Path, read_size: int = READ_SIZE) -> Iterator[object]:
    """The list's elements as `json.loads` decodes them, in file order; stops at the first JSON error."""
    try:
        yield from _elements(path, read_size)
    except _Located:
        return


def _elements(path: Path, read_size: int) -> Iterator[object]:
    """Raises _Located at the first JSON error; yields nothing for a file that is not a list."""
    reader = _TextWindow(path, read_size)
    try:
        yield from _walk(reader)
    finally:
        reader.close()


def _walk(reader: _TextWindow) -> Iterator[object]:
    decoder = json.JSONDecoder()
    pos = reader.skip_whitespace(0)
    if reader.char(pos) != "[":
        return  # not a list: load_whole handles such files
    pos = reader.skip_whitespace(pos + 1)
    if reader.char(pos) == "]":
        pos += 1
    else:
        while True:
            value, pos = reader.decode_value(decoder, pos)
            yield value
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


class _Located(Exception):
    """A JSON error with its place in the whole file."""


class _TextWindow:
    """The decoded file seen through a sliding window; positions count characters from the file's start."""

    def __init__(self, path: Path, read_size: int):
        self.read_size = read_size
        # newline="": positions must count the file's own characters, "\r\n" included
        self.handle = open(path, encoding="utf-8", newline="")  # noqa: SIM115 - closed at the end of the file
        self.text = ""
        self.start = 0  # file position of text[0]
        self.lines_before = 0  # newlines before text[0]
        self.column_before = 0  # characters since the last newline before text[0]
        self.eof = False

    def close(self) -> None:
        self.eof = True
        self.handle.close()

    def _fill(self, until: int) -> None:
        """Make sure the window holds file positions up to `until` (or the end of the file)."""
        while self.start + len(self.text) < until and not self.eof:
            block = self.handle.read(self.read_size)
            if not block:
                self.close()
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

    def decode_value(self, decoder: json.JSONDecoder, pos: int) -> tuple[object, int]:
        """Decode one value at `pos`; widen the window until it fits or the file ends."""
        self._drop_before(pos)
        ahead = self.read_size
        while True:
            self._fill(pos + ahead)
            try:
                value, end = decoder.raw_decode(self.text, pos - self.start)
                return value, self.start + end
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
            block = self.handle.read(self.read_size)
            if not block:
                self.close()
            elif block.strip():
                return False
        return True
