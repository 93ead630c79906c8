"""The gate on Spark gives the pandas engine's verdicts: same expectations, same pass/fail, same counts,
same sample ids, the same report. Every Spark test uses the test run's one local session (`spark`).

The corruption cases of test_gate_bites.py run on both engines there; here: the committed releases,
a synthetic corpus with planted defects (view by view, row by row), the command line, URLs, errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newscorpus.build.builder import build_release
from newscorpus.errors import CorpusError, ReleaseError
from newscorpus.project import Project
from newscorpus.schema import CONFIGS
from newscorpus.validation.pandas_engine import Validation, validate_release
from newscorpus.validation.spark_engine import release_url, validate_release_spark
from newscorpus.validation.view_specs import TABLE_SUITES
from newscorpus.validation.views import ViewBuilder
from tests.helpers import REPO, SPARK_PRODUCTION_SETTINGS, data_file, edit_record, edit_rows

pytestmark = pytest.mark.spark
TODAY = dt.date(2026, 11, 29)
RELEASES = sorted(p for p in (REPO / "corpus").glob("v*") if p.is_dir())
COMMITTED = REPO / "corpus" / "v0.1.0"

_spec = importlib.util.spec_from_file_location("synth", REPO / "benchmarks" / "synth.py")
synth = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synth)


def verdicts(validation: Validation) -> dict[str, tuple]:
    """Per expectation: passed, or failed with how many of how many rows, which ids, what was seen, what broke."""
    out = {}
    for suite in validation.suites:
        for o in suite.outcomes:
            out[o.check] = (True,) if o.success else (False, o.unexpected, o.rows, o.samples, o.observed, o.error)
    return out


@contextmanager
def production_settings(spark):
    """Spark's own defaults (generated code, adaptive plans) instead of the test run's small-data settings."""
    before = {key: spark.conf.get(key) for key in SPARK_PRODUCTION_SETTINGS}
    for key, value in SPARK_PRODUCTION_SETTINGS.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            spark.conf.set(key, value)


# -- the committed releases -----------------------------------------------------------------


@pytest.mark.parametrize("release", RELEASES, ids=lambda p: p.name)
def test_a_committed_release_gets_the_same_report_on_both_engines(spark, release):
    pandas = validate_release(Project(REPO), release, today=TODAY)
    on_spark = validate_release_spark(Project(REPO), release, spark=spark, today=TODAY)
    assert on_spark.success and pandas.success
    assert on_spark.report() == pandas.report()
    assert on_spark.summary() == pandas.summary()


def test_a_release_url_is_read_through_spark(spark, tmp_path):
    """A file: URL takes the path of s3a://, hdfs:// or abfss:// releases: Spark and Hadoop's FileSystem read it."""
    release = tmp_path / "v0.1.0"
    shutil.copytree(COMMITTED, release)
    (release / "notes.txt").write_text("stray", encoding="utf-8")
    url = release.as_uri()
    assert url.startswith("file:///") and release_url(url) == url
    on_spark = validate_release_spark(Project(REPO), url, spark=spark, today=TODAY)
    assert [o.lines()[0] for o in on_spark.failures] == ["FAILED manifest.files.listed: 1 of 6 rows: path=notes.txt"]
    assert on_spark.report() == validate_release(Project(REPO), release, today=TODAY).report()


# -- a synthetic corpus with planted defects ---------------------------------------------------


