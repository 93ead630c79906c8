"""The release gate on Spark: the same suites of validation/, run by Great Expectations' Spark datasource.

A release is a local folder or a URL Spark can read (s3a://, hdfs://, abfss://, file://).
Spark reads every config as it is, the nested `documents` included; spark_views builds
each suite's view from them as Spark columns, and Great Expectations checks it on Spark.
The `manifest` suite needs the files themselves: they are listed, hashed and counted
through Hadoop's FileSystem API in the Spark driver's JVM (the filesystem, credentials
and settings Spark itself reads the release with), so no byte of a data file passes
through Python. The outcome is the engine-independent `Validation`: the same
report, expectation for expectation, as the pandas engine's.

pyspark is imported only here and in spark_views, inside the functions that run Spark.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import reduce
from pathlib import Path, PurePosixPath

import pyarrow as pa

from newscorpus.errors import CorpusError, ReleaseError
from newscorpus.project import Project
from newscorpus.release import formats
from newscorpus.release.manifest import release_format
from newscorpus.release.shards import config_files
from newscorpus.schema import CONFIGS
from newscorpus.validation import suites
from newscorpus.validation.derived_checks import DERIVED_SUITES
from newscorpus.validation.expectations import Outcome, Validation
from newscorpus.validation.runner import Engine, check_schema_version, run
from newscorpus.validation.view_specs import (
    MANIFEST_CHECKS,
    MANIFEST_FIELDS,
    MANIFEST_SUITE,
    QUALITY_SUITE,
    TABLE_SUITES,
    predated_suites,
)
from newscorpus.validation.views import ViewBuilder

INSTALL_HINT = "install it with `pip install 'newscorpus[spark]'` (and Java 17)"
LOOPBACK = "127.0.0.1"
# A session started here on this machine: reachable from this machine only, no web UI, no
# progress bar, and a driver that logs errors only (Spark's notices would bury the report).
LOCAL_SETTINGS = {
    "spark.driver.host": LOOPBACK,
    "spark.driver.bindAddress": LOOPBACK,
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")
JAVA_OPTIONS = "spark.driver.extraJavaOptions"


# -- the session ---------------------------------------------------------------------


def spark_session(master: str | None = None, settings: dict[str, str] | None = None):
    """The active SparkSession if there is one (e.g. a notebook's), else a new one with `settings`.

    A new session uses `master`, else the master spark-submit was given, else `local[*]`. A
    local session binds to 127.0.0.1, with its web UI off and its driver logging errors only.
    """
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError:
        raise CorpusError(f"--engine spark needs pyspark: {INSTALL_HINT}") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    launched_by_spark_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    if master is None and not launched_by_spark_submit:
        master = "local[*]"
    settings = dict(settings or {})
    builder = SparkSession.builder.appName("newscorpus validate")
    if master is not None:
        builder = builder.master(master)
    if master is not None and master.startswith("local"):
        os.environ["SPARK_LOCAL_IP"] = LOOPBACK  # read by the JVM when it starts
        quiet = f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"
        settings = {**LOCAL_SETTINGS, **settings, JAVA_OPTIONS: f"{quiet} {settings.get(JAVA_OPTIONS, '')}".strip()}
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # pyspark raises a plain runtime error when Java is missing or too old
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CorpusError(f"Spark could not start ({first}); it needs Java 17: {INSTALL_HINT}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


# -- the release's files, through Hadoop's FileSystem in the driver's JVM --------------------


def release_url(release: str | Path) -> str:
    """A URL Spark reads: a URL as given, a local folder as an absolute file: URL."""
    text = str(release)
    if "://" in text:
        return text.rstrip("/")
    return Path(text).resolve().as_uri()


def release_name(url: str) -> str:
    return PurePosixPath(url.split("://", 1)[-1]).name


class HadoopFolder:
    """A folder of any filesystem Spark reads, for listing, hashing and counting its files."""

    def __init__(self, spark, url: str):
        self.jvm = spark.sparkContext._jvm
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()
        path = self.jvm.org.apache.hadoop.fs.Path(url)
        fs = path.getFileSystem(self.conf)
        if fs.getClass().getName() == "org.apache.hadoop.fs.LocalFileSystem":
            fs = fs.getRawFileSystem()  # every file as it is: no hidden .crc files, no checksum verification
        self.fs = fs
        self.root = fs.makeQualified(path)
        self.name = release_name(url)

    def _path(self, relative: str):
        return self.jvm.org.apache.hadoop.fs.Path(self.root, relative)

    def is_folder(self) -> bool:
        return self.fs.exists(self.root) and self.fs.getFileStatus(self.root).isDirectory()

    def files(self) -> dict[str, int]:
        """Every file below the folder (relative POSIX path) with its size in bytes."""
        prefix = self.root.toUri().getPath().rstrip("/") + "/"
        found, listing = {}, self.fs.listFiles(self.root, True)
        while listing.hasNext():
            status = listing.next()
            found[status.getPath().toUri().getPath().removeprefix(prefix)] = status.getLen()
        return found

    def read_bytes(self, relative: str) -> bytes | None:
        path = self._path(relative)
        if not self.fs.isFile(path):
            return None
        stream = self.fs.open(path)
        try:
            return bytes(stream.readAllBytes())
        finally:
            stream.close()

    def sha256(self, relative: str) -> str:
        """Hashed in the JVM as the file streams through: the bytes never reach Python."""
        digest = self.jvm.java.security.MessageDigest.getInstance("SHA-256")
        stream = self.jvm.java.security.DigestInputStream(self.fs.open(self._path(relative)), digest)
        try:
            stream.transferTo(self.jvm.java.io.OutputStream.nullOutputStream())
        finally:
            stream.close()
        return bytes(digest.digest()).hex()

    @contextmanager
    def _footer(self, relative: str):
        """The Parquet file's metadata as the JVM's ParquetFileReader reads it; None if it is not Parquet."""
        from py4j.protocol import Py4JJavaError

        parquet = self.jvm.org.apache.parquet.hadoop
        try:
            reader = parquet.ParquetFileReader.open(
                parquet.util.HadoopInputFile.fromPath(self._path(relative), self.conf)
            )
        except Py4JJavaError:
            yield None
            return
        try:
            yield reader
        finally:
            reader.close()

    def parquet_rows(self, relative: str) -> int | None:
        """Rows recorded in a Parquet file's footer; None if it is not a Parquet file."""
        with self._footer(relative) as reader:
            return None if reader is None else int(reader.getRecordCount())

    def arrow_schema(self, relative: str) -> pa.Schema | None:
        """The Arrow schema pyarrow stored in a Parquet file's footer (a few KB, read in the JVM); None if none."""
        with self._footer(relative) as reader:
            metadata = None if reader is None else reader.getFooter().getFileMetaData().getKeyValueMetaData()
            stored = None if metadata is None else metadata.get("ARROW:schema")
        if stored is None:
            return None
        try:
            return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(stored)))
        except (ValueError, pa.ArrowInvalid):
            return None


