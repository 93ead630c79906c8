"""Lone surrogate escapes in an export: `\\ud800` with no other half of a UTF-16 pair.

JSON may spell a character outside the BMP as two escapes, a high and a low surrogate
(`\\ud83d\\ude00` is one emoji). A surrogate escape without its other half is no character
at all, and ijson's C backend reads it as `?`: a task text with `\\ud800` where the seed has
`?` would pass the text checksum, and region ids `e\\ud800` and `e\\ud801` would both become
`e?`. So the bytes ijson reads go through `SurrogateScan` on their way (one regular
expression over each block, no second pass over the file); only when it sees a suspect
escape is the export read again with the standard library's decoder, which keeps a lone
surrogate as the code point it is, to name each task and field that holds one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from newscorpus.errors import Problem
from newscorpus.labelstudio.json_window import decoded_elements
from newscorpus.labelstudio.visible import visible

_HEX = rb"[0-9a-fA-F]{2}"
_HIGH = rb"\\u[dD][89abAB]" + _HEX
_LOW = rb"\\u[dD][c-fC-F]" + _HEX
# A high surrogate escape not followed by a low one, or a low one not preceded by a high one
# (whose backslash is not itself escaped). `\\` before an escape may make it text rather
# than an escape: the scan then suspects too much, never too little, and the exact reading
# decides.
_SUSPECT = re.compile(_HIGH + rb"(?!" + _LOW + rb")|(?<!(?<!\\)" + _HIGH + rb")" + _LOW)
# Any surrogate escape: a literal prefix the regular expression engine finds fast (~3 GB/s);
# _SUSPECT, whose look-behind makes it try every position, runs only where this matched.
_ANY = re.compile(rb"\\u[dD][89a-fA-F]")
_CONTEXT = 16  # bytes kept before undecided ones: a pair and the look-behind fit in it
_AHEAD = 12  # the last bytes of a block wait for the next one: a pair may straddle the two
_SURROGATE = re.compile("[\ud800-\udfff]")


class SurrogateScan:
    """A binary file for ijson that watches the bytes read through it for lone surrogate escapes."""

    def __init__(self, handle: BinaryIO):
        self.handle = handle
        self.suspect = False  # a lone surrogate escape may have gone through
        self.cleared = False  # the exact reading found none: the scan stops
        self._held = b""  # the last bytes read, some already decided (before _decided)
        self._decided = 0

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        if size == 0 or self.suspect:
            return block
        data = self._held + block
        end = len(data) if not block else max(len(data) - _AHEAD, 0)
        self.suspect = _suspect(data, self._decided, end)
        keep = max(end - _CONTEXT, 0)
        self._held, self._decided = data[keep:], end - keep
        return block


def suspect_bytes(raw: bytes) -> bool:
    """Does a whole export in memory hold what may be a lone surrogate escape?"""
    return _suspect(raw, 0, len(raw))


def _suspect(data: bytes, start: int, end: int) -> bool:
    """Does a suspect escape start in data[start:end]? (The bytes around it are context.)"""
    while (found := _ANY.search(data, start, end + _AHEAD)) is not None and found.start() < end:
        if _SUSPECT.match(data, found.start()) is not None:
            return True
        start = found.start() + 1
    return False


def lone_surrogates(path: Path, name: str, read_size: int) -> list[Problem]:
    """Every string of the export (keys too) that holds a lone surrogate, located by task, annotation, region, field."""
    problems = []
    for index, task in enumerate(decoded_elements(path, read_size)):
        data = task.get("data") if isinstance(task, dict) else None
        doc_id = data.get("doc_id") if isinstance(data, dict) else None
        task_id = task.get("id") if isinstance(task, dict) else None
        if type(task_id) is not int:
            task_id = None
        for field, annotation_id, region_id, value in _strings(task, "" if task_id is not None else f"[{index}]"):
            if _SURROGATE.search(value) is None:
                continue
            problems.append(
                Problem(
                    name,
                    task_id,
                    annotation_id,
                    region_id,
                    visible(doc_id) if isinstance(doc_id, str) else None,
                    field,
                    f"{_around(value)} holds the escape {_lone(value)}, half of a UTF-16 surrogate pair without"
                    " its other half: not a character (a JSON reader turns it into '?')",
                    _REIMPORT if field.startswith("data.") else _RECREATE,
                )
            )
    return problems


_REIMPORT = "re-import the task as it is in seeds/ (newscorpus annotate push) and download the export again"
_RECREATE = "correct it in Label Studio (re-create the region or relation) and download the export again"


def _lone(value: str) -> str:
    return visible(_SURROGATE.search(value).group())


def _around(value: str, width: int = 20) -> str:
    """The string near its first lone surrogate, quoted, escapes shown."""
    at = _SURROGATE.search(value).start()
    head = "..." if at > width else ""
    tail = "..." if len(value) > at + width else ""
    return f'"{head}{visible(value[max(at - width, 0) : at + width])}{tail}"'


def _strings(value: object, path: str, annotation_id=None, region_id=None, depth=0) -> Iterator[tuple]:
    """(field path, annotation id, region id, string) for every string in a task, keys included.

    The path starts again inside an annotation with a valid id (`result[3].value.text`) and inside
    a region with a string id (`value.text`), as messages locate those by their ids.
    """
    if isinstance(value, str):
        yield path or "(task)", annotation_id, region_id, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]", annotation_id, region_id, depth + 1)
    elif isinstance(value, dict):
        own = value.get("id")
        if depth == 2 and path.startswith("annotations[") and type(own) is int:
            annotation_id, path = own, ""  # annotations[i]
        elif depth == 4 and annotation_id is not None and path.startswith("result[") and isinstance(own, str):
            region_id, path = visible(own), ""  # annotations[i].result[j]
        for key, item in value.items():
            where = f"{path}.{visible(key)}" if path else visible(key)
            yield from _strings(key, where, annotation_id, region_id, depth + 1)
            yield from _strings(item, where, annotation_id, region_id, depth + 1)
