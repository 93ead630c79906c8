"""Release tables -> validation views: flat Arrow tables, one per suite, that Great Expectations checks.

A view starts with the table's own columns (struct fields flattened to `parent_field`, a
list replaced by its length `<name>_count`) and ends with computed columns for what Great
Expectations cannot express on one table: a span's text against its document's text,
references between tables, checksums, nested records against flat ones. Computed columns
are plain booleans and integers, checked by standard expectations; null means "does not
apply" (a quote without speaker, a span already out of bounds), which those expectations
skip, so that one defect fails one expectation. Another engine can build the same views
and run the same suites.

Views are built one at a time from Arrow; nothing here converts a whole release to pandas.
"""

from __future__ import annotations

from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

from newscorpus.files import bytes_sha256
from newscorpus.release.formats import FORMAT_2_DOCUMENT_COLUMNS, TOKEN_OFFSETS
from newscorpus.schema import AnnotationSchema
from newscorpus.validation.columns import read_column, single_array
from newscorpus.validation.derived_checks import DERIVED_SUITES, derived_view
from newscorpus.validation.quality import QUALITY_SUITE, quality_view
from newscorpus.validation.view_specs import (
    LAYERS,
    PUBLISHED_PRECISIONS,
    ROLE_SEPARATOR,
    mirror_columns,
    view_specs,
)

_KEY_SEPARATOR = "\x1f"
_CHUNK = 20_000  # rows per Python batch in the span check: bounds the Python objects alive at once
_TEXT_CHUNK = 1_000  # documents per Python batch of texts (a text as a str takes up to 4 bytes a code point)


# -- building views ------------------------------------------------------------


