"""Articles + annotations -> an immutable release folder corpus/vX.Y.Z/.

The release is written into a temporary folder under an exclusive lock and
renamed into place only when complete; an existing version is never touched.
The same inputs give byte-identical files: documents are in doc_id order, the
Parquet layout (row groups, shards) and writer options are fixed and no file
holds a wall-clock time. The exports are streamed, so memory does not grow with
the number of documents (see shards.py for the layout, README: Scale).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

import newscorpus
from newscorpus import card, croissant, shards
from newscorpus.card_blocks import Snapshot
from newscorpus.diff import ReleaseDiff, diff_streams
from newscorpus.diff_render import render_changelog, summary_line
from newscorpus.errors import ReleaseError
from newscorpus.expectations import Validation, check_suites
from newscorpus.ingest import Article, Seed, read_seeds, seed_paths
from newscorpus.labelstudio import ExportConversion, ExportSummary, TaskAnnotations, export_paths
from newscorpus.project import Project
from newscorpus.schema import CONFIGS, VERSION_PATTERN, AnnotationSchema
from newscorpus.shards import MAX_SHARD_BYTES, ROW_GROUP_DOCS, ReleaseWriter, iter_batches, shard_name
from newscorpus.tables import make_tables
from newscorpus.validate import gate

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
    """Path of a config's Parquet file in a release of one shard (the usual case below the shard size)."""
    return shard_name(config, 0, 1)


def check_version(version: str) -> str:
    version = version.removeprefix("v")
    if not VERSION_PATTERN.match(version):
        raise ReleaseError(f"version {version!r} is not X.Y.Z (e.g. 0.1.0); see README: Versioning")
    return version


