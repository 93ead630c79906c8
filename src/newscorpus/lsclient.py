"""Push articles to a Label Studio project and pull its native JSON export back (label-studio-sdk 2.x).

The server is named by LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY from the environment; the
key is never printed, logged or written. Every SDK or HTTP failure becomes a LabelStudioError
of one sentence. Nothing is written to disk until a complete export is in memory, and an
export file is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from newscorpus import preannotate
from newscorpus.errors import InputError, LabelStudioError, Problem
from newscorpus.ingest import Article, read_articles, seed_paths
from newscorpus.project import Project

URL_VARIABLE = "LABEL_STUDIO_URL"
KEY_VARIABLE = "LABEL_STUDIO_API_KEY"
PROJECT_TITLE = "newscorpus"
IMPORT_BATCH = 200  # tasks per import request
TIMEOUT = 60.0


@dataclass(frozen=True)
class Connection:
    url: str
    key: str = field(repr=False)

    @classmethod
    def from_environment(cls) -> Connection:
        url, key = os.environ.get(URL_VARIABLE, "").strip(), os.environ.get(KEY_VARIABLE, "").strip()
        missing = [name for name, value in ((URL_VARIABLE, url), (KEY_VARIABLE, key)) if not value]
        if missing:
            raise LabelStudioError(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; export the server's"
                f" address (e.g. http://127.0.0.1:8080) and your access token (Label Studio: Account & Settings)"
            )
        return cls(url.rstrip("/"), key)

    @property
    def shown_url(self) -> str:
        """The URL as messages show it: without any user:password@ part."""
        parts = urllib.parse.urlsplit(self.url)
        if parts.username or parts.password:
            parts = parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))
        return urllib.parse.urlunsplit(parts)


@dataclass
class PushResult:
    project_id: int
    title: str
    created: bool = False
    config_updated: bool = False
    imported: list[str] = field(default_factory=list)
    already_tasks: int = 0
    predictions: int = 0
    rejected_predictions: list[str] = field(default_factory=list)
    differing_tasks: list[str] = field(default_factory=list)
    names_source: str = ""
    names: int = 0

    def lines(self) -> list[str]:
        where = f"project {self.project_id} ({self.title!r})"
        out = []
        if self.created:
            out.append(f"created {where} with the labeling config of the schema")
        elif self.config_updated:
            out.append(f"updated the labeling config of {where} to the schema's")
        if self.imported:
            out.append(
                f"imported {len(self.imported)} new task(s) into {where}, {self.predictions} with pre-annotations"
                f" ({preannotate.MODEL_VERSION}; {self.names} known name(s) from {self.names_source})"
            )
        else:
            out.append(f"nothing to import: all {self.already_tasks} article(s) are already tasks of {where}")
        for doc_id in self.rejected_predictions:
            out.append(f"imported without pre-annotation (it failed the checks): {doc_id}")
        for doc_id in self.differing_tasks:
            out.append(
                f"warning: the task of {doc_id} has a text that differs from its seed file; build will refuse it"
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


# -- talking to the server -------------------------------------------------


@contextmanager
def _translated(connection: Connection, doing: str) -> Iterator[None]:
    """Turn SDK, HTTP and parsing failures into one LabelStudioError sentence (never with the key)."""
    import httpx
    import pydantic
    from label_studio_sdk.core.api_error import ApiError

    url = connection.shown_url
    try:
        yield
    except LabelStudioError:
        raise
    except httpx.UnsupportedProtocol:
        raise LabelStudioError(
            f"{URL_VARIABLE} {url!r} is not an http:// or https:// address; set it to e.g. http://127.0.0.1:8080"
        ) from None
    except httpx.ConnectError as exc:
        reason = (
            "host not found" if "name" in str(exc).lower() and "known" in str(exc).lower() else "connection refused"
        )
        raise LabelStudioError(
            f"cannot reach Label Studio at {url} ({reason}); start it (`newscorpus annotate serve`)"
            f" or correct {URL_VARIABLE}"
        ) from None
    except httpx.TimeoutException:
        raise LabelStudioError(
            f"Label Studio at {url} did not answer within {TIMEOUT:.0f} s while trying to {doing}; try again later"
        ) from None
    except ApiError as exc:
        status = exc.status_code
        if status in (401, 403):
            raise LabelStudioError(
                f"Label Studio at {url} refused the API key (HTTP {status}); set {KEY_VARIABLE} to your access"
                " token (Label Studio: Account & Settings)"
            ) from None
        if status is None:
            raise LabelStudioError(f"cannot {doing} at {url}: {_detail(exc.body)}") from None
        raise LabelStudioError(
            f"Label Studio at {url} refused to {doing} (HTTP {status}: {_detail(exc.body)})"
        ) from None
    except (httpx.HTTPError, pydantic.ValidationError, json.JSONDecodeError, UnicodeDecodeError):
        raise LabelStudioError(f"{url} does not answer like a Label Studio server; check {URL_VARIABLE}") from None


def _detail(body: object) -> str:
    if isinstance(body, dict):
        body = body.get("detail") or body.get("validation_errors") or body
    text = " ".join(str(body).split())
    return text if len(text) <= 200 else text[:197] + "..."


def connect(connection: Connection):
    """An SDK client whose server answered as Label Studio and accepted the key."""
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

    url = connection.shown_url
    with _translated(connection, "connect"):
        client = LabelStudio(base_url=connection.url, api_key=connection.key, timeout=TIMEOUT, max_retries=0)
        try:
            client.users.whoami()
        except ApiError as exc:
            if exc.status_code in (401, 403):
                raise
            raise LabelStudioError(
                f"{url} does not answer like a Label Studio server (HTTP {exc.status_code} for"
                f" /api/current-user/whoami); check {URL_VARIABLE}"
            ) from None
    return client


def find_project(client, connection: Connection, title: str, project_id: int | None):
    """The project with `project_id`, else the one titled `title`; None when there is no such title."""
    from label_studio_sdk.core.api_error import ApiError

    url = connection.shown_url
    with _translated(connection, "read the projects"):
        if project_id is not None:
            try:
                return client.projects.get(id=project_id)
            except ApiError as exc:
                if exc.status_code == 404:
                    raise LabelStudioError(
                        f"there is no project {project_id} at {url}; leave out --project-id to use the project"
                        f" titled {title!r}"
                    ) from None
                raise
        found = [p for p in client.projects.list(title=title) if p.title == title]
    if len(found) > 1:
        ids = ", ".join(str(p.id) for p in sorted(found, key=lambda p: p.id))
        raise LabelStudioError(
            f"{len(found)} projects at {url} are titled {title!r} (ids {ids}); choose one with --project-id"
        )
    if not found:
        return None
    with _translated(connection, "read the projects"):
        return client.projects.get(id=found[0].id)


def _project_tasks(client, connection: Connection, project_id: int) -> dict[str, tuple[int, str]]:
    """doc_id -> (task id, text) of the project's tasks."""
    tasks: dict[str, tuple[int, str]] = {}
    with _translated(connection, f"list the tasks of project {project_id}"):
        for task in client.tasks.list(project=project_id, fields="task_only", page_size=500):
            data = task.data or {}
            if isinstance(data.get("doc_id"), str):
                tasks.setdefault(data["doc_id"], (task.id, data.get("text")))
    return tasks


