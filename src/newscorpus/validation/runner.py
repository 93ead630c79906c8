"""One run of the checkpoint's suites over a release's views, the same for every engine.

The runner registers the suites with the engine's data source, hands each suite its view
(one at a time, a chunk of whole documents at a time), reads Great Expectations' results back
as `Outcome`s and adds them up over the chunks. An `Engine` supplies only what differs: the
data source, how a view becomes the frame Great Expectations checks, how dates are passed,
and what to free between runs. `pandas_engine` and `spark_engine` are the two engines.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from importlib.metadata import version as installed_version
from pathlib import Path
from types import SimpleNamespace

from newscorpus.errors import ReleaseError, SchemaError
from newscorpus.project import Project
from newscorpus.release.manifest import version_key
from newscorpus.schema import VERSION_PATTERN
from newscorpus.validation import suites
from newscorpus.validation.expectations import (
    DATA_DOCS_SITE,
    ENGINE,
    Outcome,
    SuiteResult,
    Validation,
    import_great_expectations,
    load_definitions,
    make_context,
    outcomes,
    register,
    sample_count,
)

Views = dict[str, Callable[[], object]]  # suite name -> its view, computed on demand


class Engine:
    """What an engine supplies to the runner; the defaults fit an engine that needs nothing more."""

    # Run each suite for its verdicts alone first, and again with details only for the failing
    # expectations: worth it where every detail is a query of its own (Spark).
    verdict_first = False
    # May one context (suites registered, results not kept) serve every run of the process?
    shares_context = False

    def data_source(self, context) -> object:
        raise NotImplementedError

    def frame(self, view: object) -> AbstractContextManager[tuple[object, int]]:
        """The frame Great Expectations checks, and its row count, for as long as the suite runs."""
        raise NotImplementedError

    def parameters(self, dates: dict[str, str]) -> dict:
        """The suite's date parameters (ISO strings) as the engine compares dates."""
        raise NotImplementedError

    def before_chunks(self) -> None:
        """Before the first chunk is read."""

    def after_suite(self, context) -> None:
        """After each suite's run on a chunk."""

    def after_chunk(self) -> None:
        """After each chunk, before the next is read."""

    def adjust(self, found: tuple[Outcome, ...], suite: dict) -> tuple[Outcome, ...]:
        """A last look at a suite's outcomes on one chunk (Spark corrects what its types hide)."""
        return found

    # Views of consecutive chunks may wait, up to this many bytes over all suites, to be checked in
    # one run: a run has a fixed cost (~0.3 s of planning per suite), whatever its rows. 0: no waiting.
    pending_bytes = 0

    def view_bytes(self, view) -> int:
        """What a waiting view holds in memory."""
        raise NotImplementedError

    def combine(self, views: list) -> object:
        """One view of the views of consecutive chunks, in order."""
        raise NotImplementedError


def run(
    project: Project,
    subject: str,
    chunks: Iterator[Views],
    engine: Engine,
    *,
    data_docs: Path | None = None,
    today: dt.date | None = None,
    not_enforced: tuple[str, ...] = (),
) -> Validation:
    """Run the checkpoint's validation definitions that have a view, in the checkpoint's order, chunk by chunk.

    The suites in `not_enforced` run and are reported, but their failures do not fail the validation.

    Chunks hold whole documents (`chunks`), so per-row results add up, and so does uniqueness,
    whose keys all start with doc_id (checked by `_chunkable` once there is a second chunk). For the
    same reason a suite's views of consecutive chunks can be checked as one: an engine with
    `pending_bytes` keeps views waiting up to that many bytes (the largest are checked first when
    more arrive), so a release is checked in a few large runs instead of one run per chunk and suite.
    """
    definitions = load_definitions(project)
    gx = import_great_expectations()
    context, checkpoint = _context(gx, engine, definitions, data_docs)
    dates = {"today": (today or dt.date.today()).isoformat()}
    run_id = gx.RunIdentifier(run_name=subject)
    parts: dict[str, list[SuiteResult]] = {}
    waiting: dict[str, list] = {}  # suite -> its views of consecutive chunks not checked yet

    def check(definition) -> None:
        suite = definitions["suites"][definition.name]
        parameters = engine.parameters({**suite["meta"]["parameters"], **dates})
        details = {
            **checkpoint.result_format,
            "partial_unexpected_count": sample_count(suite),
            "unexpected_index_column_names": suite["meta"]["id_columns"],
        }
        views = waiting.pop(definition.name)
        view = views[0] if len(views) == 1 else engine.combine(views)
        del views
        with engine.frame(view) as (frame, rows):
            del view
            results = _results(gx, engine, definition, suite, frame, parameters, details, run_id, data_docs)
        del frame
        found = engine.adjust(outcomes(suite, SimpleNamespace(results=results)), suite)
        del results
        engine.after_suite(context)
        parts.setdefault(definition.name, []).append(SuiteResult(definition.name, rows, found))

    definitions_by_name = {d.name: d for d in checkpoint.validation_definitions}
    sizes: dict[str, int] = {}
    engine.before_chunks()
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
            waiting.setdefault(definition.name, []).append(view)
            if not engine.pending_bytes:
                del view
                check(definition)
                continue
            sizes[definition.name] = sizes.get(definition.name, 0) + engine.view_bytes(view)
            del view
            while sum(sizes.values()) > engine.pending_bytes:  # the largest waiting views are checked first
                largest = max(sizes, key=sizes.__getitem__)
                check(definitions_by_name[largest])
                del sizes[largest]
        del views
        engine.after_chunk()
    for definition in checkpoint.validation_definitions:  # what still waits, in the checkpoint's order
        if definition.name in waiting:
            check(definition)
    sizes.clear()
    if data_docs is not None:
        context.build_data_docs(site_names=[DATA_DOCS_SITE])
    else:  # the results are read above; a context kept for the next run must not pile them up
        store = context.validation_results_store
        for key in store.list_keys():
            store.remove_key(key)
    order = [d.name for d in checkpoint.validation_definitions if d.name in parts]
    added = tuple(_add_up(parts[name], sample_count(definitions["suites"][name])) for name in order)
    return Validation(subject, installed_version(ENGINE), added, tuple(n for n in order if n in not_enforced))


