"""Articles + annotations -> an immutable release folder corpus/vX.Y.Z/.

The release is written into a temporary folder under an exclusive lock and
renamed into place only when complete; an existing version is never touched.
The same inputs give byte-identical files: documents are in doc_id order, the
Parquet layout (row groups, shards) and writer options are fixed and no file
holds a wall-clock time. The exports are streamed, so memory does not grow with
the number of documents (see release/shards.py for the layout, docs/scale.md).
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout
from tqdm import tqdm

import newscorpus
from newscorpus.build.derived_tables import add_derived_tables, tag_ids, token_inputs
from newscorpus.build.segment_ahead import SegmentAhead
from newscorpus.build.tables import make_tables
from newscorpus.card import croissant
from newscorpus.card.blocks import Snapshot
from newscorpus.card.datacard import LICENSE_FILE, input_entry, license_text
from newscorpus.card.figures import figure_files
from newscorpus.card.render import committed_snapshots, release_readme
from newscorpus.errors import ReleaseError
from newscorpus.ingest import Article, Seed, read_seeds, seed_paths
from newscorpus.labelstudio.exports import ExportConversion, ExportSummary, TaskAnnotations, export_paths
from newscorpus.labelstudio.roster import Attribution, read_roster, roster_path
from newscorpus.labelstudio.user_records import record_path
from newscorpus.project import Project
from newscorpus.release import formats, shards
from newscorpus.release.changelog import render_changelog, summary_line
from newscorpus.release.diff import ReleaseDiff, diff_streams
from newscorpus.release.manifest import (
    MANIFEST_NAME,
    check_version,
    file_entry,
    format_for,
    manifest_text,
    read_manifest,
    release_format,
    release_versions,
)
from newscorpus.release.shards import MAX_SHARD_BYTES, ReleaseWriter, iter_batches
from newscorpus.schema import AnnotationSchema
from newscorpus.segment import SEGMENTER, segmenter_version
from newscorpus.validation.expectations import Validation, check_suites
from newscorpus.validation.pandas_engine import gate
from newscorpus.validation.view_specs import DATA_GATE

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
    previous_version: str | None = None  # the release this one is compared with (CHANGELOG.md)
    changed_documents: tuple[str, ...] = ()  # documents of that release whose annotation changed

    def changes_line(self) -> str | None:
        """The build summary's line naming every released document whose annotation changed."""
        if self.previous_version is None:
            return None
        if not self.changed_documents:
            return f"no document released in v{self.previous_version} has a changed annotation"
        return (
            f"annotation changed in {len(self.changed_documents)} document(s) released in v{self.previous_version}:"
            f" {', '.join(self.changed_documents)}"
        )


