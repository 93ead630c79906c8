"""Run the Great Expectations suites of validation/ on a release folder, or on tables before they become one.

Each suite checks one view (see validation_view): the views are built and handed to
Great Expectations one at a time, so one table is in pandas at once, and a release's
tables are read a chunk of whole documents at a time (validation_chunks), so memory
does not grow with the release. The outcome is an
engine-independent `Validation` (expectations.py): per suite and expectation, pass or fail,
how many rows failed and which ids. validate_spark runs the same suites on Spark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from importlib.metadata import version as installed_version
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newscorpus import suites
from newscorpus.errors import ReleaseError, SchemaError, ValidationError
from newscorpus.expectations import (
    DATA_DOCS_SITE,
    ENGINE,
    SAMPLES,
    Outcome,
    SuiteResult,
    Validation,
    import_great_expectations,
    load_definitions,
    make_context,
    outcomes,
    register,
)
from newscorpus.project import Project
from newscorpus.schema import CONFIGS
from newscorpus.shards import config_files, data_files
from newscorpus.validation_chunks import document_chunks
from newscorpus.validation_view import MANIFEST_SUITE, TABLE_SUITES, ViewBuilder

# -- entry points ----------------------------------------------------------------


def validate_release(
    project: Project, release: Path, *, data_docs: Path | None = None, today: dt.date | None = None
) -> Validation:
    """Every suite, the manifest's included, on a release folder (its tables a chunk of documents at a time)."""
    from newscorpus.release import manifest_view, read_manifest

    manifest = read_manifest(release)
    _check_schema_version(release.name, manifest.get("schema_version"), project)
    files = config_files(name for c in CONFIGS for name in data_files(release, c))
    _check_readable(release, files)
    parquet = [name for c in CONFIGS for name in files[c]]
    views = _chunk_views(project, release, files)
    manifest_suite = {MANIFEST_SUITE: lambda: manifest_view(release, manifest, [*parquet, "README.md"], parquet)}
    return run_chunks(project, release.name, _with_first(manifest_suite, views), data_docs=data_docs, today=today)


def _check_readable(release: Path, files: dict[str, list[str]]) -> None:
    """Every Parquet file opens (its footer is read, not its data), before any work."""
    for name in (n for names in files.values() for n in names):
        try:
            pq.ParquetFile(release / name).close()
        except (OSError, pa.ArrowException) as exc:
            raise ReleaseError(f"{release.name}/{name}: cannot be read ({exc}); nothing validated") from None


def _chunk_views(project: Project, release: Path, files: dict[str, list[str]]) -> Iterator[dict]:
    """Per chunk of whole documents (see validation_chunks): the table suites' views, built on demand."""
    for tables in document_chunks(release, files):
        builder = ViewBuilder(project.schema, tables)
        del tables
        yield {name: _deferred(builder, name) for name in TABLE_SUITES}
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
    """The table suites on a release's tables before they are published (the build's gate)."""
    builder = ViewBuilder(project.schema, tables)
    return run_suites(project, subject, {name: _deferred(builder, name) for name in TABLE_SUITES}, today=today)


def gate(project: Project, folder: Path, files: dict[str, list[str]], subject: str) -> Validation:
    """Validate a new release's Parquet files, a chunk of documents at a time; raise ValidationError on a failure."""
    validation = run_chunks(project, subject, _chunk_views(project, folder, files))
    if not validation.success:
        report = "\n".join(f"  {line}" for line in validation.report())
        raise ValidationError(f"{subject} fails validation; nothing was written:\n{report}")
    return validation


def _deferred(builder: ViewBuilder, name: str) -> Callable[[], pa.Table]:
    return lambda: builder.build(name)


def _check_schema_version(release: str, built_with: str | None, project: Project) -> None:
    """A release is checked by suites of its schema's major version, never by older ones."""
    current = project.schema.schema_version
    try:
        major, minor_patch = int(built_with.split(".")[0]), tuple(int(x) for x in built_with.split(".")[1:])
    except (AttributeError, ValueError):
        raise ReleaseError(f"{release}/manifest.json: schema_version {built_with!r} is not X.Y.Z") from None
    now = tuple(int(x) for x in current.split("."))
    if major != now[0] or minor_patch > now[1:]:
        raise ReleaseError(
            f"{release} was built with schema {built_with}, these suites are for schema {current}:"
            f" validate it from a checkout of schema {built_with.split('.')[0]}.x at or after {built_with}"
        )


# -- running Great Expectations ----------------------------------------------------


def run_suites(
    project: Project,
    subject: str,
    views: dict[str, Callable[[], pa.Table]],
    *,
    data_docs: Path | None = None,
    today: dt.date | None = None,
) -> Validation:
    """Run the checkpoint's validation definitions that have a view, in the checkpoint's order."""
    return run_chunks(project, subject, iter([views]), data_docs=data_docs, today=today)


