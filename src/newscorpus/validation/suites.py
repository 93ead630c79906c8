"""schemas/annotation.yaml -> the Great Expectations suites, validation definitions and checkpoint in validation/.

The files are written in Great Expectations 1.x's own JSON forms (an ExpectationSuite's
`to_json_dict()`, the stores' form of a ValidationDefinition and a Checkpoint, objects
named rather than given ids), so Great Expectations reads them as they are. Each
expectation carries a stable, readable id in `meta.check` (e.g. `entities.span.matches_text`)
that reports name. Value sets (labels, roles, kinds) come from the schema only.
Generating them needs no Great Expectations import; `newscorpus schema` compares the
committed files with a fresh generation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from newscorpus.ingest import DOC_ID_PATTERN
from newscorpus.project import Project
from newscorpus.release.formats import arrow_snapshot
from newscorpus.schema import AnnotationSchema
from newscorpus.validation import quality
from newscorpus.validation.derived_checks import DERIVED_SUITES, content_checks
from newscorpus.validation.view_specs import (
    GATE_SUITES,
    LAYERS,
    MANIFEST_SUITE,
    PUBLISHED_PRECISIONS,
    QUALITY_SUITE,
    ROLE_SEPARATOR,
    view_specs,
)

VALIDATION_DIR = "validation"
CHECKPOINT_NAME = "release"
DATASOURCE_NAME = "newscorpus"
BATCH_DEFINITION_NAME = "view"
RESULT_FORMAT = {"partial_unexpected_count": 5, "result_format": "SUMMARY"}


def whole(pattern: str) -> str:
    """A regex that matches only the whole value, for both engines: `$` (Python and Java) also matches
    before a final newline, and `\\Z` means different things in the two; a look-ahead for no further
    character does not."""
    return rf"^(?:{pattern})(?![\s\S])"


VERSION_REGEX = whole(r"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)")  # no capturing groups: pandas warns
ALL_SUITES = (*GATE_SUITES, MANIFEST_SUITE)

# The names each engine gives a column type: pandas (as validate.py converts views), then Spark.
TYPE_NAMES = {
    pa.int32(): ["Int32Dtype", "IntegerType"],
    pa.int64(): ["Int64Dtype", "LongType"],
    pa.string(): ["StringDtype", "StringType"],
    pa.date32(): ["datetime64[ms]", "DateType"],
}
# Dates the suites compare with, as ISO dates in the suite's meta; each engine passes them
# (and `today`, the day of validation) as its own date values.
PARAMETERS = {"published_min": "1800-01-01"}  # older dates are placeholders, not publication dates


def suite_path(name: str) -> str:
    return f"{VALIDATION_DIR}/suites/{name}.json"


def definition_path(name: str) -> str:
    return f"{VALIDATION_DIR}/validation_definitions/{name}.json"


CHECKPOINT_PATH = f"{VALIDATION_DIR}/checkpoint.json"


def _expect(check: str, type_: str, notes: str, **kwargs) -> dict:
    return {"type": type_, "kwargs": kwargs, "meta": {"check": check}, "notes": notes, "severity": quality.FAIL}


def _rule(rule: quality.Rule) -> dict:
    """A guideline rule: its column is True wherever it applies; a warning's failure does not fail the run."""
    expectation = _true(rule.check, rule.column, f"{rule.notes} (GUIDELINES.md section {rule.section})")
    return expectation | {"meta": {"check": rule.check, "guideline_section": rule.section}, "severity": rule.level}


def _true(check: str, column: str, notes: str) -> dict:
    return _expect(check, "expect_column_values_to_be_in_set", notes, column=column, value_set=[True])


def _in_set(check: str, column: str, values, notes: str) -> dict:
    return _expect(check, "expect_column_values_to_be_in_set", notes, column=column, value_set=list(values))


def _unique(check: str, columns: list[str], notes: str) -> dict:
    if len(columns) == 1:
        return _expect(check, "expect_column_values_to_be_unique", notes, column=columns[0])
    return _expect(check, "expect_compound_columns_to_be_unique", notes, column_list=columns)


def _span(name: str, prefix: str, what: str, matches_column: str, subject: str) -> list[dict]:
    """Bounds and text of a span: 0 <= start < end <= len(text), text == text[start:end]."""
    start, end = f"{prefix}start", f"{prefix}end"
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    return [
        _expect(f"{name}.{start}.not_negative", "expect_column_values_to_be_between", f"{what} starts at 0 or later.",
                column=start, min_value=0),
        _expect(f"{name}.{end}.after_start", pair, f"{what} ends after it starts.",
                column_A=end, column_B=start, or_equal=False, ignore_row_if="either_value_is_missing"),
        _expect(f"{name}.{end}.within_text", pair, f"{what} ends within its document's text.",
                column_A="doc_text_length", column_B=end, or_equal=True, ignore_row_if="either_value_is_missing"),
        _true(f"{name}.{subject}.matches_text", matches_column,
              f"{what}'s text is text[start:end] of its document (code points)."),
    ]  # fmt: skip


