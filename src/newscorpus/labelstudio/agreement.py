"""Inter-annotator agreement, per layer, for the tasks that several annotators submitted.

Read from annotation/exports/ with the release's rule: per document the newest export in
which its task has a submitted annotation; per annotator their latest submitted (not
cancelled) annotation. Annotators are named by `annotator_code(export_path, user_id)`
(default: the Label Studio user id as text); annotations whose ids share a code count as one
annotator's. Every pair of annotators of a task (in code order, the first as key) is compared:

- span F1, exact: an item of one annotator matches an identical one of the other;
- span F1, overlap: one-to-one matching of overlapping items, largest overlap first;
  F1 = 2 * matches / (items of the one + items of the other), symmetric in the two;
- Cohen's kappa on the labels of the overlap-matched items (pooled over pairs), undefined
  (None) when there is no matched item or when chance agreement is already 1;
- kappa per per-region choice (mention type, realis, quote kind) on the same matched spans;
- coreference: MUC, B³ and CEAF-e of the chains, mentions aligned by exact span, and the
  CoNLL score, their mean (`coref_scores`).

Layers and items are defined in `agreement_items`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import combinations
from pathlib import Path

from newscorpus.errors import InputError, Location
from newscorpus.labelstudio.agreement_items import (
    LAYERS,
    CorefCounts,
    LayerCounts,
    choices_dict,
    compare,
    coref_partition,
    layer_items,
)
from newscorpus.labelstudio.exports import ADJUDICATION_RULE, adjudicate, export_paths, load_export, user_id
from newscorpus.labelstudio.records import Layers
from newscorpus.labelstudio.regions import convert_result
from newscorpus.labelstudio.task_shape import checked_annotations, is_id
from newscorpus.project import Project

METHOD = (
    "every pair of annotators of a task; span F1 = 2 * matches / (spans of both), exact (identical offsets) and"
    " overlap (one-to-one, largest overlap first); Cohen's kappa on the labels of overlap-matched spans;"
    " event arguments match when trigger and argument spans both match, kappa on their roles; kappa per"
    " per-region choice on overlap-matched spans; coreference MUC, B-cubed and CEAF-e (phi4) with mentions"
    " aligned by exact span, the first annotator of a pair as key, and the CoNLL score, their F1 mean"
)

AnnotatorCode = Callable[[Path, int], str]


def label_studio_id(export_path: Path, user: int) -> str:
    """The default annotator code: the Label Studio user id as text."""
    return str(user)


def _code_order(code: str) -> list:
    """Codes in natural order: '2' before '10', 'A2' before 'A10'."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", code)]


@dataclass
class DocumentAgreement:
    doc_id: str
    export: str
    task_id: int
    annotators: list[str]  # codes, in code order
    annotation_ids: list[int]
    release_annotation: int
    ground_truth: bool
    layers: dict[str, LayerCounts]
    coreference: CorefCounts

    def as_dict(self) -> dict:
        return {
            "doc_id": self.doc_id,
            "export": self.export,
            "task_id": self.task_id,
            "annotators": self.annotators,
            "annotation_ids": self.annotation_ids,
            "pairs": len(list(combinations(self.annotators, 2))),
            "release_annotation": self.release_annotation,
            "release_annotation_is_ground_truth": self.ground_truth,
            "layers": {name: counts.as_dict() for name, counts in self.layers.items()},
            "choices": choices_dict(self.layers),
            "coreference": self.coreference.as_dict(),
        }


@dataclass
class AgreementReport:
    documents: list[DocumentAgreement]
    not_compared: list[str]

    def overall(self) -> dict[str, LayerCounts]:
        total = {name: LayerCounts() for name in LAYERS}
        for document in self.documents:
            for name in LAYERS:
                total[name].add(document.layers[name])
        return total

    def overall_coreference(self) -> CorefCounts:
        total = CorefCounts()
        for document in self.documents:
            total.add(document.coreference)
        return total

    def as_dict(self) -> dict:
        overall = self.overall()
        return {
            "adjudication": ADJUDICATION_RULE,
            "method": METHOD,
            "overall": {name: counts.as_dict() for name, counts in overall.items()},
            "overall_choices": choices_dict(overall),
            "overall_coreference": self.overall_coreference().as_dict(),
            "documents": [d.as_dict() for d in self.documents],
            "not_compared": self.not_compared,
        }

    def lines(self) -> list[str]:
        out = [f"adjudication used by the release: {ADJUDICATION_RULE}"]
        if not self.documents:
            out.append("no document in annotation/exports/ has comparable annotations by two or more annotators")
        else:
            annotators = sorted({a for d in self.documents for a in d.annotators})
            out.append(
                f"{len(self.documents)} document(s) with several annotators ({len(annotators)} annotators);"
                " F1 of spans (exact / overlap), Cohen's kappa on the labels of overlap-matched spans;"
                " coreference F1 with mentions aligned by exact span; kappa per per-region choice"
            )
            out += _table("overall", self.overall(), self.overall_coreference())
            for d in self.documents:
                chosen = f"annotation {d.release_annotation}" + (" (ground truth)" if d.ground_truth else "")
                head = (
                    f"{d.doc_id}: task {d.task_id} in {d.export}, annotators {', '.join(d.annotators)};"
                    f" the release uses {chosen}"
                )
                out += _table(head, d.layers, d.coreference)
        out += [f"not compared: {reason}" for reason in self.not_compared]
        return out


