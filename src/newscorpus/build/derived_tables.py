"""Format 2's configs derived from the annotation at build time: tokens, chains, event_arguments.

- `tokens`: one row per sentence (syntok's, `segment`), with its tokens, their offsets and
  IOB2 entity tags. Tags come from the outermost mentions only (a mention inside another is
  not tagged). A mention is tagged on every token it overlaps (B- on the first, I- on the
  rest, B- again on the first token of a following sentence); a mention that overlaps a token
  an earlier outermost mention already tagged (crossing mentions) is not tagged. Each row
  counts, in `misaligned_mentions`, the outermost mentions whose first overlapped token (or,
  overlapping none, whose start) lies in the sentence and whose tags do not decode back to
  exactly their span: a boundary inside a token, a mention across sentences, an untagged one.
- `chains`: one row per coreference chain (singletons included), in the order of the chains'
  first mentions: the chain's id is the entities config's `cluster_id`, its type and
  canonical name those of that head mention.
- `event_arguments`: one row per argument, in event order, with the mention's text and
  offsets and its chain's id and canonical name.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import NamedTuple

import pyarrow as pa

from newscorpus.ingest import Article
from newscorpus.labelstudio.exports import TaskAnnotations
from newscorpus.labelstudio.records import EntityMention
from newscorpus.release.formats import ANNOTATORS_COLUMN, PROVENANCE_COLUMNS, ner_tag_names, tokens_fields
from newscorpus.schema import AnnotationSchema
from newscorpus.segment import token_offsets


def add_derived_tables(
    tables: dict[str, pa.Table],
    articles: list[Article],
    annotations: dict[str, TaskAnnotations],
    schema: AnnotationSchema,
    arrow: dict[str, pa.Schema],
    tokens: pa.Table | None = None,
) -> dict[str, pa.Table]:
    """Format 1's tables of a batch -> format 2's: provenance columns in documents, and the derived configs.

    `tokens` is the batch's tokens config if it was made elsewhere (`tokens_table` in a worker process).
    """
    annotated = [(a, annotations[a.doc_id]) for a in articles if a.doc_id in annotations]
    if tokens is None:
        tokens = tokens_table(token_inputs(annotated), tag_ids(schema), arrow["tokens"])
    chain_rows, argument_rows = [], []
    for article, task in annotated:
        chain_rows += _chain_rows(article.doc_id, task.layers.entities)
        argument_rows += _argument_rows(article.doc_id, task)
    documents = tables["documents"]
    for name in PROVENANCE_COLUMNS:
        values = [_provenance(article, name) for article, _ in annotated]
        documents = documents.append_column(arrow["documents"].field(name), pa.array(values, pa.string()))
    field = arrow["documents"].field(ANNOTATORS_COLUMN)
    codes = pa.array([list(task.annotators) for _, task in annotated], field.type)
    documents = documents.append_column(field, codes)
    return {
        **tables,
        "documents": documents.cast(arrow["documents"]),
        "tokens": tokens,
        "chains": _table(chain_rows, arrow["chains"]),
        "event_arguments": _table(argument_rows, arrow["event_arguments"]),
    }


def _provenance(article: Article, column: str) -> str | None:
    """A seed header's value (None where the seed does not state it)."""
    return getattr(article.provenance, column.removeprefix("article_"))


def _table(rows: list[tuple], arrow: pa.Schema) -> pa.Table:
    if not rows:
        return arrow.empty_table()
    columns = [pa.array(values, field.type) for values, field in zip(zip(*rows, strict=True), arrow, strict=True)]
    return pa.Table.from_arrays(columns, schema=arrow)


# -- tokens ------------------------------------------------------------------------


def outermost_mentions(entities: tuple[EntityMention, ...]) -> list[EntityMention]:
    """The mentions inside no other mention, in (start, -end, id) order; of two with the same span, the first by id."""
    outer, covered = [], -1
    for mention in sorted(entities, key=lambda m: (m.start, -m.end, m.id)):
        if mention.end <= covered:  # an earlier mention starts no later and ends no earlier: it holds this one
            continue
        outer.append(mention)
        covered = mention.end
    return outer


class Span(NamedTuple):
    """What the tags need of a mention: plain enough to send to a worker process."""

    id: str
    start: int
    end: int
    type: str


TokenInput = tuple[str, str, list[Span]]  # doc_id, text, entity mentions


def token_inputs(annotated: list[tuple[Article, TaskAnnotations]]) -> list[TokenInput]:
    """What `tokens_table` reads of a batch's annotated articles, in order."""
    return [
        (article.doc_id, article.text, [Span(m.id, m.start, m.end, m.type) for m in task.layers.entities])
        for article, task in annotated
    ]


def tag_ids(schema: AnnotationSchema) -> dict[str, int]:
    return {name: index for index, name in enumerate(ner_tag_names(schema))}


TOKENS_GROUP = 250  # documents whose tokens are Python objects at once (~30 MB): the rest is Arrow


def tokens_table(documents: list[TokenInput], tag_ids: dict[str, int], arrow: pa.Schema) -> pa.Table:
    """The tokens config of a batch: one row per sentence of each document, in order.

    Built as flat columns (every token of a group of documents in one array, sentences as list
    offsets into it), not as a Python list per sentence and a dict per token offset; the groups'
    tables are joined into one contiguous table, the same whatever the group size.
    """
    groups = [
        _tokens_group(documents[at : at + TOKENS_GROUP], tag_ids, arrow)
        for at in range(0, len(documents), TOKENS_GROUP)
    ]
    return pa.concat_tables(groups).combine_chunks() if groups else arrow.empty_table()


