"""The `quality` suite's rules and view: the guidelines' mechanical rules, checked on a release's records.

Each rule is a section of annotation/GUIDELINES.md that can be decided from the released
records alone (chains, arguments, quote speakers, sentences and tokens of the text). The view
has one row per record a rule is about: every entity mention, every quote and every event
argument, named by `doc_id`, `record` (a mention or quote id; `event_id:role:entity_id` for an
argument) and its span (for an argument, the argument's mention). A rule's column is True where
the record keeps the rule, False where it breaks it and null where the rule does not apply.

The view needs joins across the tables and the text's sentences and tokens, so it is computed
here in Python from Arrow, a chunk of whole documents at a time, and handed as it is to both
engines. A release of format 2 ships its sentences and tokens (the `tokens` config, which the
`tokens` suite holds to the text): the rules read them there, so a build segments each text once.
A format-1 release has none: its texts are segmented here (`newscorpus.segment`, syntok), as the
build of format 2 would segment them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from newscorpus.segment import sentences

QUALITY_SUITE = "quality"
FAIL, WARNING = "critical", "warning"  # Great Expectations' own severities: a warning never fails a run
NAMED, NOMINAL, PRONOUN = "NAM", "NOM", "PRO"
DATE_TYPE, TIME_ROLE = "DATE", "Time"


@dataclass(frozen=True)
class Rule:
    check: str  # meta.check of the expectation
    column: str  # the view's column that holds the verdict
    section: str  # of annotation/GUIDELINES.md
    level: str  # FAIL or WARNING
    notes: str


RULES = (
    Rule("quality.nominal.in_use", "nominal_in_use", "3.2 (c)", FAIL,
         "A NOM or PRO mention shares a chain with another mention, fills an event argument or is a quote's"
         " speaker."),
    Rule("quality.chain.canonical_is_named", "canonical_is_named", "4", FAIL,
         "A chain with a NAM mention has a NAM mention as its canonical name (cluster head), never a NOM or PRO."),
    Rule("quality.chain.same_type", "same_type_as_chain", "4", FAIL,
         "A mention has the entity type of its chain's canonical mention."),
    Rule("quality.mention.maximal", "maximal", "2", FAIL,
         "No mention lies inside another mention of the same type with the same head (the syntok token that"
         " holds the mention's last character): only the maximal mention is marked."),
    Rule("quality.date.is_time", "date_is_time", "3.3", FAIL,
         "A DATE mention is the Time argument of an event."),
    Rule("quality.argument.time_is_date", "time_is_date", "5.2", FAIL,
         "A Time argument is a DATE mention."),
    Rule("quality.argument.same_sentence", "argument_in_trigger_sentence", "5.2", WARNING,
         "An argument's mention starts in the sentence of its event's trigger (syntok sentences)."),
    Rule("quality.speaker.named", "speaker_chain_named", "6.3", WARNING,
         "A quote's speaker mention is in a chain with a NAM mention (the speaker is named in the document)."),
)  # fmt: skip

ID_COLUMNS = ("doc_id", "record", "start", "end", "text")
FIELDS = (
    pa.field("doc_id", pa.string()),
    pa.field("layer", pa.string()),
    pa.field("record", pa.string()),
    pa.field("start", pa.int32()),
    pa.field("end", pa.int32()),
    pa.field("text", pa.string()),
)
CHECKS = tuple(pa.field(rule.column, pa.bool_()) for rule in RULES)
SAMPLES = 20  # findings are for an annotator to fix, each one: report more of them than for the other suites


@dataclass(frozen=True)
class Segments:
    """A document's sentences and tokens as offsets: sentence i spans [sentence_starts[i], sentence_ends[i])."""

    sentence_starts: list[int]
    sentence_ends: list[int]
    token_starts: list[int]
    token_ends: list[int]

    @classmethod
    def of_text(cls, text: str | None) -> Segments:
        found = sentences(text) if text else []
        tokens = [t for s in found for t in s.tokens]
        return cls([s.start for s in found], [s.end for s in found], [t.start for t in tokens], [t.end for t in tokens])

    def sentence_at(self, offset: int) -> int | None:
        """The index of the sentence holding `offset`, None between sentences."""
        index = bisect_right(self.sentence_ends, offset)
        return index if index < len(self.sentence_starts) and self.sentence_starts[index] <= offset else None

    def token_at(self, offset: int) -> int | None:
        """The index of the token holding `offset`, None between tokens."""
        index = bisect_right(self.token_ends, offset)
        return index if index < len(self.token_starts) and self.token_starts[index] <= offset else None


