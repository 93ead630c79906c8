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

import pyarrow as pa

from newscorpus.ingest import Article
from newscorpus.labelstudio.exports import TaskAnnotations
from newscorpus.labelstudio.records import EntityMention
from newscorpus.release.formats import ANNOTATORS_COLUMN, PROVENANCE_COLUMNS, ner_tag_names
from newscorpus.schema import AnnotationSchema
from newscorpus.segment import Offsets, token_offsets


def add_derived_tables(
    tables: dict[str, pa.Table],
    articles: list[Article],
    annotations: dict[str, TaskAnnotations],
    schema: AnnotationSchema,
    arrow: dict[str, pa.Schema],
    offsets: list[Offsets] | None = None,
) -> dict[str, pa.Table]:
    """Format 1's tables of a batch -> format 2's: provenance columns in documents, and the derived configs.

    `offsets` are the annotated articles' tokens (`segment.token_offsets` of their texts, in order), if known.
    """
    annotated = [(a, annotations[a.doc_id]) for a in articles if a.doc_id in annotations]
    tag_ids = {name: index for index, name in enumerate(ner_tag_names(schema))}
    token_rows, chain_rows, argument_rows = [], [], []
    offsets = offsets or token_offsets([a.text for a, _ in annotated])
    for (article, task), found in zip(annotated, offsets, strict=True):
        token_rows += sentence_rows(article, task.layers.entities, tag_ids, found)
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
        "tokens": _table(token_rows, arrow["tokens"]),
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


def sentence_rows(
    article: Article, entities: tuple[EntityMention, ...], tag_ids: dict[str, int], offsets: Offsets | None = None
) -> list[tuple]:
    """The tokens config's rows of one document; `offsets` are its text's (`segment.token_offsets`) if known."""
    starts, ends, firsts = offsets or token_offsets([article.text])[0]
    bounds = [*firsts, len(starts)]  # sentence i has tokens [bounds[i], bounds[i + 1])
    home_of = [i for i in range(len(firsts)) for _ in range(bounds[i], bounds[i + 1])]  # each token's sentence
    tags = [tag_ids["O"]] * len(starts)
    misaligned = [0] * len(firsts)
    for mention in outermost_mentions(entities):
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
    text, rows = article.text, []
    for index in range(len(firsts)):
        at, to = bounds[index], bounds[index + 1]
        rows.append(
            (
                article.doc_id,
                index,
                starts[at],
                ends[to - 1],
                [text[s:e] for s, e in zip(starts[at:to], ends[at:to], strict=True)],
                [{"start": s, "end": e} for s, e in zip(starts[at:to], ends[at:to], strict=True)],
                tags[at:to],
                misaligned[index],
            )
        )
    return rows


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
