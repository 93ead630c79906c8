"""Released annotations back into Label Studio, for continuing on a new server.

An article that is already in a release must not come back as a blank task: an annotator who
submitted one would replace the curated annotation by the build's rule. So `annotate push`
imports it with the annotation of the newest release in corpus/ that holds its doc_id, as the
task's existing annotation, and any edit is a correction of it:

- regions keep their released ids (entities, events, quotes); each entity and event gets its
  per-region choice (mention type, realis) under the same id, as the editor stores it;
- a cue, which a release keeps as a span only, becomes one cue region per distinct span, with
  the id `<first quote id>-cue`;
- relations: event arguments (role labels), `cue` and `speaker` from each quote, and `coref`
  from every mention of a chain to its canonical mention (the release's `cluster_id`), which
  gives the same chains back;
- the annotation is attributed to the account of the person who made the released one (the
  release's export, its user record and the email there), and marked ground truth.

What the items convert back to is compared with the release before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from newscorpus import schema as S
from newscorpus.errors import InputError, LabelStudioError, Location
from newscorpus.labelstudio.export_file import iter_tasks
from newscorpus.labelstudio.records import Argument, EntityMention, Event, Layers, Quote, Span
from newscorpus.labelstudio.regions import convert_result
from newscorpus.labelstudio.results import labelled_span, region_items, relation
from newscorpus.labelstudio.task_shape import user_id
from newscorpus.labelstudio.user_records import RECORD_SUFFIX, read_record
from newscorpus.project import Project
from newscorpus.release.manifest import release_versions
from newscorpus.release.shards import iter_batches

_COLUMNS = ["doc_id", "entities", "events", "quotes", "ls_export", "ls_task_id", "ls_annotation_id"]


@dataclass(frozen=True)
class ReleasedAnnotation:
    doc_id: str
    version: str  # the newest release holding the document
    annotation_id: int  # the annotation's id on the server it was made on (recorded by Label Studio as import_id)
    items: list[dict]  # the Label Studio result
    author: str  # the email of whoever made it

    def annotation(self) -> dict:
        """The annotation as Label Studio's task import takes it."""
        return {
            "id": self.annotation_id,
            "result": self.items,
            "completed_by": {"email": self.author},
            "ground_truth": True,
            "was_cancelled": False,
        }


def released_annotations(project: Project, texts: dict[str, str]) -> dict[str, ReleasedAnnotation]:
    """The released annotation of each document of `texts` (doc_id -> text) that a release in corpus/ holds."""
    rows = _released_rows(project, set(texts))
    authors = _authors(project, rows)
    found = {}
    for doc_id, (version, row) in sorted(rows.items()):
        items = result_items(row)
        _check_round_trip(doc_id, version, row, items, texts[doc_id], project.schema)
        found[doc_id] = ReleasedAnnotation(doc_id, version, row["ls_annotation_id"], items, authors[doc_id])
    return found


def _released_rows(project: Project, wanted: set[str]) -> dict[str, tuple[str, dict]]:
    """doc_id -> (version, its `documents` row) from the newest release holding it."""
    found: dict[str, tuple[str, dict]] = {}
    for version in reversed(release_versions(project.corpus_dir)):
        remaining = wanted - found.keys()
        if not remaining:
            break
        release = project.corpus_dir / f"v{version}"
        for batch in iter_batches(release, "documents", columns=_COLUMNS):
            mask = pc.is_in(batch.column("doc_id"), value_set=_string_array(remaining))
            for row in batch.filter(mask).to_pylist():
                found[row["doc_id"]] = (version, row)
    return found


def _string_array(values: set[str]) -> pa.Array:
    return pa.array(sorted(values), pa.string())


def _authors(project: Project, rows: dict[str, tuple[str, dict]]) -> dict[str, str]:
    """doc_id -> the email of whoever made its released annotation (export -> completed_by -> user record)."""
    by_export: dict[str, dict[tuple[int, int], str]] = {}
    for doc_id, (_, row) in rows.items():
        by_export.setdefault(row["ls_export"], {})[(row["ls_task_id"], row["ls_annotation_id"])] = doc_id
    authors: dict[str, str] = {}
    for name, wanted in sorted(by_export.items()):
        path = project.root / name
        first = wanted[min(wanted)]
        version = rows[first][0]
        if not path.is_file():
            raise LabelStudioError(
                f"the annotation of {first} released in v{version} comes from {name}, which is not in the"
                " working tree; restore it (git checkout) to push, so that its annotator is known"
            )
        try:
            users = read_record(path, name)
            completed_by = _completed_by(path, name, wanted)
        except InputError as exc:
            raise LabelStudioError(f"cannot tell who made the released annotations in {name}: {exc}") from None
        for key, doc_id in wanted.items():
            uid = completed_by.get(key)
            if uid is None:
                raise LabelStudioError(
                    f"{name} holds no annotation {key[1]} by a user in task {key[0]}, which v{rows[doc_id][0]}"
                    f" released for {doc_id}; restore the export as released"
                )
            if users is None or uid not in users:
                raise LabelStudioError(
                    f"{name} has no user record {Path(name).name}{RECORD_SUFFIX} naming Label Studio user {uid},"
                    f" who made the released annotation of {doc_id}; write the record (docs/annotating.md: user"
                    " records), then push again"
                )
            authors[doc_id] = users[uid]
    return authors


