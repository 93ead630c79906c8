"""A release's Parquet files, written one batch of documents at a time.

Layout: each config is a set of shards `<config>/train-00000-of-00003.parquet`, ...
(names that `load_dataset` and the card's `<config>/train-*.parquet` pattern pick up).
Row groups hold ROW_GROUP_DOCS documents, and the flat configs' row groups hold the
records of those same documents. All configs are cut into a new shard at the same
document, as soon as one file would grow past the maximum size, so shard k of every
config covers the same documents. Documents are in doc_id order, flat records in their
documents' order: the layout depends on the documents alone, never on how they arrived.

Batches may arrive in any order (exports are read task by task): a batch that continues
the doc_id order goes straight to the release's files; once one does not, the rest is
spilled into sorted runs and everything is merged at the end, reading back a row group
at a time. Memory holds about one row group per run, whatever the number of documents.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newscorpus.schema import CONFIGS

ROW_GROUP_DOCS = 2_000  # documents per row group; part of the layout (changing it changes the bytes)
MAX_SHARD_BYTES = 256 * 1024 * 1024  # default largest Parquet file: 256 MiB
SHARD_PATTERN = "train-*.parquet"


def flat_configs(configs) -> list[str]:
    """The configs other than `documents`: rows with a doc_id, grouped by document in document order."""
    return [c for c in configs if c != "documents"]


SPILL_OPTIONS = {"compression": "lz4", "use_dictionary": False, "write_statistics": False}


def shard_name(config: str, index: int, count: int) -> str:
    return f"{config}/train-{index:05d}-of-{count:05d}.parquet"


def config_pattern(config: str) -> str:
    """The data_files pattern of a config in the card (`load_dataset` expands it)."""
    return f"{config}/{SHARD_PATTERN}"


def data_files(release: Path, config: str) -> list[str]:
    """A release's Parquet files of one config, in order, as paths relative to the release."""
    return sorted(p.relative_to(release).as_posix() for p in (release / config).glob(SHARD_PATTERN) if p.is_file())


def config_files(names: Iterable[str], configs: Iterable[str] = CONFIGS) -> dict[str, list[str]]:
    """Each config's shards among a release's file names (relative POSIX paths), in order; where a
    config has none, its single-shard name (which validation then reports as missing)."""
    found: dict[str, list[str]] = {c: [] for c in configs}
    for name in sorted(names):
        path = PurePosixPath(name)
        if len(path.parts) == 2 and path.parent.name in found and fnmatch(path.name, SHARD_PATTERN):
            found[path.parent.name].append(name)
    return {c: files or [shard_name(c, 0, 1)] for c, files in found.items()}


