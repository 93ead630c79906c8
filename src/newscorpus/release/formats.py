"""What each release format holds: its configs and their Arrow schemas (see manifest.CURRENT_FORMAT).

Format 1 is what the first releases hold: `documents`, `entities`, `events`, `quotes`, with
the Arrow schemas `schema.AnnotationSchema.arrow_schemas()` derives. Format 2 adds the
configs derived from the annotation at build time (`tokens`, `chains`, `event_arguments`),
provenance columns at the end of `documents`, and the schema file shipped with the data.
Columns of format 1 keep their types in format 2 (a change of type is a breaking change);
the new configs' `ner_tags` carry `datasets.ClassLabel` names taken from the schema.
"""

from __future__ import annotations

import json

import pyarrow as pa

from newscorpus.release.manifest import CURRENT_FORMAT, FIRST_FORMAT
from newscorpus.schema import CONFIGS, AnnotationSchema

DERIVED_CONFIGS = ("tokens", "chains", "event_arguments")
FORMAT_CONFIGS = {1: CONFIGS, 2: (*CONFIGS, *DERIVED_CONFIGS)}
SCHEMA_FILE = "schemas/annotation.yaml"  # shipped in a format-2 release under the same path: the label inventory
# documents' provenance columns, each the seed header of the same name; the `language` header is
# `article_language`, since `language` is format 1's column (the schema's language, never null).
PROVENANCE_COLUMNS = ("url", "title", "publisher", "author", "article_language")
ANNOTATORS_COLUMN = "annotators"
# documents' columns added by format 2 (a list column as its `_count` in the views), checked by the `derived`
# suite: the documents suite keeps format 1's.
FORMAT_2_DOCUMENT_COLUMNS = (*PROVENANCE_COLUMNS, ANNOTATORS_COLUMN)
OUTSIDE = "O"


def configs(release_format: int) -> tuple[str, ...]:
    """The configs a release of this format holds, `documents` first."""
    return FORMAT_CONFIGS[release_format]


def ner_tag_names(schema: AnnotationSchema) -> list[str]:
    """The IOB2 tag names, in ClassLabel order: `O`, then `B-<type>`, `I-<type>` for each entity type of the schema."""
    return [OUTSIDE, *(f"{prefix}-{name}" for name in schema.entity_types for prefix in ("B", "I"))]


def arrow_schemas(schema: AnnotationSchema, release_format: int) -> dict[str, pa.Schema]:
    """One Arrow schema per config of the format, with datasets' features in the metadata."""
    if not FIRST_FORMAT <= release_format <= CURRENT_FORMAT:
        raise ValueError(f"release format {release_format} is not one of {FIRST_FORMAT}..{CURRENT_FORMAT}")
    base = schema.arrow_schemas()
    if release_format == 1:
        return base
    version = schema.schema_version
    documents = [*base["documents"], *(pa.field(name, pa.string()) for name in PROVENANCE_COLUMNS)]
    # The annotators' roster codes (annotation/annotators.yaml): stable across Label Studio servers,
    # unlike format 1's annotator_ids, which are kept as they were (removing a column is a major change).
    documents.append(_req(ANNOTATORS_COLUMN, _list(pa.string())))
    tokens = tokens_fields()
    mention = pa.struct(
        [
            _req("id", pa.string()),
            _req("start", pa.int32()),
            _req("end", pa.int32()),
            _req("text", pa.string()),
            _req("mention_type", pa.string()),
        ]
    )
    chains = [
        _req("doc_id", pa.string()),
        _req("cluster_id", pa.string()),
        _req("type", pa.string()),
        _req("canonical_name", pa.string()),
        _req("mentions", _list(mention)),
    ]
    arguments = [
        _req(name, pa.string()) for name in ("doc_id", "event_id", "event_type", "role", "entity_id", "entity_text")
    ]
    arguments += [_req("entity_start", pa.int32()), _req("entity_end", pa.int32())]
    arguments += [_req("cluster_id", pa.string()), _req("canonical_name", pa.string())]
    labels = {"ner_tags": ner_tag_names(schema)}
    extra = {
        "documents": pa.schema(documents),
        "tokens": pa.schema(tokens),
        "chains": pa.schema(chains),
        "event_arguments": pa.schema(arguments),
    }
    out = dict(base)
    out |= {name: _with_features(arrow, version, labels) for name, arrow in extra.items()}
    return {name: out[name] for name in configs(release_format)}


def features(schema: AnnotationSchema, release_format: int) -> dict:
    """datasets.Features per config of the format (ClassLabel where the metadata names one)."""
    from datasets import Features

    return {name: Features.from_arrow_schema(s) for name, s in arrow_schemas(schema, release_format).items()}


def arrow_snapshot(schema: AnnotationSchema) -> str:
    """The committed schemas/arrow_schema.txt: every config of the current format, ClassLabel names included."""
    arrow = arrow_schemas(schema, CURRENT_FORMAT)
    text = schema.arrow_snapshot(arrow)
    names = ", ".join(ner_tag_names(schema))
    return text + f"\n# tokens.ner_tags: ClassLabel names, by id: {names}\n"


def _req(name: str, type_: pa.DataType) -> pa.Field:
    return pa.field(name, type_, nullable=False)


def _list(type_: pa.DataType) -> pa.DataType:
    return pa.list_(pa.field("item", type_, nullable=False))


def _with_features(arrow: pa.Schema, schema_version: str, labels: dict[str, list[str]]) -> pa.Schema:
    # datasets reads this key to restore typed features exactly as declared, ClassLabel names included.
    from datasets import ClassLabel, Features, List

    features = Features.from_arrow_schema(arrow)
    for column, names in labels.items():
        if column in features:
            features[column] = List(ClassLabel(names=names))
    info = {"info": {"features": features.to_dict()}}
    return arrow.with_metadata(
        {"huggingface": json.dumps(info, sort_keys=True), "newscorpus.schema_version": schema_version}
    )


# A sentence's token offsets (`tokens.token_offsets`): code points into the text, end-exclusive.
TOKEN_OFFSETS = _list(pa.struct([_req("start", pa.int32()), _req("end", pa.int32())]))


def tokens_fields() -> list[pa.Field]:
    """The tokens config's columns (the same for every schema; `arrow_schemas` adds the features)."""
    return [
        _req("doc_id", pa.string()),
        _req("sentence_index", pa.int32()),
        _req("sentence_start", pa.int32()),
        _req("sentence_end", pa.int32()),
        _req("tokens", _list(pa.string())),
        _req("token_offsets", TOKEN_OFFSETS),
        # ClassLabel ids, in ClassLabel's own Arrow type: datasets keeps the features of the metadata only
        # for a field equal to the one they make (nullable, nullable items), else it reads plain int64.
        pa.field("ner_tags", pa.list_(pa.int64())),
        _req("misaligned_mentions", pa.int32()),
    ]
