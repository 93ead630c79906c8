"""Articles + annotations -> an immutable release folder corpus/vX.Y.Z/.

The release is written into a temporary folder under an exclusive lock and
renamed into place only when complete; an existing version is never touched.
The same inputs give byte-identical files: rows are sorted, the Parquet writer
options are fixed and no file holds a wall-clock time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

import newscorpus
from newscorpus import card
from newscorpus.errors import ReleaseError
from newscorpus.ingest import Article, read_articles, seed_paths
from newscorpus.labelstudio import ExportSummary, TaskAnnotations, export_paths, read_annotations
from newscorpus.project import Project
from newscorpus.schema import CONFIGS, VERSION_PATTERN, AnnotationSchema
from newscorpus.validate import Validation, check_suites, gate

PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9, "use_dictionary": True, "write_statistics": True}
LOCK_NAME = ".build.lock"
TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class Release:
    version: str
    path: Path
    rows: dict[str, int]
    summary: ExportSummary
    validation: Validation | None = None


def data_file(config: str) -> str:
    """Path of a config's Parquet file inside the release (a pattern `load_dataset` also matches)."""
    return f"{config}/train-00000-of-00001.parquet"


def check_version(version: str) -> str:
    version = version.removeprefix("v")
    if not VERSION_PATTERN.match(version):
        raise ReleaseError(f"version {version!r} is not X.Y.Z (e.g. 0.1.0); see README: Versioning")
    return version


def build_release(project: Project, version: str, *, corpus_dir: Path | None = None) -> Release:
    """Build corpus/v<version>/ from seeds/ and annotation/exports/. Raises CorpusError; writes nothing then."""
    version = check_version(version)
    corpus_dir = corpus_dir or project.corpus_dir
    target = corpus_dir / f"v{version}"
    if target.exists():
        raise ReleaseError(
            f"{project.relative(target)} exists; releases are never overwritten: build a new version"
            " (see README: Versioning)"
        )
    schema = project.schema
    check_suites(project)  # the gate must be able to run before any work is done
    articles = read_articles(seed_paths(project.seeds_dir), relative=project.relative, language=schema.language)
    exports = export_paths(project.exports_dir)
    annotations, summary = read_annotations(exports, {a.doc_id: a for a in articles}, schema, project.relative)
    if not annotations:
        raise ReleaseError("no article has a submitted annotation in annotation/exports/; nothing to release")
    tables = make_tables(articles, annotations, schema)
    if not project.datacard_path.is_file():
        raise ReleaseError("DATACARD.md is missing; every release's README.md is rendered from it")
    datacard = project.datacard_path.read_text(encoding="utf-8")
    readme = (
        card.front_matter(schema, tables, {c: data_file(c) for c in CONFIGS}, version)
        + "\n"
        + card.render(datacard, {"statistics": card.statistics(schema, tables, version)})
    )
    inputs = [project.schema_path, project.datacard_path, *(p for p in seed_paths(project.seeds_dir)), *exports]
    corpus_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(corpus_dir):
        if target.exists():  # another build finished while we were converting
            raise ReleaseError(f"{project.relative(target)} was written by another build meanwhile; nothing written")
        tmp = corpus_dir / f"{TMP_PREFIX}v{version}-{os.getpid()}"
        try:
            validation = write_release(tmp, project, schema, version, tables, readme, summary, inputs)
            os.rename(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return Release(version, target, {c: tables[c].num_rows for c in CONFIGS}, summary, validation)


@contextlib.contextmanager
def _exclusive(corpus_dir: Path) -> Iterator[None]:
    """One writer at a time. flock dies with its process, so a killed build never leaves a stale lock."""
    with open(corpus_dir / LOCK_NAME, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReleaseError("another build holds the lock on corpus/; wait for it to finish") from None
        for leftover in corpus_dir.glob(f"{TMP_PREFIX}*"):  # from builds that were killed
            shutil.rmtree(leftover, ignore_errors=True)
        yield


def make_tables(
    articles: list[Article], annotations: dict[str, TaskAnnotations], schema: AnnotationSchema
) -> dict[str, pa.Table]:
    """One row per annotated article (documents), one per record in the flat configs."""
    schemas = schema.arrow_schemas()
    rows: dict[str, list[dict]] = {config: [] for config in CONFIGS}
    annotated = [a for a in articles if a.doc_id in annotations]
    for article in tqdm(annotated, desc="convert", unit="doc", disable=len(annotated) < 1000):
        task = annotations[article.doc_id]
        layers = {name: [asdict(x) for x in getattr(task.layers, name)] for name in ("entities", "events", "quotes")}
        rows["documents"].append(
            {
                "doc_id": article.doc_id,
                "published": article.published,
                "published_precision": article.published_precision,
                "language": article.language,
                "text": article.text,
                "text_sha256": article.text_sha256,
                "source_file": article.source_file,
                **layers,
                "ls_export": task.export_file,
                "ls_task_id": task.task_id,
                "ls_annotation_id": task.annotation_id,
                "annotator_ids": list(task.annotator_ids),
                "guideline_version": schema.guideline_version,
            }
        )
        for name, records in layers.items():
            rows[name] += [{"doc_id": article.doc_id, **record} for record in records]
    return {config: pa.Table.from_pylist(rows[config], schema=schemas[config]) for config in CONFIGS}


def write_release(
    folder: Path,
    project: Project,
    schema: AnnotationSchema,
    version: str,
    tables: dict[str, pa.Table],
    readme: str,
    summary: ExportSummary,
    inputs: list[Path],
) -> Validation:
    folder.mkdir(parents=True)
    for config in CONFIGS:
        path = folder / data_file(config)
        path.parent.mkdir()
        write_parquet(tables[config], path)
    (folder / "README.md").write_text(readme, encoding="utf-8")
    # The gate: the files just written, read back, must pass the suites before anything is published.
    validation = gate(project, {c: pq.read_table(folder / data_file(c)) for c in CONFIGS}, f"v{version}")
    manifest = {
        "name": "newscorpus",
        "version": version,
        "schema_version": schema.schema_version,
        "guideline_version": schema.guideline_version,
        "built_with": {"newscorpus": newscorpus.__version__, "pyarrow": pa.__version__},
        "inputs": [_file_entry(path, project.relative(path)) for path in sorted(inputs)],
        "outputs": [
            {**_file_entry(folder / name, name), **({"rows": tables[c].num_rows} if c else {})}
            for name, c in [(data_file(c), c) for c in CONFIGS] + [("README.md", None)]
        ],
        "annotation": summary.as_dict(),
        "validation": validation.summary(),
    }
    (folder / "manifest.json").write_text(manifest_text(manifest), encoding="utf-8")
    _fsync_tree(folder)
    return validation


def manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_parquet(table: pa.Table, path: Path) -> None:
    if table.num_rows:
        pq.write_table(table, path, **PARQUET_OPTIONS)
    else:
        # No row group at all: datasets cannot read a file whose first row group has 0 rows.
        pq.ParquetWriter(path, table.schema, **PARQUET_OPTIONS).close()


def _file_entry(path: Path, name: str) -> dict:
    data = path.read_bytes()
    return {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _fsync_tree(folder: Path) -> None:
    # Make the files durable before the rename publishes them.
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def release_versions(corpus_dir: Path) -> list[str]:
    """Committed releases, oldest first."""
    found = [p.name[1:] for p in corpus_dir.glob("v*") if p.is_dir() and re.match(r"^v\d+\.\d+\.\d+$", p.name)]
    return sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")))
