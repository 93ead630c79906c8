"""The `tokens` suite's view, computed over Arrow and numpy columns (no Python object per token).

A chunk of a release holds ~1 million tokens; read as Python rows (a dict per sentence, a dict
per token offset) they took most of the gate's time and memory. The rules are those of
`derived_checks` (one row per sentence):

- `lengths_agree`: tokens, token_offsets and ner_tags have one item per token (a null
  ner_tags counts as none);
- `tags_in_range`: every tag id is a ClassLabel id of the schema's IOB2 names;
- `tags_follow_iob2` (where the tags are in range): an `I-X` follows a `B-X` or an `I-X`;
- `tokens_match_text` (where the document has a text and the lengths agree): the sentence has
  tokens, each token is text[start:end] of its document with start < end, each starts at or
  after the end of the one before (the first at or after sentence_start), the first starts at
  sentence_start and the last ends at sentence_end.

Texts and tokens are compared as arrays of code points (UTF-32), so offsets are Python's.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newscorpus.validation.columns import read_column

BATCH_TOKENS = 1 << 18  # tokens compared at a time: bounds the code-point index arrays (~10 MB each)


def tokens_view(tokens: pa.Table, documents: pa.Table, fields: tuple[pa.Field, ...], tag_names: list[str]) -> pa.Table:
    """The view's columns (`fields`, in order) for one chunk's tokens and documents tables."""
    doc_ids, texts = read_column(documents, "doc_id", pa.string()), read_column(documents, "text", pa.string())
    doc_id = read_column(tokens, "doc_id", pa.string())
    index = pc.index_in(doc_id, value_set=doc_ids)
    text_length = pc.take(pc.utf8_length(texts).cast(pa.int32()), index)
    offset = pa.struct([("start", pa.int32()), ("end", pa.int32())])
    lists = {
        "tokens": read_column(tokens, "tokens", pa.list_(pa.string())),
        "token_offsets": read_column(tokens, "token_offsets", pa.list_(offset)),
        "ner_tags": read_column(tokens, "ner_tags", pa.list_(pa.int64())),
    }
    counts = {name: pc.list_value_length(values).cast(pa.int32()) for name, values in lists.items()}
    agree = pc.and_kleene(
        pc.equal(counts["tokens"], counts["token_offsets"]),
        pc.equal(counts["token_offsets"], pc.fill_null(counts["ner_tags"], 0)),
    )
    in_range, follows = _tag_checks(lists["ner_tags"], len(tokens), tag_names)
    comparable = pc.fill_null(pc.and_(agree, text_length.is_valid()), False).to_numpy(zero_copy_only=False)
    matches = _text_checks(tokens, lists, index, texts, comparable)
    columns = {
        **{f"{name}_count": values for name, values in counts.items()},
        "doc_in_documents": index.is_valid(),
        "doc_text_length": text_length,
        "lengths_agree": agree,
        "tags_in_range": pa.array(in_range, pa.bool_()),
        "tags_follow_iob2": pa.array(follows, pa.bool_(), mask=~in_range),
        "tokens_match_text": pa.array(matches, pa.bool_(), mask=~comparable),
    }
    for field in fields:  # the table's own columns, as the view's fields type them
        if field.name not in columns:
            columns[field.name] = read_column(tokens, field.name, field.type)
    return pa.table({field.name: columns[field.name] for field in fields})


def _tag_checks(tags: pa.Array, rows: int, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per row: are all tag ids in range; does every I-X follow a B-X or I-X (the sentence starts after an O)?"""
    parents = pc.list_parent_indices(tags).to_numpy()
    values = pc.fill_null(pc.list_flatten(tags), -1).to_numpy()
    bad = (values < 0) | (values >= len(names))
    in_range = np.bincount(parents[bad], minlength=rows) == 0
    kinds = np.array([name[:2] == "I-" for name in names] + [False])  # the last entry stands for a bad id
    _, types = np.unique([name[2:] for name in names] + ["\0"], return_inverse=True)
    safe = np.where(bad, len(names), values)
    previous = np.empty_like(safe)
    if len(safe):
        previous[0] = 0
        previous[1:] = safe[:-1]
        previous[np.flatnonzero(np.diff(parents)) + 1] = 0  # the first tag of a sentence follows an O
    broken = kinds[safe] & (types[previous] != types[safe])
    follows = np.bincount(parents[broken], minlength=rows) == 0
    return in_range, follows


