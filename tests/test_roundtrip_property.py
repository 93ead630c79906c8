"""Property: random texts and random valid annotations survive export -> build -> load_dataset exactly.

Texts mix non-ASCII letters, emoji (outside the BMP), curly quotes, CRLF line ends and
blank lines; the seed file is written with CRLF, Label Studio receives the normalised
text, and offsets are code points into it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from datasets import load_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newscorpus.build.builder import build_release
from newscorpus.ingest import parse_article
from newscorpus.labelstudio.results import region_items, relation
from newscorpus.project import Project
from tests.helpers import REPO, copy_static
from tests.iob2 import check_tags

SCHEMA = yaml.safe_load((REPO / "schemas" / "annotation.yaml").read_text(encoding="utf-8"))
WORDS = ["Zvešan", "Đurić", "Priština", "наш", "北京", "🙂", "🇷🇸", "e\u0301", "“quote”", "’s", "NATO", "a", "the"]

word = st.one_of(
    st.sampled_from(WORDS),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=6),
)
line = st.lists(word, min_size=1, max_size=8).map(" ".join)
body = st.lists(st.one_of(line, st.just("")), min_size=1, max_size=6).map("\r\n".join).filter(str.strip)


@st.composite
def annotated(draw):
    raw = "date 2024-02-29\r\n" + draw(body) + "\r\n"
    text = parse_article(raw.encode("utf-8"), source_file="seeds/p1.txt", doc_id="p1", language="en").text
    spans = st.integers(0, len(text) - 1).flatmap(
        lambda start: st.tuples(st.just(start), st.integers(start + 1, len(text)))
    )
    entities = draw(
        st.lists(
            st.tuples(
                spans, st.sampled_from(list(SCHEMA["entity_types"])), st.sampled_from(list(SCHEMA["mention_types"]))
            ),
            min_size=1,
            max_size=6,
        )
    )
    events = draw(
        st.lists(
            st.tuples(spans, st.sampled_from(list(SCHEMA["event_types"])), st.sampled_from(list(SCHEMA["realis"]))),
            max_size=3,
        )
    )
    quotes = draw(
        st.lists(
            st.tuples(
                spans,
                st.sampled_from(list(SCHEMA["quote_kinds"])),
                st.booleans(),
                st.one_of(st.none(), st.integers(0, len(entities) - 1)),
            ),
            max_size=3,
        )
    )
    n = len(entities)
    coref = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4))
    arguments = []
    for _, event_type, _ in events:
        roles = SCHEMA["event_types"][event_type]["roles"]
        picked = draw(st.lists(st.tuples(st.sampled_from(roles), st.integers(0, n - 1)), max_size=3, unique=True))
        arguments.append(sorted(picked))
    return raw, text, entities, events, arguments, quotes, coref


def region(rid, control, start, end, text, label, choice=None):
    return region_items(rid, control, label, start, end, text[start:end], choice)


def task_for(number: int, case) -> dict:
    """The Label Studio task of one drawn document, as the native export has it."""
    _raw, text, entities, events, arguments, quotes, coref = case
    result = []
    for i, ((s, e), label, mention) in enumerate(entities):
        result += region(f"e{i}", "entity", s, e, text, label, ("mention_type", mention))
    for i, ((s, e), label, realis) in enumerate(events):
        result += region(f"v{i}", "event", s, e, text, label, ("realis", realis))
        result += [relation(f"v{i}", f"e{j}", role) for role, j in arguments[i]]
    for i, ((s, e), kind, with_cue, speaker) in enumerate(quotes):
        result += region(f"q{i}", "quote", s, e, text, kind)
        if with_cue:
            result += [*region(f"c{i}", "cue", s, e, text, "cue"), relation(f"q{i}", f"c{i}", "cue")]
        if speaker is not None:
            result.append(relation(f"e{speaker}", f"q{i}", "speaker"))
    result += [relation(f"e{a}", f"e{b}", "coref") for a, b in coref if a != b]
    annotation = {
        "id": 1000 + number,
        "completed_by": 3,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "updated_at": "2026-01-01T00:00:00Z",
    }
    return {"id": number, "data": {"doc_id": f"p{number}", "text": text}, "drafts": [], "predictions": [],
            "annotations": [annotation]}  # fmt: skip


def check_document(doc: dict, case) -> None:
    _raw, text, entities, events, arguments, quotes, coref = case
    assert doc["text"] == text and "\r" not in doc["text"]
    got = {x["id"]: x for x in doc["entities"]}
    assert {k: (v["start"], v["end"], v["text"], v["type"], v["mention_type"]) for k, v in got.items()} == {
        f"e{i}": (s, e, text[s:e], label, mention) for i, ((s, e), label, mention) in enumerate(entities)
    }
    for a, b in coref:  # linked mentions share a chain, whose id is one of its mentions
        assert got[f"e{a}"]["cluster_id"] == got[f"e{b}"]["cluster_id"]
    for mention in got.values():
        assert got[mention["cluster_id"]]["cluster_id"] == mention["cluster_id"]
    assert {
        v["id"]: (
            v["trigger"]["start"],
            v["trigger"]["end"],
            v["trigger"]["text"],
            v["type"],
            v["realis"],
            sorted((a["role"], int(a["entity_id"][1:])) for a in v["arguments"]),
        )
        for v in doc["events"]
    } == {f"v{i}": (s, e, text[s:e], label, realis, arguments[i]) for i, ((s, e), label, realis) in enumerate(events)}
    quotes_back = {q["id"]: q for q in doc["quotes"]}
    assert set(quotes_back) == {f"q{i}" for i in range(len(quotes))}
    for i, ((s, e), kind, with_cue, speaker) in enumerate(quotes):
        q = quotes_back[f"q{i}"]
        assert (q["start"], q["end"], q["text"], q["kind"]) == (s, e, text[s:e], kind)
        assert q["cue"] == ({"start": s, "end": e, "text": text[s:e]} if with_cue else None)
        assert q["speaker_id"] == (None if speaker is None else f"e{speaker}")
        if speaker is not None:
            assert q["speaker"] == got[got[f"e{speaker}"]["cluster_id"]]["text"]


# Each example is a release of several documents: one build (and gate) checks them all.
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(st.lists(annotated(), min_size=2, max_size=6))
def test_random_annotations_come_back_exactly(cases):
    export = [task_for(number, case) for number, case in enumerate(cases, start=1)]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        copy_static(root)
        (root / "seeds").mkdir()
        for number, case in enumerate(cases, start=1):
            (root / "seeds" / f"p{number}.txt").write_bytes(case[0].encode("utf-8"))
        (root / "annotation" / "exports").mkdir(parents=True)
        (root / "annotation" / "exports" / "20260101T000000Z-project-1.json").write_text(
            json.dumps(export, ensure_ascii=False), encoding="utf-8"
        )
        release = build_release(Project(root), "0.0.1")
        docs = load_dataset(str(release.path), "documents", split="train", cache_dir=str(root / "cache"))
        by_id = {doc["doc_id"]: doc for doc in docs}
        # Format 2's tokens: the IOB2 tags decode back to the outermost mentions (tests/iob2.py).
        tokens = load_dataset(str(release.path), "tokens", split="train", cache_dir=str(root / "cache"))
        names = tokens.features["ner_tags"].feature.names
        check_tags(tokens.to_list(), [{"doc_id": d["doc_id"], **e} for d in docs for e in d["entities"]], names)
    assert sorted(by_id) == sorted(f"p{number}" for number in range(1, len(cases) + 1))
    for number, case in enumerate(cases, start=1):
        check_document(by_id[f"p{number}"], case)
