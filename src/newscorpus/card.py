"""DATACARD.md -> a release's README.md (Hub YAML header + the card with its generated blocks filled).

DATACARD.md has a YAML front matter with the metadata people decide (license,
tasks, tags) and a Markdown body with generated blocks between markers. The
build adds the metadata that follows from the data (language, size, configs,
features) and fills the blocks for the release it writes; `newscorpus card`
fills the blocks in DATACARD.md itself from the committed releases.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from newscorpus.card_blocks import BLOCKS, Snapshot, read_snapshot, render_blocks
from newscorpus.errors import SchemaError
from newscorpus.schema import CONFIGS, AnnotationSchema
from newscorpus.shards import config_pattern

MARKER = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)", re.DOTALL
)
FRONT_MATTER = re.compile(r"\A---\n(?P<yaml>.*?\n)---\n", re.DOTALL)
# Keys the build derives from the schema and the tables; the card must not set them by hand.
GENERATED_KEYS = ("language", "size_categories", "configs", "dataset_info", "version")
REQUIRED_KEYS = ("pretty_name", "license", "task_categories", "annotations_creators", "language_creators")
LICENSE_FILE = "LICENSE.md"


def size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"


def split_card(text: str, name: str = "DATACARD.md") -> tuple[dict, str]:
    """The card's hand-set metadata and its Markdown body."""
    match = FRONT_MATTER.match(text)
    if not match:
        raise SchemaError(f"{name}: no YAML front matter; start the file with '---', the metadata, and '---'")
    try:
        metadata = yaml.safe_load(match["yaml"]) or {}
    except yaml.YAMLError as exc:
        raise SchemaError(f"{name}: the front matter is not valid YAML: {exc}") from None
    if not isinstance(metadata, dict):
        raise SchemaError(f"{name}: the front matter must be a mapping")
    problems = [
        f"sets '{k}', which the build derives from the data; remove it" for k in GENERATED_KEYS if k in metadata
    ]
    problems += [f"lacks '{k}'" for k in REQUIRED_KEYS if not metadata.get(k)]
    if metadata.get("license") == "other" and not metadata.get("license_name"):
        problems.append("has license 'other' without 'license_name'")
    if problems:
        raise SchemaError(f"{name}: the front matter " + "; ".join(problems))
    return metadata, text[match.end() :]


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
        raise SchemaError(
            f"{name}: no generated block {missing[0]!r}; add the lines"
            f" '<!-- BEGIN GENERATED: {missing[0]} -->' and '<!-- END GENERATED: {missing[0]} -->'"
        )
    unknown = sorted(set(found) - set(generated))
    if unknown:
        raise SchemaError(f"{name}: unknown generated block {unknown[0]!r}; the blocks are {', '.join(BLOCKS)}")
    return MARKER.sub(lambda m: m.group(1) + generated[m["name"]] + m.group(4), body)


def hand_written(text: str) -> str:
    """The card with its generated blocks emptied: what a person wrote, and what a release depends on."""
    return MARKER.sub(lambda m: m.group(1) + m.group(4), text)


def input_entry(path: Path, name: str) -> dict:
    """The manifest entry of DATACARD.md. Its generated blocks are left out: `newscorpus card` rewrites them
    after every release, and the release's README fills them itself, so they are not an input."""
    data = hand_written(path.read_text(encoding="utf-8")).encode("utf-8")
    return {
        "path": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "hashed": "without the contents of its generated blocks",
    }


def release_readme(schema: AnnotationSchema, release: Snapshot, datacard: str, earlier: list[Snapshot]) -> str:
    """The release's README.md: the card, its blocks filled for this release and the ones before it."""
    metadata, body = split_card(datacard)
    rows = {config: release.rows(config) for config in CONFIGS}
    snapshots = [*earlier, release]
    return front_matter(schema, rows, release.version, metadata) + render(body, render_blocks(schema, snapshots))


def license_text(datacard: str) -> str:
    """LICENSE.md of a release (the Hub's `license_link`): the card's Licensing section."""
    _, body = split_card(datacard)
    match = re.search(r"^## Licensing\n(?P<text>.*?)(?=^## |\Z)", body, re.DOTALL | re.MULTILINE)
    if not match:
        raise SchemaError("DATACARD.md: no '## Licensing' section; the release's LICENSE.md is taken from it")
    return "# Licensing\n" + match["text"].rstrip() + "\n"


def summary(datacard: str) -> str:
    """The card's opening paragraph (under its title), as one line: the dataset's description."""
    _, body = split_card(datacard)
    match = re.search(r"^# .*?\n\n(?P<text>.+?)(?:\n\n|\Z)", body, re.DOTALL | re.MULTILINE)
    if not match:
        raise SchemaError("DATACARD.md: no paragraph under the '# ' title; it is the dataset's description")
    return " ".join(match["text"].split())


def citation(datacard: str) -> str | None:
    """The card's BibTeX entry, if it has one."""
    match = re.search(r"^```bibtex\n(?P<entry>.*?)^```", datacard, re.DOTALL | re.MULTILINE)
    return match["entry"].strip() if match else None


def committed_snapshots(corpus_dir: Path, below: str | None = None) -> list[Snapshot]:
    """The releases in `corpus_dir`, oldest first; with `below`, only the versions before it."""
    from newscorpus.build import release_versions

    versions = release_versions(corpus_dir)
    if below is not None:
        limit = _key(below)
        versions = [v for v in versions if _key(v) < limit]
    return [read_snapshot(corpus_dir / f"v{v}") for v in versions]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def refreshed_datacard(datacard: str, schema: AnnotationSchema, corpus_dir: Path) -> str:
    """DATACARD.md with its generated blocks filled from the committed releases (its front matter kept)."""
    match = FRONT_MATTER.match(datacard)
    split_card(datacard)  # checks the front matter
    head, body = datacard[: match.end()], datacard[match.end() :]
    return head + render(body, render_blocks(schema, committed_snapshots(corpus_dir)))