def _download_export(client, connection: Connection, project_id: int) -> bytes:
    with _translated(connection, f"export project {project_id}"):
        return b"".join(client.projects.exports.download_sync(project_id, export_type="JSON", download_all_tasks=True))


# -- push ------------------------------------------------------------------


def push(
    project: Project, connection: Connection, *, title: str = PROJECT_TITLE, project_id: int | None = None
) -> PushResult:
    """Create or update the project from the schema; import every article that is not yet a task."""
    from label_studio_sdk.label_interface import LabelInterface

    schema = project.schema
    config = _checked_label_config(project)
    articles = read_articles(seed_paths(project.seeds_dir), relative=project.relative, language=schema.language)
    client = connect(connection)
    existing = find_project(client, connection, title, project_id)
    tasks = _project_tasks(client, connection, existing.id) if existing else {}
    by_id = {a.doc_id: a for a in articles}
    new = [a for a in articles if a.doc_id not in tasks]
    differing = sorted(d for d, (_, text) in tasks.items() if d in by_id and text != by_id[d].text)

    names, names_source = known_names(project, articles)
    interface = LabelInterface(config)
    predictions: dict[str, dict] = {}
    rejected: list[str] = []
    for article in new:
        predicted = preannotate.prediction(article.text, names)
        where = Problem(f"pre-annotation of {article.source_file}", doc_id=article.doc_id)
        if preannotate.check_prediction(predicted["result"], article.text, schema, interface, where):
            rejected.append(article.doc_id)
        elif predicted["result"]:
            predictions[article.doc_id] = predicted

    if existing is None:
        with _translated(connection, "create the project"):
            created = client.projects.create(
                title=title,
                label_config=config,
                model_version=preannotate.MODEL_VERSION,
                description=_description(schema),
            )
        result = PushResult(created.id, title, created=True)
    else:
        result = PushResult(existing.id, existing.title)
        if (existing.label_config or "").strip() != config.strip():
            _refuse_orphaning(client, connection, existing, schema)
            with _translated(connection, f"update the labeling config of project {existing.id}"):
                client.projects.update(id=existing.id, label_config=config)
            result.config_updated = True

    for start in range(0, len(new), IMPORT_BATCH):
        batch = [_task(a, predictions.get(a.doc_id)) for a in new[start : start + IMPORT_BATCH]]
        with _translated(connection, f"import tasks into project {result.project_id}"):
            client.projects.import_tasks(id=result.project_id, request=batch, return_task_ids=True)
    if existing is not None and predictions and existing.model_version != preannotate.MODEL_VERSION:
        # Label Studio shows annotators the predictions of the project's model version only; it accepts
        # a version only once predictions of it exist, so this comes after the import.
        with _translated(connection, f"set the model version of project {existing.id}"):
            client.projects.update(id=existing.id, model_version=preannotate.MODEL_VERSION)
    result.imported = [a.doc_id for a in new]
    result.already_tasks = len(tasks)
    result.predictions = len(predictions)
    result.rejected_predictions = rejected
    result.differing_tasks = differing
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


