"""What two annotators' annotations of one document are compared on, and the counts pooled over pairs.

Span layers (one item per span or per link, compared exact and overlap-matched):

- entities (label: entity type; choice: mention type), event triggers (label: event type;
  choice: realis), quotes (label: kind; choice: kind), speaker links (quote span with its
  speaker mention's span; no label);
- event arguments: a link from an event trigger's span to its argument entity mention's span
  (label: role). One annotator's argument matches one of the other's when both the trigger
  spans and the argument spans match (identical, or both overlapping), whatever the roles;
  kappa is then on the roles of the matched links.

Coreference: each annotator's entity mentions partitioned by their chains (`cluster_id`),
a mention named by its exact span, so that mentions align across annotators by identical
offsets; a span one annotator marked twice counts once, in the chain of the first in text order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from newscorpus.labelstudio.coref_scores import Partition, Ratio, b_cubed, ceaf_e, conll, muc
from newscorpus.labelstudio.records import Layers

LAYERS = ("entities", "event_triggers", "event_arguments", "quotes", "speaker_links")
# per-region choice -> the layer whose overlap-matched spans carry it
CHOICES = {"mention_type": "entities", "realis": "event_triggers", "quote_kind": "quotes"}

Spans = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Item:
    spans: Spans  # one span, or (quote, speaker) for a speaker link, or (trigger, argument)
    label: str | None
    choice: str | None = None  # the region's per-region choice (mention type, realis, quote kind)


@dataclass
class LayerCounts:
    spans: int = 0  # both annotators' items together
    exact: int = 0
    overlap: int = 0
    label_pairs: list[tuple[str, str]] = field(default_factory=list)
    choice_pairs: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: LayerCounts) -> None:
        self.spans += other.spans
        self.exact += other.exact
        self.overlap += other.overlap
        self.label_pairs += other.label_pairs
        self.choice_pairs += other.choice_pairs

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


def choices_dict(layers: dict[str, LayerCounts]) -> dict[str, dict]:
    """Kappa per per-region choice, on the overlap-matched spans of its layer."""
    return {
        choice: {"pairs": len(layers[layer].choice_pairs), "kappa": cohens_kappa(layers[layer].choice_pairs)}
        for choice, layer in CHOICES.items()
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
    used_a, used_b = set(), set()
    labels, choices = [], []
    for _, i, j in sorted(candidates):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            if a[i].label is not None and b[j].label is not None:
                labels.append((a[i].label, b[j].label))
            if a[i].choice and b[j].choice:  # an empty choice is a problem the build reports, not a value
                choices.append((a[i].choice, b[j].choice))
    return LayerCounts(len(a) + len(b), exact, len(used_a), labels, choices)


def _overlap(s: tuple[int, int], t: tuple[int, int]) -> int:
    return max(0, min(s[1], t[1]) - max(s[0], t[0]))


def layer_items(layers: Layers) -> dict[str, list[Item]]:
    entities = {e.id: e for e in layers.entities}
    return {
        "entities": [Item(((e.start, e.end),), e.type, e.mention_type) for e in layers.entities],
        "event_triggers": [Item(((v.trigger.start, v.trigger.end),), v.type, v.realis) for v in layers.events],
        "event_arguments": [
            Item(
                ((v.trigger.start, v.trigger.end), (entities[a.entity_id].start, entities[a.entity_id].end)),
                a.role,
            )
            for v in layers.events
            for a in v.arguments
            if a.entity_id in entities
        ],
        "quotes": [Item(((q.start, q.end),), q.kind, q.kind) for q in layers.quotes],
        "speaker_links": [
            Item(((q.start, q.end), (entities[q.speaker_id].start, entities[q.speaker_id].end)), None)
            for q in layers.quotes
            if q.speaker_id in entities
        ],
    }


def coref_partition(layers: Layers) -> list[frozenset[tuple[int, int]]]:
    """The annotator's chains as sets of mention spans (singletons included)."""
    chains: dict[str, list[tuple[int, int]]] = {}
    seen: set[tuple[int, int]] = set()
    for mention in sorted(layers.entities, key=lambda e: (e.start, e.end, e.id)):
        span = (mention.start, mention.end)
        if span not in seen:
            seen.add(span)
            chains.setdefault(mention.cluster_id, []).append(span)
    return [frozenset(spans) for spans in chains.values()]


@dataclass
class CorefCounts:
    """MUC, B³ and CEAF-e of pairs of annotators, the first of each pair as key, pooled."""

    mentions: int = 0  # both annotators' mentions together
    aligned: int = 0  # mentions of one with an identical span in the other
    muc: Ratio = field(default_factory=Ratio)
    b_cubed: Ratio = field(default_factory=Ratio)
    ceaf_e: Ratio = field(default_factory=Ratio)

    @classmethod
    def of(cls, key: Partition, response: Partition) -> CorefCounts:
        key_mentions = set().union(*key)
        response_mentions = set().union(*response)
        return cls(
            len(key_mentions) + len(response_mentions),
            len(key_mentions & response_mentions),
            muc(key, response),
            b_cubed(key, response),
            ceaf_e(key, response),
        )

    def add(self, other: CorefCounts) -> None:
        self.mentions += other.mentions
        self.aligned += other.aligned
        self.muc.add(other.muc)
        self.b_cubed.add(other.b_cubed)
        self.ceaf_e.add(other.ceaf_e)

    @property
    def conll(self) -> float | None:
        return conll(self.muc.f1, self.b_cubed.f1, self.ceaf_e.f1)

    def as_dict(self) -> dict:
        return {
            "mentions": self.mentions,
            "aligned_mentions": self.aligned,
            "muc": self.muc.as_dict(),
            "b_cubed": self.b_cubed.as_dict(),
            "ceaf_e": self.ceaf_e.as_dict(),
            "conll": self.conll,
        }