class ViewBuilder:
    """Builds each suite's view from the four release tables, one view at a time."""

    def __init__(self, schema: AnnotationSchema, tables: dict[str, pa.Table]):
        self.arrow = schema.arrow_schemas()
        self.schema = schema
        self.specs = view_specs(schema)
        # One chunk per column, once: the checks read each column several times.
        self.tables = {name: table.combine_chunks() for name, table in tables.items()}

    def build(self, name: str) -> pa.Table:
        spec = self.specs[name]
        if name == QUALITY_SUITE:  # joins, sentences and tokens: computed in Python (quality.py)
            return quality_view(self._quality_tables())
        if name in DERIVED_SUITES:  # format 2's derived configs (derived_checks.py)
            return derived_view(name, self.tables, self.schema)
        if name == "event_arguments":
            own = self._arguments()
        else:
            own = {field.name: values for field, values in mirror_columns(self.tables[name])}
            if name == "documents":  # format 2's own columns: the `derived` suite checks them
                own = {k: v for k, v in own.items() if k.removesuffix("_count") not in FORMAT_2_DOCUMENT_COLUMNS}
        computed = getattr(self, f"_{name}")(own)
        return pa.table({**own, **computed}).select([*own, *(f.name for f in spec.computed)])

    def _quality_tables(self) -> dict[str, pa.Table]:
        """The tables as the schema has them (a missing or mistyped column reads as nulls: other suites report it),
        with format 2's sentences and tokens where the release has them."""
        wanted = {"documents": ("doc_id", "text"), "entities": None, "events": None, "quotes": None}
        tables = {
            name: pa.table(
                {
                    f.name: read_column(self.tables[name], f.name, f.type)
                    for f in self.arrow[name]
                    if columns is None or f.name in columns
                }
            )
            for name, columns in wanted.items()
        }
        if "tokens" in self.tables:
            types = {"doc_id": pa.string(), "sentence_index": pa.int32(), "sentence_start": pa.int32(),
                     "sentence_end": pa.int32(), "token_offsets": TOKEN_OFFSETS}  # fmt: skip
            tables["tokens"] = pa.table({c: read_column(self.tables["tokens"], c, t) for c, t in types.items()})
        return tables

    # -- shared lookups -----------------------------------------------------
    def _str(self, table: str, path: str) -> pa.Array:
        return read_column(self.tables[table], path, pa.string())

    def _int32(self, table: str, path: str) -> pa.Array:
        return read_column(self.tables[table], path, pa.int32())

    @cached_property
    def _doc_ids(self) -> pa.Array:
        return self._str("documents", "doc_id")

    @cached_property
    def _doc_texts(self) -> pa.Array:
        return self._str("documents", "text")

    @cached_property
    def _doc_lengths(self) -> pa.Array:
        return pc.utf8_length(self._str("documents", "text")).cast(pa.int32())

    @cached_property
    def _entity_keys(self) -> pa.Array:
        return _key(self._str("entities", "doc_id"), self._str("entities", "id"))

    def _spans(self, doc_id: pa.Array, start: pa.Array, end: pa.Array, text: pa.Array) -> tuple:
        """(doc_in_documents, doc_text_length, span_matches_text) for spans of the documents' texts."""
        index = pc.index_in(doc_id, value_set=self._doc_ids)
        length = pc.take(self._doc_lengths, index)
        within = pc.fill_null(
            pc.and_kleene(pc.and_kleene(pc.greater_equal(start, 0), pc.less(start, end)), pc.less_equal(end, length)),
            False,
        )
        matches = []
        for offset in range(0, len(doc_id), _CHUNK):
            batch = [a.slice(offset, _CHUNK).to_pylist() for a in (index, start, end, text, within)]
            # Only the texts this batch's spans are in, as Python strings: never all of a chunk's at once.
            needed = sorted({i for i, ok in zip(batch[0], batch[4], strict=True) if ok})
            texts = dict(zip(needed, self._doc_texts.take(pa.array(needed, pa.int64())).to_pylist(), strict=True))
            matches += [texts[i][s:e] == t if ok else None for i, s, e, t, ok in zip(*batch, strict=True)]
        return index.is_valid(), length, pa.array(matches, pa.bool_())

    def _reference(self, doc_id: pa.Array, entity_id: pa.Array) -> pa.Array:
        """Does (doc_id, entity_id) name a mention of that document? Null where no id is given."""
        found = pc.is_in(_key(doc_id, entity_id), value_set=self._entity_keys)
        return pc.if_else(entity_id.is_null(), pa.scalar(None, pa.bool_()), found)

    # -- one method per suite ---------------------------------------------------
    def _documents(self, own: dict) -> dict:
        docs = self.tables["documents"]
        # The texts' UTF-8 bytes as they are stored, a batch at a time, rather than all of them as str.
        texts, sha = self._doc_texts.view(pa.binary()), self._str("documents", "text_sha256")
        matches = []
        for offset in range(0, len(texts), _TEXT_CHUNK):
            batch = (texts.slice(offset, _TEXT_CHUNK).to_pylist(), sha.slice(offset, _TEXT_CHUNK).to_pylist())
            matches += [None if t is None else bytes_sha256(t) == h for t, h in zip(*batch, strict=True)]
        published = read_column(docs, "published", pa.date32())
        precision = self._str("documents", "published_precision")
        first_of_month = pc.equal(pc.day(published), 1)
        first_of_year = pc.and_(first_of_month, pc.equal(pc.month(published), 1))
        by_precision = pc.case_when(
            pc.make_struct(*(pc.equal(precision, p) for p in PUBLISHED_PRECISIONS)),
            pa.scalar(True),
            first_of_month,
            first_of_year,
        )
        out = {"text_sha256_matches_text": pa.array(matches, pa.bool_()), "published_matches_precision": by_precision}
        agreement = {layer: self._nested_against_flat(layer) for layer in LAYERS}
        out |= {f"{layer}_in_flat": counts for layer, (counts, _) in agreement.items()}
        out |= {f"{layer}_match_flat": match for layer, (_, match) in agreement.items()}
        return out

    def _entities(self, own: dict) -> dict:
        doc_id, cluster_id = self._str("entities", "doc_id"), self._str("entities", "cluster_id")
        in_docs, length, matches = self._spans(
            doc_id, self._int32("entities", "start"), self._int32("entities", "end"), self._str("entities", "text")
        )
        head = pc.index_in(_key(doc_id, cluster_id), value_set=self._entity_keys)
        head_is_head = pc.equal(pc.take(cluster_id, head), cluster_id)
        return {
            "doc_in_documents": in_docs,
            "doc_text_length": length,
            "span_matches_text": matches,
            "cluster_id_in_document": self._reference(doc_id, cluster_id),
            "cluster_id_is_chain_head": head_is_head,
        }

    def _events(self, own: dict) -> dict:
        in_docs, length, matches = self._spans(
            self._str("events", "doc_id"),
            self._int32("events", "trigger.start"),
            self._int32("events", "trigger.end"),
            self._str("events", "trigger.text"),
        )
        return {"doc_in_documents": in_docs, "doc_text_length": length, "trigger_matches_text": matches}

    def _arguments(self) -> dict:
        argument_type = self.arrow["events"].field("arguments").type
        arguments = read_column(self.tables["events"], "arguments", argument_type)
        parent, items = pc.list_parent_indices(arguments), pc.list_flatten(arguments)
        return {
            "doc_id": pc.take(self._str("events", "doc_id"), parent),
            "event_id": pc.take(self._str("events", "id"), parent),
            "event_type": pc.take(self._str("events", "type"), parent),
            "role": pc.struct_field(items, "role"),
            "entity_id": pc.struct_field(items, "entity_id"),
        }

    def _event_arguments(self, own: dict) -> dict:
        # "type:role", checked against the schema's pairs with an in-set expectation: Great
        # Expectations' pair-in-set expectation walks pandas rows one by one (~60 s a million).
        return {
            "event_type_role": pc.binary_join_element_wise(own["event_type"], own["role"], ROLE_SEPARATOR),
            "entity_id_in_document": self._reference(own["doc_id"], own["entity_id"]),
        }

    def _quotes(self, own: dict) -> dict:
        doc_id = self._str("quotes", "doc_id")
        in_docs, length, matches = self._spans(
            doc_id, self._int32("quotes", "start"), self._int32("quotes", "end"), self._str("quotes", "text")
        )
        cue = self._spans(
            doc_id,
            self._int32("quotes", "cue.start"),
            self._int32("quotes", "cue.end"),
            self._str("quotes", "cue.text"),
        )[2]
        speaker_id, speaker = self._str("quotes", "speaker_id"), self._str("quotes", "speaker")
        # The speaker is the name of the speaker mention's chain: the text of its cluster head.
        # Where the mention or a sound head is missing, entities' own checks report it: null here.
        clusters = self._str("entities", "cluster_id")
        mention = pc.index_in(_key(doc_id, speaker_id), value_set=self._entity_keys)
        head = pc.index_in(_key(doc_id, pc.take(clusters, mention)), value_set=self._entity_keys)
        sound = pc.fill_null(pc.equal(pc.take(clusters, head), pc.take(self._str("entities", "id"), head)), False)
        names_chain = pc.fill_null(pc.equal(speaker, pc.take(self._str("entities", "text"), head)), False)
        names_chain = pc.if_else(sound, names_chain, pa.scalar(None, pa.bool_()))
        return {
            "doc_in_documents": in_docs,
            "doc_text_length": length,
            "span_matches_text": matches,
            "cue_matches_text": cue,
            "speaker_id_in_document": self._reference(doc_id, speaker_id),
            "speaker_names_chain": pc.if_else(speaker_id.is_null(), speaker.is_null(), names_chain),
        }

    # -- nested records against flat rows -----------------------------------------
    def _nested_against_flat(self, layer: str) -> tuple[pa.Array, pa.Array]:
        """Per document: how many flat rows it has, and whether they equal its nested records.

        The comparison runs only for documents whose counts agree (else null: the count
        expectation reports them); flat rows are compared in (doc_id, id) order.
        """
        doc_ids = self._doc_ids
        list_type = self.arrow["documents"].field(layer).type
        nested = read_column(self.tables["documents"], layer, list_type)
        flat = self.tables[layer]
        counts = pc.value_counts(self._str(layer, "doc_id"))
        in_flat = pc.fill_null(
            pc.take(counts.field("counts"), pc.index_in(doc_ids, value_set=counts.field("values"))), 0
        ).cast(pa.int32())
        same_count = pc.fill_null(pc.equal(pc.list_value_length(nested), in_flat), False)
        fields = list(list_type.value_type)
        parent = pc.list_parent_indices(nested)
        items = pc.list_flatten(nested)
        left = _records(pc.take(doc_ids, parent), items, fields).filter(pc.take(same_count, parent))
        right = _records(self._str(layer, "doc_id"), flat, fields)
        right = right.filter(pc.is_in(right.column("doc_id"), value_set=doc_ids.filter(same_count)))
        if left.num_rows != right.num_rows:  # repeated doc_ids: the uniqueness expectation reports them
            return in_flat, pa.nulls(len(doc_ids), pa.bool_())
        aligned = all(pc.all(_same(single_array(left[c]), single_array(right[c]))).as_py() for c in ("doc_id", "id"))
        if not aligned:  # a build writes flat rows in nested order: sort only when they are not
            order = [("doc_id", "ascending"), ("id", "ascending")]
            left, right = left.sort_by(order), right.sort_by(order)
        equal = pa.array([True] * left.num_rows, pa.bool_())
        for name in left.column_names:
            equal = pc.and_(equal, _same(single_array(left.column(name)), single_array(right.column(name))))
        per_doc = (
            pa.table({"doc_id": left.column("doc_id"), "equal": equal}).group_by("doc_id").aggregate([("equal", "all")])
        )
        found = pc.take(per_doc.column("equal_all"), pc.index_in(doc_ids, value_set=per_doc.column("doc_id")))
        match = pc.if_else(same_count, pc.fill_null(found, True), pa.scalar(None, pa.bool_()))
        return in_flat, match