def _table(head: str, layers: dict[str, LayerCounts], coreference: CorefCounts) -> list[str]:
    out = [head, f"  {'layer':<15}{'spans':>6}{'F1 exact':>10}{'F1 overlap':>12}{'kappa':>8}"]
    for name, counts in layers.items():
        values = counts.as_dict()
        out.append(
            f"  {name:<15}{counts.spans:>6}{_num(values['f1_exact']):>10}{_num(values['f1_overlap']):>12}"
            f"{_num(values['kappa']):>8}"
        )
    out.append(f"  {'coreference':<15}{'MUC':>8}{'B3':>8}{'CEAF-e':>8}{'CoNLL':>8}")
    scores = (coreference.muc.f1, coreference.b_cubed.f1, coreference.ceaf_e.f1, coreference.conll)
    out.append(f"  {'F1':<15}" + "".join(f"{_num(score):>8}" for score in scores))
    out.append(f"  {'choice':<15}{'pairs':>6}{'kappa':>8}")
    for name, values in choices_dict(layers).items():
        out.append(f"  {name:<15}{values['pairs']:>6}{_num(values['kappa']):>8}")
    return out


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def agreement_report(project: Project, annotator_code: AnnotatorCode = label_studio_id) -> AgreementReport:
    """Compare annotators on every document whose deciding export holds several annotators' work.

    `annotator_code(export_path, user_id)` names an annotator in the report (a roster can map
    each export's server ids to stable codes); by default the Label Studio id as text.
    """
    documents, not_compared, problems = [], [], []
    seen: set[str] = set()
    schema = project.schema
    for path in sorted(export_paths(project.exports_dir), reverse=True):
        name = project.relative(path)
        try:
            tasks = load_export(path, name)
        except InputError as exc:
            problems += exc.problems
            continue
        for task in tasks:
            data = task.get("data") if isinstance(task, dict) and isinstance(task.get("data"), dict) else {}
            doc_id, text = data.get("doc_id"), data.get("text")
            if not isinstance(doc_id, str) or doc_id in seen or not isinstance(text, str):
                continue
            task_id = task["id"] if is_id(task.get("id")) else None
            _, malformed = checked_annotations(task, Location(name, task_id, doc_id=doc_id))
            if malformed or task_id is None:
                seen.add(doc_id)  # this export decides the document, as in the build: it is not compared
                not_compared.append(
                    f"{doc_id}: the task in {name} is malformed ({len(malformed) or 1} problem(s));"
                    " `newscorpus build` lists them"
                )
                continue
            if not any(isinstance(a, dict) and not a.get("was_cancelled") for a in task.get("annotations") or []):
                continue  # still open in this export: an older export may hold the work
            seen.add(doc_id)
            document = _document(task, doc_id, text, name, schema, not_compared, partial(annotator_code, path))
            if document is not None:
                documents.append(document)
    if problems:
        raise InputError(problems)
    return AgreementReport(sorted(documents, key=lambda d: d.doc_id), sorted(not_compared))


def _document(task: dict, doc_id: str, text: str, name: str, schema, not_compared: list[str], code_of):
    submitted = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    latest: dict[str, dict] = {}
    for annotation in sorted(submitted, key=lambda a: (str(a.get("updated_at") or ""), a.get("id", 0))):
        user = user_id(annotation.get("completed_by"))
        if user is not None:
            latest[code_of(user)] = annotation  # an annotator's latest annotation of the task
    if len(latest) < 2:
        return None
    layers: dict[str, Layers] = {}
    for annotator, annotation in sorted(latest.items(), key=lambda item: _code_order(item[0])):
        where = Location(name, task["id"], annotation.get("id"), doc_id=doc_id)
        converted, found = convert_result(annotation.get("result"), text, schema, where)
        if found:
            not_compared.append(
                f"{doc_id}: annotation {annotation.get('id')} by annotator {annotator} has {len(found)} problem(s);"
                " `newscorpus build` lists them"
            )
            continue
        layers[annotator] = converted
    if len(layers) < 2:
        return None
    counts = {layer: LayerCounts() for layer in LAYERS}
    coreference = CorefCounts()
    items = {annotator: layer_items(converted) for annotator, converted in layers.items()}
    chains = {annotator: coref_partition(converted) for annotator, converted in layers.items()}
    for first, second in combinations(list(layers), 2):  # code order: the first is the key
        for layer in LAYERS:
            counts[layer].add(compare(items[first][layer], items[second][layer]))
        coreference.add(CorefCounts.of(chains[first], chains[second]))
    chosen = adjudicate(submitted)
    return DocumentAgreement(
        doc_id=doc_id,
        export=name,
        task_id=task["id"],
        annotators=list(layers),
        annotation_ids=sorted(latest[a].get("id") for a in layers),
        release_annotation=chosen.get("id"),
        ground_truth=bool(chosen.get("ground_truth")),
        layers=counts,
        coreference=coreference,
    )
