"""Sentences and tokens of a document's text, by syntok's rule-based segmenter and tokenizer.

syntok (segtok's successor) needs no model download and is deterministic for a given
version, which the manifest records: a release's token and sentence offsets depend on it.
Offsets are Unicode code points into the text, end-exclusive, like every span in a release.
Paragraph breaks are sentence breaks (syntok analyses paragraph by paragraph).

`sentences` gives what `syntok.segmenter.analyze` gives, ~3x faster: it is the build's
costliest step (a release of format 2 tokenizes every text). Two shortcuts, each exact:

- a whitespace-separated word of ASCII letters and digits in which no lowercase letter is
  followed by an uppercase one is one token (no rule of syntok's tokenizer splits it), so it
  skips the tokenizer's per-character scans and its sub-splitting regex; every other word
  goes through the tokenizer's own steps;
- syntok's inner-sentence state moves one token per step, and nothing happens at a token
  unless the next one is a terminal or an opening bracket: `_InnerToken` moves over such
  tokens in one step, then hands over to syntok's own rules.

tests/test_segment.py holds the result to syntok's own on the corpus, on synthetic news and
on text made of the cases the rules treat apart (abbreviations, brackets, quotes, numbers).
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from typing import NamedTuple

from syntok import segmenter
from syntok._segmentation_states import Begin, End, InnerToken, State
from syntok.tokenizer import Token as SyntokToken
from syntok.tokenizer import Tokenizer

SEGMENTER = "syntok"


def segmenter_version() -> str:
    return version(SEGMENTER)


class Token(NamedTuple):
    start: int
    end: int
    text: str


class Sentence(NamedTuple):
    start: int  # of its first token
    end: int  # of its last token
    tokens: tuple[Token, ...]


class Offsets(NamedTuple):
    """A text's tokens as offsets only (a token is text[start:end]): what a worker process sends back."""

    starts: list[int]  # of every token, in order
    ends: list[int]
    sentence_firsts: list[int]  # the index of each sentence's first token


def token_offsets(texts: list[str]) -> list[Offsets]:
    """`sentences` of each text, as offsets."""
    found = []
    for text in texts:
        starts, ends, firsts = [], [], []
        for sentence in sentences(text):
            firsts.append(len(starts))
            starts += [token.start for token in sentence.tokens]
            ends += [token.end for token in sentence.tokens]
        found.append(Offsets(starts, ends, firsts))
    return found


def sentences(text: str) -> list[Sentence]:
    """The text's sentences in order, each with its tokens; whitespace between them belongs to none."""
    result = []
    for start, paragraph in segmenter.preprocess_with_offsets(text):
        for sentence in _segment(_tokens(text, start, start + len(paragraph))):
            tokens = tuple(Token(t._offset, t._offset + len(t._value), t._value) for t in sentence if t._value)
            if tokens:
                result.append(Sentence(tokens[0].start, tokens[-1].end, tokens))
    # A token is the text at its offsets (syntok 1.4 without its normalising options keeps the text as it is).
    for sentence in result:
        for token in sentence.tokens:
            if text[token.start : token.end] != token.text:
                found = text[token.start : token.end]
                raise AssertionError(f"{SEGMENTER} token {token} does not match the text {found!r}")
    return result


# -- the tokenizer ----------------------------------------------------------------------

_TOKENIZER = Tokenizer(replace_not_contraction=False)  # as segmenter.analyze makes it


def _tokens(text: str, start: int, end: int) -> list[SyntokToken]:
    """The paragraph text[start:end] as `_TOKENIZER.tokenize(text[start:end], start)` tokenizes it."""
    out: list[SyntokToken] = []
    offset = start  # where the spacing before the next token begins
    for match in Tokenizer._spaces.finditer(text, pos=start, endpos=end):
        word = match.group()
        if word.isascii() and word.isalnum() and (word[1:].islower() or word.isupper() or word.isdigit()):
            out.append(SyntokToken(text[offset : match.start()], word, match.start()))
        else:
            _word_tokens(text, match, offset, out)
        offset = match.end()
    if offset < end:
        out.append(SyntokToken(text[offset:end], "", end))
    return out


def _word_tokens(text: str, match, offset: int, out: list[SyntokToken]) -> None:
    """One whitespace-separated word's tokens, by the steps of syntok's `Tokenizer.tokenize`."""
    start = Tokenizer._find_start(match.start(), match.end(), text)
    if start == match.end():  # no letter or digit: the whole word is one token
        out.append(SyntokToken(text[offset : match.start()], match.group(0), match.start()))
        return
    end = Tokenizer._find_end(start, match.end(), text)
    if start > match.start():
        offset = _drain(Tokenizer._split_nonword_prefix(match, offset, start, text), out)
    if start != end:
        out.extend(_TOKENIZER._split_word(text[offset:start], text[start:end], start))
    tail = text[end : match.end()]
    if tail.startswith("..."):
        out.append(SyntokToken("", "...", end))
        end += 3
        tail = tail[3:]
    out.extend(SyntokToken("", c, index + end) for index, c in enumerate(tail))


def _drain(generator, out: list) -> object:
    """Collect a generator's items into `out`; return its return value."""
    while True:
        try:
            out.append(next(generator))
        except StopIteration as stop:
            return stop.value


# -- the segmenter ----------------------------------------------------------------------

_STOPS = State.terminals | State.opening_brackets  # tokens before which the inner state has work to do


def _segment(tokens: list[SyntokToken]) -> Iterator[list[SyntokToken]]:
    """`segmenter.segment(iter(tokens))`, with `_InnerToken` in place of syntok's InnerToken."""
    state: State | None = Begin(iter(tokens))
    while state is not None:
        if state.at_sentence:
            history = state.collect_history()
            if history and (len(history) > 1 or history[0].value):
                yield history
        state = next(state, None)
        if type(state) is InnerToken:
            state = _InnerToken(state._stream, state._queue, state._history)


class _InnerToken(InnerToken):
    """syntok's InnerToken, taking in one step the run of its steps that each move one token and stay.

    It reads State's own queue, history and stream (name-mangled attributes of syntok 1.4, the
    pinned version), as its methods do, and calls them for everything but moving a token.
    """

    def __next__(self) -> State:
        history, stream = self._State__history, self._State__stream
        while True:
            queue = self._State__queue
            if not queue:
                token = next(stream, None)
                if token is None:
                    return End(stream, queue, history)
                queue.append(token)
            # InnerToken's step: move one token; skip a bracketed text that follows; refill the queue.
            history.append(queue.pop(0))
            if not queue and (token := next(stream, None)) is not None:
                queue.append(token)
            if queue and queue[0]._value in State.opening_brackets:
                self._skip_bracketed_text()  # may replace the queue
                queue = self._State__queue
                if not queue and (token := next(stream, None)) is not None:
                    queue.append(token)
            # Then, before a terminal or an opening bracket, syntok's own decision; else the step stays.
            if queue and queue[0]._value in _STOPS:
                return self._move_and_maybe_extract_terminal()
