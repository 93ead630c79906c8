"""Label Studio native JSON exports -> one chosen, checked annotation per document.

Exports in annotation/exports/ are immutable snapshots; their names order by
time, and for each document the newest export in which its task has a submitted
annotation wins (a newer project where the task is still open does not hide older
work). Within a task
the annotation marked ground truth wins, else the most recently updated
submitted one. Everything not used is counted in the summary, never dropped
silently.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from newscorpus.errors import InputError, LabelStudioError, Location, Problem
from newscorpus.files import bytes_sha256
from newscorpus.ingest import sha256_text
from newscorpus.labelstudio.export_file import check_path, check_sidecar, iter_tasks, load_whole
from newscorpus.labelstudio.export_names import export_name
from newscorpus.labelstudio.export_names import export_paths as export_paths
from newscorpus.labelstudio.records import Layers
from newscorpus.labelstudio.regions import convert_result
from newscorpus.labelstudio.roster import Attribution
from newscorpus.labelstudio.task_shape import MAX_ID, checked_annotations, describe, describe_value, is_id
from newscorpus.labelstudio.task_shape import user_id as user_id
from newscorpus.labelstudio.visible import visible
from newscorpus.schema import AnnotationSchema

ADJUDICATION_RULE = (
    "per document, the newest export in which its task has a submitted annotation; within that task,"
    " the submitted annotation marked"
    " ground truth, else the most recently updated submitted (not cancelled) annotation"
)


@dataclass(frozen=True)
class TaskAnnotations:
    doc_id: str
    export_file: str
    task_id: int
    annotation_id: int
    annotator_ids: tuple[int, ...]  # everyone who submitted an annotation for the task
    layers: Layers
    annotators: tuple[str, ...] = ()  # their roster codes (`roster`); empty when the project has no roster


@dataclass
class ExportSummary:
    exports: list[str] = field(default_factory=list)
    tasks: int = 0
    documents: int = 0
    superseded_tasks: int = 0
    unannotated: list[str] = field(default_factory=list)
    not_exported: list[str] = field(default_factory=list)
    unused_submitted: int = 0
    cancelled: int = 0
    drafts: int = 0
    predictions: int = 0

    def as_dict(self) -> dict:
        return {
            "exports": self.exports,
            "tasks": self.tasks,
            "documents": self.documents,
            "superseded_tasks": self.superseded_tasks,
            "unannotated_documents": sorted(self.unannotated),
            "documents_in_no_export": sorted(self.not_exported),
            "unused_submitted_annotations": self.unused_submitted,
            "cancelled_annotations": self.cancelled,
            "drafts": self.drafts,
            "predictions": self.predictions,
            "adjudication": ADJUDICATION_RULE,
        }

    def lines(self) -> list[str]:
        out = [
            f"read {len(self.exports)} export(s), {self.tasks} task(s): {self.documents} document(s) annotated",
            f"not used: {self.unused_submitted} other submitted annotation(s), {self.cancelled} cancelled,"
            f" {self.drafts} draft(s), {self.predictions} prediction(s), {self.superseded_tasks} task(s)"
            " superseded by a newer export",
        ]
        if self.unannotated:
            out.append(f"left out, no submitted annotation yet: {', '.join(sorted(self.unannotated))}")
        if self.not_exported:
            out.append(f"left out, in no export yet: {', '.join(sorted(self.not_exported))}")
        return out


def load_export(path: Path, name: str) -> list:
    """Parse one whole export (for small files; the build streams with `iter_tasks`)."""
    check_path(path, name)
    check_sidecar(path, name)
    return load_whole(path, name)


class ArticleLike(Protocol):
    text_sha256: str
    source_file: str


class ExportConversion:
    """Every export, newest first, one task at a time: yields each document's chosen annotation as it is decided.

    A document is decided by the newest export in which its task has a submitted annotation,
    so a document is yielded once, in the order the exports hold the tasks (newest export
    first). Problems are collected across every export and raised by `finish()`, sorted;
    whoever consumes the documents must discard them then. Only small per-document state
    (ids) is kept, never a task once it is converted.
    """

    def __init__(
        self,
        paths: list[Path],
        articles: Mapping[str, ArticleLike],
        schema: AnnotationSchema,
        relative,
        attribution: Attribution | None = None,
    ):
        self.paths = sorted(paths, reverse=True)
        self.attribution = attribution  # with a roster: every chosen task's annotators resolved to codes
        self.articles = articles
        self.schema = schema
        self.relative = relative
        self.summary = ExportSummary(exports=[relative(p) for p in paths])
        self.problems: list[Problem] = []
        self.claimed: set[str] = set()  # decided by a newer export (annotation used, or its problems reported)
        self.seen: set[str] = set()
        self.only_cancelled: dict[str, Problem] = {}  # newest task of a document whose annotations are all cancelled
        self.chosen = 0

    def __iter__(self) -> Iterator[tuple[TaskAnnotations, str]]:
        """(the chosen annotation, the task's text) per decided document; the text is the seed's (checked)."""
        for path in self.paths:
            # named by its folder: a link is not followed, and an odd name (a newline in it) is shown escaped
            name = f"{self.relative(path.parent)}/{visible(path.name)}"
            # A file that turns out unreadable half-way counts for nothing: its partial state is rolled back.
            problems_before = len(self.problems)
            claimed_here: list[str] = []
            seen_here: list[str] = []
            cancelled_here: list[str] = []
            in_this_export: dict[str, int] = {}
            try:
                for index, task in enumerate(iter_tasks(path, name)):
                    self.summary.tasks += 1
                    doc_id = _checked_doc_id(task, index, name, self.articles, in_this_export, self.problems)
                    if doc_id is None:
                        continue
                    in_this_export[doc_id] = task["id"]
                    if doc_id not in self.seen:
                        self.seen.add(doc_id)
                        seen_here.append(doc_id)
                    if doc_id in self.claimed:
                        self.summary.superseded_tasks += 1
                        continue
                    article = self.articles[doc_id]
                    outcome = _convert_task(task, name, doc_id, article, self.schema, self.summary, self.problems)
                    if isinstance(outcome, TaskAnnotations) and self.attribution is not None:
                        outcome = self._attributed(outcome, task, path)
                    if isinstance(outcome, Problem):
                        if doc_id not in self.only_cancelled:
                            self.only_cancelled[doc_id] = outcome
                            cancelled_here.append(doc_id)
                    elif outcome is not None:
                        self.claimed.add(doc_id)
                        claimed_here.append(doc_id)
                        if outcome is not _REPORTED:
                            self.chosen += 1
                            yield outcome, task["data"]["text"]
            except InputError as exc:
                del self.problems[problems_before:]
                self.problems += exc.problems
                self.claimed.difference_update(claimed_here)
                self.seen.difference_update(seen_here)
                for doc_id in cancelled_here:
                    del self.only_cancelled[doc_id]

    def _attributed(self, chosen: TaskAnnotations, task: dict, path: Path):
        """The chosen annotation with its annotators' roster codes, or _REPORTED with the problems recorded."""
        submitted = [a for a in task["annotations"] if not a.get("was_cancelled")]
        doc_id = visible(chosen.doc_id)
        codes, problems = self.attribution.codes(path, chosen.export_file, chosen.task_id, doc_id, submitted)
        if problems:
            self.problems += problems
            return _REPORTED
        return dataclasses.replace(chosen, annotators=codes)

    def finish(self) -> ExportSummary:
        """After iterating: raise InputError with every problem found, or return the summary."""
        for doc_id in sorted(self.seen - self.claimed):
            if doc_id in self.only_cancelled:
                self.problems.append(self.only_cancelled[doc_id])
            else:
                self.summary.unannotated.append(doc_id)
        if self.problems:
            raise InputError(self.problems)
        self.summary.documents = self.chosen
        self.summary.not_exported = sorted(set(self.articles) - self.seen)
        return self.summary


def read_annotations(
    paths: list[Path],
    articles: Mapping[str, ArticleLike],
    schema: AnnotationSchema,
    relative,
    attribution: Attribution | None = None,
) -> tuple[dict[str, TaskAnnotations], ExportSummary]:
    """Every document's chosen annotation, by doc_id (for callers that want them all at once)."""
    conversion = ExportConversion(paths, articles, schema, relative, attribution)
    chosen = {task.doc_id: task for task, _ in conversion}
    summary = conversion.finish()
    return dict(sorted(chosen.items())), summary


_REPORTED = object()  # a submitted annotation whose problems are already reported


def _checked_doc_id(task, index, name, articles, in_this_export, problems) -> str | None:
    """The task's doc_id if the task is well-formed and its text is its seed's; else None, with the
    reasons added to `problems` (a task that is not an object, without id, data, text or doc_id, for
    an unknown or repeated doc_id, or whose text differs from the seed's)."""
    if not isinstance(task, dict) or not is_id(task.get("id")):
        got = f"'id' {describe_value(task.get('id'))}" if isinstance(task, dict) else describe(task)
        problems.append(
            Problem(
                name,
                field=f"[{index}]",
                message=f"expected a task object with an integer 'id' from 0 to {MAX_ID}, got {got}",
                fix="export the project as Label Studio JSON",
            )
        )
        return None
    task_id = task["id"]
    data = task.get("data")
    doc_id = data.get("doc_id") if isinstance(data, dict) else None

    def bad(field_name: str, message: str, fix: str) -> None:
        problems.append(
            Problem(
                name,
                task_id,
                doc_id=visible(doc_id) if isinstance(doc_id, str) else None,
                field=field_name,
                message=message,
                fix=fix,
            )
        )

    if not isinstance(data, dict):
        got = "no 'data'" if "data" not in task else describe(data)
        bad("data", f"expected an object with doc_id and text, got {got}", "import tasks with newscorpus annotate push")
        return None
    if not isinstance(data.get("text"), str):
        bad(
            "data.text",
            "the task has no text",
            "import tasks with data.doc_id and data.text (newscorpus annotate push)",
        )
    if not isinstance(doc_id, str) or not doc_id:
        bad("data.doc_id", "the task has no doc_id", "import tasks with data.doc_id (newscorpus annotate push)")
        return None
    if doc_id not in articles:
        bad(
            "data.doc_id",
            f"no article seeds/{visible(doc_id)}.txt for this doc_id",
            "add the article to seeds/ or delete the task in Label Studio",
        )
        return None
    if doc_id in in_this_export:
        bad(
            "data.doc_id",
            f"doc_id is also on task {in_this_export[doc_id]}",
            "keep one task per article: delete the duplicate task in Label Studio",
        )
        return None
    if not isinstance(data.get("text"), str):
        return None
    text, article = data["text"], articles[doc_id]
    # The seed's checksum stands for its text, so that no seed text has to stay in memory.
    if sha256_text(text) != article.text_sha256:
        crlf = "\r\n" in text and sha256_text(text.replace("\r\n", "\n")) == article.text_sha256
        hint = " (the task has CRLF line ends)" if crlf else ""
        bad(
            "data.text",
            f"task text (sha256 {sha256_text(text)[:12]}) differs from {article.source_file}"
            f" (sha256 {article.text_sha256[:12]}){hint}",
            "re-import the article as it is in seeds/, or restore the seed file",
        )
        return None
    return doc_id


def _convert_task(task, name, doc_id, article, schema, summary, problems):
    """The task's chosen annotation; a Problem when all are cancelled; None when there is none yet."""
    task_id = task["id"]
    annotations, malformed = checked_annotations(task, Location(name, task_id, doc_id=visible(doc_id)))
    if malformed:
        problems += malformed
        return _REPORTED  # decided here: an older export must not stand in for a broken one
    summary.drafts += len(task.get("drafts") or [])
    summary.predictions += len(task.get("predictions") or [])
    cancelled = [a for a in annotations if a.get("was_cancelled")]
    submitted = [a for a in annotations if not a.get("was_cancelled")]
    summary.cancelled += len(cancelled)
    if not submitted:
        if not cancelled:
            return None
        return Problem(
            name,
            task_id,
            doc_id=visible(doc_id),
            field="annotations",
            message=f"all {len(cancelled)} annotation(s) of the task are cancelled",
            fix="submit an annotation in Label Studio, or remove the article from seeds/",
        )
    best = adjudicate(submitted)
    summary.unused_submitted += len(submitted) - 1
    annotation_id = best["id"]
    where = Location(name, task_id, annotation_id, doc_id=visible(doc_id))
    layers, found = convert_result(best.get("result"), task["data"]["text"], schema, where)
    problems += found
    if found:
        return _REPORTED
    annotators = sorted({user_id(a.get("completed_by")) for a in submitted} - {None})
    return TaskAnnotations(doc_id, name, task_id, annotation_id, tuple(annotators), layers)


def adjudicate(submitted: list[dict]) -> dict:
    """The submitted annotation the release uses (ADJUDICATION_RULE): ground truth, else the latest updated."""
    return max(submitted, key=lambda a: (bool(a.get("ground_truth")), str(a.get("updated_at") or ""), a.get("id", 0)))


def store_export(exports_dir: Path, raw: bytes, project_id: int, now: Callable[[], dt.datetime]) -> Path:
    """Write the export and its `<name>.sha256` beside it; never overwrite, names order by time (UTC)."""
    exports_dir.mkdir(parents=True, exist_ok=True)
    digest = bytes_sha256(raw)
    for _ in range(3):
        name = export_name(now(), project_id)
        target = exports_dir / name
        tmp = exports_dir / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(raw)
        try:
            os.link(tmp, target)  # fails if the name exists: an earlier export is never replaced
        except FileExistsError:
            time.sleep(1.0)  # a pull in the same second: the next second gives a new, later name
            continue
        finally:
            tmp.unlink(missing_ok=True)
        sidecar = target.with_name(name + ".sha256")
        sidecar_tmp = exports_dir / f".{sidecar.name}.{os.getpid()}.tmp"
        sidecar_tmp.write_text(f"{digest}  {name}\n", encoding="utf-8")
        os.replace(sidecar_tmp, sidecar)
        return target
    raise LabelStudioError(f"{exports_dir.name}/ already holds exports named for this second; pull again")
