"""`newscorpus annotate pull`: the project's native JSON export into annotation/exports/, with its user record.

The export is stored untouched, with `<name>.sha256`, and beside it the user record
(`user_records`): the email of every Label Studio user the export names, asked from the server
at pull time. When the export equals the newest one stored for the same project, nothing is
written: a second copy would change nothing a build reads, and would make the newest export
of the project a file no release records (see `same_export` for what "equal" means).
Nothing is written to disk until a complete export is in memory.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newscorpus.errors import LabelStudioError
from newscorpus.files import bytes_sha256, file_sha256
from newscorpus.labelstudio.client import PROJECT_TITLE, Connection, connect, download_export, find_project, translated
from newscorpus.labelstudio.export_names import export_paths, is_export_name
from newscorpus.labelstudio.exports import store_export
from newscorpus.labelstudio.task_shape import user_id
from newscorpus.labelstudio.user_records import record_path, write_record
from newscorpus.project import Project


@dataclass(frozen=True)
class PullResult:
    project_id: int
    title: str
    path: Path  # the export written, or the stored one the project's export equals
    sha256: str
    tasks: int
    submitted: int
    multi_annotated: int
    drafts: int
    unchanged: bool = False  # nothing written: the export equals `path`
    record: Path | None = None  # the user record written (None: none written)
    users: int = 0
    unknown_users: tuple[int, ...] = field(default_factory=tuple)

    def lines(self, relative: Callable[[Path], str]) -> list[str]:
        head = (
            f"pulled project {self.project_id} ({self.title!r}): {self.tasks} task(s), {self.submitted} submitted"
            f" annotation(s), {self.multi_annotated} task(s) with several annotators, {self.drafts} draft(s)"
        )
        if self.unchanged:
            out = [
                head,
                f"nothing written: the export equals {relative(self.path)}, the newest stored for project"
                f" {self.project_id}",
            ]
            if self.record is not None:
                out.append(f"wrote {relative(self.record)}, the user record that export lacked ({self.users} user(s))")
        else:
            out = [head, f"wrote {relative(self.path)} (sha256 {self.sha256[:12]}...)"]
            if self.record is not None:
                out.append(f"wrote {relative(self.record)}: the email of each of its {self.users} user(s)")
        if self.unknown_users:
            ids = ", ".join(str(u) for u in self.unknown_users)
            out.append(
                f"warning: the server does not list user(s) {ids}, whom the export names; a build with a roster"
                " cannot resolve their annotations"
            )
        return out


def checked_label_config(project: Project) -> str:
    """The schema's labeling config, which annotation/label_config.xml must hold (committed)."""
    config = project.schema.label_config()
    path = project.label_config_path
    if not path.is_file() or path.read_text(encoding="utf-8") != config:
        raise LabelStudioError(
            f"{project.relative(path)} is out of date with schemas/annotation.yaml; run `newscorpus schema --write`"
            " and commit it first"
        )
    return config


def pull(
    project: Project,
    connection: Connection,
    *,
    title: str = PROJECT_TITLE,
    project_id: int | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> PullResult:
    """Download the project's native JSON export (all tasks) into annotation/exports/, untouched, with its record."""
    config = checked_label_config(project)
    client = connect(connection)
    found = find_project(client, connection, title, project_id)
    if found is None:
        raise LabelStudioError(
            f"there is no project titled {title!r} at {connection.shown_url}; push first (`newscorpus annotate push`)"
            " or choose one with --project-id"
        )
    if (found.label_config or "").strip() != config.strip():
        raise LabelStudioError(
            f"the labeling config of project {found.id} ({found.title!r}) differs from schemas/annotation.yaml"
            f" {project.schema.schema_version}; run `newscorpus annotate push` to update it, then pull again"
        )
    raw = download_export(client, connection, found.id)
    try:
        tasks = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        tasks = None
    if not isinstance(tasks, list):
        raise LabelStudioError(f"the export of project {found.id} is not a JSON list of tasks; nothing was written")
    server_users = list_users(client, connection)
    named = export_user_ids(tasks)
    users = {uid: server_users[uid] for uid in named if uid in server_users}
    source = f"Label Studio at {connection.shown_url}, asked by `newscorpus annotate pull`"
    newest = newest_export(project.exports_dir, found.id)
    record = None
    if newest is not None and same_export(newest, raw, tasks):
        path, unchanged = newest, True
        if not record_path(newest).exists():
            record = write_record(newest, users, source)
    else:
        path, unchanged = store_export(project.exports_dir, raw, found.id, now), False
        record = write_record(path, users, source)
    annotations = [a for t in tasks for a in t.get("annotations") or [] if not a.get("was_cancelled")]
    several = sum(
        1 for t in tasks if len({_annotator(a) for a in t.get("annotations") or [] if not a.get("was_cancelled")}) > 1
    )
    return PullResult(
        project_id=found.id,
        title=found.title,
        path=path,
        sha256=bytes_sha256(raw),
        tasks=len(tasks),
        submitted=len(annotations),
        multi_annotated=several,
        drafts=sum(len(t.get("drafts") or []) for t in tasks),
        unchanged=unchanged,
        record=record,
        users=len(users),
        unknown_users=tuple(sorted(named - server_users.keys())),
    )


def list_users(client, connection: Connection) -> dict[int, str]:
    """Label Studio user id -> email (lower case), of every user the server lists."""
    with translated(connection, "list the users"):
        return {user.id: (user.email or "").lower() for user in client.users.list()}


def export_user_ids(tasks: list) -> set[int]:
    """Every user id an export names as the author (`completed_by`) of an annotation, cancelled or not."""
    found = set()
    for task in tasks:
        for annotation in task.get("annotations") or [] if isinstance(task, dict) else []:
            uid = _annotator(annotation) if isinstance(annotation, dict) else None
            if uid is not None:
                found.add(uid)
    return found


def newest_export(exports_dir: Path, project_id: int) -> Path | None:
    """The newest export stored for project `project_id` (by name: names order by time), if any."""
    mine = [
        p
        for p in export_paths(exports_dir)
        if is_export_name(p.name) and p.name.endswith(f"-project-{project_id}.json")
    ]
    return max(mine, default=None)


def same_export(stored: Path, raw: bytes, tasks: list) -> bool:
    """Whether a stored export holds the same content as a fresh one.

    The same bytes, or else the same JSON once parsed: objects compared without regard to key
    order and tasks by id without regard to their order. Neither key order nor task order is
    anything a build reads (tasks are found by doc_id), and Label Studio does not promise to
    keep either from one export to the next, so a difference in them alone is no change.
    A stored file that cannot be read counts as different (the new export is stored).
    """
    try:
        if stored.stat().st_size == len(raw) and file_sha256(stored) == bytes_sha256(raw):
            return True
        previous = json.loads(stored.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    if not isinstance(previous, list):
        return False
    if previous == tasks:  # lists of dicts: key order does not count
        return True
    keyed = _by_id(previous)
    return keyed is not None and keyed == _by_id(tasks)


def _by_id(tasks: list) -> dict | None:
    """Tasks by id, when every task is an object with its own integer id; else None."""
    if not all(isinstance(task, dict) and type(task.get("id")) is int for task in tasks):
        return None
    keyed = {task["id"]: task for task in tasks}
    return keyed if len(keyed) == len(tasks) else None


def _annotator(annotation: dict) -> int | None:
    return user_id(annotation.get("completed_by"))
