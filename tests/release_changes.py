"""Two releases built from inputs changed on purpose, to test diffs, changelogs and publishing.

v0.1.0 is built from the repository's inputs. v0.2.0 adds one newer Label Studio
export in which, compared with the seed's annotation:

- entity e40 "the border" is relabelled LOC -> FAC;
- entity e20 "the municipal buildings" [617:640] becomes "municipal buildings" [621:640];
- a quote q09 is added: indirect, "to send an additional 700 troops to northern Kosovo",
  cue c09 "decided", speaker e28 "NATO";
- a new article `001_second` is added, annotated with two entities, one event and one quote.

Nothing else changes, so a diff of the two releases must report exactly these.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from newscorpus.build.builder import build_release
from newscorpus.labelstudio.export_names import export_paths
from newscorpus.labelstudio.results import labelled_span, relation, span_choice
from newscorpus.labelstudio.user_records import read_record, write_record
from newscorpus.project import Project
from tests.helpers import REPO, copy_project

NEW_EXPORT = "20261201T090000Z-project-2.json"
SECOND_DOC = "001_second"
SECOND_TEXT = "Officials met in Belgrade on Tuesday. “We want calm,” the mayor said."


def _region(rid: str, control: str, start: int, end: int, text: str, label: str) -> dict:
    return labelled_span(rid, control, label, start, end, text, origin="manual")


def _choice(rid: str, control: str, start: int, end: int, text: str, choice: str) -> dict:
    return span_choice(rid, control, choice, start, end, text, origin="manual")


def _span(text: str, part: str, after: int = 0) -> tuple[int, int, str]:
    start = text.index(part, after)
    return start, start + len(part), part


def changed_export(seed_text: str) -> list[dict]:
    """The newest export: the seed task with three edits, and a task for a second article."""
    latest = export_paths(REPO / "annotation" / "exports")[-1]
    tasks = json.loads(latest.read_text(encoding="utf-8"))
    seed_task = copy.deepcopy(tasks[0])
    annotation = seed_task["annotations"][0]
    result = annotation["result"]
    for item in result:
        if item.get("id") == "e40" and item["from_name"] == "entity":
            item["value"]["labels"] = ["FAC"]
        if item.get("id") == "e20":  # the label region and its mention-type choice carry the span
            item["value"].update(start=621, end=640, text="municipal buildings")
    sentence = seed_text.index("NATO decided")
    quote = _span(seed_text, "to send an additional 700 troops to northern Kosovo", sentence)
    cue = _span(seed_text, "decided", sentence)
    result += [
        _region("q09", "quote", *quote, "indirect"),
        _region("c09", "cue", *cue, "cue"),
        relation("q09", "c09", "cue"),
        relation("q09", "e28", "speaker"),
    ]
    annotation["id"] = 2
    annotation["updated_at"] = "2026-12-01T09:00:00.000000Z"

    text = SECOND_TEXT
    second = copy.deepcopy(tasks[0])
    second.update(id=2, data={"doc_id": SECOND_DOC, "text": text}, inner_id=2)
    officials, belgrade, met = _span(text, "Officials"), _span(text, "Belgrade"), _span(text, "met")
    mayor, said, quoted = _span(text, "the mayor"), _span(text, "said"), _span(text, "“We want calm,”")
    tuesday = _span(text, "Tuesday")
    second["annotations"] = [
        {
            **{k: v for k, v in annotation.items() if k != "result"},
            "id": 3,
            "task": 2,
            "result": [
                _region("a1", "entity", *officials, "PERSON"),
                _choice("a1", "mention_type", *officials, "NOM"),
                _region("a2", "entity", *belgrade, "GPE"),
                _choice("a2", "mention_type", *belgrade, "NAM"),
                _region("a3", "entity", *tuesday, "DATE"),
                _choice("a3", "mention_type", *tuesday, "NAM"),
                _region("a4", "entity", *mayor, "PERSON"),
                _choice("a4", "mention_type", *mayor, "NOM"),
                _region("b1", "event", *met, "Contact.Meet"),
                _choice("b1", "realis", *met, "actual"),
                relation("b1", "a1", "Entity"),
                relation("b1", "a2", "Place"),
                relation("b1", "a3", "Time"),
                _region("q1", "quote", *quoted, "direct"),
                _region("c1", "cue", *said, "cue"),
                relation("q1", "c1", "cue"),
                relation("q1", "a4", "speaker"),
            ],
        }
    ]
    return [seed_task, second]


def change_inputs(project: Project) -> None:
    """Turn a copy of the repository's inputs into the inputs of v0.2.0."""
    from newscorpus.ingest import parse_article

    seed = sorted(project.seeds_dir.glob("*.txt"))[0]
    seed_text = parse_article(seed.read_bytes(), source_file=seed.name, doc_id=seed.stem, language="en").text
    (project.seeds_dir / f"{SECOND_DOC}.txt").write_text(f"date 2023-06-06\n{SECOND_TEXT}\n", encoding="utf-8")
    export = json.dumps(changed_export(seed_text), indent=1, ensure_ascii=False)
    (project.exports_dir / NEW_EXPORT).write_text(export, encoding="utf-8")
    # pulled from the server the seed was annotated on: the same user record as the newest export's
    newest = export_paths(REPO / "annotation" / "exports")[-1]
    write_record(project.exports_dir / NEW_EXPORT, read_record(newest, newest.name), "the seed's server")


def build_two_releases(root: Path) -> tuple[Path, Path]:
    """v0.1.0 from the repository's inputs, then v0.2.0 from the changed inputs, in root/repo/corpus."""
    project = copy_project(root / "repo")
    first = build_release(project, "0.1.0").path
    change_inputs(project)
    second = build_release(project, "0.2.0").path
    return first, second