def build_release(
    project: Project,
    version: str,
    *,
    corpus_dir: Path | None = None,
    history_dir: Path | None = None,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    gate_suites: Sequence[str] = DATA_GATE,
    release_format: int | None = None,
) -> Release:
    """Build corpus/v<version>/ from seeds/ and annotation/exports/. Raises CorpusError; writes no release then.

    The exports are streamed: tasks are converted and written in batches into a temporary
    folder, which becomes the release only when every export was converted without a problem
    and the written files pass the validation gate; otherwise it is deleted, and a failed or
    refused build leaves the corpus folder as it found it.

    The releases before this version in `history_dir` (default: the corpus folder written to) feed the
    card's figures per release and CHANGELOG.md, which compares this release with the one just before it.
    `gate_suites` are the suites the gate runs and the manifest records: `newscorpus build` passes every
    suite of the gate (view_specs.GATE_SUITES, the guidelines' quality rules included); a rebuild runs those
    its release's gate ran (reproduce), not the ones added since; the default leaves the quality rules out.
    `release_format` (see release/manifest.py) defaults to the version's format given the releases in
    `history_dir`: a patch keeps its line's format, a new minor or major version gets the current one.
    `reproduce` passes the format the release records.
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
    extras = {LICENSE_FILE: license_text(datacard), GUIDELINES: _read_guidelines(project)}
    earlier = committed_snapshots(history_dir or corpus_dir, below=version)
    if release_format is None:
        release_format = format_for(version, _formats(history_dir or corpus_dir))
    inputs = [project.schema_path, project.datacard_path, *seed_paths(project.seeds_dir), *exports]
    inputs.append(project.root / GUIDELINES)
    roster = read_roster(project)
    if roster is not None:  # annotators resolved to codes; the roster and the user records become inputs
        inputs += [roster_path(project), *(r for e in exports if (r := record_path(e)).is_file())]
    if release_format >= 2:  # the label inventory, shipped with the data
        extras[formats.SCHEMA_FILE] = project.schema_path.read_text(encoding="utf-8")
    try:
        with _exclusive(corpus_dir):
            if target.exists():  # another build finished while we were converting
                raise ReleaseError(
                    f"{project.relative(target)} was written by another build meanwhile; nothing written"
                )
            tmp = corpus_dir / f"{TMP_PREFIX}v{version}-{os.getpid()}"
            try:
                tmp.mkdir()
                attribution = Attribution(roster) if roster is not None else None
                conversion = ExportConversion(exports, seeds, schema, project.relative, attribution)
                files = write_documents(tmp, conversion, seeds, schema, max_shard_bytes, release_format)
                summary = conversion.finish()  # every problem of every export, or the summary
                del conversion, seeds  # what the conversion kept per document, not to be held through the gate
                if not summary.documents:
                    raise ReleaseError(
                        "no article has a submitted annotation in annotation/exports/; nothing to release"
                    )
                # Read at build time: the row group size the writer used (shards.ROW_GROUP_DOCS).
                layout = {"max_shard_bytes": max_shard_bytes, "documents_per_row_group": shards.ROW_GROUP_DOCS}
                previous = earlier[-1] if earlier else None
                changes = diff_streams(
                    previous.version if previous else None,
                    iter_batches(previous.path, "documents") if previous else iter(()),
                    version,
                    iter_batches(tmp, "documents"),
                )
                release = Snapshot(version, path=tmp, summary=summary_line(changes))
                extras |= figure_files(schema, release, release_format)  # the card's figures (format 2 on)
                readme = release_readme(schema, release, datacard, earlier, release_format)
                validation = write_release(
                    tmp, project, schema, version, files, readme, summary, inputs,
                    {**extras, CHANGELOG: render_changelog(changes)}, datacard, changes, layout, gate_suites,
                    release_format,
                )  # fmt: skip
                rows = {c: release.rows(c) for c in formats.configs(release_format)}
                os.rename(tmp, target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:  # the disk is full, a file cannot be read or written: the folder is gone by now
        where = project.relative(Path(exc.filename)) if exc.filename else project.relative(corpus_dir)
        raise ReleaseError(f"{where}: {exc.strerror or exc}; nothing was written") from None
    changed = tuple(sorted({c.doc_id for c in changes.changes}))
    return Release(version, target, rows, summary, validation, changes.old_version, changed)


BATCH_DOCS = shards.ROW_GROUP_DOCS  # documents converted at a time: the build's working set


def _formats(corpus_dir: Path) -> dict[str, int]:
    """The format of each release in `corpus_dir`, by version."""
    return {v: release_format(read_manifest(corpus_dir / f"v{v}")) for v in release_versions(corpus_dir)}


def write_documents(
    folder: Path,
    conversion: ExportConversion,
    seeds: dict[str, Seed],
    schema: AnnotationSchema,
    max_bytes: int,
    release_format: int = formats.FIRST_FORMAT,
) -> dict[str, list[str]]:
    """Convert the exports' documents in batches and write the release's Parquet files; returns them per config.

    Two batches of tasks are in memory at once: one being converted, the one before waiting for
    its tokens config, which another core makes meanwhile (format 2, `segment_ahead`).
    Python's cyclic garbage collector is paused
    meanwhile: the conversion makes millions of short-lived objects and no cycles, and the
    collector's passes over them would cost more than the conversion itself.
    """
    arrow = formats.arrow_schemas(schema, release_format)
    writer = ReleaseWriter(folder, arrow, PARQUET_OPTIONS, max_bytes)
    batch: list[tuple[Article, TaskAnnotations]] = []
    waiting: list[tuple[Article, TaskAnnotations]] = []  # a full batch (format 2: its tokens made by `ahead`)
    tags = tag_ids(schema) if release_format >= 2 else {}
    with _collector_paused(), SegmentAhead() as ahead:
        for task, text in tqdm(conversion, desc="convert", unit="doc", disable=None):
            batch.append((seeds[task.doc_id].article(text, schema.language), task))
            if len(batch) == BATCH_DOCS:
                batch.sort(key=lambda pair: pair[0].doc_id)
                # The worker answers one batch at a time: the waiting batch's tokens come back first.
                tokens = ahead.result() if waiting and release_format >= 2 else None
                if release_format >= 2:
                    ahead.submit(token_inputs(batch), tags, arrow["tokens"])
                if waiting:
                    writer.add(_batch_tables(waiting, tokens, schema, arrow, release_format))
                waiting, batch = batch, []
        if waiting:
            tokens = ahead.result() if release_format >= 2 else None
            writer.add(_batch_tables(waiting, tokens, schema, arrow, release_format))
        if batch:
            writer.add(_batch_tables(batch, None, schema, arrow, release_format))
        return writer.close()


def _batch_tables(
    batch: list[tuple[Article, TaskAnnotations]],
    tokens: pa.Table | None,
    schema: AnnotationSchema,
    arrow: dict,
    release_format: int,
) -> dict[str, pa.Table]:
    batch.sort(key=lambda pair: pair[0].doc_id)
    articles, annotations = [a for a, _ in batch], {t.doc_id: t for _, t in batch}
    tables = make_tables(articles, annotations, schema)
    if release_format >= 2:
        tables = add_derived_tables(tables, articles, annotations, schema, arrow, tokens)
    return tables


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
    """One writer at a time, by an OS file lock (`filelock`): it dies with its process, so a killed
    build never blocks the next one.

    The lock file exists only while a build holds it: the holder removes it (and the corpus
    folder, if the build created it and left it empty) before letting go, so a refused or
    failed build leaves corpus/ as it was. (A lock taken on a file its holder had just removed
    is seen by `filelock` and taken again on the new file.)
    """
    created = not corpus_dir.exists()
    path = corpus_dir / LOCK_NAME
    lock = FileLock(path, timeout=0)
    try:
        corpus_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise ReleaseError("another build holds the lock on corpus/; wait for it to finish") from None
    except OSError as exc:  # a read-only or full file system, no permission
        if created:
            with contextlib.suppress(OSError):
                corpus_dir.rmdir()
        raise ReleaseError(
            f"cannot take the build lock {corpus_dir.name}/{LOCK_NAME} ({exc.strerror or exc});"
            " the corpus folder must be writable; nothing was written"
        ) from None
    try:
        for leftover in corpus_dir.glob(f"{TMP_PREFIX}*"):  # from builds that were killed
            shutil.rmtree(leftover, ignore_errors=True)
        yield
    finally:
        # Removed while still locked: a build that opened it meanwhile finds it gone and locks a new one.
        path.unlink(missing_ok=True)
        lock.release()
        if created:
            with contextlib.suppress(OSError):  # not empty: a release was written, or another build is there
                corpus_dir.rmdir()


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
    gate_suites: Sequence[str] = DATA_GATE,
    release_format: int = formats.FIRST_FORMAT,
) -> Validation:
    """Everything beside the Parquet files (already in `folder`), the gate on those files, the manifest last.

    Format 1's manifest has no "format" field and no segmenter: it stays what the first releases hold.
    """
    (folder / "README.md").write_text(readme, encoding="utf-8")
    written = [(name, c) for c in formats.configs(release_format) for name in files[c]] + [("README.md", None)]
    for name, text in sorted(extras.items()):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
        written.append((name, None))
    text = croissant.for_release(folder, schema, version, files, datacard, release_format)
    (folder / croissant.FILE_NAME).write_text(text, encoding="utf-8")
    written.append((croissant.FILE_NAME, None))
    # The gate: the files just written, read back, must pass the suites before anything is published.
    validation = gate(project, folder, files, f"v{version}", gate_suites)
    built_with = {"newscorpus": newscorpus.__version__, "pyarrow": pa.__version__}
    if release_format >= 2:  # the tokens config's offsets and tags depend on the segmenter's version
        built_with["segmenter"] = {SEGMENTER: segmenter_version()}
    manifest = {
        "name": "newscorpus",
        "version": version,
        **({"format": release_format} if release_format >= 2 else {}),
        "schema_version": schema.schema_version,
        "guideline_version": schema.guideline_version,
        "built_with": built_with,
        "layout": layout,
        "changes": _changes_entry(changes),
        "inputs": [_input_entry(project, path) for path in sorted(inputs)],
        "outputs": [
            {**file_entry(folder / name, name), **({"rows": _parquet_rows(folder / name)} if c else {})}
            for name, c in written
        ],
        "annotation": summary.as_dict(),
        "validation": validation.summary(),
    }
    (folder / MANIFEST_NAME).write_text(manifest_text(manifest), encoding="utf-8")
    _fsync_tree(folder)
    return validation


def _parquet_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def _changes_entry(changes: ReleaseDiff) -> dict:
    """What CHANGELOG.md details, in short: read back for the card's version history."""
    return {"since": changes.old_version, "summary": summary_line(changes), "counts": changes.counts}


def _input_entry(project: Project, path: Path) -> dict:
    if path == project.datacard_path:
        return input_entry(path, project.relative(path))
    return file_entry(path, project.relative(path))


def _read_guidelines(project: Project) -> str:
    path = project.root / GUIDELINES
    if not path.is_file():
        raise ReleaseError(f"{GUIDELINES} is missing; every release carries the guidelines it was annotated under")
    return path.read_text(encoding="utf-8")


def _fsync_tree(folder: Path) -> None:
    # Make the files durable before the rename publishes them.
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