def read_manifest(folder: HadoopFolder) -> dict:
    if not folder.is_folder():
        raise ReleaseError(f"{folder.name}: no such release folder")
    data = folder.read_bytes("manifest.json")
    if data is None:
        raise ReleaseError(f"{folder.name}: no manifest.json; is this a release folder (corpus/vX.Y.Z)?")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReleaseError(f"{folder.name}/manifest.json: not valid JSON ({exc})") from None


@dataclass(frozen=True)
class ManifestRow:
    path: str
    listed: bool
    present: bool
    sha256_matches: bool | None
    bytes_match: bool | None
    rows_match: bool | None


def manifest_rows(
    folder: HadoopFolder, manifest: dict, required: list[str], data_files: list[str]
) -> list[ManifestRow]:
    """The `manifest` suite's view, row for row as release.manifest_view makes it for a local folder."""
    outputs = {e["path"]: e for e in manifest.get("outputs", []) if isinstance(e, dict) and "path" in e}
    on_disk = folder.files()
    on_disk.pop("manifest.json", None)
    rows = []
    for path in sorted(set(outputs) | set(on_disk) | set(required)):
        entry = outputs.get(path)
        present = path in on_disk
        checked = entry is not None and present
        counted = checked and (path in data_files or "rows" in entry)
        rows.append(
            ManifestRow(
                path=path,
                listed=entry is not None,
                present=present,
                sha256_matches=folder.sha256(path) == entry.get("sha256") if checked else None,
                bytes_match=on_disk[path] == entry.get("bytes") if checked else None,
                rows_match=folder.parquet_rows(path) == entry.get("rows") if counted else None,
            )
        )
    return rows


def _manifest_frame(spark, rows: list[ManifestRow]):
    """The rows as literals of a query: a DataFrame made from Python objects would need Python workers."""
    from pyspark.sql import functions as F

    fields = [(f.name, "string") for f in MANIFEST_FIELDS] + [(f.name, "boolean") for f in MANIFEST_CHECKS]
    records = [F.struct(*(F.lit(getattr(row, n)).cast(t).alias(n) for n, t in fields)) for row in rows]
    return spark.range(1).select(F.inline(F.array(*records)))


# -- entry point -----------------------------------------------------------------------


def validate_release_spark(
    project: Project,
    release: str | Path,
    *,
    spark=None,
    master: str | None = None,
    data_docs: Path | None = None,
    today: dt.date | None = None,
) -> Validation:
    """Every suite, the manifest's included, on a release folder or URL, on Spark."""
    from newscorpus.validation.spark_views import SparkViewBuilder  # pyspark is optional: imported on use

    spark = spark or spark_session(master)
    url = release_url(release)
    folder = HadoopFolder(spark, url)
    manifest = read_manifest(folder)
    check_schema_version(folder.name, manifest.get("schema_version"), project)
    configs = formats.configs(release_format(manifest))
    files = config_files(folder.files(), configs)
    frames = {c: _read(spark, url, folder.name, files[c]) for c in CONFIGS}
    builder = SparkViewBuilder(project.schema, frames)
    hidden = hidden_type_changes(folder, project.schema.arrow_schemas(), files)
    views = {name: (lambda name=name: builder.build(name)) for name in TABLE_SUITES}
    # format 2's derived configs: their views are computed like the quality view, which reads format 2's tokens
    derived = {c: _read(spark, url, folder.name, files[c]) for c in configs if c not in CONFIGS}
    for name in DERIVED_SUITES if derived else ():
        views[name] = lambda name=name: _arrow_view(spark, project, {**frames, **derived}, name)
    views[QUALITY_SUITE] = lambda: _quality_frame(spark, project, {**frames, **derived})
    parquet = [name for c in CONFIGS for name in files[c]]
    views[MANIFEST_SUITE] = lambda: _manifest_frame(
        spark, manifest_rows(folder, manifest, [*parquet, "README.md"], parquet)
    )
    return run(
        project, folder.name, iter([views]), SparkEngine(hidden),
        data_docs=data_docs, today=today, not_enforced=predated_suites(manifest),
    )  # fmt: skip


