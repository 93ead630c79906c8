"""The tokens suite's view over Arrow columns equals the rules applied sentence by sentence in Python.

The reference below is written from the rules (validation/token_checks.py's notes), one sentence
at a time; the view must agree with it on every row and column, for sentences segmented from real
text and for sentences with shifted offsets, wrong tokens, tags out of range or out of IOB2 order,
lists of different lengths and documents that are missing.
"""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from newscorpus.project import Project
from newscorpus.release.formats import arrow_schemas, ner_tag_names
from newscorpus.segment import sentences
from newscorpus.validation.derived_checks import derived_view
from tests.helpers import REPO

SCHEMA = Project(REPO).schema
NAMES = ner_tag_names(SCHEMA)
TOKENS = arrow_schemas(SCHEMA, 2)["tokens"]
TEXT = st.text(st.sampled_from(list("ab .!?“”(Zé🙂\n")), min_size=1, max_size=40)


def reference(row: dict, text: str | None) -> dict:
    tokens, offsets, tags = row["tokens"], row["token_offsets"], row["ner_tags"]
    tags = tags or []
    out = {"doc_text_length": None if text is None else len(text)}
    out["lengths_agree"] = len(tokens) == len(offsets) == len(tags)
    out["tags_in_range"] = all(t is not None and 0 <= t < len(NAMES) for t in tags)
    follows, previous = True, "O"
    for tag in tags if out["tags_in_range"] else ():
        label = NAMES[tag]
        follows = follows and not (label.startswith("I-") and previous[2:] != label[2:])
        previous = label
    out["tags_follow_iob2"] = follows if out["tags_in_range"] else None
    if text is None or not out["lengths_agree"]:
        return out | {"tokens_match_text": None}
    ok, at = bool(offsets), row["sentence_start"]
    for token, offset in zip(tokens, offsets, strict=True):
        start, end = offset["start"], offset["end"]
        ok = ok and at <= start < end and start >= 0 and end <= len(text) and text[start:end] == token
        at = end
    bounds = bool(offsets) and offsets[0]["start"] == row["sentence_start"] and at == row["sentence_end"]
    return out | {"tokens_match_text": ok and bounds}


def sentence_rows(doc_id: str, text: str, draw) -> list[dict]:
    rows = []
    for index, sentence in enumerate(sentences(text)):
        row = {
            "doc_id": doc_id, "sentence_index": index, "sentence_start": sentence.start, "sentence_end": sentence.end,
            "tokens": [t.text for t in sentence.tokens],
            "token_offsets": [{"start": t.start, "end": t.end} for t in sentence.tokens],
            "ner_tags": [draw(st.sampled_from([0, 0, 1, 2, 3, 4])) for _ in sentence.tokens],
            "misaligned_mentions": 0,
        }  # fmt: skip
        defect = draw(st.sampled_from(["none", "none", "shift", "word", "tag", "short", "no_tags", "start", "end"]))
        if defect == "shift":
            row["token_offsets"][-1] = {"start": row["token_offsets"][-1]["start"] + 1, "end": sentence.end + 1}
        elif defect == "word":
            row["tokens"][0] = row["tokens"][0] + "x"
        elif defect == "tag":
            row["ner_tags"][0] = draw(st.sampled_from([-1, len(NAMES), None, 2]))
        elif defect == "short":
            row["tokens"] = row["tokens"][:-1]
        elif defect == "no_tags":
            row["ner_tags"] = None
        elif defect == "start":
            row["sentence_start"] -= 1
        elif defect == "end":
            row["sentence_end"] += 1
        rows.append(row)
    return rows


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=4), data=st.data())
def test_the_view_equals_the_rules_sentence_by_sentence(texts, data):
    doc_ids = [f"d{i}" for i in range(len(texts))]
    rows = [r for doc_id, text in zip(doc_ids, texts, strict=True) for r in sentence_rows(doc_id, text, data.draw)]
    rows += [{**r, "doc_id": "missing"} for r in rows[:1]]  # a sentence of no document
    known = data.draw(st.integers(1, len(texts)))  # the documents table may lack the last documents
    tables = {
        "documents": pa.table({"doc_id": doc_ids[:known], "text": texts[:known]}),
        "tokens": pa.Table.from_pylist(rows, schema=TOKENS),
    }
    view = derived_view("tokens", tables, SCHEMA).to_pylist()
    assert len(view) == len(rows)
    by_doc = dict(zip(doc_ids[:known], texts[:known], strict=True))
    for row, got in zip(rows, view, strict=True):
        want = reference(row, by_doc.get(row["doc_id"])) | {"doc_in_documents": row["doc_id"] in by_doc}
        want |= {f"{k}_count": None if row[k] is None else len(row[k]) for k in ("tokens", "token_offsets", "ner_tags")}
        want |= {k: row[k] for k in ("doc_id", "sentence_index", "sentence_start", "sentence_end")}
        assert {k: got[k] for k in want} == want