def iter_batches(release: Path, config: str, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """A config's rows one row group at a time, shard after shard: never the whole table at once."""
    for name in data_files(release, config):
        parquet = pq.ParquetFile(release / name)
        for index in range(parquet.num_row_groups):
            yield from parquet.read_row_group(index, columns=columns).to_batches()


def read_config(release: Path, config: str, columns: list[str] | None = None) -> pa.Table:
    """A whole config (for small releases and tests): every shard, concatenated."""
    tables = [pq.read_table(release / name, columns=columns) for name in data_files(release, config)]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


class ShardWriter:
    """Writes the configs (`schemas`' keys) side by side, in row groups of ROW_GROUP_DOCS documents, cut into shards.

    `add` takes documents in ascending doc_id order (continuing the previous call) with
    their flat records grouped by document in the same order.
    """

    def __init__(self, folder: Path, schemas: dict[str, pa.Schema], options: dict, max_bytes: int, stage: str):
        self.folder, self.schemas, self.options = folder, schemas, options
        self.max_bytes, self.stage = max_bytes, stage
        self.configs, self.flat = list(schemas), flat_configs(schemas)
        self.pending: dict[str, list[pa.Table]] = {c: [] for c in self.configs}
        self.pending_docs = 0
        self.shards = 0
        self.writers: dict[str, tuple[pa.OSFile, pq.ParquetWriter]] = {}
        self.groups_in_shard = 0
        # A file's footer (schema, row group metadata) grows with its row groups; an empty file's size per
        # row group is a generous allowance for it.
        self.footer = {c: _empty_file_size(schemas[c], options) for c in self.configs}
        self.compressed = dict.fromkeys(self.configs, 0)
        self.uncompressed = dict.fromkeys(self.configs, 0)
        self.rows = dict.fromkeys(self.configs, 0)

    def add(self, tables: dict[str, pa.Table]) -> None:
        for config in self.configs:
            self.pending[config].append(tables[config])
        self.pending_docs += tables["documents"].num_rows
        while self.pending_docs >= ROW_GROUP_DOCS:
            self._emit(ROW_GROUP_DOCS)

    def close(self, publish: bool = True) -> dict[str, list[str]]:
        """Write what is pending and close the files; rename them to their final names when `publish`."""
        if self.pending_docs or not self.shards:
            self._emit(self.pending_docs)
        self._close_shard()
        names = {c: [self._staged(c, k) for k in range(self.shards)] for c in self.configs}
        if not publish:
            return names
        final = {c: [shard_name(c, k, self.shards) for k in range(self.shards)] for c in self.configs}
        for config in self.configs:
            for staged, name in zip(names[config], final[config], strict=True):
                (self.folder / staged).rename(self.folder / name)
        return final

    def _staged(self, config: str, index: int) -> str:
        return f"{config}/{self.stage}-{index:05d}.parquet"

    def _emit(self, docs: int) -> None:
        """Write the first `docs` pending documents (and their records) as one row group per config."""
        documents = _concat(self.pending["documents"], self.schemas["documents"])
        group = {"documents": documents.slice(0, docs)}
        rest = {"documents": documents.slice(docs)}
        last = group["documents"].column("doc_id")[-1] if docs else None
        for config in self.flat:
            flat = _concat(self.pending[config], self.schemas[config])
            split = 0 if last is None else pc.sum(pc.less_equal(flat.column("doc_id"), last)).as_py() or 0
            group[config], rest[config] = flat.slice(0, split), flat.slice(split)
        self.pending = {c: [rest[c]] for c in self.configs}
        self.pending_docs -= docs
        self._write_group(group)

    def _write_group(self, group: dict[str, pa.Table]) -> None:
        if self.writers and self.groups_in_shard and any(self._would_overflow(c, group[c]) for c in self.configs):
            self._close_shard()
        if not self.writers:
            self._open_shard()
        for config in self.configs:
            table = group[config]
            if not table.num_rows:
                continue
            sink, writer = self.writers[config]
            before = sink.tell()
            writer.write_table(table, row_group_size=table.num_rows)
            self.compressed[config] += sink.tell() - before
            self.uncompressed[config] += table.nbytes
            self.rows[config] += table.num_rows
        self.groups_in_shard += 1

    def _would_overflow(self, config: str, table: pa.Table) -> bool:
        """Would this row group push the file past the maximum? Estimated from the compression seen so far."""
        ratio = self.compressed[config] / self.uncompressed[config] if self.uncompressed[config] else 1.0
        footer = self.footer[config] * (self.groups_in_shard + 2)
        return self.writers[config][0].tell() + table.nbytes * ratio + footer > self.max_bytes

    def _open_shard(self) -> None:
        for config in self.configs:
            path = self.folder / self._staged(config, self.shards)
            path.parent.mkdir(parents=True, exist_ok=True)
            sink = pa.OSFile(str(path), "wb")
            self.writers[config] = (sink, pq.ParquetWriter(sink, self.schemas[config], **self.options))
        self.shards += 1
        self.groups_in_shard = 0

    def _close_shard(self) -> None:
        for sink, writer in self.writers.values():
            writer.close()
            sink.close()
        self.writers = {}


def _empty_file_size(schema: pa.Schema, options: dict) -> int:
    sink = pa.BufferOutputStream()
    pq.ParquetWriter(sink, schema, **options).close()
    return len(sink.getvalue())


def _concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return schema.empty_table()
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


class _Run:
    """Documents in ascending doc_id order, with how many flat records each has: the unit of the merge."""

    def __init__(self, flat: list[str], files: dict[str, list[Path]] | None = None):
        self.flat, self.files = flat, files or {}
        self.writers: dict[str, pq.ParquetWriter] | None = None  # while a spilled run is being written
        self.doc_ids: list[pa.Array] = []
        self.counts: dict[str, list[np.ndarray]] = {c: [] for c in flat}
        self.last: str | None = None

    def note(self, tables: dict[str, pa.Table]) -> None:
        doc_ids = tables["documents"].column("doc_id").combine_chunks()
        self.doc_ids.append(doc_ids)
        for config in self.flat:
            parents = pc.index_in(tables[config].column("doc_id"), value_set=doc_ids).to_numpy(zero_copy_only=False)
            self.counts[config].append(np.bincount(parents.astype(np.int64), minlength=len(doc_ids)))
        self.last = doc_ids[-1].as_py()

    def offsets(self, config: str) -> np.ndarray:
        counts = np.concatenate(self.counts[config]) if self.counts[config] else np.zeros(0, np.int64)
        return np.concatenate([[0], np.cumsum(counts)])


class _RowReader:
    """Rows [start, stop) of a sequence of Parquet files, read a row group at a time, forward only."""

    def __init__(self, paths: list[Path]):
        self.groups = [(path, i, n) for path in paths for i, n in _row_groups(path)]
        self.index, self.first_row, self.cached = 0, 0, None

    def read(self, start: int, stop: int, schema: pa.Schema) -> pa.Table:
        pieces = []
        while start < stop:
            path, group, rows = self.groups[self.index]
            if start >= self.first_row + rows:
                self.index, self.first_row, self.cached = self.index + 1, self.first_row + rows, None
                continue
            if self.cached is None:
                self.cached = pq.ParquetFile(path).read_row_group(group)
            end = min(stop, self.first_row + rows)
            pieces.append(self.cached.slice(start - self.first_row, end - start))
            start = end
        return _concat(pieces, schema)


def _row_groups(path: Path) -> list[tuple[int, int]]:
    metadata = pq.ParquetFile(path).metadata
    return [(i, metadata.row_group(i).num_rows) for i in range(metadata.num_row_groups)]


class ReleaseWriter:
    """Takes batches in any order (each sorted by doc_id) and writes the release's Parquet files in doc_id order."""

    def __init__(self, folder: Path, schemas: dict[str, pa.Schema], options: dict, max_bytes: int = MAX_SHARD_BYTES):
        self.folder, self.schemas, self.options, self.max_bytes = folder, schemas, options, max_bytes
        self.configs, self.flat = list(schemas), flat_configs(schemas)
        self.direct = ShardWriter(folder, schemas, options, max_bytes, stage=".direct")
        self.direct_run = _Run(self.flat)
        self.spilled: list[_Run] = []
        self.spill_dir = folder / ".runs"

    def add(self, tables: dict[str, pa.Table]) -> None:
        """One batch: documents sorted by doc_id, flat records grouped by document in the same order."""
        if not tables["documents"].num_rows:
            return
        first = tables["documents"].column("doc_id")[0].as_py()
        if not self.spilled and (self.direct_run.last is None or first > self.direct_run.last):
            self.direct.add(tables)
            self.direct_run.note(tables)
            return
        if not self.spilled or first <= self.spilled[-1].last:
            self._close_spill()
            self.spilled.append(self._open_spill(len(self.spilled)))
        run = self.spilled[-1]
        for config in self.configs:
            if tables[config].num_rows:
                run.writers[config].write_table(tables[config], row_group_size=tables[config].num_rows)
        run.note(tables)

    def close(self) -> dict[str, list[str]]:
        """Finish the files; returns each config's Parquet files (relative to the release folder), in order."""
        if not self.spilled:
            return self.direct.close()
        self._close_spill()
        staged = self.direct.close(publish=False)
        self.direct_run.files = {c: [self.folder / name for name in staged[c]] for c in self.configs}
        runs = [r for r in (self.direct_run, *self.spilled) if r.doc_ids]
        merged = ShardWriter(self.folder, self.schemas, self.options, self.max_bytes, stage=".merged")
        for group in _merge(runs, self.schemas):
            merged.add(group)
        names = merged.close()
        for paths in self.direct_run.files.values():
            for path in paths:
                path.unlink()
        shutil.rmtree(self.spill_dir)
        return names

    def _open_spill(self, index: int) -> _Run:
        folder = self.spill_dir / f"{index:05d}"
        folder.mkdir(parents=True)
        run = _Run(self.flat, {c: [folder / f"{c}.parquet"] for c in self.configs})
        run.writers = {c: pq.ParquetWriter(run.files[c][0], self.schemas[c], **SPILL_OPTIONS) for c in self.configs}
        return run

    def _close_spill(self) -> None:
        if self.spilled and self.spilled[-1].writers:
            for writer in self.spilled[-1].writers.values():
                writer.close()
            self.spilled[-1].writers = None


def _merge(runs: list[_Run], schemas: dict[str, pa.Schema]) -> Iterator[dict[str, pa.Table]]:
    """Groups of ROW_GROUP_DOCS documents in doc_id order, taken from sorted runs read forward."""
    ids = pa.concat_arrays([a for run in runs for a in run.doc_ids])
    run_of = np.concatenate([np.full(sum(len(a) for a in run.doc_ids), i) for i, run in enumerate(runs)])
    sequence = run_of[pc.sort_indices(ids).to_numpy()]
    configs, flat = list(schemas), flat_configs(schemas)
    readers = [{c: _RowReader(run.files[c]) for c in configs} for run in runs]
    offsets = [{c: run.offsets(c) for c in flat} for run in runs]
    cursor = [0] * len(runs)
    for begin in range(0, len(sequence), ROW_GROUP_DOCS):
        taken = np.bincount(sequence[begin : begin + ROW_GROUP_DOCS], minlength=len(runs))
        pieces: dict[str, list[pa.Table]] = {c: [] for c in configs}
        for r, count in enumerate(taken):
            if not count:
                continue
            start, stop = cursor[r], cursor[r] + int(count)
            pieces["documents"].append(readers[r]["documents"].read(start, stop, schemas["documents"]))
            for config in flat:
                low, high = int(offsets[r][config][start]), int(offsets[r][config][stop])
                pieces[config].append(readers[r][config].read(low, high, schemas[config]))
            cursor[r] = stop
        group = {}
        for config in configs:
            table = _concat(pieces[config], schemas[config])
            # A stable sort: the records of one document keep their order.
            group[config] = table.take(pc.sort_indices(table, sort_keys=[("doc_id", "ascending")]))
        yield group