def released_segments(tokens: pa.Table) -> dict[str, Segments]:
    """Each document's sentences and tokens as the `tokens` config holds them (sentences in index order)."""
    tokens = tokens.select(["doc_id", "sentence_index", "sentence_start", "sentence_end", "token_offsets"])
    tokens = tokens.sort_by([("doc_id", "ascending"), ("sentence_index", "ascending")]).combine_chunks()
    offsets = tokens.column("token_offsets").chunk(0) if tokens.num_rows else pa.array([], tokens.schema[4].type)
    counts = pc.fill_null(pc.list_value_length(offsets), 0).to_pylist()
    flat = offsets.flatten()
    starts, ends = (pc.fill_null(flat.field(f), -1).to_pylist() for f in ("start", "end"))
    by_doc: dict[str, Segments] = {}
    at = 0
    columns = (tokens.column(c).to_pylist() for c in ("doc_id", "sentence_start", "sentence_end"))
    for doc_id, start, end, count in zip(*columns, counts, strict=True):
        segments = by_doc.get(doc_id)
        if segments is None:
            segments = by_doc[doc_id] = Segments([], [], [], [])
        segments.sentence_starts.append(-1 if start is None else start)
        segments.sentence_ends.append(-1 if end is None else end)
        segments.token_starts.extend(starts[at : at + count])
        segments.token_ends.extend(ends[at : at + count])
        at += count
    return by_doc


def quality_view(tables: dict[str, pa.Table]) -> pa.Table:
    """The view over a chunk of whole documents (the four release tables, and `tokens` in format 2);
    see the module's notes."""
    released = released_segments(tables["tokens"]) if "tokens" in tables else None
    texts = {}  # format 1: the texts to segment
    if released is None:
        texts = dict(zip(*(tables["documents"].column(c).to_pylist() for c in ("doc_id", "text")), strict=True))
    rows = _Rows()
    by_doc: dict[str, dict[str, list]] = defaultdict(lambda: {"entities": [], "events": [], "quotes": []})
    for layer, columns in _READ.items():  # only the columns the rules read: fewer Python objects
        table = tables[layer]
        for record in table.select([c for c in columns if c in table.column_names]).to_pylist():
            by_doc[record["doc_id"]][layer].append(record)
    for doc_id in sorted(by_doc, key=str):
        if released is not None:
            segments = released.get(doc_id) or Segments([], [], [], [])
        else:
            segments = Segments.of_text(texts.get(doc_id))
        _document_rows(rows, doc_id, segments, **by_doc[doc_id])
    return rows.table()


# The columns of each table the rules read (a missing one reads as absent: `dict.get` gives None).
_READ = {
    "entities": ("doc_id", "id", "cluster_id", "type", "mention_type", "start", "end", "text"),
    "events": ("doc_id", "id", "trigger", "arguments"),
    "quotes": ("doc_id", "id", "speaker_id", "start", "end", "text"),
}


