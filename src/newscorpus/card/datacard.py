"""DATACARD.md read: its front matter, its hand-written body, the sections other files are made of.

A leaf of the card stage (it imports only `errors` and `files`): croissant.json, the release's
README and LICENSE.md, and the manifest's entry for DATACARD.md all read the card through it.
The generated blocks sit between `<!-- BEGIN GENERATED: name -->` and `<!-- END GENERATED: name -->`.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from newscorpus.errors import CardError
from newscorpus.files import bytes_sha256

MARKER = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)", re.DOTALL
)
FRONT_MATTER = re.compile(r"\A---\n(?P<yaml>.*?\n)---\n", re.DOTALL)
# Keys the build derives from the schema and the tables; the card must not set them by hand.
GENERATED_KEYS = ("language", "size_categories", "configs", "dataset_info", "version")
REQUIRED_KEYS = ("pretty_name", "license", "task_categories", "annotations_creators", "language_creators")
LICENSE_FILE = "LICENSE.md"


def split_card(text: str, name: str = "DATACARD.md") -> tuple[dict, str]:
    """The card's hand-set metadata and its Markdown body."""
    match = FRONT_MATTER.match(text)
    if not match:
        raise CardError(f"{name}: no YAML front matter; start the file with '---', the metadata, and '---'")
    try:
        metadata = yaml.safe_load(match["yaml"]) or {}
    except yaml.YAMLError as exc:
        raise CardError(f"{name}: the front matter is not valid YAML: {exc}") from None
    if not isinstance(metadata, dict):
        raise CardError(f"{name}: the front matter must be a mapping")
    problems = [
        f"sets '{k}', which the build derives from the data; remove it" for k in GENERATED_KEYS if k in metadata
    ]
    problems += [f"lacks '{k}'" for k in REQUIRED_KEYS if not metadata.get(k)]
    if metadata.get("license") == "other" and not metadata.get("license_name"):
        problems.append("has license 'other' without 'license_name'")
    if problems:
        raise CardError(f"{name}: the front matter " + "; ".join(problems))
    return metadata, text[match.end() :]


def hand_written(text: str) -> str:
    """The card with its generated blocks emptied: what a person wrote, and what a release depends on."""
    return MARKER.sub(lambda m: m.group(1) + m.group(4), text)


def input_entry(path: Path, name: str) -> dict:
    """The manifest entry of DATACARD.md. Its generated blocks are left out: `newscorpus card` rewrites them
    after every release, and the release's README fills them itself, so they are not an input."""
    data = hand_written(path.read_text(encoding="utf-8")).encode("utf-8")
    return {
        "path": name,
        "sha256": bytes_sha256(data),
        "bytes": len(data),
        "hashed": "without the contents of its generated blocks",
    }


def license_text(datacard: str) -> str:
    """LICENSE.md of a release (the Hub's `license_link`): the card's Licensing section."""
    _, body = split_card(datacard)
    match = re.search(r"^## Licensing\n(?P<text>.*?)(?=^## |\Z)", body, re.DOTALL | re.MULTILINE)
    if not match:
        raise CardError("DATACARD.md: no '## Licensing' section; the release's LICENSE.md is taken from it")
    return "# Licensing\n" + match["text"].rstrip() + "\n"


def summary(datacard: str) -> str:
    """The card's opening paragraph (under its title), as one line: the dataset's description."""
    _, body = split_card(datacard)
    match = re.search(r"^# .*?\n\n(?P<text>.+?)(?:\n\n|\Z)", body, re.DOTALL | re.MULTILINE)
    if not match:
        raise CardError("DATACARD.md: no paragraph under the '# ' title; it is the dataset's description")
    return " ".join(match["text"].split())


def citation(datacard: str) -> str | None:
    """The card's BibTeX entry, if it has one."""
    match = re.search(r"^```bibtex\n(?P<entry>.*?)^```", datacard, re.DOTALL | re.MULTILINE)
    return match["entry"].strip() if match else None
