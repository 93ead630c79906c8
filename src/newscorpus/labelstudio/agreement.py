"""Inter-annotator agreement, per layer, for the tasks that several annotators submitted.

Read from annotation/exports/ with the release's rule: per document the newest export in
which its task has a submitted annotation; per annotator their latest submitted (not
cancelled) annotation. Every pair of annotators of a task is compared, layer by layer:

- span F1, exact: a span of one annotator matches an identical span of the other;
- span F1, overlap: one-to-one matching of overlapping spans, largest overlap first;
  F1 = 2 * matches / (spans of the one + spans of the other), symmetric in the two;
- Cohen's kappa on the labels of the overlap-matched spans (pooled over pairs), undefined
  (None) when there is no matched span or when chance agreement is already 1.

Layers: entities (label: type), event triggers (label: event type), quotes (label: kind) and
speaker links (a quote span with its speaker mention's span, both must match; no label).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from newscorpus.errors import InputError, Location
from newscorpus.labelstudio.exports import ADJUDICATION_RULE, adjudicate, export_paths, load_export, user_id
from newscorpus.labelstudio.records import Layers
from newscorpus.labelstudio.regions import convert_result
from newscorpus.labelstudio.task_shape import checked_annotations, is_id
from newscorpus.project import Project

LAYERS = ("entities", "event_triggers", "quotes", "speaker_links")
METHOD = (
    "every pair of annotators of a task; span F1 = 2 * matches / (spans of both), exact (identical offsets) and"
    " overlap (one-to-one, largest overlap first); Cohen's kappa on the labels of overlap-matched spans"
)


@dataclass(frozen=True)
class Item:
    spans: tuple[tuple[int, int], ...]  # one span, or (quote, speaker) for a speaker link
    label: str | None


@dataclass
class LayerCounts:
    spans: int = 0  # both annotators' items together
    exact: int = 0
    overlap: int = 0
    label_pairs: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: LayerCounts) -> None:
        self.spans += other.spans
        self.exact += other.exact
        self.overlap += other.overlap
        self.label_pairs += other.label_pairs

    def as_dict(self) -> dict:
        return {
            "spans": self.spans,
            "exact_matches": self.exact,
            "overlap_matches": self.overlap,
            "labelled_pairs": len(self.label_pairs),
            "f1_exact": f1(self.exact, self.spans),
            "f1_overlap": f1(self.overlap, self.spans),
            "kappa": cohens_kappa(self.label_pairs),
        }


def f1(matches: int, spans: int) -> float | None:
    """Span F1 of two annotators: 2 * matches / (their spans together); None when neither marked any."""
    return None if spans == 0 else 2 * matches / spans


def cohens_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of (label by one, label by the other) pairs; None when undefined."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def compare(a: list[Item], b: list[Item]) -> LayerCounts:
    """Exact and overlap matches between two annotators' items of one layer."""
    exact = sum((Counter(x.spans for x in a) & Counter(x.spans for x in b)).values())
    candidates = []
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            shared = [_overlap(s, t) for s, t in zip(x.spans, y.spans, strict=True)]
            if all(n > 0 for n in shared):
                candidates.append((-sum(shared), i, j))
    used_a, used_b, pairs = set(), set(), []
    for _, i, j in sorted(candidates):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            if a[i].label is not None and b[j].label is not None:
                pairs.append((a[i].label, b[j].label))
    return LayerCounts(len(a) + len(b), exact, len(used_a), pairs)


def _overlap(s: tuple[int, int], t: tuple[int, int]) -> int:
    return max(0, min(s[1], t[1]) - max(s[0], t[0]))


def layer_items(layers: Layers) -> dict[str, list[Item]]:
    entities = {e.id: e for e in layers.entities}
    return {
        "entities": [Item(((e.start, e.end),), e.type) for e in layers.entities],
        "event_triggers": [Item(((v.trigger.start, v.trigger.end),), v.type) for v in layers.events],
        "quotes": [Item(((q.start, q.end),), q.kind) for q in layers.quotes],
        "speaker_links": [
            Item(((q.start, q.end), (entities[q.speaker_id].start, entities[q.speaker_id].end)), None)
            for q in layers.quotes
            if q.speaker_id in entities
        ],
    }


@dataclass
class DocumentAgreement:
    doc_id: str
    export: str
    task_id: int
    annotators: list[int]
    annotation_ids: list[int]
    release_annotation: int
    ground_truth: bool
    layers: dict[str, LayerCounts]

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

    def as_dict(self) -> dict:
        return {
            "adjudication": ADJUDICATION_RULE,
            "method": METHOD,
            "overall": {name: counts.as_dict() for name, counts in self.overall().items()},
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
                " F1 of spans (exact / overlap), Cohen's kappa on the labels of overlap-matched spans"
            )
            out += _table("overall", self.overall())
            for d in self.documents:
                chosen = f"annotation {d.release_annotation}" + (" (ground truth)" if d.ground_truth else "")
                head = (
                    f"{d.doc_id}: task {d.task_id} in {d.export}, annotators {', '.join(map(str, d.annotators))};"
                    f" the release uses {chosen}"
                )
                out += _table(head, d.layers)
        out += [f"not compared: {reason}" for reason in self.not_compared]
        return out


def _table(head: str, layers: dict[str, LayerCounts]) -> list[str]:
    out = [head, f"  {'layer':<15}{'spans':>6}{'F1 exact':>10}{'F1 overlap':>12}{'kappa':>8}"]
    for name, counts in layers.items():
        values = counts.as_dict()
        out.append(
            f"  {name:<15}{counts.spans:>6}{_num(values['f1_exact']):>10}{_num(values['f1_overlap']):>12}"
            f"{_num(values['kappa']):>8}"
        )
    return out


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def agreement_report(project: Project) -> AgreementReport:
    """Compare annotators on every document whose deciding export holds several annotators' work."""
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
            document = _document(task, doc_id, text, name, schema, not_compared)
            if document is not None:
                documents.append(document)
    if problems:
        raise InputError(problems)
    return AgreementReport(sorted(documents, key=lambda d: d.doc_id), sorted(not_compared))


def _document(task: dict, doc_id: str, text: str, name: str, schema, not_compared: list[str]):
    submitted = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    latest: dict[int, dict] = {}
    for annotation in sorted(submitted, key=lambda a: (str(a.get("updated_at") or ""), a.get("id", 0))):
        annotator = user_id(annotation.get("completed_by"))
        if annotator is not None:
            latest[annotator] = annotation  # an annotator's latest annotation of the task
    if len(latest) < 2:
        return None
    layers: dict[int, Layers] = {}
    for annotator, annotation in sorted(latest.items()):
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
    items = {annotator: layer_items(converted) for annotator, converted in layers.items()}
    for first, second in combinations(sorted(items), 2):
        for layer in LAYERS:
            counts[layer].add(compare(items[first][layer], items[second][layer]))
    chosen = adjudicate(submitted)
    return DocumentAgreement(
        doc_id=doc_id,
        export=name,
        task_id=task["id"],
        annotators=sorted(layers),
        annotation_ids=sorted(latest[a].get("id") for a in layers),
        release_annotation=chosen.get("id"),
        ground_truth=bool(chosen.get("ground_truth")),
        layers=counts,
    )
