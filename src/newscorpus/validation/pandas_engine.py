"""Run the Great Expectations suites of validation/ on a release folder, or on tables before they become one.

Each suite checks one view (see views): the views are built and handed to
Great Expectations one at a time, so one table is in pandas at once, and a release's
tables are read a chunk of whole documents at a time (chunks), so memory
does not grow with the release. The outcome is an
engine-independent `Validation` (expectations): per suite and expectation, pass or fail,
how many rows failed and which ids. spark_engine runs the same suites on Spark; runner runs both.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from newscorpus.errors import ReleaseError, ValidationError
from newscorpus.project import Project
from newscorpus.release.formats import DERIVED_CONFIGS, configs
from newscorpus.release.manifest import read_manifest, release_format
from newscorpus.release.shards import config_files, data_files
from newscorpus.validation import suites
from newscorpus.validation.chunks import document_chunks
from newscorpus.validation.derived_checks import DERIVED_SUITES
from newscorpus.validation.expectations import Validation
from newscorpus.validation.manifest_view import manifest_view
from newscorpus.validation.runner import Engine, check_schema_version, run
from newscorpus.validation.view_specs import GATE_SUITES, MANIFEST_SUITE, predated_suites
from newscorpus.validation.views import ViewBuilder

# -- entry points ----------------------------------------------------------------


def validate_release(
    project: Project, release: Path, *, data_docs: Path | None = None, today: dt.date | None = None
) -> Validation:
    """Every suite, the manifest's included, on a release folder (its tables a chunk of documents at a time)."""
    manifest = read_manifest(release)
    check_schema_version(release.name, manifest.get("schema_version"), project)
    names = configs(release_format(manifest))  # the configs of the release's format
    files = config_files((name for c in names for name in data_files(release, c)), names)
    _check_readable(release, files)
    parquet = [name for c in names for name in files[c]]
    views = _chunk_views(project, release, files, GATE_SUITES)
    manifest_suite = {MANIFEST_SUITE: lambda: manifest_view(release, manifest, [*parquet, "README.md"], parquet)}
    return run(
        project, release.name, _with_first(manifest_suite, views), PandasEngine(),
        data_docs=data_docs, today=today, not_enforced=predated_suites(manifest),
    )  # fmt: skip


def _check_readable(release: Path, files: dict[str, list[str]]) -> None:
    """Every Parquet file opens (its footer is read, not its data), before any work."""
    for name in (n for names in files.values() for n in names):
        try:
            pq.ParquetFile(release / name).close()
        except (OSError, pa.ArrowException) as exc:
            raise ReleaseError(f"{release.name}/{name}: cannot be read ({exc}); nothing validated") from None


def _chunk_views(project: Project, release: Path, files: dict[str, list[str]], names: Iterable[str]) -> Iterator[dict]:
    """Per chunk of whole documents (see chunks): the views of the suites `names`, built on demand."""
    derived = all(c in files for c in DERIVED_CONFIGS)  # a format-2 release: the derived suites have views
    names = tuple(n for n in names if derived or n not in DERIVED_SUITES)
    for tables in document_chunks(release, files):
        builder = ViewBuilder(project.schema, tables)
        del tables
        yield {name: _deferred(builder, name) for name in names}
        del builder  # before the next chunk is read, not after


def _with_first(extra: dict, chunks: Iterator[dict]) -> Iterator[dict]:
    first = next(chunks, None)
    if first is not None:
        yield {**first, **extra}
    del first
    yield from chunks


def validate_tables(
    project: Project, tables: dict[str, pa.Table], subject: str, *, today: dt.date | None = None
) -> Validation:
    """The gate's suites on a release's tables before they are published."""
    builder = ViewBuilder(project.schema, tables)
    derived = all(c in tables for c in DERIVED_CONFIGS)
    views = {name: _deferred(builder, name) for name in GATE_SUITES if derived or name not in DERIVED_SUITES}
    return run_chunks(project, subject, iter([views]), today=today)