def _text_checks(tokens: pa.Table, lists: dict, index: pa.Array, texts: pa.Array, rows: np.ndarray) -> np.ndarray:
    """tokens_match_text for the rows marked in `rows` (the others are False here and masked by the caller)."""
    result = np.zeros(len(rows), dtype=bool)
    chosen = np.flatnonzero(rows)
    if not len(chosen):
        return result
    take = pa.array(chosen)
    words = pc.take(lists["tokens"], take)
    offsets = pc.take(lists["token_offsets"], take)
    parents = pc.list_parent_indices(offsets).to_numpy()
    flat = pc.list_flatten(offsets)
    starts = pc.fill_null(pc.struct_field(flat, "start"), -1).to_numpy().astype(np.int64)
    ends = pc.fill_null(pc.struct_field(flat, "end"), -1).to_numpy().astype(np.int64)
    sentence_start = pc.take(read_column(tokens, "sentence_start", pa.int32()), take)
    sentence_end = pc.take(read_column(tokens, "sentence_end", pa.int32()), take)
    first_start = pc.fill_null(sentence_start, np.iinfo(np.int32).max).to_numpy().astype(np.int64)
    # Each token starts at or after the previous one's end (the first: at or after sentence_start), before its end.
    counts = pc.list_value_length(offsets).to_numpy().astype(np.int64)
    heads, nonempty = counts.cumsum() - counts, counts > 0  # each sentence's first token in the flat arrays
    previous_end = np.empty_like(ends)
    if len(ends):
        previous_end[1:] = ends[:-1]
    previous_end[heads[nonempty]] = first_start[nonempty]
    good = (previous_end <= starts) & (starts < ends)
    # Each token is the text at its offsets, compared code point by code point.
    documents = pc.take(index, take).to_numpy()[parents]
    needed, position = np.unique(documents, return_inverse=True)
    text_list = texts.take(pa.array(needed)).to_pylist()
    lengths = np.fromiter((len(t) for t in text_list), np.int64, len(text_list))
    code_points = np.frombuffer("".join(text_list).encode("utf-32-le"), np.uint32)
    base = (lengths.cumsum() - lengths)[position]
    word_list = pc.fill_null(pc.list_flatten(words), "").to_pylist()
    sizes = np.fromiter((len(w) for w in word_list), np.int64, len(word_list))
    word_points = np.frombuffer("".join(word_list).encode("utf-32-le"), np.uint32)
    word_base = sizes.cumsum() - sizes
    good &= (starts >= 0) & (ends <= lengths[position]) & (ends - starts == sizes)
    for at in range(0, len(good), BATCH_TOKENS):
        part = np.flatnonzero(good[at : at + BATCH_TOKENS]) + at
        size = sizes[part]
        within = np.arange(size.sum()) - np.repeat(size.cumsum() - size, size)
        same = code_points[np.repeat(base[part] + starts[part], size) + within]
        same = same == word_points[np.repeat(word_base[part], size) + within]
        good[np.repeat(part, size)[~same]] = False
    ok = np.bincount(parents[~good], minlength=len(chosen)) == 0
    last_end = pc.fill_null(sentence_end, -1).to_numpy().astype(np.int64)
    bounds = nonempty.copy()
    first, last = heads[nonempty], heads[nonempty] + counts[nonempty] - 1
    bounds[nonempty] = (starts[first] == first_start[nonempty]) & (ends[last] == last_end[nonempty])
    result[chosen] = ok & bounds
    return result