def _completed_by(path: Path, name: str, wanted: dict[tuple[int, int], str]) -> dict[tuple[int, int], int]:
    """(task id, annotation id) -> the annotation's completed_by, for the wanted pairs, reading the export once."""
    tasks = {task_id for task_id, _ in wanted}
    found = {}
    for task in iter_tasks(path, name):
        if not isinstance(task, dict) or task.get("id") not in tasks:
            continue
        for annotation in task.get("annotations") or []:
            key = (task["id"], annotation.get("id") if isinstance(annotation, dict) else None)
            uid = user_id(annotation.get("completed_by")) if key in wanted else None
            if uid is not None:
                found[key] = uid
    return found


def result_items(row: dict) -> list[dict]:
    """A release's `documents` row (entities, events, quotes) as a Label Studio result."""
    items: list[dict] = []
    for e in row["entities"]:
        choice = (S.MENTION_TYPE_CONTROL, e["mention_type"])
        items += region_items(e["id"], S.ENTITY_CONTROL, e["type"], e["start"], e["end"], e["text"], choice)
    for v in row["events"]:
        t, choice = v["trigger"], (S.REALIS_CONTROL, v["realis"])
        items += region_items(v["id"], S.EVENT_CONTROL, v["type"], t["start"], t["end"], t["text"], choice)
    taken = {e["id"] for e in row["entities"]} | {v["id"] for v in row["events"]} | {q["id"] for q in row["quotes"]}
    cues: dict[tuple[int, int], str] = {}
    links: list[dict] = []
    for q in row["quotes"]:
        items.append(labelled_span(q["id"], S.QUOTE_CONTROL, q["kind"], q["start"], q["end"], q["text"]))
        cue = q["cue"]
        if cue is not None:
            key = (cue["start"], cue["end"])
            if key not in cues:
                cues[key] = _free_id(f"{q['id']}-cue", taken)
                items.append(
                    labelled_span(cues[key], S.CUE_CONTROL, S.CUE_LABEL, cue["start"], cue["end"], cue["text"])
                )
            links.append(relation(q["id"], cues[key], "cue"))
        if q["speaker_id"] is not None:
            links.append(relation(q["id"], q["speaker_id"], "speaker"))
    for v in row["events"]:
        links += [relation(v["id"], a["entity_id"], a["role"]) for a in v["arguments"]]
    links += [relation(e["id"], e["cluster_id"], "coref") for e in row["entities"] if e["cluster_id"] != e["id"]]
    return items + links


def _free_id(wanted: str, taken: set[str]) -> str:
    candidate, n = wanted, 1
    while candidate in taken:
        n += 1
        candidate = f"{wanted}{n}"
    taken.add(candidate)
    return candidate


def layers_of_row(row: dict) -> Layers:
    """A release's `documents` row as the records the converter makes."""
    entities = tuple(
        EntityMention(e["id"], e["start"], e["end"], e["text"], e["type"], e["mention_type"], e["cluster_id"])
        for e in row["entities"]
    )
    events = tuple(
        Event(
            v["id"],
            v["type"],
            v["realis"],
            Span(v["trigger"]["start"], v["trigger"]["end"], v["trigger"]["text"]),
            tuple(Argument(a["role"], a["entity_id"]) for a in v["arguments"]),
        )
        for v in row["events"]
    )
    quotes = tuple(
        Quote(
            q["id"],
            q["start"],
            q["end"],
            q["text"],
            q["kind"],
            Span(q["cue"]["start"], q["cue"]["end"], q["cue"]["text"]) if q["cue"] is not None else None,
            q["speaker_id"],
            q["speaker"],
        )
        for q in row["quotes"]
    )
    return Layers(entities, events, quotes)


def _check_round_trip(doc_id: str, version: str, row: dict, items: list[dict], text: str, schema) -> None:
    layers, problems = convert_result(items, text, schema, Location(f"corpus/v{version}", doc_id=doc_id))
    if problems or layers != layers_of_row(row):
        detail = f"; first problem: {problems[0]}" if problems else ""
        raise LabelStudioError(
            f"the annotation of {doc_id} released in v{version} does not convert back to itself from Label Studio's"
            f" form{detail}; nothing was pushed (please report this)"
        )
