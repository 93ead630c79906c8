"""The suites of format 2's derived configs (tokens, chains, event_arguments) and their views.

- `tokens`: one row per sentence; its tokens are the text at their offsets, in order, inside
  the sentence; the three lists have one item per token; every tag id is a ClassLabel id of the
  schema's IOB2 names, and an `I-X` follows a `B-X` or `I-X`. `misaligned_mentions` is counted
  by a warning (sentences with a mention whose tags do not decode back to exactly its span).
- `chains`: every chain's id is a chain head of the entities config with the chain's type and
  canonical name, and its mentions are exactly the entities with that cluster_id.
- `argument_rows` (the `event_arguments` config; the `event_arguments` suite checks the
  arguments nested in `events`): each row is an argument of its event, its mention's text and
  offsets and its chain's id and canonical name are the entities config's.
- `derived`: one row per document: it has sentences, as many chains as the entities config has
  cluster ids and as many argument rows as its events have arguments; the provenance columns
  are strings.

The views are computed from Arrow, a chunk of whole documents at a time (no engine-specific
code), and only for a release that has the configs: the tokens view over Arrow and numpy columns
(`token_checks`: a chunk holds ~1 million tokens), the chains and argument rows by Arrow joins
(`relation_checks`), the per-document counts in Python.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from newscorpus.release.formats import ANNOTATORS_COLUMN, PROVENANCE_COLUMNS, arrow_schemas, ner_tag_names
from newscorpus.schema import AnnotationSchema
from newscorpus.validation.relation_checks import argument_rows_view, chains_view, first_rows
from newscorpus.validation.token_checks import tokens_view

DERIVED_SUITES = ("tokens", "chains", "argument_rows", "derived")
SOURCE = {"tokens": "tokens", "chains": "chains", "argument_rows": "event_arguments"}
FAIL, WARNING = "critical", "warning"

_BOOLEANS = {
    "tokens": {
        "tokens_match_text": "Each token is text[start:end] of its document, tokens in order inside the sentence.",
        "lengths_agree": "tokens, token_offsets and ner_tags have one item per token.",
        "tags_in_range": "Every ner_tags id is an id of the ClassLabel names (O, B-<type>, I-<type>).",
        "tags_follow_iob2": "An I-<type> tag follows a B-<type> or I-<type> tag of the same type (IOB2).",
    },
    "chains": {
        "head_matches": "cluster_id is a chain head of the entities config with the chain's type and text.",
        "mentions_match": "The mentions are exactly the entities with this cluster_id, with their spans.",
    },
    "argument_rows": {
        "event_matches": "The row is an argument (role, entity_id) of an event of that id and type.",
        "entity_matches": "entity_text, offsets, cluster_id and canonical_name are those of the mention's chain.",
    },
    "derived": {},
}


def view_fields(schema: AnnotationSchema) -> dict[str, tuple[tuple[pa.Field, ...], tuple[pa.Field, ...], tuple]]:
    """(table fields, computed fields, id columns) of each derived suite's view."""
    arrow = arrow_schemas(schema, 2)

    def mirror(config: str) -> tuple[pa.Field, ...]:  # the view_specs mirror rule: a list becomes its length
        return tuple(
            pa.field(f"{f.name}_count", pa.int32(), nullable=False) if pa.types.is_list(f.type) else f
            for f in arrow[config]
        )

    located = (pa.field("doc_in_documents", pa.bool_()),)
    booleans = {name: tuple(pa.field(c, pa.bool_()) for c in columns) for name, columns in _BOOLEANS.items()}
    counts = (
        *(
            pa.field(name, pa.int32())
            for name in ("sentences", "chain_rows", "cluster_ids", "argument_rows", "arguments_in_events")
        ),
        pa.field("annotator_codes", pa.string()),
        pa.field("annotators_resolved", pa.bool_()),
    )
    documents = (arrow["documents"].field("doc_id"), *(arrow["documents"].field(c) for c in PROVENANCE_COLUMNS))
    return {
        "tokens": (
            mirror("tokens"),
            (*located, pa.field("doc_text_length", pa.int32()), *booleans["tokens"]),
            ("doc_id", "sentence_index"),
        ),
        "chains": (mirror("chains"), (*located, *booleans["chains"]), ("doc_id", "cluster_id")),
        "argument_rows": (
            mirror("event_arguments"),
            (*located, *booleans["argument_rows"]),
            ("doc_id", "event_id", "role", "entity_id"),
        ),
        "derived": (documents, counts, ("doc_id",)),
    }


def _expect(check: str, type_: str, notes: str, severity: str = FAIL, **kwargs) -> dict:
    return {"type": type_, "kwargs": kwargs, "meta": {"check": check}, "notes": notes, "severity": severity}


def _true(check: str, column: str, notes: str) -> dict:
    return _expect(check, "expect_column_values_to_be_in_set", notes, column=column, value_set=[True])


def _equal(check: str, a: str, b: str, notes: str) -> dict:
    pair = "expect_column_pair_values_to_be_equal"
    return _expect(check, pair, notes, column_A=a, column_B=b, ignore_row_if="either_value_is_missing")


