"""DATACARD.md -> a release's README.md: Hub YAML header plus the card with its generated sections filled."""

from __future__ import annotations

import re
from collections import Counter

import pyarrow as pa
import yaml

from newscorpus.errors import SchemaError
from newscorpus.schema import CONFIGS, AnnotationSchema

MARKER = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)", re.DOTALL
)


def size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"


def front_matter(
    schema: AnnotationSchema, tables: dict[str, pa.Table], data_files: dict[str, str], version: str
) -> str:
    """The YAML header the Hub and `datasets` read: configs, features, license, tasks."""
    from datasets import DatasetInfo, SplitDict, SplitInfo

    infos = []
    for config in CONFIGS:
        splits = SplitDict()
        splits.add(SplitInfo(name="train", num_examples=tables[config].num_rows))
        info = DatasetInfo(features=schema.features()[config], splits=splits)
        infos.append({"config_name": config, **info._to_yaml_dict()})
    header = {
        "pretty_name": "newscorpus",
        "language": [schema.language],
        # Annotations are CC-BY-4.0; the article texts keep their publishers' copyright (see the card).
        "license": "other",
        "license_name": "cc-by-4.0-annotations-publisher-copyright-text",
        "task_categories": ["token-classification"],
        "task_ids": ["named-entity-recognition"],
        "size_categories": [size_category(tables["documents"].num_rows)],
        "tags": ["news", "event-extraction", "quote-attribution", "coreference", "label-studio"],
        "version": version,
        "configs": [
            {
                "config_name": config,
                "data_files": [{"split": "train", "path": data_files[config]}],
                **({"default": True} if config == "documents" else {}),
            }
            for config in CONFIGS
        ],
        "dataset_info": infos,
    }
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000) + "---\n"


def statistics(schema: AnnotationSchema, tables: dict[str, pa.Table], version: str) -> str:
    """The per-release figures that go between the statistics markers."""
    docs = tables["documents"]
    lines = [f"Release `v{version}` (schema {schema.schema_version}, guidelines {schema.guideline_version}).", ""]
    lines += ["| config | rows |", "|---|---:|"]
    lines += [f"| `{config}` | {tables[config].num_rows} |" for config in CONFIGS]
    published = docs.column("published").to_pylist()
    if published:
        lines += [
            "",
            f"Articles published {min(published).isoformat()} to {max(published).isoformat()};"
            f" {sum(len(t) for t in docs.column('text').to_pylist())} characters of text.",
        ]
    for title, config, column, labels in (
        ("Entity mentions by type", "entities", "type", schema.entity_types),
        ("Entity mentions by mention type", "entities", "mention_type", schema.mention_types),
        ("Events by type", "events", "type", schema.event_types),
        ("Quotes by kind", "quotes", "kind", schema.quote_kinds),
    ):
        counts = Counter(tables[config].column(column).to_pylist())
        lines += ["", f"{title}:", "", "| label | count |", "|---|---:|"]
        lines += [f"| {label} | {counts.get(label, 0)} |" for label in labels]
    return "\n".join(lines) + "\n"


def render(datacard: str, generated: dict[str, str]) -> str:
    """Fill every generated block of the card; a block the card lacks is an error."""
    found = {m["name"] for m in MARKER.finditer(datacard)}
    missing = sorted(set(generated) - found)
    if missing:
        raise SchemaError(
            f"DATACARD.md: no generated block {missing[0]!r}; add the lines"
            f" '<!-- BEGIN GENERATED: {missing[0]} -->' and '<!-- END GENERATED: {missing[0]} -->'"
        )
    return MARKER.sub(lambda m: m.group(1) + generated.get(m["name"], m["body"]) + m.group(4), datacard)