def _quality_frame(spark, project: Project, frames: dict):
    """The quality view, computed in Python from the tables as Arrow (it needs sentences and tokens),
    then handed to Spark as Arrow: with format 2's derived views, the views whose rows pass through the driver."""
    return _arrow_view(spark, project, frames, QUALITY_SUITE)


def _arrow_view(spark, project: Project, frames: dict, name: str):
    tables = {config: frame.toArrow() for config, frame in frames.items()}
    return spark.createDataFrame(ViewBuilder(project.schema, tables).build(name))


def hidden_type_changes(
    folder: HadoopFolder, expected: dict[str, pa.Schema], files: dict[str, list[str]]
) -> dict[str, str]:
    """`<config>.<column>.type` -> the Arrow type stored in a file, where it is not the schema's.

    Spark maps Arrow types that Parquet stores alike (string and large_string) to one Spark
    type, so Great Expectations on Spark cannot see the difference that the pandas engine
    (and a `datasets` reader) does. pyarrow records the Arrow schema in each file's footer;
    the driver reads it there: metadata only, no rows.
    """
    changes = {}
    for config, schema in expected.items():
        for relative in files[config]:
            stored = folder.arrow_schema(relative)
            for field in schema if stored is not None else ():
                index = stored.get_field_index(field.name)
                if field.type in suites.TYPE_NAMES and index >= 0 and stored.field(index).type != field.type:
                    changes.setdefault(f"{config}.{field.name}.type", str(stored.field(index).type))
    return changes


def _with_hidden_types(outcomes: tuple[Outcome, ...], suite: dict, hidden: dict[str, str]) -> tuple[Outcome, ...]:
    """A type check Spark passed fails when the file's Arrow schema shows the type it could not see."""
    type_lists = {e["meta"]["check"]: e["kwargs"].get("type_list") for e in suite["expectations"]}
    out = []
    for outcome in outcomes:
        if outcome.success and outcome.check in hidden:
            seen = f"type {hidden[outcome.check]}, expected one of {', '.join(type_lists[outcome.check])}"
            outcome = replace(outcome, success=False, observed=seen)
        out.append(outcome)
    return tuple(out)


def _read(spark, url: str, name: str, relative: list[str]):
    """A config's shards one after the other: a read of several files orders its splits by size, not name."""
    frames = []
    for file in relative:
        try:
            frames.append(spark.read.parquet(f"{url}/{file}"))
        except Exception as exc:  # Spark's analysis and execution errors share no narrower base class
            first = str(exc).strip().splitlines()[0]
            raise ReleaseError(f"{name}/{file}: cannot be read ({first}); nothing validated") from None
    return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


# -- the Spark engine ------------------------------------------------------------------


class SparkEngine(Engine):
    """Views computed by Spark and stored for the suite's queries; verdicts first, details for failures.

    On Spark each detail (counts, sample ids) is a query of its own, and a passing release needs none.
    """

    verdict_first = True

    def __init__(self, hidden_types: dict[str, str] | None = None):
        self.hidden_types = hidden_types or {}

    def data_source(self, context) -> object:
        # No persist: the views come stored (see _stored); the session is the active one, made before.
        return context.data_sources.add_spark(suites.DATASOURCE_NAME, persist=False)

    @contextmanager
    def frame(self, view) -> Iterator[tuple[object, int]]:
        with _stored(view) as stored:
            yield stored, stored.count()

    def parameters(self, dates: dict[str, str]) -> dict:
        return {k: dt.date.fromisoformat(v) for k, v in dates.items()}

    def adjust(self, found: tuple[Outcome, ...], suite: dict) -> tuple[Outcome, ...]:
        return _with_hidden_types(found, suite, self.hidden_types)


@contextmanager
def _stored(view):
    """The view computed once and kept for the suite's queries (in memory, spilling to disk), then freed.

    A local checkpoint, not a cache: each of Great Expectations' queries then plans from the
    stored rows instead of over the view's joins, which costs more than the query on small views.
    """
    context = view.sparkSession.sparkContext._jsc
    before = set(context.getPersistentRDDs().keys())
    try:
        yield view.localCheckpoint(eager=True)
    finally:
        for rdd_id, rdd in context.getPersistentRDDs().items():
            if rdd_id not in before:
                rdd.unpersist(False)
