"""DATACARD.md -> a release's README.md (Hub YAML header + the card with its generated blocks filled).

DATACARD.md has a YAML front matter with the metadata people decide (license,
tasks, tags) and a Markdown body with generated blocks between markers. The
build adds the metadata that follows from the data (language, size, configs,
features) and fills the blocks for the release it writes; `newscorpus card`
fills the blocks in DATACARD.md itself from the committed releases.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from newscorpus.card.blocks import BLOCKS, Snapshot, read_snapshot, render_blocks
from newscorpus.card.datacard import FRONT_MATTER, LICENSE_FILE, MARKER, split_card
from newscorpus.errors import CardError
from newscorpus.release.manifest import release_versions, version_key
from newscorpus.release.shards import config_pattern
from newscorpus.schema import CONFIGS, AnnotationSchema


def size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"


def front_matter(schema: AnnotationSchema, rows: dict[str, int], version: str, metadata: dict) -> str:
    """The YAML header the Hub and `datasets` read: the card's metadata plus configs and features.

    Each config's data files are a pattern (`<config>/train-*.parquet`), so a release cut
    into several shards loads whole.
    """
    from datasets import DatasetInfo, SplitDict, SplitInfo

    infos = []
    for config in CONFIGS:
        splits = SplitDict()
        splits.add(SplitInfo(name="train", num_examples=rows[config]))
        info = DatasetInfo(features=schema.features()[config], splits=splits)
        infos.append({"config_name": config, **info._to_yaml_dict()})
    header = {
        "pretty_name": metadata["pretty_name"],
        "language": [schema.language],
        **{k: v for k, v in metadata.items() if k != "pretty_name"},
        "size_categories": [size_category(rows["documents"])],
        "version": version,
        "configs": [
            {
                "config_name": config,
                "data_files": [{"split": "train", "path": config_pattern(config)}],
                **({"default": True} if config == "documents" else {}),
            }
            for config in CONFIGS
        ],
        "dataset_info": infos,
    }
    if header.get("license") == "other" and "license_link" not in header:
        header["license_link"] = LICENSE_FILE
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000) + "---\n"


def render(body: str, generated: dict[str, str], name: str = "DATACARD.md") -> str:
    """Fill every generated block of the card; a missing or unknown block is an error."""
    found = [m["name"] for m in MARKER.finditer(body)]
    missing = [b for b in generated if b not in found]
    if missing:
        raise CardError(
            f"{name}: no generated block {missing[0]!r}; add the lines"
            f" '<!-- BEGIN GENERATED: {missing[0]} -->' and '<!-- END GENERATED: {missing[0]} -->'"
        )
    unknown = sorted(set(found) - set(generated))
    if unknown:
        raise CardError(f"{name}: unknown generated block {unknown[0]!r}; the blocks are {', '.join(BLOCKS)}")
    return MARKER.sub(lambda m: m.group(1) + generated[m["name"]] + m.group(4), body)


def release_readme(schema: AnnotationSchema, release: Snapshot, datacard: str, earlier: list[Snapshot]) -> str:
    """The release's README.md: the card, its blocks filled for this release and the ones before it."""
    metadata, body = split_card(datacard)
    rows = {config: release.rows(config) for config in CONFIGS}
    snapshots = [*earlier, release]
    return front_matter(schema, rows, release.version, metadata) + render(body, render_blocks(schema, snapshots))


def committed_snapshots(corpus_dir: Path, below: str | None = None) -> list[Snapshot]:
    """The releases in `corpus_dir`, oldest first; with `below`, only the versions before it."""
    versions = release_versions(corpus_dir)
    if below is not None:
        limit = version_key(below)
        versions = [v for v in versions if version_key(v) < limit]
    return [read_snapshot(corpus_dir / f"v{v}") for v in versions]


def refreshed_datacard(datacard: str, schema: AnnotationSchema, corpus_dir: Path) -> str:
    """DATACARD.md with its generated blocks filled from the committed releases (its front matter kept)."""
    match = FRONT_MATTER.match(datacard)
    split_card(datacard)  # checks the front matter
    head, body = datacard[: match.end()], datacard[match.end() :]
    return head + render(body, render_blocks(schema, committed_snapshots(corpus_dir)))
