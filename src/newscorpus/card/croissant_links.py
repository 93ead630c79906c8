"""What croissant.json says about a release from format 2 on, beside its files and fields.

- `references`: every id field of a flat record set points at the field it names (an
  entity's `doc_id` at `documents/doc_id`, a quote's `speaker_id` at `entities/id`, ...);
- `datePublished`: the day of the newest Label Studio export the release's annotation comes
  from (its name starts with the UTC time it was pulled), never the clock of the build, so a
  rebuild gives the same file;
- `creator`: the author of the card's citation;
- the description warns where mlcroissant cannot read a nested field.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

FIRST_FORMAT_WITH_LINKS = 2
EXPORT_TIME = re.compile(r"(?:^|/)(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})T\d{6}Z-[^/]*$")
NESTED_WARNING = (
    " Warning: through mlcroissant 1.1.1 the nested `documents` record set is not read correctly: structs and"
    " lists inside its lists (events[].trigger, events[].arguments, quotes[].cue) come back beside the list"
    " instead of inside each item, so events lose their triggers and most of their arguments and quotes"
    " their cues. Read the flat record sets (entities, events, quotes, ...) through Croissant, or read"
    " documents with datasets, pandas or pyarrow."
)


def reference_target(record_set: str, path: tuple[str, ...], record_sets: set[str]) -> str | None:
    """The field an id field points at (`<record set>/<field>`), or None. `path` is the field's names."""
    if record_set == "documents":
        return None  # the nested records point within their own document
    name = path[-1]
    if path == ("doc_id",):
        target = "documents/doc_id"
    elif name in ("speaker_id", "entity_id") or (record_set == "chains" and path == ("mentions", "id")):
        target = "entities/id"
    elif name == "event_id":
        target = "events/id"
    elif name == "cluster_id" and record_set != "chains":
        target = "chains/cluster_id" if "chains" in record_sets else "entities/id"
    else:
        return None
    return target if target.split("/")[0] in record_sets and target.split("/")[0] != record_set else None


def add_references(record_sets: list[dict]) -> None:
    """Set `references` on every id field of the record sets (in place)."""
    names = {record_set["@id"] for record_set in record_sets}

    def walk(record_set: str, fields: list[dict], path: tuple[str, ...]) -> None:
        for field in fields:
            here = (*path, field["name"])
            if "subField" in field:
                walk(record_set, field["subField"], here)
            elif (target := reference_target(record_set, here, names)) is not None:
                field["references"] = {"field": {"@id": target}}

    for record_set in record_sets:
        walk(record_set["@id"], record_set["field"], ())


def date_published(folder: Path, document_files: list[str]) -> str | None:
    """The day (YYYY-MM-DD) of the newest export the release's documents were taken from, if it is named by time."""
    days = set()
    for name in document_files:
        column = pq.read_table(folder / name, columns=["ls_export"]).column("ls_export")
        for export in pc.unique(column).to_pylist():
            if export and (match := EXPORT_TIME.search(export)):
                days.add(f"{match['y']}-{match['m']}-{match['d']}")
    return max(days) if days else None


def creator(citation: str | None, metadata: dict) -> dict:
    """The dataset's creator: the author of the card's BibTeX entry, else the pretty name's maintainers."""
    match = re.search(r"^\s*author\s*=\s*\{(?P<name>.*)\}\s*,?\s*$", citation or "", re.MULTILINE)
    name = match["name"].strip("{} ") if match else f"{metadata['pretty_name']} maintainers"
    return {"@type": "sc:Organization", "name": name}
