"""What each suite sees: the columns of its validation view, for every engine.

A view starts with the table's own columns under the mirror rule (struct fields flattened
to `parent_field`, a list replaced by its length `<name>_count`) and ends with computed
columns (see `views`). The pandas engine's views (`views`), the Spark engine's
(`spark_views`) and the suites (`suites`) are all derived from these specs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from newscorpus.schema import AnnotationSchema
from newscorpus.validation import quality
from newscorpus.validation.columns import single_array
from newscorpus.validation.derived_checks import DERIVED_SUITES, view_fields

TABLE_SUITES = ("documents", "entities", "events", "event_arguments", "quotes")
MANIFEST_SUITE = "manifest"
QUALITY_SUITE = quality.QUALITY_SUITE
# What a build's gate runs (and its manifest records): the table suites and the guidelines' rules.
GATE_SUITES = (*TABLE_SUITES, QUALITY_SUITE, *DERIVED_SUITES)  # the derived suites run where the configs are


# The gate of a build made through the library (the tests): the checks of the data, without the guidelines'
# rules, which many test fixtures do not follow. `newscorpus build`, the corpus's own build, and the
# benchmarks run every suite of the gate.
DATA_GATE = tuple(name for name in GATE_SUITES if name != QUALITY_SUITE)


def recorded_gate(manifest: dict) -> tuple[str, ...]:
    """The suites a release's gate ran, as its manifest records them (`validation.suites`).

    A manifest without that record predates the record and the quality suite: its gate ran the table suites.
    """
    recorded = (manifest.get("validation") or {}).get("suites")
    return tuple(recorded) if isinstance(recorded, dict) and recorded else TABLE_SUITES


def predated_suites(manifest: dict) -> tuple[str, ...]:
    """The gate's suites that the release's own gate did not run: validation reports them, not enforces them."""
    return tuple(name for name in GATE_SUITES if name not in recorded_gate(manifest))


LAYERS = ("entities", "events", "quotes")
PUBLISHED_PRECISIONS = ("day", "month", "year")
ROLE_SEPARATOR = ":"  # between an event type and a role; neither can contain it (schema.NAME_PATTERN)

_ARGUMENT_FIELDS = tuple(
    pa.field(name, pa.string(), nullable=False) for name in ("doc_id", "event_id", "event_type", "role", "entity_id")
)
MANIFEST_FIELDS = (pa.field("path", pa.string(), nullable=False),)
MANIFEST_CHECKS = tuple(
    pa.field(name, pa.bool_()) for name in ("listed", "present", "sha256_matches", "bytes_match", "rows_match")
)


@dataclass(frozen=True)
class ViewSpec:
    """What a suite sees: the table's columns, the computed columns, and the ids a report names."""

    name: str
    table_fields: tuple[pa.Field, ...]
    computed: tuple[pa.Field, ...]
    id_columns: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [f.name for f in (*self.table_fields, *self.computed)]


def _bool(name: str) -> pa.Field:
    return pa.field(name, pa.bool_())


def _int(name: str) -> pa.Field:
    return pa.field(name, pa.int32())


def view_specs(schema: AnnotationSchema) -> dict[str, ViewSpec]:
    arrow = schema.arrow_schemas()
    span_checks = (_bool("doc_in_documents"), _int("doc_text_length"))
    return {
        "documents": ViewSpec(
            "documents",
            mirror_fields(arrow["documents"]),
            (
                _bool("text_sha256_matches_text"),
                _bool("published_matches_precision"),
                *(_int(f"{layer}_in_flat") for layer in LAYERS),
                *(_bool(f"{layer}_match_flat") for layer in LAYERS),
            ),
            ("doc_id",),
        ),
        "entities": ViewSpec(
            "entities",
            mirror_fields(arrow["entities"]),
            (
                *span_checks,
                _bool("span_matches_text"),
                _bool("cluster_id_in_document"),
                _bool("cluster_id_is_chain_head"),
            ),
            ("doc_id", "id"),
        ),
        "events": ViewSpec(
            "events", mirror_fields(arrow["events"]), (*span_checks, _bool("trigger_matches_text")), ("doc_id", "id")
        ),
        "event_arguments": ViewSpec(
            "event_arguments",
            _ARGUMENT_FIELDS,
            (pa.field("event_type_role", pa.string()), _bool("entity_id_in_document")),
            ("doc_id", "event_id", "role", "entity_id"),
        ),
        "quotes": ViewSpec(
            "quotes",
            mirror_fields(arrow["quotes"]),
            (
                *span_checks,
                _bool("span_matches_text"),
                _bool("cue_matches_text"),
                _bool("speaker_id_in_document"),
                _bool("speaker_names_chain"),
            ),
            ("doc_id", "id"),
        ),
        QUALITY_SUITE: ViewSpec(QUALITY_SUITE, quality.FIELDS, quality.CHECKS, quality.ID_COLUMNS),
        **{name: ViewSpec(name, *fields) for name, fields in view_fields(schema).items()},
        MANIFEST_SUITE: ViewSpec(
            MANIFEST_SUITE,
            MANIFEST_FIELDS,
            MANIFEST_CHECKS,
            ("path",),
        ),
    }


# -- mirroring a table's columns ---------------------------------------------


def mirror_fields(schema: pa.Schema) -> tuple[pa.Field, ...]:
    """The view columns that stand for a table's columns (same rule as `mirror_columns`)."""
    return tuple(f for field in schema for f, _ in _mirror(field, None))


def mirror_columns(table: pa.Table) -> list[tuple[pa.Field, pa.Array]]:
    """The table's actual columns under the mirror rule, whatever they are: a wrong table shows as wrong columns."""
    return [
        pair
        for field, column in zip(table.schema, table.columns, strict=True)
        for pair in _mirror(field, single_array(column))
    ]


def _mirror(field: pa.Field, column: pa.Array | None, prefix: str = "", nullable: bool = False):
    name, type_ = prefix + field.name, field.type
    nullable = nullable or field.nullable
    if pa.types.is_struct(type_):
        for child in type_:
            values = None if column is None else pc.struct_field(column, child.name)
            yield from _mirror(child, values, f"{name}_", nullable)
    elif pa.types.is_list(type_) or pa.types.is_large_list(type_):
        lengths = None if column is None else pc.list_value_length(column).cast(pa.int32())
        yield pa.field(f"{name}_count", pa.int32(), nullable=nullable), lengths
    else:
        yield pa.field(name, type_, nullable=nullable), column
