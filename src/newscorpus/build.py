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
from newscorpus import card, croissant
from newscorpus.diff import ReleaseDiff, diff_documents, render_changelog, summary_line
from newscorpus.errors import ReleaseError
from newscorpus.ingest import Article, read_articles, seed_paths
from newscorpus.labelstudio import ExportSummary, TaskAnnotations, export_paths, read_annotations
from newscorpus.project import Project
from newscorpus.schema import CONFIGS, VERSION_PATTERN, AnnotationSchema
from newscorpus.validate import Validation, check_suites, gate

PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9, "use_dictionary": True, "write_statistics": True}
LOCK_NAME = ".build.lock"
CHANGELOG = "CHANGELOG.md"
GUIDELINES = "annotation/GUIDELINES.md"
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


def build_release(
    project: Project, version: str, *, corpus_dir: Path | None = None, history_dir: Path | None = None
) -> Release:
    """Build corpus/v<version>/ from seeds/ and annotation/exports/. Raises CorpusError; writes nothing then.

    The releases before this version in `history_dir` (default: the corpus folder written to) feed the
    card's figures per release and CHANGELOG.md, which compares this release with the one just before it.
    """
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
    data_files = {c: data_file(c) for c in CONFIGS}
    earlier = card.committed_snapshots(history_dir or corpus_dir, below=version)
    previous = earlier[-1] if earlier else None
    documents = {row["doc_id"]: row for row in tables["documents"].to_pylist()}
    changes = diff_documents(
        previous.version if previous else None, previous.documents if previous else {}, version, documents
    )
    readme = card.release_readme(schema, version, tables, data_files, datacard, earlier, summary_line(changes))
    extras = {
        CHANGELOG: render_changelog(changes),
        card.LICENSE_FILE: card.license_text(datacard),
        GUIDELINES: _read_guidelines(project),
    }
    inputs = [project.schema_path, project.datacard_path, *(p for p in seed_paths(project.seeds_dir)), *exports]
    inputs.append(project.root / GUIDELINES)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(corpus_dir):
        if target.exists():  # another build finished while we were converting
            raise ReleaseError(f"{project.relative(target)} was written by another build meanwhile; nothing written")
        tmp = corpus_dir / f"{TMP_PREFIX}v{version}-{os.getpid()}"
        try:
            validation = write_release(
                tmp, project, schema, version, tables, readme, summary, inputs, extras, datacard, changes
            )
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
    extras: dict[str, str] | None = None,
    datacard: str | None = None,
    changes: ReleaseDiff | None = None,
) -> Validation:
    folder.mkdir(parents=True)
    for config in CONFIGS:
        path = folder / data_file(config)
        path.parent.mkdir()
        write_parquet(tables[config], path)
    (folder / "README.md").write_text(readme, encoding="utf-8")
    written = [(data_file(c), c) for c in CONFIGS] + [("README.md", None)]
    for name, text in sorted((extras or {}).items()):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
        written.append((name, None))
    if datacard is not None:  # after the Parquet files: it records their sha256
        text = croissant.for_release(folder, schema, version, {c: data_file(c) for c in CONFIGS}, datacard)
        (folder / croissant.FILE_NAME).write_text(text, encoding="utf-8")
        written.append((croissant.FILE_NAME, None))
    # The gate: the files just written, read back, must pass the suites before anything is published.
    validation = gate(project, {c: pq.read_table(folder / data_file(c)) for c in CONFIGS}, f"v{version}")
    manifest = {
        "name": "newscorpus",
        "version": version,
        "schema_version": schema.schema_version,
        "guideline_version": schema.guideline_version,
        "built_with": {"newscorpus": newscorpus.__version__, "pyarrow": pa.__version__},
        **({"changes": _changes_entry(changes)} if changes is not None else {}),
        "inputs": [_input_entry(project, path) for path in sorted(inputs)],
        "outputs": [
            {**_file_entry(folder / name, name), **({"rows": tables[c].num_rows} if c else {})} for name, c in written
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


def _changes_entry(changes: ReleaseDiff) -> dict:
    """What CHANGELOG.md details, in short: read back for the card's version history."""
    return {"since": changes.old_version, "summary": summary_line(changes), "counts": changes.counts}


def _input_entry(project: Project, path: Path) -> dict:
    if path == project.datacard_path:
        return card.input_entry(path, project.relative(path))
    return _file_entry(path, project.relative(path))


def _read_guidelines(project: Project) -> str:
    path = project.root / GUIDELINES
    if not path.is_file():
        raise ReleaseError(f"{GUIDELINES} is missing; every release carries the guidelines it was annotated under")
    return path.read_text(encoding="utf-8")


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