def build_release(
    project: Project,
    version: str,
    *,
    corpus_dir: Path | None = None,
    history_dir: Path | None = None,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> Release:
    """Build corpus/v<version>/ from seeds/ and annotation/exports/. Raises CorpusError; writes no release then.

    The exports are streamed: tasks are converted and written in batches into a temporary
    folder, which becomes the release only when every export was converted without a problem
    and the written files pass the validation gate; otherwise it is deleted, and a failed or
    refused build leaves the corpus folder as it found it.

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
    seeds = read_seeds(seed_paths(project.seeds_dir), relative=project.relative, language=schema.language)
    exports = export_paths(project.exports_dir)
    if not project.datacard_path.is_file():
        raise ReleaseError("DATACARD.md is missing; every release's README.md is rendered from it")
    datacard = project.datacard_path.read_text(encoding="utf-8")
    extras = {card.LICENSE_FILE: card.license_text(datacard), GUIDELINES: _read_guidelines(project)}
    earlier = card.committed_snapshots(history_dir or corpus_dir, below=version)
    inputs = [project.schema_path, project.datacard_path, *seed_paths(project.seeds_dir), *exports]
    inputs.append(project.root / GUIDELINES)
    with _exclusive(corpus_dir):
        if target.exists():  # another build finished while we were converting
            raise ReleaseError(f"{project.relative(target)} was written by another build meanwhile; nothing written")
        tmp = corpus_dir / f"{TMP_PREFIX}v{version}-{os.getpid()}"
        try:
            tmp.mkdir()
            conversion = ExportConversion(exports, seeds, schema, project.relative)
            files = write_documents(tmp, conversion, seeds, schema, max_shard_bytes)
            summary = conversion.finish()  # every problem of every export, or the summary
            del conversion, seeds  # what the conversion kept per document, not to be held through the gate
            if not summary.documents:
                raise ReleaseError("no article has a submitted annotation in annotation/exports/; nothing to release")
            layout = {"max_shard_bytes": max_shard_bytes, "documents_per_row_group": shards.ROW_GROUP_DOCS}
            previous = earlier[-1] if earlier else None
            changes = diff_streams(
                previous.version if previous else None,
                iter_batches(previous.path, "documents") if previous else iter(()),
                version,
                iter_batches(tmp, "documents"),
            )
            release = Snapshot(version, path=tmp, summary=summary_line(changes))
            readme = card.release_readme(schema, release, datacard, earlier)
            validation = write_release(
                tmp, project, schema, version, files, readme, summary, inputs,
                {**extras, CHANGELOG: render_changelog(changes)}, datacard, changes, layout,
            )  # fmt: skip
            rows = {c: release.rows(c) for c in CONFIGS}
            os.rename(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return Release(version, target, rows, summary, validation)


BATCH_DOCS = ROW_GROUP_DOCS  # documents converted at a time: the build's working set


def write_documents(
    folder: Path, conversion: ExportConversion, seeds: dict[str, Seed], schema: AnnotationSchema, max_bytes: int
) -> dict[str, list[str]]:
    """Convert the exports' documents in batches and write the release's Parquet files; returns them per config.

    Only one batch of tasks is in memory at once. Python's cyclic garbage collector is paused
    meanwhile: the conversion makes millions of short-lived objects and no cycles, and the
    collector's passes over them would cost more than the conversion itself.
    """
    writer = ReleaseWriter(folder, schema.arrow_schemas(), PARQUET_OPTIONS, max_bytes)
    batch: list[tuple[Article, TaskAnnotations]] = []
    with _collector_paused():
        for task, text in tqdm(conversion, desc="convert", unit="doc", disable=None):
            batch.append((seeds[task.doc_id].article(text, schema.language), task))
            if len(batch) == BATCH_DOCS:
                writer.add(_batch_tables(batch, schema))
                batch = []
        if batch:
            writer.add(_batch_tables(batch, schema))
        return writer.close()


def _batch_tables(batch: list[tuple[Article, TaskAnnotations]], schema: AnnotationSchema) -> dict[str, pa.Table]:
    batch.sort(key=lambda pair: pair[0].doc_id)
    return make_tables([a for a, _ in batch], {t.doc_id: t for _, t in batch}, schema)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _exclusive(corpus_dir: Path) -> Iterator[None]:
    """One writer at a time. flock dies with its process, so a killed build never leaves a stale lock.

    The lock file exists only while a build holds it: the holder removes it (and the corpus
    folder, if the build created it and left it empty) before letting go, so a refused or
    failed build leaves corpus/ as it was. A build that opened the lock file just before its
    holder removed it would lock a file no one else sees: it checks and opens the name again.
    """
    created = not corpus_dir.exists()
    path = corpus_dir / LOCK_NAME
    while True:
        corpus_dir.mkdir(parents=True, exist_ok=True)
        try:
            handle = open(path, "a+b")  # noqa: SIM115 (closed when the lock is let go)
        except FileNotFoundError:  # the folder was removed by a build that created it and failed
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ReleaseError("another build holds the lock on corpus/; wait for it to finish") from None
        if _names(handle, path):
            break
        handle.close()
    try:
        for leftover in corpus_dir.glob(f"{TMP_PREFIX}*"):  # from builds that were killed
            shutil.rmtree(leftover, ignore_errors=True)
        yield
    finally:
        # Removed while still locked: a build that opened it meanwhile then sees another file, or none, at the name.
        path.unlink(missing_ok=True)
        handle.close()
        if created:
            with contextlib.suppress(OSError):  # not empty: a release was written, or another build is there
                corpus_dir.rmdir()


def _names(handle, path: Path) -> bool:
    """Is the open file still the one at `path`?"""
    try:
        return os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False


def write_release(
    folder: Path,
    project: Project,
    schema: AnnotationSchema,
    version: str,
    files: dict[str, list[str]],
    readme: str,
    summary: ExportSummary,
    inputs: list[Path],
    extras: dict[str, str],
    datacard: str,
    changes: ReleaseDiff,
    layout: dict,
) -> Validation:
    """Everything beside the Parquet files (already in `folder`), the gate on those files, the manifest last."""
    (folder / "README.md").write_text(readme, encoding="utf-8")
    written = [(name, c) for c in CONFIGS for name in files[c]] + [("README.md", None)]
    for name, text in sorted(extras.items()):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
        written.append((name, None))
    text = croissant.for_release(folder, schema, version, files, datacard)
    (folder / croissant.FILE_NAME).write_text(text, encoding="utf-8")
    written.append((croissant.FILE_NAME, None))
    # The gate: the files just written, read back, must pass the suites before anything is published.
    validation = gate(project, folder, files, f"v{version}")
    manifest = {
        "name": "newscorpus",
        "version": version,
        "schema_version": schema.schema_version,
        "guideline_version": schema.guideline_version,
        "built_with": {"newscorpus": newscorpus.__version__, "pyarrow": pa.__version__},
        "layout": layout,
        "changes": _changes_entry(changes),
        "inputs": [_input_entry(project, path) for path in sorted(inputs)],
        "outputs": [
            {**_file_entry(folder / name, name), **({"rows": _parquet_rows(folder / name)} if c else {})}
            for name, c in written
        ],
        "annotation": summary.as_dict(),
        "validation": validation.summary(),
    }
    (folder / "manifest.json").write_text(manifest_text(manifest), encoding="utf-8")
    _fsync_tree(folder)
    return validation


def manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _parquet_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


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
    size, digest = croissant.file_digest(path)
    return {"path": name, "sha256": digest, "bytes": size}


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
