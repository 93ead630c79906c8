"""Run the Great Expectations suites of validation/ on a release folder, or on tables before they become one.

Each suite checks one view (see validation_view): the views are built and handed to
Great Expectations one at a time, so one table is in pandas at once, and a release's
tables are read a chunk of whole documents at a time (validation_chunks), so memory
does not grow with the release. The outcome is an
engine-independent `Validation`: per suite and expectation, pass or fail, how many rows
failed and which ids. Great Expectations is imported only here, inside the functions
that run it, with its analytics and progress bars turned off.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newscorpus import suites
from newscorpus.errors import ReleaseError, SchemaError, ValidationError
from newscorpus.project import Project
from newscorpus.schema import CONFIGS
from newscorpus.shards import data_files, shard_name
from newscorpus.validation_chunks import document_chunks
from newscorpus.validation_view import MANIFEST_SUITE, TABLE_SUITES, ViewBuilder

ENGINE = "great_expectations"
SAMPLES = 5


@dataclass(frozen=True)
class Outcome:
    """One expectation's result, in terms no engine owns."""

    check: str
    success: bool
    notes: str
    rows: int | None = None
    unexpected: int | None = None
    samples: tuple[tuple[tuple[str, object], ...], ...] = ()
    observed: str | None = None
    error: str | None = None

    def lines(self) -> list[str]:
        if self.error is not None:
            head = f"FAILED {self.check}: could not be evaluated: {self.error}"
        elif self.unexpected is not None:
            ids = "; ".join(" ".join(f"{k}={v}" for k, v in sample) for sample in self.samples)
            head = f"FAILED {self.check}: {self.unexpected} of {self.rows} rows" + (f": {ids}" if ids else "")
        else:
            head = f"FAILED {self.check}: {self.observed}"
        return [head, f"  ({self.notes})"]


@dataclass(frozen=True)
class SuiteResult:
    name: str
    rows: int
    outcomes: tuple[Outcome, ...]

    @property
    def passed(self) -> int:
        return sum(o.success for o in self.outcomes)


@dataclass(frozen=True)
class Validation:
    subject: str
    engine_version: str
    suites: tuple[SuiteResult, ...]

    @property
    def failures(self) -> list[Outcome]:
        return [o for s in self.suites for o in s.outcomes if not o.success]

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def expectations(self) -> int:
        return sum(len(s.outcomes) for s in self.suites)

    def headline(self) -> str:
        failed, total = len(self.failures), self.expectations
        verdict = f"{failed} of {total} expectations failed" if failed else f"{total} of {total} expectations passed"
        return f"{self.subject}: {verdict} in {len(self.suites)} suites ({ENGINE} {self.engine_version})"

    def report(self) -> list[str]:
        width = max((len(s.name) for s in self.suites), default=0)
        lines = [self.headline()]
        for s in self.suites:
            lines.append(f"  {s.name:<{width}} {s.rows:>9} rows {s.passed:>4} of {len(s.outcomes):>3} passed")
        for outcome in self.failures:
            lines += outcome.lines()
        return lines

    def summary(self) -> dict:
        """What the manifest records: deterministic, no time and no run id."""
        return {
            ENGINE: self.engine_version,
            "suites": {
                s.name: {"rows": s.rows, "expectations": len(s.outcomes), "passed": s.passed} for s in self.suites
            },
        }


# -- entry points ----------------------------------------------------------------


def validate_release(
    project: Project, release: Path, *, data_docs: Path | None = None, today: dt.date | None = None
) -> Validation:
    """Every suite, the manifest's included, on a release folder (its tables a chunk of documents at a time)."""
    from newscorpus.release import manifest_view, read_manifest

    manifest = read_manifest(release)
    _check_schema_version(release.name, manifest.get("schema_version"), project)
    files = {c: data_files(release, c) or [shard_name(c, 0, 1)] for c in CONFIGS}
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


def _with_first(extra: dict, chunks: Iterator[dict]) -> Iterator[dict]:
    for index, views in enumerate(chunks):
        yield {**views, **extra} if index == 0 else views


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


def check_suites(project: Project) -> None:
    """Refuse to validate with files of validation/ that are out of date with the schema."""
    stale, extra = suites.stale_files(project)
    validation = [p for p in stale if project.relative(p).startswith(suites.VALIDATION_DIR + "/")] + extra
    if validation:
        raise SchemaError(
            f"out of date with schemas/annotation.yaml: {', '.join(project.relative(p) for p in validation)};"
            " run `newscorpus schema --write`"
        )