def _tokens_group(documents: list[TokenInput], tag_ids: dict[str, int], arrow: pa.Schema) -> pa.Table:
    found = token_offsets([text for _, text, _ in documents])
    doc_ids, indexes, sentence_starts, sentence_ends, misaligned = [], [], [], [], []
    bounds, texts, starts, ends, tags = [0], [], [], [], []
    for (doc_id, text, mentions), (token_starts, token_ends, firsts) in zip(documents, found, strict=True):
        if not firsts:  # a text without a token has no sentence: no row
            continue
        base, last = len(starts), [*firsts[1:], len(token_starts)]  # sentence i: tokens [firsts[i], last[i])
        doc_tags, doc_misaligned = _tags(token_starts, token_ends, firsts, mentions, tag_ids)
        doc_ids += [doc_id] * len(firsts)
        indexes += range(len(firsts))
        sentence_starts += [token_starts[i] for i in firsts]
        sentence_ends += [token_ends[i - 1] for i in last]
        bounds += [base + i for i in last]
        misaligned += doc_misaligned
        texts += [text[a:b] for a, b in zip(token_starts, token_ends, strict=True)]
        starts += token_starts
        ends += token_ends
        tags += doc_tags
    if not doc_ids:
        return arrow.empty_table()
    types = {field.name: field.type for field in arrow}
    offsets = pa.array(bounds, pa.int32())
    spans = pa.StructArray.from_arrays(
        [pa.array(starts, pa.int32()), pa.array(ends, pa.int32())], fields=list(types["token_offsets"].value_type)
    )
    columns = {
        "doc_id": pa.array(doc_ids, pa.string()),
        "sentence_index": pa.array(indexes, pa.int32()),
        "sentence_start": pa.array(sentence_starts, pa.int32()),
        "sentence_end": pa.array(sentence_ends, pa.int32()),
        "tokens": pa.ListArray.from_arrays(offsets, pa.array(texts, pa.string()), type=types["tokens"]),
        "token_offsets": pa.ListArray.from_arrays(offsets, spans, type=types["token_offsets"]),
        "ner_tags": pa.ListArray.from_arrays(offsets, pa.array(tags, pa.int64()), type=types["ner_tags"]),
        "misaligned_mentions": pa.array(misaligned, pa.int32()),
    }
    return pa.Table.from_arrays([columns[field.name] for field in arrow], schema=arrow)


def sentence_rows(article: Article, entities: tuple[EntityMention, ...], tag_ids: dict[str, int]) -> list[tuple]:
    """One document's rows of the tokens config, as tuples in column order."""
    spans = [Span(m.id, m.start, m.end, m.type) for m in entities]
    table = tokens_table([(article.doc_id, article.text, spans)], tag_ids, pa.schema(tokens_fields()))
    return [tuple(row.values()) for row in table.to_pylist()]


def _tags(
    starts: list[int], ends: list[int], firsts: list[int], mentions: list[Span], tag_ids: dict[str, int]
) -> tuple[list[int], list[int]]:
    """Each token's tag id, and each sentence's count of misaligned mentions (see the module's notes)."""
    home_of = []  # each token's sentence
    for index, (first, last) in enumerate(zip(firsts, [*firsts[1:], len(starts)], strict=True)):
        home_of += [index] * (last - first)
    tags = [tag_ids["O"]] * len(starts)
    misaligned = [0] * len(firsts)
    for mention in outermost_mentions(mentions):
        first, last = bisect_right(ends, mention.start), bisect_left(starts, mention.end)  # tokens [first, last)
        if first >= last:  # overlaps no token
            misaligned[_sentence_at(starts, firsts, mention.start)] += 1
            continue
        home = home_of[first]
        if any(tags[i] != tag_ids["O"] for i in range(first, last)):  # crosses a mention already tagged
            misaligned[home] += 1
            continue
        exact = starts[first] == mention.start and ends[last - 1] == mention.end and home_of[last - 1] == home
        misaligned[home] += not exact
        for i in range(first, last):
            begins = i == first or home_of[i] != home_of[i - 1]
            tags[i] = tag_ids[f"{'B' if begins else 'I'}-{mention.type}"]
    return tags, misaligned


def _sentence_at(starts: list[int], firsts: list[int], offset: int) -> int:
    """The sentence that holds `offset`, or the one before the gap it falls in (the first if none)."""
    return max(bisect_right([starts[i] for i in firsts], offset) - 1, 0)


# -- chains and arguments ------------------------------------------------------------


def _chain_rows(doc_id: str, entities: tuple[EntityMention, ...]) -> list[tuple]:
    by_id = {e.id: e for e in entities}
    members: dict[str, list[EntityMention]] = {}
    for mention in entities:  # in text order: chains in the order of their first mention
        members.setdefault(mention.cluster_id, []).append(mention)
    rows = []
    for cluster_id, mentions in members.items():
        head = by_id[cluster_id]
        spans = [{"id": m.id, "start": m.start, "end": m.end, "text": m.text, "mention_type": m.mention_type}
                 for m in mentions]  # fmt: skip
        rows.append((doc_id, cluster_id, head.type, head.text, spans))
    return rows


def _argument_rows(doc_id: str, task: TaskAnnotations) -> list[tuple]:
    by_id = {e.id: e for e in task.layers.entities}
    rows = []
    for event in task.layers.events:
        for argument in event.arguments:
            mention = by_id[argument.entity_id]
            head = by_id[mention.cluster_id]
            rows.append(
                (doc_id, event.id, event.type, argument.role, mention.id, mention.text,
                 mention.start, mention.end, mention.cluster_id, head.text)
            )  # fmt: skip
    return rows
