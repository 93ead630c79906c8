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

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newscorpus.errors import InputError, LabelStudioError, Problem
from newscorpus.ingest import Article, sha256_text
from newscorpus.regions import Layers, convert_result
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


def export_paths(exports_dir: Path) -> list[Path]:
    return sorted(exports_dir.glob("*.json")) if exports_dir.is_dir() else []


def load_export(path: Path, name: str) -> list:
    """Parse one export file; its sha256 sidecar, when present, must still match."""
    raw = path.read_bytes()
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.exists():
        recorded = sidecar.read_text(encoding="utf-8").split()[:1]
        if recorded != [hashlib.sha256(raw).hexdigest()]:
            raise InputError(
                [
                    Problem(
                        name,
                        field="sha256",
                        message=f"the file no longer matches {sidecar.name}",
                        fix="exports are immutable: restore the file as downloaded, or pull a new export",
                    )
                ]
            )
    try:
        decoded = raw.decode("utf-8")
        tasks = json.loads(decoded)
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(name, message=f"not UTF-8 (byte {exc.start})", fix="download the export again")]
        ) from None
    except json.JSONDecodeError as exc:
        hint = "; the file ends too early (truncated download?)" if exc.pos >= len(decoded.rstrip()) else ""
        raise InputError(
            [
                Problem(
                    name,
                    message=f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}",
                    fix="download the export again (Label Studio native JSON)",
                )
            ]
        ) from None
    if not isinstance(tasks, list):
        raise InputError(
            [
                Problem(
                    name,
                    message=f"expected a JSON list of tasks, got {type(tasks).__name__}",
                    fix="export the project as Label Studio JSON (not JSON_MIN, CSV or a single task)",
                )
            ]
        )
    return tasks


def read_annotations(
    paths: list[Path], articles: dict[str, Article], schema: AnnotationSchema, relative
) -> tuple[dict[str, TaskAnnotations], ExportSummary]:
    """Convert every export; newest export first so that it wins for the documents it holds."""
    summary = ExportSummary(exports=[relative(p) for p in paths])
    problems: list[Problem] = []
    chosen: dict[str, TaskAnnotations] = {}
    claimed: set[str] = set()  # documents decided by a newer export (annotation used, or its problems)
    seen_docs: set[str] = set()
    only_cancelled: dict[str, Problem] = {}  # newest task of a document whose annotations are all cancelled
    for path in sorted(paths, reverse=True):
        name = relative(path)
        try:
            tasks = load_export(path, name)
        except InputError as exc:
            problems += exc.problems
            continue
        in_this_export: dict[str, int] = {}
        for index, task in enumerate(tasks):
            summary.tasks += 1
            doc_id = _task_doc_id(task, index, name, articles, in_this_export, problems)
            if doc_id is None:
                continue
            in_this_export[doc_id] = task["id"]
            seen_docs.add(doc_id)
            if doc_id in claimed:
                summary.superseded_tasks += 1
                continue
            outcome = _convert_task(task, name, doc_id, articles[doc_id], schema, summary, problems)
            if isinstance(outcome, Problem):
                only_cancelled.setdefault(doc_id, outcome)
            elif outcome is not None:
                claimed.add(doc_id)
                if outcome is not _REPORTED:
                    chosen[doc_id] = outcome
    for doc_id in sorted(seen_docs - claimed):
        if doc_id in only_cancelled:
            problems.append(only_cancelled[doc_id])
        else:
            summary.unannotated.append(doc_id)
    if problems:
        raise InputError(problems)
    summary.documents = len(chosen)
    summary.not_exported = sorted(set(articles) - seen_docs)
    return dict(sorted(chosen.items())), summary


_REPORTED = object()  # a submitted annotation whose problems are already reported


def _task_doc_id(task, index, name, articles, in_this_export, problems) -> str | None:
    if not isinstance(task, dict) or not isinstance(task.get("id"), int):
        problems.append(
            Problem(
                name,
                field=f"[{index}]",
                message="a task without an integer 'id'",
                fix="export the project as Label Studio JSON",
            )
        )
        return None
    task_id = task["id"]
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    doc_id = data.get("doc_id")

    def bad(field_name: str, message: str, fix: str) -> None:
        problems.append(
            Problem(
                name,
                task_id,
                doc_id=doc_id if isinstance(doc_id, str) else None,
                field=field_name,
                message=message,
                fix=fix,
            )
        )

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
            f"no article seeds/{doc_id}.txt for this doc_id",
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
    if text != article.text:
        hint = " (the task has CRLF line ends)" if text.replace("\r\n", "\n") == article.text else ""
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
    annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
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
            doc_id=doc_id,
            field="annotations",
            message=f"all {len(cancelled)} annotation(s) of the task are cancelled",
            fix="submit an annotation in Label Studio, or remove the article from seeds/",
        )
    best = adjudicate(submitted)
    summary.unused_submitted += len(submitted) - 1
    annotation_id = best.get("id")
    where = Problem(name, task_id, annotation_id if isinstance(annotation_id, int) else None, doc_id=doc_id)
    layers, found = convert_result(best.get("result"), article.text, schema, where)
    problems += found
    if found:
        return _REPORTED
    annotators = sorted({user_id(a.get("completed_by")) for a in submitted} - {None})
    return TaskAnnotations(doc_id, name, task_id, int(annotation_id or 0), tuple(annotators), layers)


def adjudicate(submitted: list[dict]) -> dict:
    """The submitted annotation the release uses (ADJUDICATION_RULE): ground truth, else the latest updated."""
    return max(submitted, key=lambda a: (bool(a.get("ground_truth")), str(a.get("updated_at") or ""), a.get("id", 0)))


def user_id(completed_by) -> int | None:
    # Label Studio writes an int, or an object with an id in some export paths; never keep the e-mail.
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("id")
    return completed_by if isinstance(completed_by, int) else None


def export_name(when: dt.datetime, project_id: int) -> str:
    return f"{when.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}-project-{project_id}.json"


def store_export(exports_dir: Path, raw: bytes, project_id: int, now: Callable[[], dt.datetime]) -> Path:
    """Write the export and its `<name>.sha256` beside it; never overwrite, names order by time (UTC)."""
    exports_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(raw).hexdigest()
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
