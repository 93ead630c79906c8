"""The segmentation worker answers what `segment.token_offsets` computes, and says when it dies."""

from __future__ import annotations

import random

import pytest

import newscorpus.build.segment_ahead as segment_ahead
from newscorpus.build.segment_ahead import SegmentAhead
from newscorpus.segment import Offsets, sentences, token_offsets
from tests.helpers import REPO, SEED_ID


def texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    seed_text = (REPO / "seeds" / f"{SEED_ID}.txt").read_text(encoding="utf-8")
    words = [*seed_text.split(), "Mr.", "U.S.", "(AP)", "“Yes.”", "3.5%", "\n\n", "é", "—"]
    return [" ".join(rng.choice(words) for _ in range(rng.randrange(0, 300))) for _ in range(count)]


def test_the_worker_answers_each_batch_with_the_offsets_of_its_texts(monkeypatch):
    monkeypatch.setattr(segment_ahead, "usable_cores", lambda: 2)
    batches = [texts(40, seed) for seed in range(3)]
    with SegmentAhead() as ahead:
        answers = []
        for batch in batches:
            ahead.submit(batch)
            answers.append(ahead.result())
        worker = ahead._worker
        assert worker is not None and worker.poll() is None  # a process of its own, alive between batches
    assert worker.returncode == 0  # ended by close
    assert answers == [token_offsets(batch) for batch in batches]
    # The offsets are the sentences' tokens, and a token is the text at its offsets.
    for batch, found in zip(batches, answers, strict=True):
        for text, offsets in zip(batch, found, strict=True):
            assert isinstance(offsets, Offsets)
            tokens = [t for s in sentences(text) for t in s.tokens]
            assert [text[s:e] for s, e in zip(offsets.starts, offsets.ends, strict=True)] == [t.text for t in tokens]
            assert offsets.sentence_firsts == sorted(set(offsets.sentence_firsts))


def test_on_one_core_nothing_is_started(monkeypatch):
    monkeypatch.setattr(segment_ahead, "usable_cores", lambda: 1)
    batch = texts(5, 9)
    with SegmentAhead() as ahead:
        ahead.submit(batch)
        assert ahead.result() == token_offsets(batch)
        assert ahead._worker is None


def test_a_worker_that_dies_is_an_error_not_a_hang(monkeypatch):
    monkeypatch.setattr(segment_ahead, "usable_cores", lambda: 2)
    with SegmentAhead() as ahead:
        ahead.submit(texts(2, 1))
        ahead._worker.kill()
        message = r"^the segmentation worker ended with exit code -9 \(its error is above\)$"
        with pytest.raises(RuntimeError, match=message):
            ahead.result()


def test_a_build_that_stops_while_the_worker_segments_prints_nothing_of_it(monkeypatch, capfd):
    """A bad input ends the build while a batch is being segmented: the worker ends without a traceback."""
    monkeypatch.setattr(segment_ahead, "usable_cores", lambda: 2)
    with SegmentAhead() as ahead:
        ahead.submit(texts(200, 3))  # closed before its answer is read
        worker = ahead._worker
    assert worker.returncode == 0
    assert capfd.readouterr().err == ""