def gate(
    project: Project, folder: Path, files: dict[str, list[str]], subject: str, names: Iterable[str] = GATE_SUITES
) -> Validation:
    """Validate a new release's Parquet files with the suites `names` (default: every suite of the gate), a chunk
    of documents at a time; raise ValidationError on a failure (a warning is no failure)."""
    unknown = sorted(set(names) - set(GATE_SUITES))
    if unknown:
        raise ValidationError(f"{subject}: no such suite of the gate: {', '.join(unknown)}; nothing was written")
    validation = run_chunks(project, subject, _chunk_views(project, folder, files, names))
    if not validation.success:
        report = "\n".join(f"  {line}" for line in validation.report())
        raise ValidationError(f"{subject} fails validation; nothing was written:\n{report}")
    return validation


def _deferred(builder: ViewBuilder, name: str) -> Callable[[], pa.Table]:
    return lambda: builder.build(name)


# -- the pandas engine ----------------------------------------------------------------


# Views waiting to be checked together (runner.run): ~10,000 documents' views of format 2 (~150 MB for
# 10 suites), so a release is checked in ~1.5 runs per suite and 10,000 documents, not 1 per 2,900.
# A run converts its view to pandas (~1.4x its Arrow size) on top of what waits.
PENDING_VIEW_BYTES = 96 << 20


class PandasEngine(Engine):
    """Each view converted to one pandas DataFrame at a time; memory handed back between runs."""

    shares_context = True  # nothing of a run stays in the context (see after_suite)
    pending_bytes = PENDING_VIEW_BYTES

    def view_bytes(self, view: pa.Table) -> int:
        return view.get_total_buffer_size()

    def combine(self, views: list[pa.Table]) -> pa.Table:
        return pa.concat_tables(views)

    def data_source(self, context) -> object:
        return context.data_sources.add_pandas(suites.DATASOURCE_NAME)

    @contextmanager
    def frame(self, view: pa.Table) -> Iterator[tuple[object, int]]:
        rows = view.num_rows
        frame = _to_pandas(view)
        del view
        yield frame, rows

    def parameters(self, dates: dict[str, str]) -> dict:
        return {k: pd.Timestamp(v) for k, v in dates.items()}

    def before_chunks(self) -> None:
        _release_memory()  # what the caller freed (a build's conversion) before the first chunk

    def after_suite(self, context) -> None:
        """Drop what the pandas engine keeps after a run: the batch's data frame and every metric computed on it.

        The engine caches both under the suite's batch id, which is the same for every chunk, so
        they would stay alive (one frame and its row-length condition Series per suite) until the
        next chunk's run replaced them.
        """
        engine = context.data_sources.get(suites.DATASOURCE_NAME).get_execution_engine()
        engine._metric_cache.clear()
        engine.batch_manager.reset_batch_cache()
        engine.batch_manager._batch_data_cache.clear()

    def after_chunk(self) -> None:
        _release_memory()


def run_chunks(
    project: Project,
    subject: str,
    chunks: Iterator[dict[str, Callable[[], pa.Table]]],
    *,
    data_docs: Path | None = None,
    today: dt.date | None = None,
) -> Validation:
    """The suites on each chunk's views, one view in pandas at a time, added up per suite."""
    return run(project, subject, chunks, PandasEngine(), data_docs=data_docs, today=today)


def _release_memory() -> None:
    """Between chunks: Great Expectations' results hold reference cycles, and Arrow keeps freed memory pooled."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        # Hand the C heap's free pages back (glibc keeps them): pandas' and Python's frees of the chunk.
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _to_pandas(view: pa.Table):
    # Nullable dtypes keep a column's type when it holds nulls; an unexpected Arrow type
    # (large_string, int64 for int32) keeps pandas' default dtype and fails its type check.
    dtypes = {
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
        pa.string(): pd.StringDtype(),
    }
    return view.to_pandas(types_mapper=dtypes.get, date_as_object=False)