def _table_checks(name: str, schema: AnnotationSchema) -> list[dict]:
    """Columns in order, each column's type, and not-null where the Arrow schema says so."""
    spec = view_specs(schema)[name]
    out = [
        _expect(f"{name}.columns", "expect_table_columns_to_match_ordered_list",
                "The view has exactly these columns, in this order (the table's columns, then the computed ones).",
                column_list=spec.columns),
    ]  # fmt: skip
    for field in spec.table_fields:
        if field.type in TYPE_NAMES:
            out.append(
                _expect(f"{name}.{field.name}.type", "expect_column_values_to_be_in_type_list",
                        f"{field.name} is {field.type}.", column=field.name, type_list=TYPE_NAMES[field.type])
            )  # fmt: skip
    for field in spec.table_fields:
        if not field.nullable:
            out.append(
                _expect(f"{name}.{field.name}.not_null", "expect_column_values_to_not_be_null",
                        f"Every row has {field.name}.", column=field.name)
            )  # fmt: skip
    return out


def _content_checks(name: str, schema: AnnotationSchema) -> list[dict]:
    in_docs = _true(f"{name}.doc_id.in_documents", "doc_in_documents", "The doc_id is a document of the release.")
    if name == "documents":
        return [
            _unique("documents.doc_id.unique", ["doc_id"], "No two documents share a doc_id."),
            _expect("documents.doc_id.pattern", "expect_column_values_to_match_regex",
                    "The doc_id is a valid file name stem.", column="doc_id", regex=whole(DOC_ID_PATTERN.pattern)),
            _expect("documents.text.not_empty", "expect_column_value_lengths_to_be_between",
                    "The text is not empty.", column="text", min_value=1),
            _true("documents.text_sha256.matches_text", "text_sha256_matches_text",
                  "text_sha256 is the SHA-256 of the UTF-8 text."),
            _expect("documents.published.in_range", "expect_column_values_to_be_between",
                    f"published is a real date, from {PARAMETERS['published_min']}, not after the day of validation.",
                    column="published", min_value={"$PARAMETER": "published_min"},
                    max_value={"$PARAMETER": "today"}),
            _in_set("documents.published_precision.in_set", "published_precision", PUBLISHED_PRECISIONS,
                    "published_precision is day, month or year."),
            _true("documents.published.matches_precision", "published_matches_precision",
                  "A month or year date is the first day of its period."),
            _in_set("documents.language.in_schema", "language", [schema.language],
                    "The language is the schema's language."),
            _expect("documents.guideline_version.pattern", "expect_column_values_to_match_regex",
                    "guideline_version is a version X.Y.Z.", column="guideline_version", regex=VERSION_REGEX),
            *(
                check
                for layer in LAYERS
                for check in (
                    _expect(f"documents.{layer}.count_matches_flat", "expect_column_pair_values_to_be_equal",
                            f"The document has as many nested {layer} as the {layer} config has rows for it.",
                            column_A=f"{layer}_count", column_B=f"{layer}_in_flat",
                            ignore_row_if="either_value_is_missing"),
                    _true(f"documents.{layer}.match_flat", f"{layer}_match_flat",
                          f"The nested {layer} equal the {layer} config's rows for the document."),
                )
            ),
        ]  # fmt: skip
    if name == "entities":
        return [
            _unique("entities.id.unique", ["doc_id", "id"], "No two mentions of a document share an id."),
            in_docs,
            *_span("entities", "", "The mention", "span_matches_text", "span"),
            _in_set("entities.type.in_schema", "type", schema.entity_types,
                    "The type is an entity type of the schema."),
            _in_set("entities.mention_type.in_schema", "mention_type", schema.mention_types,
                    "The mention type is one of the schema's."),
            _true("entities.cluster_id.in_document", "cluster_id_in_document",
                  "cluster_id is a mention of the same document."),
            _true("entities.cluster_id.is_chain_head", "cluster_id_is_chain_head",
                  "cluster_id names the chain's head, a mention whose cluster_id is its own id."),
        ]  # fmt: skip
    if name == "events":
        return [
            _unique("events.id.unique", ["doc_id", "id"], "No two events of a document share an id."),
            in_docs,
            *_span("events", "trigger_", "The trigger", "trigger_matches_text", "trigger"),
            _in_set("events.type.in_schema", "type", schema.event_types, "The type is an event type of the schema."),
            _in_set("events.realis.in_schema", "realis", schema.realis, "The realis is one of the schema's."),
        ]  # fmt: skip
    if name == "event_arguments":
        pairs = [f"{event}{ROLE_SEPARATOR}{role}" for event, spec in schema.event_types.items() for role in spec.roles]
        return [
            _unique("event_arguments.argument.unique", ["doc_id", "event_id", "role", "entity_id"],
                    "An event names each (role, mention) once."),
            _in_set("event_arguments.role.in_schema", "role", schema.roles, "The role is a role of the schema."),
            _in_set("event_arguments.role.allowed_for_event_type", "event_type_role", pairs,
                    "The role is allowed for the event's type (event_type_role is type:role)."),
            _true("event_arguments.entity_id.in_document", "entity_id_in_document",
                  "entity_id is a mention of the same document."),
        ]  # fmt: skip
    if name == "quotes":
        return [
            _unique("quotes.id.unique", ["doc_id", "id"], "No two quotes of a document share an id."),
            in_docs,
            *_span("quotes", "", "The quote", "span_matches_text", "span"),
            *_span("quotes", "cue_", "The cue", "cue_matches_text", "cue"),
            _in_set("quotes.kind.in_schema", "kind", schema.quote_kinds, "The kind is a quote kind of the schema."),
            _true("quotes.speaker_id.in_document", "speaker_id_in_document",
                  "speaker_id is a mention of the same document."),
            _true("quotes.speaker.names_chain", "speaker_names_chain",
                  "speaker is the text of the head of the speaker mention's chain (null without speaker_id)."),
        ]  # fmt: skip
    if name == QUALITY_SUITE:
        return [_rule(rule) for rule in quality.RULES]
    if name in DERIVED_SUITES:
        return content_checks(name, schema)
    return [
        _true("manifest.files.listed", "listed", "Every file of the release is listed in manifest.json."),
        _true("manifest.files.present", "present", "Every file that manifest.json lists (and every config) exists."),
        _true("manifest.files.sha256_matches", "sha256_matches", "The file's SHA-256 is the one in manifest.json."),
        _true("manifest.files.bytes_match", "bytes_match", "The file's size is the one in manifest.json."),
        _true("manifest.files.rows_match", "rows_match", "The Parquet file has the rows manifest.json records."),
    ]


