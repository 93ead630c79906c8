"""Great Expectations' part of validation, the same for every engine: the suites as data, the
context they run in, and their results read back as an engine-independent `Validation`.

Great Expectations is imported only inside `import_great_expectations`, with its analytics off.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from newscorpus.errors import SchemaError
from newscorpus.project import Project
from newscorpus.validation import suites
from newscorpus.validation.quality import FAIL, WARNING

ENGINE = "great_expectations"
SAMPLES = 5  # sample ids per failed expectation, unless its suite's meta says `samples`


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
    level: str = FAIL  # Great Expectations' severity: a failed WARNING is reported, never fails a run

    @property
    def label(self) -> str:
        return "WARNING" if self.level == WARNING else "FAILED"

    def lines(self, indent: str = "") -> list[str]:
        if self.error is not None:
            head = f"{self.label} {self.check}: could not be evaluated: {self.error}"
        elif self.unexpected is not None:
            ids = "; ".join(" ".join(f"{k}={v}" for k, v in sample) for sample in self.samples)
            head = f"{self.label} {self.check}: {self.unexpected} of {self.rows} rows" + (f": {ids}" if ids else "")
        else:
            head = f"{self.label} {self.check}: {self.observed}"
        return [indent + head, f"{indent}  ({self.notes})"]


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
    # Suites that ran but that the release's own gate did not (it predates them): reported, not enforced.
    not_enforced: tuple[str, ...] = ()

    def _failed(self, *, enforced: bool) -> list[Outcome]:
        return [
            o for s in self.suites if (s.name not in self.not_enforced) == enforced for o in s.outcomes if not o.success
        ]

    @property
    def failures(self) -> list[Outcome]:
        """The failed expectations that fail the run: enforced and not warnings."""
        return [o for o in self._failed(enforced=True) if o.level != WARNING]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self._failed(enforced=True) if o.level == WARNING]

    @property
    def unenforced(self) -> list[Outcome]:
        """Findings of the suites the release predates."""
        return self._failed(enforced=False)

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def expectations(self) -> int:
        return sum(len(s.outcomes) for s in self.suites)

    def headline(self) -> str:
        failed, total = len(self.failures), self.expectations
        passed = total - sum(not o.success for s in self.suites for o in s.outcomes)
        verdict = f"{failed} of {total} expectations failed" if failed else f"{passed} of {total} expectations passed"
        head = f"{self.subject}: {verdict} in {len(self.suites)} suites ({ENGINE} {self.engine_version})"
        if self.warnings:
            head += f"; {len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''}"
        if self.unenforced:
            head += f"; {len(self.unenforced)} not enforced (the release predates {', '.join(self.not_enforced)})"
        return head

    def report(self) -> list[str]:
        """The headline, a line per suite, the failures, the warnings, then the findings not enforced."""
        width = max((len(s.name) for s in self.suites), default=0)
        lines = [self.headline()]
        for s in self.suites:
            lines.append(f"  {s.name:<{width}} {s.rows:>9} rows {s.passed:>4} of {len(s.outcomes):>3} passed")
        for outcome in self.failures + self.warnings:
            lines += outcome.lines()
        for name in self.not_enforced:
            found = [o for s in self.suites if s.name == name for o in s.outcomes if not o.success]
            if found:
                lines.append(f"{name}: this release predates the {name} suite: findings reported, not enforced")
                lines += [line for outcome in found for line in outcome.lines("  ")]
        return lines

    def summary(self) -> dict:
        """What the manifest records: deterministic, no time and no run id."""
        return {ENGINE: self.engine_version, "suites": {s.name: _suite_summary(s) for s in self.suites}}


def _suite_summary(suite: SuiteResult) -> dict:
    entry = {"rows": suite.rows, "expectations": len(suite.outcomes), "passed": suite.passed}
    if any(o.level == WARNING for o in suite.outcomes):  # only suites with warnings say so: older manifests stay
        entry["warnings"] = sum(not o.success and o.level == WARNING for o in suite.outcomes)
    return entry


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


DATA_DOCS_SITE = "newscorpus"


def import_great_expectations():
    # Set before the import: Great Expectations reads it when a context starts.
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # The pandas engine fingerprints every batch below this many bytes by hashing it row by
    # row (text turned into Python strings): ~200 MB at the peak for a chunk's documents, for a
    # marker no outcome uses. A threshold of 0 skips it.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return gx


def make_context(gx, data_docs: Path | None):
    """An ephemeral context: nothing written but Data Docs where asked, no analytics, no progress bars."""
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


def register(gx, context, definitions: dict, source) -> object:
    """Suites, validation definitions and checkpoint into the context, each suite an asset of `source`
    (the engine's data source); returns the checkpoint."""
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


def outcomes(suite: dict, result) -> tuple[Outcome, ...]:
    by_check = {r.expectation_config.meta["check"]: r for r in result.results}
    id_columns = suite["meta"]["id_columns"]
    out = []
    for expectation in suite["expectations"]:
        check = expectation["meta"]["check"]
        r = by_check[check]
        details = r.result or {}
        error = _error(r.exception_info)
        rows = details.get("element_count")
        if rows is not None and suite["meta"].get("count_applicable"):  # null means "does not apply": not counted
            rows -= details.get("missing_count") or 0
        samples = tuple(
            tuple((c, _plain(row.get(c))) for c in id_columns if c in row)
            for row in details.get("partial_unexpected_index_list") or []
        )[: sample_count(suite)]
        out.append(
            Outcome(
                check=check,
                success=bool(r.success),
                notes=expectation["notes"],
                rows=rows,
                unexpected=details.get("unexpected_count"),
                samples=samples,
                observed=None if r.success else _observed(expectation, details),
                error=error,
                level=str(getattr(r.expectation_config.severity, "value", r.expectation_config.severity)),
            )
        )
    return tuple(out)


def sample_count(suite: dict) -> int:
    return suite["meta"].get("samples", SAMPLES)


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