def check_schema_version(release: str, built_with: str | None, project: Project) -> None:
    """A release is checked by suites of its schema's major version, never by older ones."""
    current = project.schema.schema_version
    if not isinstance(built_with, str) or VERSION_PATTERN.fullmatch(built_with) is None:
        raise ReleaseError(f"{release}/manifest.json: schema_version {built_with!r} is not X.Y.Z")
    then, now = version_key(built_with), version_key(current)
    if then[0] != now[0] or then[1:] > now[1:]:
        raise ReleaseError(
            f"{release} was built with schema {built_with}, these suites are for schema {current}:"
            f" validate it from a checkout of schema {built_with.split('.')[0]}.x at or after {built_with}"
        )


# (engine, suites) -> (context, checkpoint): a context with its suites registered takes ~1 s to
# make, and a process that validates many releases (the tests, a benchmark) uses the same few.
_CONTEXTS: dict[tuple[str, str], tuple[object, object]] = {}
_KEPT_CONTEXTS = 2


def _context(gx, engine: Engine, definitions: dict, data_docs: Path | None) -> tuple[object, object]:
    """A context with the suites registered with the engine's data source: made anew for Data Docs
    (built from the context's own results) or an engine that cannot share one; else reused."""
    if data_docs is not None or not engine.shares_context:
        context = make_context(gx, data_docs)
        return context, register(gx, context, definitions, engine.data_source(context))
    key = (type(engine).__name__, json.dumps(definitions, sort_keys=True))
    if key not in _CONTEXTS:
        while len(_CONTEXTS) >= _KEPT_CONTEXTS:
            del _CONTEXTS[next(iter(_CONTEXTS))]
        context = make_context(gx, None)
        _CONTEXTS[key] = (context, register(gx, context, definitions, engine.data_source(context)))
    return _CONTEXTS[key]


def _results(gx, engine: Engine, definition, suite: dict, frame, parameters, details, run_id, data_docs) -> list:
    """The suite's expectation results on one frame; with `verdict_first`, details only for the failures.

    With Data Docs, one run gathers every detail.
    """
    first_pass = {"result_format": "BOOLEAN_ONLY"} if engine.verdict_first and data_docs is None else details
    results = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        result_format=first_pass,
        run_id=run_id,
    ).results
    failed = {r.expectation_config.meta["check"] for r in results if not r.success}
    if first_pass is details or not failed:
        return list(results)
    again = [e for e in suite["expectations"] if e["meta"]["check"] in failed]
    batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": frame})
    found = batch.validate(
        gx.ExpectationSuite(name=f"{definition.name}.failed", expectations=again),
        result_format=details,
        expectation_parameters=parameters,
    ).results
    return [r for r in results if r.success] + list(found)


def _chunkable(suites_json: dict) -> None:
    """Uniqueness seen chunk by chunk holds for the release only if every key starts with doc_id."""
    for name, suite in suites_json.items():
        for expectation in suite["expectations"]:
            kwargs = expectation["kwargs"]
            if "unique" in expectation["type"] and (kwargs.get("column_list") or [kwargs.get("column")])[0] != "doc_id":
                raise SchemaError(f"{suites.suite_path(name)}: {expectation['meta']['check']} cannot run in chunks")


def _add_up(parts: list[SuiteResult], samples: int) -> SuiteResult:
    """One suite's results over all chunks: counts add up, the first failures' samples are kept."""
    if len(parts) == 1:
        return parts[0]
    added = []
    for pieces in zip(*(p.outcomes for p in parts), strict=True):
        failed = [p for p in pieces if not p.success]
        counted = [p.unexpected for p in pieces if p.unexpected is not None]
        rows = [p.rows for p in pieces if p.rows is not None]
        added.append(
            Outcome(
                check=pieces[0].check,
                success=not failed,
                notes=pieces[0].notes,
                rows=sum(rows) if rows else None,
                unexpected=sum(counted) if counted else None,
                samples=tuple(s for p in pieces for s in p.samples)[:samples],
                observed=failed[0].observed if failed else None,
                error=next((p.error for p in pieces if p.error is not None), None),
                level=pieces[0].level,
            )
        )
    return SuiteResult(parts[0].name, sum(p.rows for p in parts), tuple(added))