def _records(doc_id: pa.Array, source, fields: list[pa.Field]) -> pa.Table:
    """doc_id plus every leaf of the records, lists rendered as text, so that rows compare column by column."""
    columns = {"doc_id": doc_id}
    for field in fields:
        for name, values in _leaves(field, read_column(source, field.name, field.type)):
            columns[name] = values
    return pa.table(columns)


def _leaves(field: pa.Field, values: pa.Array, prefix: str = ""):
    name = prefix + field.name
    if pa.types.is_struct(field.type):
        yield f"{name}.is_null", values.is_null()
        for child in field.type:
            yield from _leaves(child, pc.struct_field(values, child.name), f"{name}.")
    elif pa.types.is_list(field.type):
        items = pc.list_flatten(values)
        parts = [_as_text(v) for _, v in _leaves(field.type.value_field, items)]
        joined = pc.binary_join_element_wise(*parts, "\x1e") if len(parts) > 1 else parts[0]
        lengths = pc.fill_null(pc.list_value_length(values), 0)
        offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(lengths).cast(pa.int32())])
        rebuilt = pa.ListArray.from_arrays(offsets, joined, mask=values.is_null())
        yield name, pc.binary_join(rebuilt, "\x1d")
    else:
        yield name, values


def _as_text(values: pa.Array) -> pa.Array:
    return pc.fill_null(values.cast(pa.string()), "\x00")


def _same(a: pa.Array, b: pa.Array) -> pa.Array:
    """Element-wise equality where two nulls are equal and values of incomparable types differ."""
    try:
        equal = pc.fill_null(pc.equal(a, b), False)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        equal = pa.array([False] * len(a), pa.bool_())
    return pc.or_(equal, pc.and_(a.is_null(), b.is_null()))


def _key(doc_id: pa.Array, other: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(doc_id, other, _KEY_SEPARATOR)
