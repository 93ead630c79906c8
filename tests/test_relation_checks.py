"""The chains and argument_rows views by Arrow joins equal their rules applied row by row in Python.

The reference below is written from the rules (validation/relation_checks.py's notes): a
mention or event is looked up by (doc_id, id), the first row of a repeated one counts. The
views must agree with it on every row, for chains and argument rows made from the entities and
events and then broken (a mention dropped, added, repeated or changed; a wrong head, type,
canonical name, event, role or offset), with repeated ids and rows of missing documents.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscorpus.project import Project
from newscorpus.release.formats import arrow_schemas
from newscorpus.validation.derived_checks import derived_view
from tests.helpers import REPO

SCHEMA = Project(REPO).schema
ARROW = arrow_schemas(SCHEMA, 2)
TYPES = list(SCHEMA.entity_types)[:3]
MENTION = ("id", "start", "end", "text", "mention_type")


# -- the reference: the rules, one row at a time -----------------------------------------------


def first_by_key(rows: list[dict]) -> dict:
    found = {}
    for row in rows:
        found.setdefault((row["doc_id"], row["id"]), row)
    return found


def chain_reference(row: dict, entities: list[dict]) -> dict:
    found = first_by_key(entities)
    head = found.get((row["doc_id"], row["cluster_id"]))
    head_ok = head is not None and (head["cluster_id"], head["type"], head["text"]) == (
        row["cluster_id"], row["type"], row["canonical_name"])  # fmt: skip
    members = [e for (doc_id, _), e in found.items() if (doc_id, e["cluster_id"]) == (row["doc_id"], row["cluster_id"])]
    want = sorted(tuple(e[f] for f in MENTION) for e in members)
    got = sorted(tuple(m[f] for f in MENTION) for m in row["mentions"])
    return {"head_matches": head_ok, "mentions_match": want == got}


def argument_reference(row: dict, entities: list[dict], events: list[dict]) -> dict:
    found, by_event = first_by_key(entities), first_by_key(events)
    event = by_event.get((row["doc_id"], row["event_id"]))
    pair = {"role": row["role"], "entity_id": row["entity_id"]}
    event_ok = event is not None and event["type"] == row["event_type"] and pair in event["arguments"]
    mention = found.get((row["doc_id"], row["entity_id"]))
    head = found.get((row["doc_id"], mention["cluster_id"])) if mention else None
    entity_ok = head is not None and (
        (mention["text"], mention["start"], mention["end"], mention["cluster_id"], head["text"])
        == (row["entity_text"], row["entity_start"], row["entity_end"], row["cluster_id"], row["canonical_name"])
    )
    return {"event_matches": event_ok, "entity_matches": entity_ok}


# -- generated chunks ---------------------------------------------------------------------------


@st.composite
def chunks(draw) -> dict[str, list[dict]]:
    doc_ids = ["d0", "d1", "d2"]
    entities, events = [], []
    for doc_id in doc_ids:
        count = draw(st.integers(0, 5))
        for index in range(count):
            start = draw(st.integers(0, 20))
            entities.append({
                "doc_id": doc_id, "id": f"e{index}", "cluster_id": f"e{draw(st.integers(0, index))}",
                "type": draw(st.sampled_from(TYPES)), "text": draw(st.sampled_from(["Ann", "Bo", "the city"])),
                "start": start, "end": start + draw(st.integers(1, 5)),
                "mention_type": draw(st.sampled_from(["NAM", "NOM", "PRO"])),
            })  # fmt: skip
        for index in range(draw(st.integers(0, 2)) if count else 0):
            arguments = [
                {"role": draw(st.sampled_from(["agent", "place"])), "entity_id": f"e{draw(st.integers(0, count - 1))}"}
                for _ in range(draw(st.integers(0, 3)))
            ]
            events.append({"doc_id": doc_id, "id": f"v{index}", "type": draw(st.sampled_from(["Attack", "Meet"])),
                           "arguments": arguments})  # fmt: skip
    if entities and draw(st.booleans()):  # a repeated mention id: the first row counts
        entities.append({**draw(st.sampled_from(entities)), "text": "again"})
    found = first_by_key(entities)
    chains = []
    for (doc_id, _), e in found.items():
        if e["id"] == e["cluster_id"]:
            mentions = [{f: m[f] for f in MENTION} for (d, _), m in found.items()
                        if d == doc_id and m["cluster_id"] == e["id"]]  # fmt: skip
            chains.append({"doc_id": doc_id, "cluster_id": e["id"], "type": e["type"], "canonical_name": e["text"],
                           "mentions": mentions})  # fmt: skip
    arguments = []
    for event in events:
        for argument in event["arguments"]:
            mention = found[(event["doc_id"], argument["entity_id"])]
            head = found.get((event["doc_id"], mention["cluster_id"]))
            arguments.append({
                "doc_id": event["doc_id"], "event_id": event["id"], "event_type": event["type"], **argument,
                "entity_text": mention["text"], "entity_start": mention["start"], "entity_end": mention["end"],
                "cluster_id": mention["cluster_id"], "canonical_name": head["text"] if head else "?",
            })  # fmt: skip
    for _ in range(draw(st.integers(0, 4))):
        if chains:
            chains[draw(st.integers(0, len(chains) - 1))] = draw(broken_chain(chains))
        if arguments:
            arguments[draw(st.integers(0, len(arguments) - 1))] = draw(broken_argument(arguments))
    if chains and draw(st.booleans()):
        chains.append({**chains[0], "doc_id": "missing"})
    if arguments and draw(st.booleans()):
        arguments.append({**arguments[0], "doc_id": "missing"})
    documents = [{"doc_id": d, "text": "x" * 30} for d in doc_ids[: draw(st.integers(1, 3))]]
    return {"documents": documents, "entities": entities, "events": events, "chains": chains,
            "event_arguments": arguments}  # fmt: skip


@st.composite
def broken_chain(draw, chains: list[dict]) -> dict:
    chain = dict(draw(st.sampled_from(chains)))
    mentions = list(chain["mentions"])
    change = draw(st.sampled_from(["drop", "add", "repeat", "text", "offset", "head", "type", "name", "none"]))
    if change == "drop" and mentions:
        mentions.pop(draw(st.integers(0, len(mentions) - 1)))
    elif change == "add":
        mentions.append({"id": "e9", "start": 1, "end": 2, "text": "x", "mention_type": "NAM"})
    elif change == "repeat" and mentions:
        mentions.append(mentions[0])
    elif change == "text" and mentions:
        mentions[0] = {**mentions[0], "text": mentions[0]["text"] + "!"}
    elif change == "offset" and mentions:
        mentions[-1] = {**mentions[-1], "end": mentions[-1]["end"] + 1}
    elif change == "head":
        chain["cluster_id"] = draw(st.sampled_from(["e0", "e1", "e4", "nobody"]))
    elif change == "type":
        chain["type"] = draw(st.sampled_from(TYPES))
    elif change == "name":
        chain["canonical_name"] = draw(st.sampled_from(["Ann", "Bo", "other"]))
    return chain | {"mentions": mentions}


@st.composite
def broken_argument(draw, arguments: list[dict]) -> dict:
    row = dict(draw(st.sampled_from(arguments)))
    field = draw(st.sampled_from(["event_id", "event_type", "role", "entity_id", "entity_text", "entity_start",
                                  "entity_end", "cluster_id", "canonical_name", "none"]))  # fmt: skip
    values = {"event_id": ["v0", "v1", "v7"], "event_type": ["Attack", "Meet"], "role": ["agent", "place"],
              "entity_id": ["e0", "e1", "e2", "e8"], "entity_text": ["Ann", "Bo", "x"], "entity_start": [0, 3, 9],
              "entity_end": [2, 5, 30], "cluster_id": ["e0", "e1", "e5"],
              "canonical_name": ["Ann", "Bo", "?"]}  # fmt: skip
    if field != "none":
        row[field] = draw(st.sampled_from(values[field]))
    return row


def tables_of(chunk: dict[str, list[dict]]) -> dict[str, pa.Table]:
    return {
        "documents": pa.Table.from_pylist(chunk["documents"]),
        **{
            name: pa.Table.from_pylist(chunk[name], schema=ARROW[name])
            for name in ("entities", "chains", "event_arguments")
        },
        "events": pa.Table.from_pylist(
            chunk["events"], schema=pa.schema([ARROW["events"].field(c) for c in ("doc_id", "id", "type", "arguments")])
        ),
    }


@settings(max_examples=300, deadline=None)
@given(chunks())
def test_the_views_agree_with_the_rules_row_by_row(chunk):
    tables = tables_of(chunk)
    documents = {d["doc_id"] for d in chunk["documents"]}
    chains = derived_view("chains", tables, SCHEMA).to_pylist()
    assert len(chains) == len(chunk["chains"])
    for row, got in zip(chunk["chains"], chains, strict=True):
        want = chain_reference(row, chunk["entities"]) | {"doc_in_documents": row["doc_id"] in documents}
        want |= {k: row[k] for k in ("doc_id", "cluster_id", "type", "canonical_name")}
        assert {k: got[k] for k in want} | {"mentions_count": got["mentions_count"]} == want | {
            "mentions_count": len(row["mentions"])}  # fmt: skip
    arguments = derived_view("argument_rows", tables, SCHEMA).to_pylist()
    assert len(arguments) == len(chunk["event_arguments"])
    for row, got in zip(chunk["event_arguments"], arguments, strict=True):
        want = argument_reference(row, chunk["entities"], chunk["events"])
        want |= {"doc_in_documents": row["doc_id"] in documents} | row
        assert {k: got[k] for k in want} == want


def test_a_broken_chain_and_argument_row_each_fail_their_check():
    """A hand-made case, so that the generated cases cannot all agree on always True."""
    entities = [
        {"doc_id": "d0", "id": "e0", "cluster_id": "e0", "type": TYPES[0], "text": "Ann", "start": 0, "end": 3,
         "mention_type": "NAM"},
        {"doc_id": "d0", "id": "e1", "cluster_id": "e0", "type": TYPES[0], "text": "she", "start": 10, "end": 13,
         "mention_type": "PRO"},
    ]  # fmt: skip
    mentions = [{f: e[f] for f in MENTION} for e in entities]
    chain = {"doc_id": "d0", "cluster_id": "e0", "type": TYPES[0], "canonical_name": "Ann", "mentions": mentions}
    event = {"doc_id": "d0", "id": "v0", "type": "Meet", "arguments": [{"role": "agent", "entity_id": "e1"}]}
    argument = {"doc_id": "d0", "event_id": "v0", "event_type": "Meet", "role": "agent", "entity_id": "e1",
                "entity_text": "she", "entity_start": 10, "entity_end": 13, "cluster_id": "e0",
                "canonical_name": "Ann"}  # fmt: skip
    rows = {
        "documents": [{"doc_id": "d0", "text": "x"}], "entities": entities, "events": [event],
        "chains": [chain, {**chain, "mentions": mentions[:1]}, {**chain, "canonical_name": "she"}],
        "event_arguments": [argument, {**argument, "role": "place"}, {**argument, "entity_end": 14}],
    }  # fmt: skip
    tables = tables_of(rows)
    chains = [(r["head_matches"], r["mentions_match"]) for r in derived_view("chains", tables, SCHEMA).to_pylist()]
    assert chains == [(True, True), (True, False), (False, True)]
    view = derived_view("argument_rows", tables, SCHEMA).to_pylist()
    assert [(r["event_matches"], r["entity_matches"]) for r in view] == [(True, True), (False, True), (True, False)]


@pytest.mark.parametrize("name", ["chains", "argument_rows"])
def test_nulls_and_missing_columns_give_false_not_an_error(name):
    tables = tables_of({"documents": [{"doc_id": "d0", "text": "x"}], "entities": [], "events": [], "chains": [],
                        "event_arguments": []})  # fmt: skip
    config = "chains" if name == "chains" else "event_arguments"
    rows = pa.table({"doc_id": [None, "d0"], "cluster_id": [None, None], "event_id": [None, "v0"]})
    view = derived_view(name, {**tables, config: rows}, SCHEMA).to_pylist()
    checks = ("head_matches", "mentions_match") if name == "chains" else ("event_matches", "entity_matches")
    assert [[row[c] for c in checks] for row in view] == [[False, False], [False, False]]
    assert [row["doc_in_documents"] for row in view] == [False, True]