def run_chunks(
    project: Project,
    subject: str,
    chunks: Iterator[dict[str, Callable[[], pa.Table]]],
    *,
    data_docs: Path | None = None,
    today: dt.date | None = None,
) -> Validation:
    """Run the suites on each chunk's views (one view in pandas at a time) and add the results up per suite.

    Chunks hold whole documents (validation_chunks), so per-row results add up, and so
    does uniqueness, whose keys all start with doc_id (checked by `_chunkable`).
    """
    definitions = load_definitions(project)
    gx = import_great_expectations()
    import pandas as pd

    context = make_context(gx, data_docs)
    checkpoint = register(gx, context, definitions, context.data_sources.add_pandas(suites.DATASOURCE_NAME))
    today = today or dt.date.today()
    run_id = gx.RunIdentifier(run_name=subject)
    parts: dict[str, list[SuiteResult]] = {}
    _release_memory()  # what the caller freed (a build's conversion) before the first chunk
    # No enumerate(): its cached result tuple would keep the last chunk alive while the next one is read.
    index = -1
    for views in chunks:
        index += 1
        if index == 1:
            _chunkable(definitions["suites"])
        for definition in checkpoint.validation_definitions:
            if definition.name not in views:
                continue
            view = views[definition.name]()
            rows = view.num_rows
            frame = _to_pandas(view)
            del view
            meta = definition.suite.meta
            parameters = {k: pd.Timestamp(v) for k, v in {**meta["parameters"], "today": today.isoformat()}.items()}
            result = definition.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=parameters,
                result_format={**checkpoint.result_format, "unexpected_index_column_names": meta["id_columns"]},
                run_id=run_id,
            )
            del frame
            _forget_batches(context)
            found = outcomes(definitions["suites"][definition.name], result)
            parts.setdefault(definition.name, []).append(SuiteResult(definition.name, rows, found))
            del result
        del views
        _release_memory()
    if data_docs is not None:
        context.build_data_docs(site_names=[DATA_DOCS_SITE])
    order = [d.name for d in checkpoint.validation_definitions if d.name in parts]
    return Validation(subject, installed_version(ENGINE), tuple(_add_up(parts[name]) for name in order))


def _forget_batches(context) -> None:
    """Drop what the pandas engine keeps after a run: the batch's data frame and every metric computed on it.

    The engine caches both under the suite's batch id, which is the same for every chunk, so
    they would stay alive (one frame and its row-length condition Series per suite) until the
    next chunk's run replaced them.
    """
    engine = context.data_sources.get(suites.DATASOURCE_NAME).get_execution_engine()
    engine._metric_cache.clear()
    engine.batch_manager.reset_batch_cache()
    engine.batch_manager._batch_data_cache.clear()


def _release_memory() -> None:
    """Between chunks: Great Expectations' results hold reference cycles, and Arrow keeps freed memory pooled."""
    import gc

    gc.collect()
    pa.default_memory_pool().release_unused()
    _trim_malloc()


def _trim_malloc() -> None:
    """Hand the C heap's free pages back (glibc keeps them): pandas' and Python's frees of the chunk."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _chunkable(suites_json: dict) -> None:
    """Uniqueness seen chunk by chunk holds for the release only if every key starts with doc_id."""
    for name, suite in suites_json.items():
        for expectation in suite["expectations"]:
            kwargs = expectation["kwargs"]
            if "unique" in expectation["type"] and (kwargs.get("column_list") or [kwargs.get("column")])[0] != "doc_id":
                raise SchemaError(f"{suites.suite_path(name)}: {expectation['meta']['check']} cannot run in chunks")


def _add_up(parts: list[SuiteResult]) -> SuiteResult:
    """One suite's results over all chunks: counts add up, the first failures' samples are kept."""
    if len(parts) == 1:
        return parts[0]
    outcomes = []
    for pieces in zip(*(p.outcomes for p in parts), strict=True):
        failed = [p for p in pieces if not p.success]
        counted = [p.unexpected for p in pieces if p.unexpected is not None]
        rows = [p.rows for p in pieces if p.rows is not None]
        outcomes.append(
            Outcome(
                check=pieces[0].check,
                success=not failed,
                notes=pieces[0].notes,
                rows=sum(rows) if rows else None,
                unexpected=sum(counted) if counted else None,
                samples=tuple(s for p in pieces for s in p.samples)[:SAMPLES],
                observed=failed[0].observed if failed else None,
                error=next((p.error for p in pieces if p.error is not None), None),
            )
        )
    return SuiteResult(parts[0].name, sum(p.rows for p in parts), tuple(outcomes))


def _to_pandas(view: pa.Table):
    import pandas as pd

    # Nullable dtypes keep a column's type when it holds nulls; an unexpected Arrow type
    # (large_string, int64 for int32) keeps pandas' default dtype and fails its type check.
    dtypes = {
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
        pa.string(): pd.StringDtype(),
    }
    return view.to_pandas(types_mapper=dtypes.get, date_as_object=False)
