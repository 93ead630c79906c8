"""Sentences and tokens of a document's text, by syntok's rule-based segmenter and tokenizer.

syntok (segtok's successor) needs no model download and is deterministic for a given
version, which the manifest records: a release's token and sentence offsets depend on it.
Offsets are Unicode code points into the text, end-exclusive, like every span in a release.
Paragraph breaks are sentence breaks (syntok analyses paragraph by paragraph).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version

from syntok import segmenter

SEGMENTER = "syntok"


def segmenter_version() -> str:
    return version(SEGMENTER)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence:
    start: int  # of its first token
    end: int  # of its last token
    tokens: tuple[Token, ...]


def sentences(text: str) -> list[Sentence]:
    """The text's sentences in order, each with its tokens; whitespace between them belongs to none."""
    result = []
    for paragraph in segmenter.analyze(text):
        for sentence in paragraph:
            tokens = tuple(_token(text, t.offset, t.value) for t in sentence if t.value)
            if tokens:
                result.append(Sentence(tokens[0].start, tokens[-1].end, tokens))
    return result


def _token(text: str, offset: int, value: str) -> Token:
    # syntok reports the token's own text; it must be the text at its offset (it is, for
    # syntok 1.4 without its normalising options), which the check below keeps true.
    end = offset + len(value)
    if text[offset:end] != value:
        raise AssertionError(f"{SEGMENTER} token {value!r} at {offset} does not match the text {text[offset:end]!r}")
    return Token(offset, end, value)


def sentence_index(spans: list[Sentence], offset: int) -> int | None:
    """Index of the sentence holding the character at `offset`, or None when it falls between sentences."""
    low, high = 0, len(spans)
    while low < high:
        middle = (low + high) // 2
        if spans[middle].end <= offset:
            low = middle + 1
        else:
            high = middle
    return low if low < len(spans) and spans[low].start <= offset else None
