"""A region's offsets and text checked against the document, and a mismatch worded so it can be seen.

Offsets are code points, end-exclusive, and `text[start:end]` must equal the region's text.
When they differ, the message shows both strings with every character that cannot be seen
(a no-break space, a zero-width space, a newline) escaped, so that the two never look alike,
and names the usual causes (UTF-16 offsets after an emoji, trimmed whitespace).
"""

from __future__ import annotations

from newscorpus.labelstudio.records import Span
from newscorpus.labelstudio.visible import visible


def check_span(value: dict, text: str, region_id: str, problem) -> Span | None:
    """Check offsets and text of a region against the document; None when they do not hold."""
    start, end, quoted = value.get("start"), value.get("end"), value.get("text")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        problem(
            region_id,
            "value.start",
            f"offsets must be integers, got start={start!r} end={end!r}",
            "re-create the region in Label Studio",
        )
        return None
    if not 0 <= start < end <= len(text):
        what = "empty or reversed (start >= end)" if start >= end else f"outside the text (0..{len(text)})"
        problem(region_id, "value.start", f"span [{start}, {end}) is {what}", "re-create the region in Label Studio")
        return None
    actual = text[start:end]
    if quoted != actual:
        problem(
            region_id,
            "value.text",
            _mismatch(quoted, actual, start, end, text),
            "re-create the region in Label Studio on the current text",
        )
        return None
    return Span(start, end, actual)


def _mismatch(quoted: object, actual: str, start: int, end: int, text: str) -> str:
    head = f"span text {_short(quoted)} != text[{start}:{end}] {_short(actual)}"
    if isinstance(quoted, str):
        units = text.encode("utf-16-le")
        if units[2 * start : 2 * end].decode("utf-16-le", errors="replace") == quoted:
            return (
                head + " (the offsets count UTF-16 code units after a character outside the BMP, e.g. an emoji;"
                " newscorpus and Label Studio count Unicode code points)"
            )
        if quoted.strip() == actual.strip() or quoted == actual.strip():
            return head + " (they differ only in leading or trailing whitespace)"
        if _spaces_as_one(quoted) == _spaces_as_one(actual):
            return head + " (they differ only in kinds of space or in invisible characters, shown escaped)"
    return head


def _spaces_as_one(text: str) -> str:
    """Every kind of space as " ", invisible characters (zero-width space, soft hyphen, ...) left out."""
    return "".join(" " if ch.isspace() else ch for ch in text if ch.isprintable() or ch.isspace())


def _short(value: object, limit: int = 60) -> str:
    if not isinstance(value, str):
        return repr(value)
    text = value if len(value) <= limit else value[: limit - 3] + "..."
    return f'"{visible(text)}"'