@pytest.fixture(scope="module")
def defective_release(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A 40-document synthetic release (benchmarks/synth.py), then one defect each in five documents.

    Returns the release and, per defect, the document that carries it.
    """
    root = tmp_path_factory.mktemp("synthetic")
    synth.generate(40, root, seed=3)
    release = build_release(Project(root), "0.0.1").path
    entities = pq.read_table(release / data_file("entities")).to_pylist()
    quotes = pq.read_table(release / data_file("quotes")).to_pylist()
    docs = sorted({e["doc_id"] for e in entities} & {q["doc_id"] for q in quotes if q["speaker_id"]})
    planted = dict(zip(("shifted", "label", "speaker", "duplicate", "null_text"), docs[1:6], strict=True))

    def first(rows: list[dict], doc_id: str, **match) -> dict:
        return next(r for r in rows if r["doc_id"] == doc_id and all(r[k] == v for k, v in match.items()))

    mention = first(entities, planted["shifted"])
    edit_record(
        release, "entities", mention["id"], doc_id=planted["shifted"], start=lambda s: s + 1, end=lambda e: e + 1
    )
    mention = first(entities, planted["label"])
    edit_record(release, "entities", mention["id"], doc_id=planted["label"], type="COUNTRY")
    quote = next(q for q in quotes if q["doc_id"] == planted["speaker"] and q["speaker_id"])
    edit_record(release, "quotes", quote["id"], doc_id=planted["speaker"], speaker_id="zz99")

    def repeat(rows: list[dict], doc_id: str = planted["duplicate"]) -> None:
        index = next(i for i, r in enumerate(rows) if r.get("doc_id", doc_id) == doc_id)
        rows.insert(index + 1, dict(rows[index]))

    edit_rows(release, "entities", repeat)
    edit_rows(
        release, "documents", lambda d: repeat(next(x for x in d if x["doc_id"] == planted["duplicate"])["entities"])
    )
    edit_rows(
        release, "documents", lambda d: next(x for x in d if x["doc_id"] == planted["null_text"]).update(text=None)
    )
    return release, planted


def test_planted_defects_fail_the_same_expectations_with_the_same_counts(spark, defective_release):
    release, planted = defective_release
    pandas = validate_release(Project(REPO), release, today=TODAY)
    with production_settings(spark):
        on_spark = validate_release_spark(Project(REPO), release, spark=spark, today=TODAY)
    assert verdicts(on_spark) == verdicts(pandas)
    assert on_spark.report() == pandas.report()
    # What the defects must fail, counted by hand: one row each; the repeated mention twice.
    failed = {o.check: (o.unexpected, [dict(s)["doc_id"] for s in o.samples]) for o in on_spark.failures}
    assert failed == {
        "documents.text.not_null": (1, [planted["null_text"]]),
        "entities.id.unique": (2, [planted["duplicate"]] * 2),
        "entities.span.matches_text": (1, [planted["shifted"]]),
        "entities.type.in_schema": (1, [planted["label"]]),
        "quotes.speaker_id.in_document": (1, [planted["speaker"]]),
        # Format 2: the chains and event_arguments configs were built from the entities before they
        # were edited, so the derived suites see the edited mentions no longer match them: the shifted
        # mention (its document's first, an event's argument) in its chain and in its argument
        # row, the relabelled one (its chain's head) as its chain's type.
        "chains.mentions_match": (1, [planted["shifted"]]),
        "argument_rows.entity_matches": (1, [planted["shifted"]]),
        "chains.head_matches": (1, [planted["label"]]),
    }


def test_spark_views_equal_the_arrow_views_row_by_row(spark, defective_release):
    """Every column of every view, computed ones included, null where the Arrow view has null."""
    from newscorpus.validation.spark_views import SparkViewBuilder

    release, _ = defective_release
    schema = Project(REPO).schema
    arrow = ViewBuilder(schema, {c: pq.read_table(release / data_file(c)) for c in CONFIGS})
    on_spark = SparkViewBuilder(schema, {c: spark.read.parquet(str(release / data_file(c))) for c in CONFIGS})
    for name in TABLE_SUITES:
        expected = arrow.build(name)
        view = on_spark.build(name)
        assert view.columns == expected.column_names, name
        rows = [tuple(row) for row in view.collect()]  # a test may collect: the views are small here
        assert rows == [tuple(row.values()) for row in expected.to_pylist()], name


def _edit_shard(release: Path, name: str, edit) -> None:
    """Rewrite one Parquet shard through `edit(rows)` and keep its manifest entry in step."""
    path = release / name
    table = pq.read_table(path)
    rows = table.to_pylist()
    edit(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["outputs"] if e["path"] == name)
    data = path.read_bytes()
    entry.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), rows=len(rows))
    (release / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def test_a_release_of_many_shards_gets_the_same_report_with_defects_in_later_shards(spark, tmp_path, monkeypatch):
    """Spark reads a config's shards in name order (a read of many files would order them by size)."""
    import newscorpus.build.builder as build_module
    import newscorpus.release.shards as shards

    monkeypatch.setattr(shards, "ROW_GROUP_DOCS", 8)
    monkeypatch.setattr(build_module, "BATCH_DOCS", 5)
    synth.generate(60, tmp_path / "project", seed=5)
    release = build_release(Project(tmp_path / "project"), "0.0.1", max_shard_bytes=100_000).path
    entity_shards, quote_shards = shards.data_files(release, "entities"), shards.data_files(release, "quotes")
    assert len(entity_shards) >= 3 and len(quote_shards) >= 3
    clean = validate_release(Project(REPO), release, today=TODAY)
    assert validate_release_spark(Project(REPO), release, spark=spark, today=TODAY).report() == clean.report()

    def shift_last(rows: list[dict]) -> None:  # the last mention of the shard: a span one character off
        rows[-1].update(start=rows[-1]["start"] + 1, end=rows[-1]["end"] + 1)

    def unknown_speaker(rows: list[dict]) -> None:
        next(r for r in rows if r["speaker_id"]).update(speaker_id="zz99")

    _edit_shard(release, entity_shards[-1], shift_last)
    _edit_shard(release, entity_shards[1], shift_last)
    _edit_shard(release, quote_shards[-2], unknown_speaker)
    pandas = validate_release(Project(REPO), release, today=TODAY)
    on_spark = validate_release_spark(Project(REPO), release, spark=spark, today=TODAY)
    assert verdicts(on_spark) == verdicts(pandas)
    assert on_spark.report() == pandas.report()
    failed = {o.check: o.unexpected for o in on_spark.failures}
    assert failed["entities.span.matches_text"] == 2 and failed["quotes.speaker_id.in_document"] == 1


# -- the command line ------------------------------------------------------------------------


def test_validate_engine_spark_prints_the_pandas_report(spark, tmp_path, capsys):
    from newscorpus.cli import main

    release = tmp_path / "v0.1.0"
    shutil.copytree(COMMITTED, release)
    (release / "README.md").write_text("edited", encoding="utf-8")
    reports = {}
    for engine in ("pandas", "spark"):
        code = main(["--root", str(REPO), "validate", str(release), "--engine", engine])
        reports[engine] = (code, *capsys.readouterr())
    assert reports["spark"] == reports["pandas"]
    code, out, err = reports["spark"]
    assert code == 1 and err == "error: v0.1.0 fails validation (2 of 167)\n"
    failures = out.partition("quality: this release predates the quality suite")[0]  # then the findings not enforced
    assert failures.splitlines()[-4:] == [
        "FAILED manifest.files.sha256_matches: 1 of 5 rows: path=README.md",
        "  (The file's SHA-256 is the one in manifest.json.)",
        "FAILED manifest.files.bytes_match: 1 of 5 rows: path=README.md",
        "  (The file's size is the one in manifest.json.)",
    ]


def test_spark_submit_supplies_the_session(spark, tmp_path):
    """`spark-submit --master URL scripts/spark_submit.py validate ...`: the session is spark-submit's."""
    spark_submit = shutil.which("spark-submit", path=str(Path(sys.executable).parent))
    assert spark_submit is not None, "pyspark installs spark-submit beside the Python it is installed for"
    local = ["--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1"]
    command = [spark_submit, "--master", "local[1]", *local, "--conf", "spark.ui.enabled=false"]
    command += [str(REPO / "scripts" / "spark_submit.py"), "--root", str(REPO), "validate", str(COMMITTED)]
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}  # spark-submit runs it
    result = subprocess.run([*command, "--engine", "spark"], capture_output=True, text=True, env=env, cwd=tmp_path)
    pandas = subprocess.run(
        [sys.executable, "-m", "newscorpus.cli", "--root", str(REPO), "validate", str(COMMITTED)],
        capture_output=True,
        text=True,
    )
    assert (result.returncode, pandas.returncode) == (0, 0), result.stderr
    assert result.stdout == pandas.stdout
    assert result.stdout.startswith("v0.1.0: 165 of 167 expectations passed in 7 suites")


