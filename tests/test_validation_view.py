"""The validation views, without Great Expectations: what the computed columns hold."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from newscorpus.schema import load_schema
from newscorpus.validation.view_specs import mirror_fields, view_specs
from newscorpus.validation.views import ViewBuilder
from tests.helpers import REPO

SCHEMA = load_schema(REPO / "schemas" / "annotation.yaml")
ARROW = SCHEMA.arrow_schemas()

# Letters of several scripts and planes: UTF-8 and UTF-16 lengths differ from code points.
TEXT = st.text(alphabet=st.sampled_from("aZ é€ш中😀\n\u0301"), min_size=0, max_size=30)


def test_mirror_rule():
    assert [f.name for f in mirror_fields(ARROW["events"])] == [
        "doc_id", "id", "type", "realis", "trigger_start", "trigger_end", "trigger_text", "arguments_count",
    ]  # fmt: skip
    quotes = {f.name: f for f in mirror_fields(ARROW["quotes"])}
    assert list(quotes)[5:] == ["kind", "cue_start", "cue_end", "cue_text", "speaker_id", "speaker"]
    assert quotes["cue_start"].nullable and not quotes["start"].nullable  # a field of a nullable struct may be null
    assert view_specs(SCHEMA)["documents"].id_columns == ("doc_id",)


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(TEXT, min_size=1, max_size=3),
    spans=st.lists(
        st.tuples(st.integers(0, 3), st.integers(-2, 35), st.integers(-2, 35), st.booleans(), TEXT), max_size=12
    ),
)
def test_span_check_is_python_slicing_of_code_points(texts, spans):
    """span_matches_text is text[start:end] == span text where the span is in bounds, else null."""
    doc_ids = [f"d{i}" for i in range(len(texts))]
    rows = []
    for i, (doc, start, end, use_slice, other) in enumerate(spans):
        doc_id = f"d{doc}"  # d3 may name no document
        text = texts[doc][start:end] if use_slice and doc < len(texts) and start >= 0 else other
        rows.append({"doc_id": doc_id, "id": f"e{i}", "start": start, "end": end, "text": text, "cluster_id": f"e{i}"})
    tables = {
        "documents": pa.table({"doc_id": doc_ids, "text": texts}),
        "entities": pa.Table.from_pylist(rows, schema=ARROW["entities"]),
    }
    view = ViewBuilder(SCHEMA, tables).build("entities").to_pylist()
    for row in view:
        index = doc_ids.index(row["doc_id"]) if row["doc_id"] in doc_ids else None
        assert row["doc_in_documents"] == (index is not None)
        assert row["doc_text_length"] == (None if index is None else len(texts[index]))
        bounded = index is not None and 0 <= row["start"] < row["end"] <= len(texts[index])
        expected = texts[index][row["start"] : row["end"]] == row["text"] if bounded else None
        assert row["span_matches_text"] == expected
        assert row["cluster_id_in_document"] is True and row["cluster_id_is_chain_head"] is True


def entity(doc_id: str, id_: str, start: int, text: str, cluster_id: str | None = None) -> dict:
    return {
        "doc_id": doc_id, "id": id_, "start": start, "end": start + len(text), "text": text,
        "type": "PERSON", "mention_type": "NAM", "cluster_id": cluster_id or id_,
    }  # fmt: skip


def documents_with(entities: list[dict]) -> pa.Table:
    by_doc: dict[str, list] = {"a": [], "b": []}
    for e in entities:
        by_doc[e["doc_id"]].append({k: v for k, v in e.items() if k != "doc_id"})
    entity_list = ARROW["documents"].field("entities").type
    return pa.table({"doc_id": list(by_doc), "text": ["Ana met Bo.", "Bo left."], "entities": pa.array(
        list(by_doc.values()), entity_list)})  # fmt: skip


def test_nested_and_flat_records_are_compared_per_document():
    flat = [entity("a", "E2", 8, "Bo"), entity("a", "E1", 0, "Ana"), entity("b", "E1", 0, "Bo")]
    nested = documents_with(sorted(flat, key=lambda e: (e["doc_id"], e["start"])))  # another order: still equal
    changed = [*flat[:2], {**flat[2], "type": "ORG"}]
    missing = flat[:2]

    def agreement(flat_rows, documents):
        tables = {"documents": documents, "entities": pa.Table.from_pylist(flat_rows, schema=ARROW["entities"])}
        tables |= {name: ARROW[name].empty_table() for name in ("events", "quotes")}
        view = ViewBuilder(SCHEMA, tables).build("documents")
        return list(
            zip(
                view.column("entities_count").to_pylist(),
                view.column("entities_in_flat").to_pylist(),
                view.column("entities_match_flat").to_pylist(),
                strict=True,
            )
        )

    assert agreement(flat, nested) == [(2, 2, True), (1, 1, True)]
    assert agreement(changed, nested) == [(2, 2, True), (1, 1, False)]
    assert agreement(missing, nested) == [(2, 2, True), (1, 0, None)]  # the count reports it; no second failure


def test_references_and_chain_heads():
    rows = [
        entity("a", "E1", 0, "Ana"),
        entity("a", "E2", 8, "Bo", cluster_id="E1"),  # sound: E1 heads its own chain
        entity("a", "E3", 8, "Bo", cluster_id="E2"),  # E2 exists but is no head
        entity("b", "E4", 0, "Bo", cluster_id="E1"),  # E1 is a mention of another document
    ]
    tables = {"documents": documents_with([]), "entities": pa.Table.from_pylist(rows, schema=ARROW["entities"])}
    view = ViewBuilder(SCHEMA, tables).build("entities")
    assert view.column("cluster_id_in_document").to_pylist() == [True, True, True, False]
    assert view.column("cluster_id_is_chain_head").to_pylist() == [True, True, False, None]