def suite(name: str, schema: AnnotationSchema) -> dict:
    spec = view_specs(schema)[name]
    return {
        "name": name,
        "id": None,
        "expectations": [*_table_checks(name, schema), *_content_checks(name, schema)],
        "meta": {
            "schema_version": schema.schema_version,
            "id_columns": list(spec.id_columns),
            "parameters": PARAMETERS if name == "documents" else {},
            # Findings are for annotators to fix one by one: more samples, counted among the rows a rule applies to.
            **({"samples": quality.SAMPLES, "count_applicable": True} if name == QUALITY_SUITE else {}),
        },
        "notes": None,
    }


def validation_definition(name: str) -> dict:
    bundle = {"id": None}
    return {
        "data": {
            "asset": {**bundle, "name": name},
            "batch_definition": {**bundle, "name": BATCH_DEFINITION_NAME},
            "datasource": {**bundle, "name": DATASOURCE_NAME},
        },
        "id": None,
        "name": name,
        "suite": {**bundle, "name": name},
    }


def checkpoint() -> dict:
    return {
        "actions": [],
        "id": None,
        "name": CHECKPOINT_NAME,
        "result_format": RESULT_FORMAT,
        "validation_definitions": [{"id": None, "name": name} for name in ALL_SUITES],
    }


def validation_files(schema: AnnotationSchema) -> dict[str, str]:
    """Every file of validation/, by path relative to the project root."""
    files = {suite_path(name): _dump(suite(name, schema), sort_keys=False) for name in ALL_SUITES}
    files |= {definition_path(name): _dump(validation_definition(name), sort_keys=True) for name in ALL_SUITES}
    files[CHECKPOINT_PATH] = _dump(checkpoint(), sort_keys=True)
    return files


def _dump(data: dict, *, sort_keys: bool) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n"


def derived_files(project: Project) -> dict[Path, str]:
    """Every file derived from schemas/annotation.yaml, with the text it must hold."""
    schema = project.schema
    snapshot = arrow_snapshot(schema)  # every config of the current release format
    derived = {project.label_config_path: schema.label_config(), project.arrow_snapshot_path: snapshot}
    derived |= {project.root / path: text for path, text in validation_files(schema).items()}
    return derived


def stale_files(project: Project) -> tuple[list[Path], list[Path]]:
    """(derived files missing or different from a fresh derivation, files in validation/ that are derived no more)."""
    derived = derived_files(project)
    stale = [p for p, text in derived.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    folder = project.root / VALIDATION_DIR
    extra = sorted(p for p in folder.rglob("*.json") if p not in derived) if folder.is_dir() else []
    return stale, extra
