"""Annotation-level differences between two releases.

Documents are matched by `doc_id`. Within a document, the records of each layer
are matched by id first (Label Studio keeps a region's id when it is edited) and
by span second (a region deleted and drawn again gets a new id but the same
span). References between records (argument and speaker entity ids, cluster
ids) are compared through that matching, so a renamed id is not a change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from newscorpus.errors import ReleaseError
from newscorpus.release.shards import SHARD_PATTERN, data_files, iter_batches

LAYERS = ("entities", "events", "quotes", "speaker_links")
ACTIONS = ("added", "removed", "changed")
LAYER_NAMES = {"entities": "entity", "events": "event", "quotes": "quote", "speaker_links": "speaker link"}
LAYER_TITLES = {"entities": "entities", "events": "events", "quotes": "quotes", "speaker_links": "speaker links"}
DOCUMENT_FIELDS = ("published", "published_precision", "language", "source_file", "guideline_version")


@dataclass(frozen=True)
class Change:
    """One record added, removed or changed; `aspects` says what changed."""

    doc_id: str
    layer: str
    action: str
    id: str
    old_id: str | None = None
    aspects: tuple[str, ...] = ()
    before: dict | None = None
    after: dict | None = None


@dataclass(frozen=True)
class DocumentChange:
    doc_id: str
    status: str  # added / removed / changed
    text_changed: bool = False
    fields_changed: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)  # records per layer, for added / removed documents


@dataclass(frozen=True)
class ReleaseDiff:
    old_version: str | None
    new_version: str
    documents: tuple[DocumentChange, ...]
    changes: tuple[Change, ...]

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Records added / removed / changed per layer, over all documents (added documents included)."""
        totals = {layer: dict.fromkeys(ACTIONS, 0) for layer in LAYERS}
        for change in self.changes:
            totals[change.layer][change.action] += 1
        for document in self.documents:
            if document.status in ("added", "removed"):
                for layer, count in document.counts.items():
                    totals[layer][document.status] += count
        return totals

    def documents_with(self, status: str) -> list[str]:
        return [d.doc_id for d in self.documents if d.status == status]

    @property
    def text_changed(self) -> list[str]:
        return [d.doc_id for d in self.documents if d.text_changed]

    def is_empty(self) -> bool:
        return not self.documents and not self.changes

    def as_dict(self) -> dict:
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "documents": {
                "added": [{"doc_id": d.doc_id, **d.counts} for d in self.documents if d.status == "added"],
                "removed": [{"doc_id": d.doc_id, **d.counts} for d in self.documents if d.status == "removed"],
                "text_changed": self.text_changed,
                "fields_changed": {d.doc_id: list(d.fields_changed) for d in self.documents if d.fields_changed},
                "annotations_changed": sorted({c.doc_id for c in self.changes}),
            },
            "counts": self.counts,
            "changes": [{**asdict(c), "aspects": list(c.aspects)} for c in self.changes],
        }


def read_documents(release: Path) -> tuple[str, dict[str, dict]]:
    """A release's version and its documents by doc_id, from the nested `documents` config (whole, in memory)."""
    _check_release(release)
    rows = (row for batch in iter_batches(release, "documents") for row in batch.to_pylist())
    return release.name.removeprefix("v"), {row["doc_id"]: row for row in rows}


def diff_releases(old: Path | None, new: Path) -> ReleaseDiff:
    """What changed from release `old` (None: nothing, a first release) to release `new`.

    Both releases are read a row group at a time and joined on doc_id, which the build
    writes in order; only a release out of doc_id order is read whole.
    """
    for release in (old, new):
        if release is not None:
            _check_release(release)
    old_version = old.name.removeprefix("v") if old is not None else None
    new_version = new.name.removeprefix("v")
    try:
        old_batches = iter_batches(old, "documents") if old is not None else iter(())
        return diff_streams(old_version, old_batches, new_version, iter_batches(new, "documents"))
    except _OutOfOrder:
        old_docs = read_documents(old)[1] if old is not None else {}
        return diff_documents(old_version, old_docs, new_version, read_documents(new)[1])


def _check_release(release: Path) -> None:
    if not data_files(release, "documents"):
        raise ReleaseError(f"{release.name}: no documents/{SHARD_PATTERN}; is this a release folder (corpus/vX.Y.Z)?")


class _OutOfOrder(Exception):
    """A release whose documents are not in doc_id order cannot be joined as a stream."""


