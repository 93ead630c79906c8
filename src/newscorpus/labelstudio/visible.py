"""Strings from an input as a message shows them: what cannot be seen is written as an escape.

A span whose text has a no-break space (U+00A0) or a zero-width space (U+200B) where the
document has a plain space looks identical to it when printed raw; so does an id or a file
name with a trailing newline. Every character Python does not count as printable (control
and format characters, every space but U+0020, line and paragraph separators, surrogates,
unassigned code points) is shown as `\\n`, `\\t`, `\\r` or `\\uXXXX`, and a backslash as `\\\\`,
so that an escape in the message always means the escape.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\"}


def visible(text: str) -> str:
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_NAMED.get(ch) or (ch if ch.isprintable() else _escape(ch)) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
