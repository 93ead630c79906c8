"""Converted documents -> the release's four Arrow tables, built column by column.

A batch of documents becomes one table per config. Columns are built as plain lists
and turned into arrays once (rows as dicts, `Table.from_pylist`, cost several times
more); the nested lists of `documents` reuse the flat configs' columns with list
offsets, so each record is converted once.
"""

from __future__ import annotations

from itertools import chain

import pyarrow as pa

from newscorpus.ingest import Article
from newscorpus.labelstudio.exports import TaskAnnotations
from newscorpus.schema import AnnotationSchema


def make_tables(
    articles: list[Article], annotations: dict[str, TaskAnnotations], schema: AnnotationSchema
) -> dict[str, pa.Table]:
    """One row per annotated article (documents), one per record in the flat configs, in the articles' order."""
    schemas = schema.arrow_schemas()
    documents = schemas["documents"]
    annotated = [(a, annotations[a.doc_id]) for a in articles if a.doc_id in annotations]
    doc_ids = [a.doc_id for a, _ in annotated]
    layers = {
        "entities": [t.layers.entities for _, t in annotated],
        "events": [t.layers.events for _, t in annotated],
        "quotes": [t.layers.quotes for _, t in annotated],
    }
    records = {
        "entities": _entity_columns,
        "events": _event_columns,
        "quotes": _quote_columns,
    }
    tables: dict[str, pa.Table] = {}
    nested: dict[str, pa.Array] = {}
    for name, per_doc in layers.items():
        item_type = documents.field(name).type.value_type
        columns = records[name](list(chain.from_iterable(per_doc)), item_type)
        counts = [len(x) for x in per_doc]
        parent = pa.array(list(chain.from_iterable([d] * n for d, n in zip(doc_ids, counts, strict=True))), pa.string())
        tables[name] = pa.Table.from_arrays([parent, *columns], schema=schemas[name])
        items = pa.StructArray.from_arrays(columns, fields=list(item_type))
        nested[name] = pa.ListArray.from_arrays(_offsets(counts), items, type=documents.field(name).type)
    annotators = [t.annotator_ids for _, t in annotated]
    string_columns = {
        "doc_id": doc_ids,
        "published_precision": [a.published_precision for a, _ in annotated],
        "language": [a.language for a, _ in annotated],
        "text": [a.text for a, _ in annotated],
        "text_sha256": [a.text_sha256 for a, _ in annotated],
        "source_file": [a.source_file for a, _ in annotated],
        "ls_export": [t.export_file for _, t in annotated],
        "guideline_version": [schema.guideline_version] * len(annotated),
    }
    arrays = {name: pa.array(values, pa.string()) for name, values in string_columns.items()}
    arrays["published"] = pa.array([a.published for a, _ in annotated], pa.date32())
    arrays["ls_task_id"] = pa.array([t.task_id for _, t in annotated], pa.int64())
    arrays["ls_annotation_id"] = pa.array([t.annotation_id for _, t in annotated], pa.int64())
    arrays["annotator_ids"] = pa.ListArray.from_arrays(
        _offsets([len(a) for a in annotators]),
        pa.array(list(chain.from_iterable(annotators)), pa.int64()),
        type=documents.field("annotator_ids").type,
    )
    arrays |= nested
    tables["documents"] = pa.Table.from_arrays([arrays[f.name] for f in documents], schema=documents)
    return {name: tables[name] for name in ("documents", "entities", "events", "quotes")}


def _offsets(counts: list[int]) -> pa.Array:
    offsets = [0]
    for count in counts:
        offsets.append(offsets[-1] + count)
    return pa.array(offsets, pa.int32())


def _entity_columns(entities: list, item: pa.StructType) -> list[pa.Array]:
    rows = [(e.id, e.start, e.end, e.text, e.type, e.mention_type, e.cluster_id) for e in entities]
    return _columns(rows, item)


def _event_columns(events: list, item: pa.StructType) -> list[pa.Array]:
    span = item.field("trigger").type
    argument_list = item.field("arguments").type
    ids, types, realis = [e.id for e in events], [e.type for e in events], [e.realis for e in events]
    trigger = pa.StructArray.from_arrays(
        _columns([(e.trigger.start, e.trigger.end, e.trigger.text) for e in events], span), fields=list(span)
    )
    arguments = list(chain.from_iterable(e.arguments for e in events))
    argument_items = pa.StructArray.from_arrays(
        _columns([(a.role, a.entity_id) for a in arguments], argument_list.value_type),
        fields=list(argument_list.value_type),
    )
    return [
        pa.array(ids, pa.string()),
        pa.array(types, pa.string()),
        pa.array(realis, pa.string()),
        trigger,
        pa.ListArray.from_arrays(_offsets([len(e.arguments) for e in events]), argument_items, type=argument_list),
    ]


def _quote_columns(quotes: list, item: pa.StructType) -> list[pa.Array]:
    span = item.field("cue").type
    head = _columns([(q.id, q.start, q.end, q.text, q.kind) for q in quotes], pa.struct(list(item)[:5]))
    # A quote without cue is a null struct; its fields are placeholders that no reader sees.
    cues = _columns([(c.start, c.end, c.text) if (c := q.cue) else (0, 0, "") for q in quotes], span)
    cue = pa.StructArray.from_arrays(
        cues, fields=list(span), mask=pa.array([q.cue is None for q in quotes], pa.bool_())
    )
    speaker_id = pa.array([q.speaker_id for q in quotes], pa.string())
    speaker = pa.array([q.speaker for q in quotes], pa.string())
    return [*head, cue, speaker_id, speaker]


def _columns(rows: list[tuple], item: pa.StructType) -> list[pa.Array]:
    """Rows of plain values -> one array per field of `item`."""
    fields = list(item)
    if not rows:
        return [pa.array([], f.type) for f in fields]
    return [pa.array(values, f.type) for values, f in zip(zip(*rows, strict=True), fields, strict=True)]