def _stream(batches) -> Iterator[tuple[str, Callable[[], dict], Callable[[], dict]]]:
    """(doc_id, its row as a dict, its record counts) per document, in order; rows are converted only when asked."""
    previous = None
    for batch in batches:
        doc_ids = batch.column("doc_id").to_pylist()
        rows: list = []
        counts = _batch_counts(batch)
        for index, doc_id in enumerate(doc_ids):
            if previous is not None and doc_id <= previous:
                raise _OutOfOrder(doc_id)
            previous = doc_id

            def row(index=index, batch=batch, rows=rows) -> dict:
                if not rows:
                    rows += batch.to_pylist()
                return rows[index]

            yield doc_id, row, (lambda index=index, counts=counts: {k: int(v[index]) for k, v in counts.items()})


def _batch_counts(batch) -> dict[str, np.ndarray]:
    """Records per layer of each document of a batch, and its speaker links, without converting rows."""
    counts = {layer: pc.list_value_length(batch.column(layer)).to_numpy() for layer in ("entities", "events", "quotes")}
    quotes = batch.column("quotes")
    linked = pc.is_valid(pc.struct_field(pc.list_flatten(quotes), "speaker_id")).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(quotes).to_numpy()
    counts["speaker_links"] = np.bincount(parents[linked], minlength=batch.num_rows)
    return counts