def known_names(project: Project, articles: list[Article]) -> tuple[dict[str, str], str]:
    """Names annotated so far (NAM mentions) -> entity type: from the exports, else from the latest release."""
    from newscorpus.labelstudio import export_paths, read_annotations

    exports = export_paths(project.exports_dir)
    if exports:
        try:
            chosen, _ = read_annotations(exports, {a.doc_id: a for a in articles}, project.schema, project.relative)
            mentions = [m for task in chosen.values() for m in task.layers.entities]
            return preannotate.known_names_from_layers(mentions), "annotation/exports/"
        except InputError:
            pass  # a broken export is reported by build; fall back to the release
    return _names_from_release(project)


def _names_from_release(project: Project) -> tuple[dict[str, str], str]:
    import pyarrow.parquet as pq

    from newscorpus.build import data_file, release_versions

    versions = release_versions(project.corpus_dir)
    if not versions:
        return {}, "no release or export yet"
    release = project.corpus_dir / f"v{versions[-1]}"
    table = pq.read_table(release / data_file("entities"), columns=["text", "type", "mention_type"])
    mentions = [_Mention(**row) for row in table.to_pylist()]
    return preannotate.known_names_from_layers(mentions), project.relative(release)


@dataclass(frozen=True)
class _Mention:
    text: str
    type: str
    mention_type: str


def _refuse_orphaning(client, connection: Connection, project, schema) -> None:
    """Refuse a config change that drops a label, choice or relation that annotations or drafts still use."""
    raw = _download_export(client, connection, project.id)
    with _translated(connection, f"read the export of project {project.id}"):
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
    from newscorpus import schema as S

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
    raw = _download_export(client, connection, found.id)
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
        sha256=hashlib.sha256(raw).hexdigest(),
        tasks=len(tasks),
        submitted=len(annotations),
        multi_annotated=several,
        drafts=sum(len(t.get("drafts") or []) for t in tasks),
    )


def _annotator(annotation: dict) -> object:
    completed_by = annotation.get("completed_by")
    return completed_by.get("id") if isinstance(completed_by, dict) else completed_by


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