def content_checks(name: str, schema: AnnotationSchema) -> list[dict]:
    """The expectations of a derived suite beyond its columns, types and not-nulls."""
    between = "expect_column_values_to_be_between"
    in_docs = _true(f"{name}.doc_id.in_documents", "doc_in_documents", "The doc_id is a document of the release.")
    booleans = [_true(f"{name}.{column}", column, notes) for column, notes in _BOOLEANS[name].items()]
    if name == "tokens":
        pair = "expect_column_pair_values_a_to_be_greater_than_b"
        return [
            _expect("tokens.sentence.unique", "expect_compound_columns_to_be_unique",
                    "No two rows of a document share a sentence_index.", column_list=["doc_id", "sentence_index"]),
            in_docs,
            _expect("tokens.sentence_start.not_negative", between, "The sentence starts at 0 or later.",
                    column="sentence_start", min_value=0),
            _expect("tokens.sentence_end.after_start", pair, "The sentence ends after it starts.",
                    column_A="sentence_end", column_B="sentence_start", or_equal=False),
            _expect("tokens.sentence_end.within_text", pair, "The sentence ends within its document's text.",
                    column_A="doc_text_length", column_B="sentence_end", or_equal=True,
                    ignore_row_if="either_value_is_missing"),
            *booleans,
            _expect("tokens.misaligned_mentions.not_negative", between, "misaligned_mentions is a count.",
                    column="misaligned_mentions", min_value=0),
            _expect("tokens.mentions.token_aligned", between,
                    "Sentences with an outermost mention whose IOB2 tags do not decode back to exactly its span"
                    " (a boundary inside a token, a mention across sentences, crossing mentions): counted, not"
                    " failed.", WARNING, column="misaligned_mentions", max_value=0),
        ]  # fmt: skip
    if name == "chains":
        return [
            _expect("chains.cluster_id.unique", "expect_compound_columns_to_be_unique",
                    "No two chains of a document share a cluster_id.", column_list=["doc_id", "cluster_id"]),
            in_docs,
            _expect("chains.type.in_schema", "expect_column_values_to_be_in_set",
                    "The type is an entity type of the schema.", column="type", value_set=list(schema.entity_types)),
            _expect("chains.mentions.not_empty", between, "A chain has a mention.", column="mentions_count",
                    min_value=1),
            *booleans,
        ]  # fmt: skip
    if name == "argument_rows":
        return [
            _expect("argument_rows.argument.unique", "expect_compound_columns_to_be_unique",
                    "An event names each (role, mention) once.",
                    column_list=["doc_id", "event_id", "role", "entity_id"]),
            in_docs,
            *booleans,
        ]  # fmt: skip
    return [
        _expect("derived.doc_id.unique", "expect_column_values_to_be_unique", "One row per document.",
                column="doc_id"),
        _expect("derived.tokens.has_sentences", between, "Every document has a sentence in tokens.",
                column="sentences", min_value=1),
        _equal("derived.chains.count_matches", "chain_rows", "cluster_ids",
               "A document has as many rows in chains as the entities config has cluster ids for it."),
        _equal("derived.event_arguments.count_matches", "argument_rows", "arguments_in_events",
               "A document has as many rows in event_arguments as its events have arguments."),
        _expect("derived.annotators.codes", "expect_column_values_to_match_regex",
                "annotators holds roster codes (A01, A02, ...), comma-joined here.", column="annotator_codes",
                regex=r"^(A[0-9]{2,}(,A[0-9]{2,})*)?$"),
        _true("derived.annotators.resolved", "annotators_resolved",
                  "With a roster every annotator has a code: as many codes as annotator_ids (none without a roster)."),
    ]  # fmt: skip


# -- views ----------------------------------------------------------------------


def derived_view(name: str, tables: dict[str, pa.Table], schema: AnnotationSchema) -> pa.Table:
    """The view of derived suite `name` on one chunk's tables (format 2's)."""
    table_fields, computed, _ = view_fields(schema)[name]
    fields = (*table_fields, *computed)
    if name == "tokens":  # over Arrow columns: a chunk has ~1 million tokens
        return tokens_view(tables["tokens"], tables["documents"], fields, ner_tag_names(schema))
    arrow = arrow_schemas(schema, 2)
    if name == "chains":
        return chains_view(tables["chains"], tables["entities"], tables["documents"], fields, arrow)
    if name == "argument_rows":
        return argument_rows_view(
            tables["event_arguments"], tables["entities"], tables["events"], tables["documents"], fields, arrow
        )
    rows = _derived_rows(tables, arrow["entities"])  # one per document: read as Python rows
    columns = {}
    for field in fields:
        columns[field.name] = pa.array([row.get(field.name) for row in rows], field.type)
    return pa.table(columns)


def _derived_rows(tables: dict[str, pa.Table], entity_schema: pa.Schema) -> list[dict]:
    sentences = Counter(tables["tokens"].column("doc_id").to_pylist())
    chain_rows = Counter(tables["chains"].column("doc_id").to_pylist())
    argument_rows = Counter(tables["event_arguments"].column("doc_id").to_pylist())
    mentions = first_rows(tables["entities"], entity_schema, ("doc_id", "id", "cluster_id"), ("doc_id", "id"))
    pairs = zip(*(mentions.column(c).to_pylist() for c in ("doc_id", "cluster_id")), strict=True)
    clusters = Counter(doc_id for doc_id, _ in set(pairs))
    arguments = Counter()
    for event in tables["events"].select(["doc_id", "arguments"]).to_pylist():
        arguments[event["doc_id"]] += len(event["arguments"])
    rows = tables["documents"].select(["doc_id", *PROVENANCE_COLUMNS, ANNOTATORS_COLUMN, "annotator_ids"]).to_pylist()
    for row in rows:
        doc_id = row["doc_id"]
        codes, ids = row.pop(ANNOTATORS_COLUMN), row.pop("annotator_ids")
        row |= {
            "annotator_codes": ",".join(codes),
            "annotators_resolved": not codes or len(codes) == len(ids),
            "sentences": sentences[doc_id],
            "chain_rows": chain_rows[doc_id],
            "cluster_ids": clusters[doc_id],
            "argument_rows": argument_rows[doc_id],
            "arguments_in_events": arguments[doc_id],
        }
    return rows