def test_the_local_session_binds_to_loopback_without_ui(spark):
    conf = spark.sparkContext.getConf()
    assert (conf.get("spark.driver.host"), conf.get("spark.driver.bindAddress")) == ("127.0.0.1", "127.0.0.1")
    assert conf.get("spark.ui.enabled") == "false" and spark.sparkContext.uiWebUrl is None
    assert os.environ["SPARK_LOCAL_IP"] == "127.0.0.1"


def test_an_active_session_is_used_as_it_is(spark):
    from newscorpus.validation.spark_engine import spark_session

    assert spark_session("spark://elsewhere:7077") is spark  # a session that exists wins over --spark-master


# -- errors ----------------------------------------------------------------------------------


def test_a_missing_release_and_an_unreadable_table_are_errors(spark, tmp_path):
    with pytest.raises(ReleaseError, match=r"^v9.9.9: no such release folder$"):
        validate_release_spark(Project(REPO), tmp_path / "v9.9.9", spark=spark)
    release = tmp_path / "v0.1.0"
    shutil.copytree(COMMITTED, release)
    (release / data_file("events")).write_bytes(b"not parquet")
    with pytest.raises(ReleaseError, match=r"^v0.1.0/events/train-00000-of-00001.parquet: cannot be read \("):
        validate_release_spark(Project(REPO), release, spark=spark)


def test_a_release_of_another_schema_major_version_is_refused_on_spark(spark, tmp_path):
    release = tmp_path / "v0.1.0"
    shutil.copytree(COMMITTED, release)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    (release / "manifest.json").write_text(json.dumps({**manifest, "schema_version": "2.0.0"}), encoding="utf-8")
    with pytest.raises(ReleaseError) as caught:
        validate_release_spark(Project(REPO), release, spark=spark)
    assert str(caught.value) == (
        "v0.1.0 was built with schema 2.0.0, these suites are for schema 1.0.0:"
        " validate it from a checkout of schema 2.x at or after 2.0.0"
    )


def test_options_that_need_the_spark_engine(capsys):
    from newscorpus.cli import main

    assert main(["--root", str(REPO), "validate", "s3a://bucket/corpus/v0.1.0"]) == 1
    assert capsys.readouterr().err == "error: s3a://bucket/corpus/v0.1.0: needs --engine spark\n"
    assert main(["--root", str(REPO), "validate", str(COMMITTED), "--spark-master", "local[1]"]) == 1
    assert capsys.readouterr().err == "error: --spark-master: needs --engine spark\n"


def test_without_pyspark_the_engine_names_the_install(monkeypatch):
    from newscorpus.validation.spark_engine import spark_session

    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # what an environment without it imports
    with pytest.raises(CorpusError) as caught:
        spark_session()
    assert str(caught.value) == (
        "--engine spark needs pyspark: install it with `pip install 'newscorpus[spark]'` (and Java 17)"
    )
