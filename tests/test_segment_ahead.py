"""The tokens worker answers what `tokens_table` makes in the build's own process, and says when it dies."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

import newscorpus.build.derived_tables as derived_tables
import newscorpus.build.segment_ahead as segment_ahead
from newscorpus.build.derived_tables import Span, tokens_table
from newscorpus.build.segment_ahead import SegmentAhead
from newscorpus.errors import ReleaseError
from newscorpus.release.formats import ner_tag_names, tokens_fields
from newscorpus.schema import load_schema
from newscorpus.segment import sentences
from tests.helpers import REPO, SEED_ID

ARROW = pa.schema(tokens_fields())
TAGS = {name: index for index, name in enumerate(ner_tag_names(load_schema(REPO / "schemas" / "annotation.yaml")))}


def texts(count: int, seed: int) -> list[tuple[str, str, list[Span]]]:
    """Documents of random words with random mentions (nested, crossing, off token bounds)."""
    rng = random.Random(seed)
    seed_text = (REPO / "seeds" / f"{SEED_ID}.txt").read_text(encoding="utf-8")
    words = [*seed_text.split(), "Mr.", "U.S.", "(AP)", "“Yes.”", "3.5%", "\n\n", "é", "—"]
    types = sorted({name[2:] for name in TAGS if name != "O"})
    documents = []
    for index in range(count):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(0, 300)))
        spans = []
        for number in range(rng.randrange(0, 20) if text else 0):
            start = rng.randrange(len(text))
            spans.append(Span(f"e{number}", start, rng.randrange(start, len(text)) + 1, rng.choice(types)))
        documents.append((f"doc{seed}_{index:03d}", text, spans))
    return documents


def test_the_worker_answers_each_batch_with_the_table_made_here(monkeypatch):
    monkeypatch.setattr(segment_ahead, "usable_cores", lambda: 2)
    batches = [texts(40, seed) for seed in range(3)]
    with SegmentAhead() as ahead:
        answers = []
        for batch in batches:
            ahead.submit(batch, TAGS, ARROW)
            answers.append(ahead.result())
        worker = ahead._worker
        assert worker is not None and worker.poll() is None  # a process of its own, alive between batches
    assert worker.returncode == 0  # ended by close
    for batch, answer in zip(batches, answers, strict=True):
        assert answer.equals(tokens_table(batch, TAGS, ARROW), check_metadata=True)
        assert answer.schema == ARROW
        # Its rows are the sentences' tokens, and a token is the text at its offsets.
        texts_by_doc = {doc_id: text for doc_id, text, _ in batch}
        rows = answer.to_pylist()
        for doc_id, text, _ in batch:
            found = [r for r in rows if r["doc_id"] == doc_id]
            assert [r["tokens"] for r in found] == [[t.text for t in s.tokens] for s in sentences(text)]
        for row in rows:
            text = texts_by_doc[row["doc_id"]]
            assert [text[o["start"] : o["end"]] for o in row["token_offsets"]] == row["tokens"]
            assert len(row["ner_tags"]) == len(row["tokens"])


def test_on_one_core_nothing_is_started(monkeypatch):
    monkeypatch.setattr(segment_ahead, "usable_cores", lambda: 1)
    batch = texts(5, 9)
    with SegmentAhead() as ahead:
        ahead.submit(batch, TAGS, ARROW)
        assert ahead.result().equals(tokens_table(batch, TAGS, ARROW))
        assert ahead._worker is None


def test_a_worker_that_dies_is_an_error_not_a_hang(monkeypatch):
    monkeypatch.setattr(segment_ahead, "usable_cores", lambda: 2)
    message = (
        r"^the segmentation worker ended with exit code -9 \(its error, if any, is above; -9: killed, often for want"
        r" of memory\); nothing was written$"
    )
    with SegmentAhead() as ahead:
        ahead.submit(texts(2, 1), TAGS, ARROW)
        ahead._worker.kill()
        with pytest.raises(ReleaseError, match=message):
            ahead.result()
    with SegmentAhead() as ahead:  # dead between batches: the next batch cannot be sent
        ahead.submit(texts(2, 1), TAGS, ARROW)
        ahead.result()
        ahead._worker.kill()
        ahead._worker.wait()
        with pytest.raises(ReleaseError, match=message):
            ahead.submit(texts(300, 2), TAGS, ARROW)


def test_a_build_that_stops_while_the_worker_segments_prints_nothing_of_it(monkeypatch, capfd):
    """A bad input ends the build while a batch is being segmented: the worker ends without a traceback."""
    monkeypatch.setattr(segment_ahead, "usable_cores", lambda: 2)
    with SegmentAhead() as ahead:
        ahead.submit(texts(200, 3), TAGS, ARROW)  # closed before its answer is read
        worker = ahead._worker
    assert worker.returncode == 0
    assert capfd.readouterr().err == ""


def test_the_table_is_the_same_whatever_the_group_size_and_a_text_without_tokens_has_no_row(monkeypatch):
    blank = [("empty", "", [Span("e0", 0, 1, "PERSON")]), ("blank", " \n\n ", [Span("e0", 1, 2, "PERSON")])]
    documents = texts(30, 5)[:15] + blank + texts(30, 5)[15:]
    whole = tokens_table(documents, TAGS, ARROW)
    monkeypatch.setattr(derived_tables, "TOKENS_GROUP", 4)
    grouped = tokens_table(documents, TAGS, ARROW)
    assert grouped.equals(whole) and all(column.num_chunks == 1 for column in grouped.columns)
    doc_ids = set(whole.column("doc_id").to_pylist())
    assert "empty" not in doc_ids and "blank" not in doc_ids
    assert doc_ids == {doc_id for doc_id, text, _ in documents if sentences(text)}
