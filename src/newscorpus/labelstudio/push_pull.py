"""`newscorpus annotate push` and `pull`: articles into a Label Studio project, its export back.

push creates or updates the project from the schema (refusing a config change that would
orphan existing work), keeps its instructions in step with annotation/GUIDELINES.md, and
imports every article that is not yet a task, with checked pre-annotations. pull stores the
project's native JSON export untouched in annotation/exports/. Nothing is written to disk
until a complete export is in memory.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newscorpus import schema as S
from newscorpus.errors import LabelStudioError, Location
from newscorpus.files import bytes_sha256
from newscorpus.ingest import Article, read_articles, seed_paths
from newscorpus.labelstudio import preannotate
from newscorpus.labelstudio.client import (
    PROJECT_TITLE,
    Connection,
    connect,
    download_export,
    find_project,
    project_tasks,
    translated,
)
from newscorpus.labelstudio.exports import store_export
from newscorpus.labelstudio.instructions import GUIDELINES, instructions_html
from newscorpus.project import Project

IMPORT_BATCH = 200  # tasks per import request


@dataclass
class PushResult:
    project_id: int
    title: str
    created: bool = False
    config_updated: bool = False
    instructions_updated: bool = False
    imported: list[str] = field(default_factory=list)
    already_tasks: int = 0
    predictions: int = 0
    rejected_predictions: list[str] = field(default_factory=list)
    differing_tasks: list[str] = field(default_factory=list)
    unknown_tasks: list[str] = field(default_factory=list)
    names_source: str = ""
    names: int = 0

    def lines(self) -> list[str]:
        where = f"project {self.project_id} ({self.title!r})"
        out = []
        if self.created:
            out.append(f"created {where} with the labeling config of the schema and {GUIDELINES} as instructions")
        if self.config_updated:
            out.append(f"updated the labeling config of {where} to the schema's")
        if self.instructions_updated:
            out.append(f"updated the instructions of {where} to {GUIDELINES}")
        if self.imported:
            out.append(
                f"imported {len(self.imported)} new task(s) into {where}, {self.predictions} with pre-annotations"
                f" ({preannotate.MODEL_VERSION}; {self.names} known name(s) from {self.names_source})"
            )
        else:
            out.append(f"nothing to import: all {self.already_tasks} article(s) of seeds/ are already tasks of {where}")
        for doc_id in self.rejected_predictions:
            out.append(f"imported without pre-annotation (it failed the checks): {doc_id}")
        for doc_id in self.differing_tasks:
            out.append(
                f"warning: the task of {doc_id} has a text that differs from its seed file; build will refuse it"
            )
        if self.unknown_tasks:
            out.append(
                f"warning: {len(self.unknown_tasks)} task(s) have no article in seeds/"
                f" ({', '.join(self.unknown_tasks)}); build will refuse them: add the articles or delete the tasks"
                " in Label Studio"
            )
        return out


@dataclass(frozen=True)
class PullResult:
    project_id: int
    title: str
    path: Path
    sha256: str
    tasks: int
    submitted: int
    multi_annotated: int
    drafts: int

    def lines(self, relative: Callable[[Path], str]) -> list[str]:
        return [
            f"pulled project {self.project_id} ({self.title!r}): {self.tasks} task(s), {self.submitted} submitted"
            f" annotation(s), {self.multi_annotated} task(s) with several annotators, {self.drafts} draft(s)",
            f"wrote {relative(self.path)} (sha256 {self.sha256[:12]}...)",
        ]


# -- push ------------------------------------------------------------------


def push(
    project: Project, connection: Connection, *, title: str = PROJECT_TITLE, project_id: int | None = None
) -> PushResult:
    """Create or update the project from the schema; import every article that is not yet a task."""
    from label_studio_sdk.label_interface import LabelInterface

    schema = project.schema
    config = _checked_label_config(project)
    instructions = instructions_html(project)
    articles = read_articles(seed_paths(project.seeds_dir), relative=project.relative, language=schema.language)
    client = connect(connection)
    existing = find_project(client, connection, title, project_id)
    tasks = project_tasks(client, connection, existing.id) if existing else {}
    by_id = {a.doc_id: a for a in articles}
    new = [a for a in articles if a.doc_id not in tasks]
    differing = sorted(d for d, (_, text) in tasks.items() if d in by_id and text != by_id[d].text)
    unknown = sorted(d for d in tasks if d not in by_id)

    names, names_source = preannotate.known_names(project, articles)
    interface = LabelInterface(config)
    predictions: dict[str, dict] = {}
    rejected: list[str] = []
    for article in new:
        predicted = preannotate.prediction(article.text, names)
        where = Location(f"pre-annotation of {article.source_file}", doc_id=article.doc_id)
        if preannotate.check_prediction(predicted["result"], article.text, schema, interface, where):
            rejected.append(article.doc_id)
        elif predicted["result"]:
            predictions[article.doc_id] = predicted

    if existing is None:
        with translated(connection, "create the project"):
            created = client.projects.create(
                title=title,
                label_config=config,
                model_version=preannotate.MODEL_VERSION,
                description=_description(schema),
                expert_instruction=instructions,
                show_instruction=True,
            )
        result = PushResult(created.id, title, created=True)
    else:
        result = PushResult(existing.id, existing.title)
        if (existing.label_config or "").strip() != config.strip():
            _refuse_orphaning(client, connection, existing, schema)
            with translated(connection, f"update the labeling config of project {existing.id}"):
                client.projects.update(id=existing.id, label_config=config)
            result.config_updated = True
        if existing.expert_instruction != instructions or not existing.show_instruction:
            with translated(connection, f"update the instructions of project {existing.id}"):
                client.projects.update(id=existing.id, expert_instruction=instructions, show_instruction=True)
            result.instructions_updated = True

    for start in range(0, len(new), IMPORT_BATCH):
        batch = [_task(a, predictions.get(a.doc_id)) for a in new[start : start + IMPORT_BATCH]]
        with translated(connection, f"import tasks into project {result.project_id}"):
            client.projects.import_tasks(id=result.project_id, request=batch, return_task_ids=True)
    if existing is not None and predictions and existing.model_version != preannotate.MODEL_VERSION:
        # Label Studio shows annotators the predictions of the project's model version only; it accepts
        # a version only once predictions of it exist, so this comes after the import.
        with translated(connection, f"set the model version of project {existing.id}"):
            client.projects.update(id=existing.id, model_version=preannotate.MODEL_VERSION)
    result.imported = [a.doc_id for a in new]
    result.already_tasks = len(articles) - len(new)
    result.predictions = len(predictions)
    result.rejected_predictions = rejected
    result.differing_tasks = differing
    result.unknown_tasks = unknown
    result.names, result.names_source = len(names), names_source
    return result


def _task(article: Article, prediction: dict | None) -> dict:
    task = {"data": {"doc_id": article.doc_id, "text": article.text}}
    if prediction:
        task["predictions"] = [prediction]
    return task


def _description(schema) -> str:
    return (
        f"newscorpus annotation: entities, events and quotes (schema {schema.schema_version},"
        f" guidelines {schema.guideline_version}). Labeling config generated from schemas/annotation.yaml."
    )


def _checked_label_config(project: Project) -> str:
    config = project.schema.label_config()
    path = project.label_config_path
    if not path.is_file() or path.read_text(encoding="utf-8") != config:
        raise LabelStudioError(
            f"{project.relative(path)} is out of date with schemas/annotation.yaml; run `newscorpus schema --write`"
            " and commit it first"
        )
    return config


def _refuse_orphaning(client, connection: Connection, project, schema) -> None:
    """Refuse a config change that drops a label, choice or relation that annotations or drafts still use."""
    raw = download_export(client, connection, project.id)
    with translated(connection, f"read the export of project {project.id}"):
        tasks = json.loads(raw)
    allowed = _allowed_values(schema)
    missing: Counter = Counter()
    for task in tasks if isinstance(tasks, list) else []:
        for item in _results(task):
            for control, value in _used_values(item):
                if value not in allowed.get(control, ()):
                    missing[(control, value)] += 1
    if missing:
        listed = ", ".join(f"{control} {value!r} ({n}x)" for (control, value), n in sorted(missing.items()))
        raise LabelStudioError(
            f"refusing to update the labeling config of project {project.id}: existing annotations use {listed},"
            " which the schema no longer has; add them back to schemas/annotation.yaml or change those"
            " annotations in Label Studio first"
        )


def _results(task: dict) -> Iterator[dict]:
    for holder in [*(task.get("annotations") or []), *(task.get("drafts") or [])]:
        for item in holder.get("result") or [] if isinstance(holder, dict) else []:
            if isinstance(item, dict):
                yield item


def _used_values(item: dict) -> list[tuple[str, str]]:
    if item.get("type") == "relation":
        return [("relation", label) for label in item.get("labels") or []]
    value = item.get("value") if isinstance(item.get("value"), dict) else {}
    control = str(item.get("from_name"))
    return [(control, v) for key in ("labels", "choices") for v in value.get(key) or []]


def _allowed_values(schema) -> dict[str, set[str]]:
    return {
        S.ENTITY_CONTROL: set(schema.entity_types),
        S.EVENT_CONTROL: set(schema.event_types),
        S.QUOTE_CONTROL: set(schema.quote_kinds),
        S.CUE_CONTROL: {S.CUE_LABEL},
        S.MENTION_TYPE_CONTROL: set(schema.mention_types),
        S.REALIS_CONTROL: set(schema.realis),
        "relation": set(schema.relation_kinds),
    }


# -- pull ------------------------------------------------------------------


def pull(
    project: Project,
    connection: Connection,
    *,
    title: str = PROJECT_TITLE,
    project_id: int | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> PullResult:
    """Download the project's native JSON export (all tasks) into annotation/exports/, untouched."""
    config = _checked_label_config(project)
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
    path = store_export(project.exports_dir, raw, found.id, now)
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
    )


def _annotator(annotation: dict) -> object:
    completed_by = annotation.get("completed_by")
    return completed_by.get("id") if isinstance(completed_by, dict) else completed_by
