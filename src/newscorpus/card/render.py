"""DATACARD.md -> a release's README.md (Hub YAML header + the card with its generated blocks filled).

DATACARD.md has a YAML front matter with the metadata people decide (license,
tasks, tags) and a Markdown body with generated blocks between markers. The
build adds the metadata that follows from the data (language, size, configs,
features) and fills the blocks for the release it writes; `newscorpus card`
fills the blocks in DATACARD.md itself from the committed releases.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import yaml

from newscorpus.card.blocks import BLOCKS, Snapshot, read_snapshot, render_blocks
from newscorpus.card.datacard import FRONT_MATTER, LICENSE_FILE, MARKER, split_card
from newscorpus.card.figures import FIGURE_DIR, figures_block
from newscorpus.card.usage import FIRST_FORMAT_WITH_USAGE, USAGE_BLOCKS, quickstart, rights, with_citation
from newscorpus.errors import CardError
from newscorpus.release import formats
from newscorpus.release.manifest import read_manifest, release_versions, version_key
from newscorpus.release.manifest import release_format as format_of
from newscorpus.release.shards import config_pattern, data_files
from newscorpus.schema import AnnotationSchema


def size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"


def front_matter(
    schema: AnnotationSchema,
    rows: dict[str, int],
    version: str,
    metadata: dict,
    sizes: dict | None = None,
    release_format: int = 1,
) -> str:
    """The YAML header the Hub and `datasets` read: the card's metadata plus configs and features.

    Each config's data files are a pattern (`<config>/train-*.parquet`), so a release cut
    into several shards loads whole. With `sizes` (config -> (num_bytes, download_size), format 2
    on) `dataset_info` carries the real sizes of the files instead of 0.
    """
    from datasets import DatasetInfo, SplitDict, SplitInfo

    infos = []
    features = formats.features(schema, release_format)
    for config in formats.configs(release_format):
        splits = SplitDict()
        num_bytes, download_size = (sizes or {}).get(config, (0, None))
        splits.add(SplitInfo(name="train", num_bytes=num_bytes, num_examples=rows[config]))
        info = DatasetInfo(features=features[config], splits=splits)
        if sizes is not None:
            info.download_size, info.dataset_size = download_size, num_bytes
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
            for config in formats.configs(release_format)
        ],
        "dataset_info": infos,
    }
    if header.get("license") == "other" and "license_link" not in header:
        header["license_link"] = LICENSE_FILE
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000) + "---\n"


def render(body: str, generated: dict[str, str], name: str = "DATACARD.md", required: tuple[str, ...] = BLOCKS) -> str:
    """Fill every generated block of the card; a missing required block or an unknown block is an error."""
    found = [m["name"] for m in MARKER.finditer(body)]
    missing = [b for b in required if b not in found]
    if missing:
        raise CardError(
            f"{name}: no generated block {missing[0]!r}; add the lines"
            f" '<!-- BEGIN GENERATED: {missing[0]} -->' and '<!-- END GENERATED: {missing[0]} -->'"
        )
    unknown = sorted(set(found) - set(generated))
    if unknown:
        raise CardError(f"{name}: unknown generated block {unknown[0]!r}; the blocks are {', '.join(generated)}")
    return MARKER.sub(lambda m: m.group(1) + generated[m["name"]] + m.group(4), body)


def release_readme(
    schema: AnnotationSchema, release: Snapshot, datacard: str, earlier: list[Snapshot], release_format: int = 1
) -> str:
    """The release's README.md: the card, its blocks filled for this release and the ones before it.

    From format 2 on the card also has the quick start, figures and rights blocks, a citation with
    the version and the real sizes of the files; a format-1 release is rendered as it always was.
    """
    metadata, body = split_card(datacard)
    rows = {config: release.rows(config) for config in formats.configs(release_format)}
    snapshots = [*earlier, release]
    blocks = render_blocks(schema, snapshots, release_format) | usage_blocks(release, release_format)
    if release_format < FIRST_FORMAT_WITH_USAGE:
        return front_matter(schema, rows, release.version, metadata) + render(body, blocks)
    sizes = {config: file_sizes(release, config) for config in rows}
    text = render(body, blocks, required=(*BLOCKS, *USAGE_BLOCKS))
    return front_matter(schema, rows, release.version, metadata, sizes, release_format) + with_citation(
        text, release.version
    )


def usage_blocks(release: Snapshot | None, release_format: int, folder: str = "") -> dict[str, str]:
    """The quick start, figures and rights blocks for `release` (its figures seen from `folder`)."""
    return {
        "quickstart": quickstart(release.version) if release else "No release has been built yet.\n",
        "figures": figures_block(release, release_format, folder),
        "rights": rights(release),
    }


def file_sizes(release: Snapshot, config: str) -> tuple[int, int]:
    """(bytes of the data uncompressed, as the Parquet footers record them; bytes of the files) of one config."""
    if release.path is None:  # tables in memory: their Arrow size, nothing on disk
        return release.tables[config].nbytes, 0
    files = [release.path / name for name in data_files(release.path, config)]
    uncompressed = sum(
        meta.row_group(i).total_byte_size for meta in (pq.ParquetFile(f).metadata for f in files)
        for i in range(meta.num_row_groups)
    )  # fmt: skip
    return uncompressed, sum(f.stat().st_size for f in files)


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
    snapshots = committed_snapshots(corpus_dir)
    newest = snapshots[-1] if snapshots else None
    # The figures shown are the newest release's, where it has them (format 2 on).
    drawn = newest is not None and (newest.path / FIGURE_DIR).is_dir()
    usage = usage_blocks(
        newest, FIRST_FORMAT_WITH_USAGE if drawn else 1, f"{corpus_dir.name}/v{newest.version}/" if newest else ""
    )
    newest_format = format_of(read_manifest(newest.path)) if newest is not None else 1
    return head + render(body, render_blocks(schema, snapshots, newest_format) | usage)
