"""A release's tables in chunks of whole documents, so that validation holds one chunk at a time.

Every check of the suites is about one document at a time: a span against its document's
text, references within a document, nested records against the document's flat rows, and
uniqueness of keys that start with doc_id. So a chunk holds whole documents with every flat
row that names them, and the suites' results over the chunks add up to the results over the
release. To keep that true for any release, not only a well-formed one:

- a doc_id that repeats in `documents` has all its rows in the chunk of its first row, so
  the uniqueness expectation sees the repeats side by side;
- a flat row goes to the chunk of its doc_id's first row, wherever it is in the file;
- a flat row whose doc_id is in no document goes to the last chunk, where its checks fail.

Chunks are cut at document boundaries once they hold `max_rows` rows over the four tables.
The files are read a row group at a time, in order; rows that belong to a later chunk wait
in memory until it comes, which for a release written by the build (every table in document
order) is never more than one row group.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# Rows of all tables per chunk (~2,500 documents of format 1, ~1,000 of format 2): bounds what validation
# holds. Smaller chunks cost no extra Great Expectations runs: the pandas engine checks the views of
# consecutive chunks together (runner.run, pandas_engine.PENDING_VIEW_BYTES).
CHUNK_ROWS = 100_000


def document_chunks(release: Path, files: dict[str, list[str]], max_rows: int | None = None) -> Iterator[dict]:
    """The release's tables as a sequence of {config: table} chunks of whole documents (see the module's notes)."""
    max_rows = max_rows or CHUNK_ROWS
    configs = list(files)  # documents and the configs of the release's format whose rows have a doc_id
    paths = {c: [release / name for name in files[c]] for c in configs}
    doc_ids = _doc_ids(paths["documents"])
    first = pc.index_in(doc_ids, value_set=doc_ids).to_numpy(zero_copy_only=False)
    owners = {"documents": first.astype(np.int32)}  # the document row whose chunk each row joins (-1: none)
    rows_per_document = np.bincount(first, minlength=len(doc_ids))
    for config in (c for c in configs if c != "documents"):
        owner = pc.index_in(_doc_ids(paths[config]), value_set=doc_ids)
        owners[config] = pc.fill_null(owner, -1).to_numpy(zero_copy_only=False).astype(np.int32)
        del owner
        found = owners[config][owners[config] >= 0]
        rows_per_document += np.bincount(found, minlength=len(doc_ids))
    chunk_of_document = _cut(rows_per_document, max_rows)
    chunks = int(chunk_of_document.max()) + 1 if len(chunk_of_document) else 1
    chunk_of_row = {
        c: np.where(o >= 0, chunk_of_document[np.maximum(o, 0)], chunks - 1).astype(np.int32) for c, o in owners.items()
    }
    del owners
    readers = {c: _ChunkReader(paths[c], chunk_of_row[c], chunks) for c in configs}
    for chunk in range(chunks):
        yield {c: readers[c].take(chunk) for c in configs}


def _cut(rows_per_document: np.ndarray, max_rows: int) -> np.ndarray:
    """Chunk number of each document: consecutive documents until the chunk holds `max_rows` rows."""
    chunk_of_document = np.zeros(len(rows_per_document), np.int64)
    chunk, filled = 0, 0
    for index, rows in enumerate(rows_per_document.tolist()):
        if filled and filled + rows > max_rows:
            chunk, filled = chunk + 1, 0
        chunk_of_document[index] = chunk
        filled += rows
    return chunk_of_document


def _doc_ids(paths: list[Path]) -> pa.Array:
    """A table's doc_id column over all its files (a missing or mistyped column reads as nulls)."""
    pieces = []
    for path in paths:
        parquet = pq.ParquetFile(path)
        rows = parquet.metadata.num_rows
        try:
            column = parquet.read(columns=["doc_id"]).column(0)
            pieces.append(column.combine_chunks().cast(pa.string()))
        except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pieces.append(pa.nulls(rows, pa.string()))
    return pa.concat_arrays(pieces) if pieces else pa.array([], pa.string())


class _ChunkReader:
    """One table's rows, handed out chunk by chunk, reading its files forward a row group at a time."""

    def __init__(self, paths: list[Path], chunk_of_row: np.ndarray, chunks: int):
        self.chunk_of_row = chunk_of_row
        self.last_row = np.full(chunks, -1, np.int64)
        if len(chunk_of_row):
            np.maximum.at(self.last_row, chunk_of_row, np.arange(len(chunk_of_row)))
        self.batches = (
            (path, index) for path in paths for index in range(pq.ParquetFile(path).metadata.num_row_groups)
        )
        self.schema = pq.read_schema(paths[0]) if paths else None
        self.read = 0  # rows read so far
        self.waiting: dict[int, list[pa.Table]] = {}

    def take(self, chunk: int) -> pa.Table:
        while self.read <= self.last_row[chunk]:
            path, index = next(self.batches)
            table = pq.ParquetFile(path).read_row_group(index)
            owners = self.chunk_of_row[self.read : self.read + table.num_rows]
            self.read += table.num_rows
            for owner in np.unique(owners).tolist():
                part = table if len(owners) and (owners == owner).all() else table.filter(pa.array(owners == owner))
                self.waiting.setdefault(owner, []).append(part)
        parts = self.waiting.pop(chunk, [])
        if not parts:
            return self.schema.empty_table()
        return parts[0] if len(parts) == 1 else pa.concat_tables(parts)
