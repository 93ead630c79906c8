"""`newscorpus annotate push`: articles into a Label Studio project (`pull`, the way back, is in `pull`).

push creates or updates the project from the schema (refusing a config change that would
orphan existing work), keeps its instructions in step with annotation/GUIDELINES.md, and
imports every article that is not yet a task: an article already in a release with its
released annotation as the task's annotation (`released`), any other with checked
pre-annotations.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from newscorpus import schema as S
from newscorpus.errors import LabelStudioError, Location
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
from newscorpus.labelstudio.instructions import GUIDELINES, instructions_html
from newscorpus.labelstudio.pull import PullResult as PullResult
from newscorpus.labelstudio.pull import checked_label_config, list_users
from newscorpus.labelstudio.pull import pull as pull
from newscorpus.labelstudio.released import ReleasedAnnotation, released_annotations
from newscorpus.project import Project
from newscorpus.release.manifest import version_key

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
    released: dict[str, str] = field(default_factory=dict)  # doc_id -> the release its annotation came from

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
        if self.released:
            versions = ", ".join(f"v{v}" for v in sorted(set(self.released.values()), key=version_key))
            out.append(
                f"{len(self.released)} of them already released ({versions}): imported with the released annotation"
                " as the task's annotation (ground truth, by its annotator's account), so that an edit corrects it"
            )
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


# -- push ------------------------------------------------------------------


def push(
    project: Project, connection: Connection, *, title: str = PROJECT_TITLE, project_id: int | None = None
) -> PushResult:
    """Create or update the project from the schema; import every article that is not yet a task."""
    from label_studio_sdk.label_interface import LabelInterface

    schema = project.schema
    config = checked_label_config(project)
    instructions = instructions_html(project)
    articles = read_articles(seed_paths(project.seeds_dir), relative=project.relative, language=schema.language)
    client = connect(connection)
    existing = find_project(client, connection, title, project_id)
    tasks = project_tasks(client, connection, existing.id) if existing else {}
    by_id = {a.doc_id: a for a in articles}
    new = [a for a in articles if a.doc_id not in tasks]
    differing = sorted(d for d, (_, text) in tasks.items() if d in by_id and text != by_id[d].text)
    unknown = sorted(d for d in tasks if d not in by_id)

    released = released_annotations(project, {a.doc_id: a.text for a in new})
    _check_authors(client, connection, released)
    names, names_source = preannotate.known_names(project, articles)
    interface = LabelInterface(config)
    predictions: dict[str, dict] = {}
    rejected: list[str] = []
    for article in new:
        if article.doc_id in released:
            continue
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
        chunk = new[start : start + IMPORT_BATCH]
        batch = [_task(a, predictions.get(a.doc_id), released.get(a.doc_id)) for a in chunk]
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
    result.released = {doc_id: r.version for doc_id, r in released.items()}
    return result


def _task(article: Article, prediction: dict | None, released: ReleasedAnnotation | None = None) -> dict:
    task = {"data": {"doc_id": article.doc_id, "text": article.text}}
    if released is not None:
        task["annotations"] = [released.annotation()]
    elif prediction:
        task["predictions"] = [prediction]
    return task


def _check_authors(client, connection: Connection, released: dict[str, ReleasedAnnotation]) -> None:
    """Every released annotation goes to its annotator's account: refuse, before any change, when one is missing."""
    if not released:
        return
    members = set(list_users(client, connection).values())
    missing: dict[str, list[str]] = {}
    for doc_id, annotation in sorted(released.items()):
        if annotation.author not in members:
            missing.setdefault(annotation.author, []).append(doc_id)
    if missing:
        listed = ", ".join(
            f"{email} (who made the released annotation of {', '.join(docs[:3])}{', ...' if len(docs) > 3 else ''})"
            for email, docs in sorted(missing.items())
        )
        one = len(missing) == 1
        raise LabelStudioError(
            "nothing pushed: an article already released comes back with its released annotation, under the account"
            f" of whoever made it, and {listed} {'has' if one else 'have'} no account at {connection.shown_url};"
            f" add {'it' if one else 'them'} (`newscorpus annotate users add {min(missing)} --password-env VAR`),"
            " then push again"
        )


def _description(schema) -> str:
    return (
        f"newscorpus annotation: entities, events and quotes (schema {schema.schema_version},"
        f" guidelines {schema.guideline_version}). Labeling config generated from schemas/annotation.yaml."
    )


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