def load_definitions(project: Project) -> dict:
    """validation/ as JSON: suites, validation definitions, checkpoint."""
    check_suites(project)

    def read(path: str) -> dict:
        return json.loads((project.root / path).read_text(encoding="utf-8"))

    return {
        "suites": {name: read(suites.suite_path(name)) for name in suites.ALL_SUITES},
        "definitions": {name: read(suites.definition_path(name)) for name in suites.ALL_SUITES},
        "checkpoint": read(suites.CHECKPOINT_PATH),
    }


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
    gx = _import_great_expectations()
    import pandas as pd

    context = _context(gx, data_docs)
    checkpoint = _register(gx, context, definitions)
    today = today or dt.date.today()
    run_id = gx.RunIdentifier(run_name=subject)
    parts: dict[str, list[SuiteResult]] = {}
    _release_memory()  # what the caller freed (a build's conversion) before the first chunk
    for index, views in enumerate(chunks):
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
            outcomes = _outcomes(definitions["suites"][definition.name], result)
            parts.setdefault(definition.name, []).append(SuiteResult(definition.name, rows, outcomes))
            del result
        del views
        _release_memory()
    if data_docs is not None:
        context.build_data_docs(site_names=[DATA_DOCS_SITE])
    order = [d.name for d in checkpoint.validation_definitions if d.name in parts]
    return Validation(subject, installed_version(ENGINE), tuple(_add_up(parts[name]) for name in order))


def _release_memory() -> None:
    """Between chunks: Great Expectations' results hold reference cycles, and Arrow keeps freed memory pooled."""
    import gc

    gc.collect()
    pa.default_memory_pool().release_unused()


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


DATA_DOCS_SITE = "newscorpus"


def _import_great_expectations():
    # Set before the import: Great Expectations reads it when a context starts.
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx

    return gx


def _context(gx, data_docs: Path | None):
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if data_docs is not None:
        sites[DATA_DOCS_SITE] = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _register(gx, context, definitions: dict):
    """Data source, suites, validation definitions and checkpoint into the context; returns the checkpoint."""
    source = context.data_sources.add_pandas(suites.DATASOURCE_NAME)
    for name, data in definitions["suites"].items():
        suite = gx.ExpectationSuite(**data)
        # Great Expectations logs and drops an expectation it cannot build: refuse instead.
        if len(suite.expectations) != len(data["expectations"]):
            raise SchemaError(f"{suites.suite_path(name)}: Great Expectations could not build every expectation")
        context.suites.add(suite)
        source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(suites.BATCH_DEFINITION_NAME)
    for data in definitions["definitions"].values():
        context.validation_definitions.add(gx.ValidationDefinition.parse_obj(data))
    return context.checkpoints.add(gx.Checkpoint.parse_obj(definitions["checkpoint"]))


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


def _outcomes(suite: dict, result) -> tuple[Outcome, ...]:
    by_check = {r.expectation_config.meta["check"]: r for r in result.results}
    id_columns = suite["meta"]["id_columns"]
    out = []
    for expectation in suite["expectations"]:
        check = expectation["meta"]["check"]
        r = by_check[check]
        details = r.result or {}
        error = _error(r.exception_info)
        samples = tuple(
            tuple((c, _plain(row.get(c))) for c in id_columns if c in row)
            for row in details.get("partial_unexpected_index_list") or []
        )[:SAMPLES]
        out.append(
            Outcome(
                check=check,
                success=bool(r.success),
                notes=expectation["notes"],
                rows=details.get("element_count"),
                unexpected=details.get("unexpected_count"),
                samples=samples,
                observed=None if r.success else _observed(expectation, details),
                error=error,
            )
        )
    return tuple(out)


def _plain(value) -> object:
    """An id as the report shows it: every engine's missing value reads `null`."""
    import pandas as pd

    return "null" if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _error(info) -> str | None:
    """The first exception message, in either shape Great Expectations reports it."""
    if not info:
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    for nested in info.values():
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message")).splitlines()[0]
    return None


def _observed(expectation: dict, details: dict) -> str:
    observed, kwargs = details.get("observed_value"), expectation["kwargs"]
    if "column_list" in kwargs and isinstance(observed, list):
        expected = kwargs["column_list"]
        missing = [c for c in expected if c not in observed]
        unexpected = [c for c in observed if c not in expected]
        if missing or unexpected:
            return f"missing columns {missing}, unexpected columns {unexpected}"
        return f"columns in another order: {observed}"
    if "type_list" in kwargs:
        return f"type {observed}, expected one of {', '.join(kwargs['type_list'])}"
    return f"observed {observed!r}"