def diff_streams(old_version: str | None, old, new_version: str, new) -> ReleaseDiff:
    """`diff_documents` for two releases given as record batches of `documents`, each in doc_id order."""
    documents: list[DocumentChange] = []
    changes: list[Change] = []
    old_docs, new_docs = _stream(old), _stream(new)
    a, b = next(old_docs, None), next(new_docs, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            documents.append(DocumentChange(a[0], "removed", counts=a[2]()))
            a = next(old_docs, None)
        elif a is None or b[0] < a[0]:
            documents.append(DocumentChange(b[0], "added", counts=b[2]()))
            b = next(new_docs, None)
        else:
            document, found = _compare(b[0], a[1](), b[1]())
            if document is not None:
                documents.append(document)
            changes += found
            a, b = next(old_docs, None), next(new_docs, None)
    return ReleaseDiff(old_version, new_version, tuple(documents), tuple(changes))


def diff_documents(
    old_version: str | None, old_docs: dict[str, dict], new_version: str, new_docs: dict[str, dict]
) -> ReleaseDiff:
    documents: list[DocumentChange] = []
    changes: list[Change] = []
    for doc_id in sorted(old_docs.keys() | new_docs.keys()):
        old, new = old_docs.get(doc_id), new_docs.get(doc_id)
        if old is None or new is None:
            status = "added" if old is None else "removed"
            documents.append(DocumentChange(doc_id, status, counts=_record_counts(new or old)))
            continue
        document, found = _compare(doc_id, old, new)
        if document is not None:
            documents.append(document)
        changes += found
    return ReleaseDiff(old_version, new_version, tuple(documents), tuple(changes))


def _compare(doc_id: str, old: dict, new: dict) -> tuple[DocumentChange | None, list[Change]]:
    if old == new:
        return None, []
    found = diff_document(doc_id, old, new)
    text_changed = old["text_sha256"] != new["text_sha256"]
    fields_changed = tuple(name for name in DOCUMENT_FIELDS if old.get(name) != new.get(name))
    if found or text_changed or fields_changed:
        return DocumentChange(doc_id, "changed", text_changed, fields_changed), found
    return None, found


def _record_counts(doc: dict) -> dict[str, int]:
    counts = {layer: len(doc[layer]) for layer in ("entities", "events", "quotes")}
    counts["speaker_links"] = sum(1 for q in doc["quotes"] if q["speaker_id"] is not None)
    return counts


def _match(old: list[dict], new: list[dict], span) -> list[tuple[dict | None, dict | None]]:
    """Pairs of (old, new) records: by id first, then by span; the rest stand alone."""
    pairs: list[tuple[dict | None, dict | None]] = []
    new_by_id = {r["id"]: r for r in new}
    used: set[str] = set()
    unmatched_old = []
    for record in old:
        partner = new_by_id.get(record["id"])
        if partner is not None and partner["id"] not in used:
            pairs.append((record, partner))
            used.add(partner["id"])
        else:
            unmatched_old.append(record)
    by_span: dict[tuple, list[dict]] = {}
    for record in new:
        if record["id"] not in used:
            by_span.setdefault(span(record), []).append(record)
    for record in unmatched_old:
        candidates = by_span.get(span(record))
        if candidates:
            partner = candidates.pop(0)
            pairs.append((record, partner))
            used.add(partner["id"])
        else:
            pairs.append((record, None))
    pairs += [(None, r) for r in new if r["id"] not in used]
    return pairs


def _entity_span(e: dict) -> tuple:
    return (e["start"], e["end"], e["text"])


def _event_span(e: dict) -> tuple:
    return (e["trigger"]["start"], e["trigger"]["end"], e["trigger"]["text"])


def _quote_span(q: dict) -> tuple:
    return (q["start"], q["end"], q["text"])


def diff_document(doc_id: str, old: dict, new: dict) -> list[Change]:
    """Every record change in one document present in both releases, in layer order, then by position."""
    changes: list[Change] = []
    entity_pairs = _match(old["entities"], new["entities"], _entity_span)
    renamed = {a["id"]: b["id"] for a, b in entity_pairs if a is not None and b is not None}

    def same_entity(old_id: str | None, new_id: str | None) -> bool:
        return (old_id is None and new_id is None) or (old_id is not None and renamed.get(old_id) == new_id)

    def entity_aspects(a: dict, b: dict) -> list[str]:
        aspects = []
        if a["type"] != b["type"]:
            aspects.append("label")
        if _entity_span(a) != _entity_span(b):
            aspects.append("boundary")
        if a["mention_type"] != b["mention_type"]:
            aspects.append("mention_type")
        if not same_entity(a["cluster_id"], b["cluster_id"]):
            aspects.append("cluster")
        return aspects

    def event_aspects(a: dict, b: dict) -> list[str]:
        aspects = []
        if a["type"] != b["type"]:
            aspects.append("label")
        if _event_span(a) != _event_span(b):
            aspects.append("boundary")
        if a["realis"] != b["realis"]:
            aspects.append("realis")
        old_args = Counter((x["role"], renamed.get(x["entity_id"])) for x in a["arguments"])
        if old_args != Counter((x["role"], x["entity_id"]) for x in b["arguments"]):
            aspects.append("arguments")
        return aspects

    def quote_aspects(a: dict, b: dict) -> list[str]:
        aspects = []
        if a["kind"] != b["kind"]:
            aspects.append("label")
        if _quote_span(a) != _quote_span(b):
            aspects.append("boundary")
        if a["cue"] != b["cue"]:
            aspects.append("cue")
        return aspects

    quote_pairs = _match(old["quotes"], new["quotes"], _quote_span)
    layers = (
        ("entities", entity_pairs, entity_aspects),
        ("events", _match(old["events"], new["events"], _event_span), event_aspects),
        ("quotes", quote_pairs, quote_aspects),
    )
    for layer, pairs, aspects_of in layers:
        for a, b in pairs:
            if a is None or b is None:
                record = b if a is None else a
                action = "added" if a is None else "removed"
                changes.append(Change(doc_id, layer, action, record["id"], before=a, after=b))
            elif aspects := aspects_of(a, b):
                old_id = a["id"] if a["id"] != b["id"] else None
                changes.append(Change(doc_id, layer, "changed", b["id"], old_id, tuple(aspects), a, b))
    for a, b in quote_pairs:
        changes += _speaker_link_changes(doc_id, a, b, same_entity)
    return sorted(changes, key=lambda c: (LAYERS.index(c.layer), _position(c), c.id, c.action))


def _speaker_link(quote: dict | None) -> dict | None:
    if quote is None or quote["speaker_id"] is None:
        return None
    return {"quote_id": quote["id"], "speaker_id": quote["speaker_id"], "speaker": quote["speaker"]}


def _speaker_link_changes(doc_id: str, a: dict | None, b: dict | None, same_entity) -> list[Change]:
    """A speaker link is a quote's pointer to its speaker's mention, with the speaker's resolved name."""
    before, after = _speaker_link(a), _speaker_link(b)
    if before is None and after is None:
        return []
    if before is None or after is None:
        link = after or before
        action = "added" if before is None else "removed"
        return [Change(doc_id, "speaker_links", action, link["quote_id"], before=before, after=after)]
    aspects = []
    if not same_entity(before["speaker_id"], after["speaker_id"]):
        aspects.append("speaker")
    if before["speaker"] != after["speaker"]:
        aspects.append("speaker_name")
    if not aspects:
        return []
    old_id = before["quote_id"] if before["quote_id"] != after["quote_id"] else None
    return [Change(doc_id, "speaker_links", "changed", after["quote_id"], old_id, tuple(aspects), before, after)]


def _position(change: Change) -> int:
    record = change.after if change.after is not None else change.before
    if change.layer == "events":
        return record["trigger"]["start"]
    if change.layer == "speaker_links":
        return 0
    return record["start"]