class _Rows:
    """The view's rows, gathered column by column."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {field.name: [] for field in (*FIELDS, *CHECKS)}
        self._checks = [(rule.column, self.columns[rule.column].append) for rule in RULES]

    def add(self, doc_id: str, layer: str, record: str, span: dict, checks: dict) -> None:
        columns = self.columns
        columns["doc_id"].append(doc_id)
        columns["layer"].append(layer)
        columns["record"].append(record)
        for key in ("start", "end", "text"):
            columns[key].append(span.get(key))
        for column, append in self._checks:
            append(checks.get(column))

    def table(self) -> pa.Table:
        fields = (*FIELDS, *CHECKS)
        return pa.table({f.name: pa.array(self.columns[f.name], f.type) for f in fields}, schema=pa.schema(fields))


def _document_rows(rows: _Rows, doc_id: str, spans: Segments, entities: list, events: list, quotes: list) -> None:
    mentions = {m["id"]: m for m in entities}
    chains: dict[str, list[dict]] = defaultdict(list)
    for m in entities:
        chains[m["cluster_id"]].append(m)
    arguments = [(e, a) for e in events for a in e["arguments"] or () if a is not None]
    in_argument = {a["entity_id"] for _, a in arguments}
    time_of = {a["entity_id"] for _, a in arguments if a["role"] == TIME_ROLE}
    speakers = {q["speaker_id"] for q in quotes if q["speaker_id"] is not None}
    head_token = _head_tokens(spans, entities)
    same_head: dict[tuple, list[dict]] = defaultdict(list)  # only these can nest under the maximal-mention rule
    for m in entities:
        if head_token[m["id"]] is not None:
            same_head[(m["type"], head_token[m["id"]])].append(m)
    for m in entities:
        chain, head = chains[m["cluster_id"]], mentions.get(m["cluster_id"])
        nominal = m["mention_type"] in (NOMINAL, PRONOUN)
        chain_named = any(c["mention_type"] == NAMED for c in chain)
        is_head = m["cluster_id"] == m["id"]
        m_head = (m["type"], head_token[m["id"]])
        checks = {
            "nominal_in_use": (len(chain) > 1 or m["id"] in in_argument or m["id"] in speakers) if nominal else None,
            "canonical_is_named": m["mention_type"] == NAMED if is_head and chain_named else None,
            "same_type_as_chain": None if head is None else m["type"] == head["type"],
            "maximal": None if head_token[m["id"]] is None else not any(_inside(m, o) for o in same_head[m_head]),
            "date_is_time": m["id"] in time_of if m["type"] == DATE_TYPE else None,
        }
        rows.add(doc_id, "entities", m["id"], m, checks)
    for event, argument in arguments:
        mention = mentions.get(argument["entity_id"])
        record = f"{event['id']}:{argument['role']}:{argument['entity_id']}"
        same = None
        trigger_start = (event["trigger"] or {}).get("start")
        if mention is not None and spans.sentence_starts and trigger_start is not None and mention["start"] is not None:
            trigger, at = spans.sentence_at(trigger_start), spans.sentence_at(mention["start"])
            same = None if trigger is None or at is None else trigger == at
        checks = {
            "argument_in_trigger_sentence": same,
            "time_is_date": None if argument["role"] != TIME_ROLE or mention is None else mention["type"] == DATE_TYPE,
        }
        rows.add(doc_id, "event_arguments", record, mention or {}, checks)
    for quote in quotes:
        speaker = mentions.get(quote["speaker_id"]) if quote["speaker_id"] is not None else None
        named = None
        if speaker is not None:
            named = any(c["mention_type"] == NAMED for c in chains[speaker["cluster_id"]])
        rows.add(doc_id, "quotes", quote["id"], quote, {"speaker_chain_named": named})


def _head_tokens(spans: Segments, entities: list) -> dict[str, int | None]:
    """Each mention's head: the start of the token holding its last character (None between tokens)."""
    heads = {}
    for m in entities:
        index = None if m["end"] is None else spans.token_at(m["end"] - 1)
        heads[m["id"]] = None if index is None else spans.token_starts[index]
    return heads


def _inside(inner: dict, outer: dict) -> bool:
    """Is `inner` a different mention within `outer`'s span?"""
    if outer["id"] == inner["id"] or None in (outer["start"], inner["start"], outer["end"]):
        return False
    return outer["start"] <= inner["start"] and inner["end"] <= outer["end"]
