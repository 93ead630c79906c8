"""The generated blocks of the dataset card: figures per release, field tables, an example, version history.

Every block is computed from release tables and the schema, never typed by
hand, so the card cannot drift from the data: `newscorpus card --check` and the
tests compare DATACARD.md with a fresh rendering.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newscorpus.release import formats
from newscorpus.release.changelog import summary_line
from newscorpus.release.diff import diff_documents
from newscorpus.release.shards import data_files, iter_batches
from newscorpus.schema import CONFIGS, AnnotationSchema

BLOCKS = ("statistics", "fields", "example", "history")


@dataclass(frozen=True)
class Snapshot:
    """One release: a folder (read a column and a row group at a time) or tables in memory.

    `summary` is the release's one-line change summary when its manifest records it, so the
    version history does not diff every pair of old releases again.
    """

    version: str
    tables: dict[str, pa.Table] | None = None
    path: Path | None = None
    summary: str | None = None

    def chunks(self, config: str, name: str) -> Iterator[pa.Array]:
        """One column, piece by piece: the figures are sums, counts and extremes, so no column is read whole."""
        if self.tables is not None:
            yield from self.tables[config].column(name).chunks
            return
        for batch in iter_batches(self.path, config, [name]):
            yield batch.column(0)

    def rows(self, config: str) -> int:
        if self.tables is not None:
            return self.tables[config].num_rows
        return sum(pq.ParquetFile(self.path / f).metadata.num_rows for f in data_files(self.path, config))

    def schema_metadata(self) -> dict:
        if self.tables is not None:
            return self.tables["documents"].schema.metadata or {}
        return pq.read_schema(self.path / data_files(self.path, "documents")[0]).metadata or {}

    def first_row(self, config: str) -> dict | None:
        if self.tables is not None:
            table = self.tables[config]
            return table.slice(0, 1).to_pylist()[0] if table.num_rows else None
        for batch in iter_batches(self.path, config):
            if batch.num_rows:
                return batch.slice(0, 1).to_pylist()[0]
        return None

    @cached_property
    def documents(self) -> dict[str, dict]:
        """Every document as a dict, for diffs of releases whose manifest has no change summary (whole, in memory)."""
        if self.tables is not None:
            return {row["doc_id"]: row for row in self.tables["documents"].to_pylist()}
        return {row["doc_id"]: row for batch in iter_batches(self.path, "documents") for row in batch.to_pylist()}


def read_snapshot(release: Path) -> Snapshot:
    manifest_path = release / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    summary = (manifest.get("changes") or {}).get("summary")
    return Snapshot(release.name.removeprefix("v"), path=release, summary=summary)


def render_blocks(schema: AnnotationSchema, snapshots: list[Snapshot], release_format: int = 1) -> dict[str, str]:
    """Every generated block for releases `snapshots` (oldest first; the last is the one described, in its format)."""
    return {
        "statistics": statistics(schema, snapshots),
        "fields": fields(schema, release_format),
        "example": example(snapshots[-1] if snapshots else None),
        "history": history(snapshots),
    }


# -- statistics --------------------------------------------------------------


def statistics(schema: AnnotationSchema, snapshots: list[Snapshot]) -> str:
    if not snapshots:
        return "No release has been built yet.\n"
    head = "| | " + " | ".join(f"v{s.version}" for s in snapshots) + " |"
    rule = "|---|" + "---:|" * len(snapshots)

    def row(title: str, values) -> str:
        return f"| {title} | " + " | ".join(str(v) for v in values) + " |"

    lines = ["Figures per release, computed from the release files.", "", head, rule]
    lines += [row(f"rows in `{config}`", [s.rows(config) for s in snapshots]) for config in CONFIGS]
    lines.append(row("quotes with a speaker", [_present(s.chunks("quotes", "speaker_id")) for s in snapshots]))
    lines.append(row("characters of text", [_characters(s.chunks("documents", "text")) for s in snapshots]))
    lines.append(row("articles published", [_date_range(s) for s in snapshots]))
    lines.append(row("schema / guidelines", [_versions(s) for s in snapshots]))
    for title, config, column, labels in (
        ("Entity mentions by type", "entities", "type", schema.entity_types),
        ("Entity mentions by mention type", "entities", "mention_type", schema.mention_types),
        ("Events by type", "events", "type", schema.event_types),
        ("Events by realis", "events", "realis", schema.realis),
        ("Quotes by kind", "quotes", "kind", schema.quote_kinds),
    ):
        counts = [_value_counts(s.chunks(config, column)) for s in snapshots]
        lines += ["", f"{title}:", "", head.replace("| |", "| label |", 1), rule]
        # Labels no longer in the schema still show while an older release holds them.
        names = list(labels) + sorted({k for c in counts for k in c} - set(labels))
        lines += [row(f"`{name}`", [c.get(name, 0) for c in counts]) for name in names]
    return "\n".join(lines) + "\n"


def _present(chunks: Iterator[pa.Array]) -> int:
    return sum(len(chunk) - chunk.null_count for chunk in chunks)


def _characters(chunks: Iterator[pa.Array]) -> int:
    return sum(pc.sum(pc.utf8_length(chunk)).as_py() or 0 for chunk in chunks)


def _value_counts(chunks: Iterator[pa.Array]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for chunk in chunks:
        counts.update({item["values"].as_py(): item["counts"].as_py() for item in pc.value_counts(chunk)})
    return dict(counts)


def _date_range(snapshot: Snapshot) -> str:
    extremes = [pc.min_max(chunk) for chunk in snapshot.chunks("documents", "published") if len(chunk)]
    if not extremes:
        return "-"
    low = min(e["min"].as_py() for e in extremes).isoformat()
    high = max(e["max"].as_py() for e in extremes).isoformat()
    return low if low == high else f"{low} to {high}"


def _versions(snapshot: Snapshot) -> str:
    schema_version = snapshot.schema_metadata().get(b"newscorpus.schema_version", b"?").decode()
    chunks = snapshot.chunks("documents", "guideline_version")
    guidelines = sorted({v for chunk in chunks for v in pc.unique(chunk).to_pylist()})
    return f"{schema_version} / {', '.join(guidelines) or '-'}"


# -- fields ------------------------------------------------------------------

# What each field holds. Keys are <record kind>.<field>; a field added to the
# schema without a line here stops the build (see `fields`).
FIELD_DOCS = {
    "document.doc_id": "article id: the seed file's name without `.txt`",
    "document.published": "publication date; with precision `month` or `year`, the first day of that period",
    "document.published_precision": "how precise `published` is: `day`, `month` or `year`",
    "document.language": "BCP-47 language tag of the text",
    "document.text": "the article body as received, less its date line, outer whitespace and `\\r` line endings",
    "document.text_sha256": "sha256 of `text` encoded as UTF-8",
    "document.source_file": "the raw file in the source repository (`seeds/<doc_id>.txt`)",
    "document.entities": "the article's entity mentions",
    "document.events": "the article's events",
    "document.quotes": "the article's quotes",
    "document.ls_export": "the Label Studio export file the annotation was taken from",
    "document.ls_task_id": "Label Studio task id",
    "document.ls_annotation_id": "Label Studio annotation id (the annotation released)",
    "document.annotator_ids": "Label Studio user ids of the annotators (no names)",
    "document.guideline_version": "version of `annotation/GUIDELINES.md` the annotation follows",
    # Format 2 on.
    "document.url": "the article's address, from its seed's `url` header (null when not recorded)",
    "document.title": "the article's title, from its seed's `title` header (null when not recorded)",
    "document.publisher": "who published the article, from its seed's `publisher` header (null when not recorded)",
    "document.author": "the article's author(s), from its seed's `author` header (null when not recorded)",
    "document.article_language": "the article's language tag, from its seed's `language` header (null when not"
    " recorded)",
    "document.annotators": "pseudonymous codes of the annotators (`A01`, ...; `annotation/annotators.yaml`), the same"
    " on every Label Studio server, unlike `annotator_ids`",
    "token.sentence_index": "the sentence's position in the document, from 0",
    "token.sentence_start": "first code point of the sentence (of its first token) in `text`",
    "token.sentence_end": "end of the sentence (of its last token), exclusive",
    "token.tokens": "the sentence's tokens (syntok, rule-based), each exactly as in `text`",
    "token.token_offsets": "each token's span in `text`",
    "offset.start": "first code point of the token in `text`",
    "offset.end": "end of the token, exclusive",
    "token.ner_tags": "one IOB2 tag per token, a ClassLabel: `O`, `B-<type>`, `I-<type>` of the outermost entity"
    " mentions, {entity_types}",
    "token.misaligned_mentions": "outermost mentions in the sentence with a boundary inside a token (tagged on"
    " every token they overlap)",
    "chain.cluster_id": "the chain's id: its canonical mention's id, as `cluster_id` in `entities`",
    "chain.type": "the chain's entity type, {entity_types}",
    "chain.canonical_name": "the chain's name: its longest NAM mention, else longest NOM, else longest PRO",
    "chain.mentions": "the chain's mentions in text order",
    "chain_mention.id": "mention id (as `id` in `entities`)",
    "chain_mention.start": "first code point of the mention in `text`",
    "chain_mention.end": "end of the mention, exclusive",
    "chain_mention.text": "the mention's text",
    "chain_mention.mention_type": "{mention_types}",
    "argument_row.event_id": "the event's id (as `id` in `events`)",
    "argument_row.event_type": "{event_types}",
    "argument_row.role": "{roles}",
    "argument_row.entity_id": "the argument's entity mention id (as `id` in `entities`)",
    "argument_row.entity_text": "the mention's text",
    "argument_row.entity_start": "first code point of the mention in `text`",
    "argument_row.entity_end": "end of the mention, exclusive",
    "argument_row.cluster_id": "the mention's coreference chain (as `cluster_id` in `entities` and `chains`)",
    "argument_row.canonical_name": "the chain's canonical name",
    "entity.id": "mention id, unique within the document",
    "entity.start": "first code point of the mention in `text`",
    "entity.end": "code point after the mention (end-exclusive)",
    "entity.text": "`text[start:end]`",
    "entity.type": "entity type: {entity_types}",
    "entity.mention_type": "{mention_types}",
    "entity.cluster_id": "coreference chain: the id of the chain's canonical mention (its own id when alone)",
    "event.id": "event id, unique within the document",
    "event.type": "event type: {event_types}",
    "event.realis": "{realis}",
    "event.trigger": "the word(s) that express the event",
    "event.arguments": "participants, each an entity mention in the same document",
    "argument.role": "role of the participant: {roles} (each event type allows some; see the guidelines)",
    "argument.entity_id": "id of the entity mention that fills the role",
    "span.start": "first code point in `text`",
    "span.end": "code point after the span (end-exclusive)",
    "span.text": "`text[start:end]`",
    "quote.id": "quote id, unique within the document",
    "quote.start": "first code point of the quoted speech",
    "quote.end": "code point after the quoted speech (end-exclusive)",
    "quote.text": "`text[start:end]`",
    "quote.kind": "{quote_kinds}",
    "quote.cue": "the speech verb that introduces the quote, or null",
    "quote.speaker_id": "id of the speaker's entity mention, or null",
    "quote.speaker": "canonical name of the speaker's coreference chain, or null",
}

_KIND_OF_FIELD = {"entities": "entity", "events": "event", "quotes": "quote", "trigger": "span", "cue": "span"}
_KIND_OF_FIELD |= {"arguments": "argument", "token_offsets": "offset", "mentions": "chain_mention"}
_KIND_OF_CONFIG = {"documents": "document", "entities": "entity", "events": "event", "quotes": "quote"}
_KIND_OF_CONFIG |= {"tokens": "token", "chains": "chain", "event_arguments": "argument_row"}


def fields(schema: AnnotationSchema, release_format: int = 1) -> str:
    """One table per config of the format: every column (nested ones as `a[].b`), its type and what it holds."""
    values = {
        "entity_types": _one_of(schema.entity_types),
        "mention_types": _one_of(schema.mention_types),
        "event_types": _one_of(schema.event_types),
        "realis": _one_of(schema.realis),
        "quote_kinds": _one_of(schema.quote_kinds),
        "roles": _one_of(schema.roles),
    }
    lines = []
    for config, arrow in formats.arrow_schemas(schema, release_format).items():
        lines += [f"Config `{config}`:", "", "| field | type | description |", "|---|---|---|"]
        for path, kind, field_name, type_name in _walk(arrow, _KIND_OF_CONFIG[config]):
            key = f"{'document' if field_name == 'doc_id' else kind}.{field_name}"
            if key not in FIELD_DOCS:
                raise KeyError(f"blocks.FIELD_DOCS has no description for {key} (field {config}.{path})")
            lines.append(f"| `{path}` | {type_name} | {FIELD_DOCS[key].format(**values)} |")
        lines.append("")
    return "\n".join(lines)


def _one_of(labels) -> str:
    return "one of " + ", ".join(f"`{label}`" for label in labels)


def _walk(fields_, kind: str, prefix: str = ""):
    for field in fields_:
        path = prefix + field.name
        type_ = field.type
        null = "" if field.nullable else ", not null"
        if pa.types.is_list(type_):
            item = type_.value_type
            if pa.types.is_struct(item):
                yield path, kind, field.name, f"list of struct{null}"
                yield from _walk(item, _KIND_OF_FIELD[field.name], path + "[].")
            else:
                yield path, kind, field.name, f"list of {item}{null}"
        elif pa.types.is_struct(type_):
            yield path, kind, field.name, f"struct{null}"
            yield from _walk(type_, _KIND_OF_FIELD[field.name], path + ".")
        else:
            yield path, kind, field.name, f"{type_}{null}"


# -- example -----------------------------------------------------------------


def example(snapshot: Snapshot | None) -> str:
    if snapshot is None:
        return "No release has been built yet.\n"
    lines = []
    for config in ("quotes", "events"):
        row = snapshot.first_row(config)
        if row is None:
            continue
        lines += [f"The first row of the `{config}` config in v{snapshot.version}:", "", "```json"]
        lines += [json.dumps(row, ensure_ascii=False, indent=2, default=str), "```", ""]
    return "\n".join(lines) if lines else "The latest release holds no quotes or events.\n"


# -- history -----------------------------------------------------------------


def history(snapshots: list[Snapshot]) -> str:
    """One line per release: what it changed compared with the release before it."""
    if not snapshots:
        return "No release has been built yet.\n"
    lines = []
    previous: Snapshot | None = None
    for snapshot in snapshots:
        summary = snapshot.summary
        if summary is None:  # a release whose manifest does not record it: diff again
            before = previous.documents if previous else {}
            result = diff_documents(previous and previous.version, before, snapshot.version, snapshot.documents)
            summary = summary_line(result)
        since = f"since v{previous.version}" if previous else "first release"
        lines.append(f"- **v{snapshot.version}** ({since}): {summary}.")
        previous = snapshot
    return "\n".join(reversed(lines)) + "\n"
