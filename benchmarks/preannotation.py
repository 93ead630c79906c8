"""Precision and recall of the rule-based pre-annotations against a released annotation.

    .venv/bin/python benchmarks/preannotation.py [corpus/v0.1.2] [--json OUT]

For every document of the release, the pre-annotator runs on the document's text and its
proposal is read back through the converter (`regions.convert_result`), exactly as an
accepted pre-annotation would be. Each layer is then compared with the release, exact match:

- entities: (start, end, type);
- quotes: (start, end, kind); cues: (start, end) of the cue of a quote;
- speaker links: (quote start, quote end, speaker mention start, speaker mention end);
- coref: pairs of mentions (by span) in the same coreference chain, chains of one left out.

Two settings: "names" gives the pre-annotator the NAM mentions of the release itself (what a
new article meets once those names are in the corpus; for entities this is an upper bound),
"no names" gives it none (a cold start: only the quote rules and capitalised speakers).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path

from newscorpus.errors import Location
from newscorpus.labelstudio.preannotate import MODEL_VERSION, known_names_from_layers, preannotate
from newscorpus.labelstudio.records import EntityMention
from newscorpus.labelstudio.regions import convert_result
from newscorpus.project import Project
from newscorpus.release.shards import read_config

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("entities", "quotes", "cues", "speaker links", "coref")


def gold_items(release: Path) -> tuple[dict[str, str], dict[str, dict[str, set]], list[EntityMention]]:
    """doc_id -> text, doc_id -> layer -> set of items, and every released entity mention."""
    texts = {
        row["doc_id"]: row["text"] for row in read_config(release, "documents", columns=["doc_id", "text"]).to_pylist()
    }
    by_doc: dict[str, list[EntityMention]] = defaultdict(list)
    mentions = []
    for row in read_config(release, "entities").to_pylist():
        doc_id = row.pop("doc_id")
        mention = EntityMention(**row)
        by_doc[doc_id].append(mention)
        mentions.append(mention)
    quotes: dict[str, list] = defaultdict(list)
    for row in read_config(release, "quotes").to_pylist():
        quotes[row["doc_id"]].append(row)
    gold = {}
    for doc_id in texts:
        entities = by_doc[doc_id]
        gold[doc_id] = _items(entities, [_QuoteRow(q) for q in quotes[doc_id]])
    return texts, gold, mentions


class _QuoteRow:
    def __init__(self, row: dict):
        self.start, self.end, self.kind, self.speaker_id = row["start"], row["end"], row["kind"], row["speaker_id"]
        self.cue = None if row["cue"] is None else (row["cue"]["start"], row["cue"]["end"])


def _items(entities, quotes) -> dict[str, set]:
    span = {e.id: (e.start, e.end) for e in entities}
    chains: dict[str, list] = defaultdict(list)
    for e in entities:
        chains[e.cluster_id].append((e.start, e.end))
    return {
        "entities": {(e.start, e.end, e.type) for e in entities},
        "quotes": {(q.start, q.end, q.kind) for q in quotes},
        "cues": {q.cue for q in quotes if q.cue is not None},
        "speaker links": {(q.start, q.end, *span[q.speaker_id]) for q in quotes if q.speaker_id in span},
        "coref": {tuple(sorted(pair)) for chain in chains.values() for pair in combinations(chain, 2)},
    }


def predicted_items(text: str, names: dict[str, str], project: Project, doc_id: str) -> dict[str, set]:
    result = preannotate(text, names)
    layers, problems = convert_result(result, text, project.schema, Location("pre-annotation", doc_id=doc_id))
    if problems:
        raise SystemExit(f"{doc_id}: the pre-annotation does not convert: {problems[0]}")
    quotes = []
    for q in layers.quotes:
        row = _QuoteRow({"start": q.start, "end": q.end, "kind": q.kind, "speaker_id": q.speaker_id, "cue": None})
        row.cue = None if q.cue is None else (q.cue.start, q.cue.end)
        quotes.append(row)
    return _items(layers.entities, quotes)


def score(gold: dict[str, dict[str, set]], predicted: dict[str, dict[str, set]]) -> dict[str, dict]:
    out = {}
    for layer in LAYERS:
        g = sum(len(gold[d][layer]) for d in gold)
        p = sum(len(predicted[d][layer]) for d in gold)
        tp = sum(len(gold[d][layer] & predicted[d][layer]) for d in gold)
        out[layer] = {
            "gold": g,
            "proposed": p,
            "correct": tp,
            "precision": round(tp / p, 3) if p else None,
            "recall": round(tp / g, 3) if g else None,
        }
    return out


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def table(scores: dict[str, dict], title: str) -> str:
    lines = [
        f"{title}",
        "",
        "| layer | gold | proposed | correct | precision | recall |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for layer, s in scores.items():
        cells = [layer, s["gold"], s["proposed"], s["correct"], _fmt(s["precision"]), _fmt(s["recall"])]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", nargs="?", default=str(REPO / "corpus" / "v0.1.2"))
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    release = Path(args.release)
    project = Project(REPO)
    texts, gold, mentions = gold_items(release)
    settings = {"names": known_names_from_layers(mentions), "no names": {}}
    results = {}
    for setting, names in settings.items():
        predicted = {d: predicted_items(t, names, project, d) for d, t in texts.items()}
        results[setting] = score(gold, predicted)
        title = f"{MODEL_VERSION} on {release.name} ({len(texts)} document(s)), {setting}"
        title += f" ({len(names)} known names)" if names else ""
        print(table(results[setting], title) + "\n")
    if args.json:
        args.json.write_text(json.dumps({"model_version": MODEL_VERSION, **results}, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
