"""A synthetic corpus with a realistic Label Studio native export, deterministic by seed.

Each article is ~2,000 characters of news-like English with non-ASCII names, curly
quotes and some emoji; its annotation has ~25 entity mentions, ~8 events with
arguments, ~4 quotes with cue and speaker, coreference links and per-region choices.
Some tasks carry a second annotator, some a cancelled annotation. Labels come from
schemas/annotation.yaml, so the export is valid for the project's own converter.

    python benchmarks/synth.py --docs 10000 --out DIR [--seed 0]

writes DIR/seeds/*.txt, DIR/annotation/exports/<name>.json, and copies the schema and
card, so DIR is a project root that `newscorpus --root DIR build` accepts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import string
from pathlib import Path

from newscorpus.labelstudio.results import region_items, relation

REPO = Path(__file__).resolve().parents[1]
EXPORT_NAME = "20260101T000000Z-project-1.json"

PEOPLE = [
    "Ana Đurić",
    "Milos Vučević",
    "Zoran Šćepanović",
    "Ljiljana Žarković",
    "Ömer Çelik",
    "Dmitry Peskov",
    "Vjosa Osmani",
    "Albin Kurti",
    "Jelena Milić",
    "Agron Bajrami",
    "Marta Kos",
    "Nikola Selaković",
]
ORGS = ["NATO", "KFOR", "the Kosovo police", "RTS", "the European Union", "the OSCE", "the Serbian army", "EULEX"]
GPES = ["Serbia", "Kosovo", "Priština", "Belgrade", "Zvečan", "Leposavić", "Mitrovica", "Zubin Potok"]
LOCS = ["northern Kosovo", "the Ibar valley", "the border", "the Jarinje crossing", "the Balkans"]
FACS = ["the town hall", "the municipal building", "the police station", "the main bridge", "the courthouse"]
NORPS = ["Serbs", "ethnic Albanians", "Kosovo Serbs", "Bosniaks", "Serbian"]
DATES = ["Monday", "Tuesday", "Wednesday", "last week", "on Friday night", "2023", "earlier this month"]
QUOTE_WORDS = [
    "the situation",
    "is",
    "very",
    "precarious",
    "we",
    "will",
    "not",
    "accept",
    "any",
    "provocation",
    "peace",
    "must",
    "be",
    "restored",
    "dialogue",
    "remains",
    "the",
    "only",
    "way",
    "forward",
    "now",
]
EMOJI = ["🙂", "🔥", "🇷🇸", "📢"]
FILLER = [
    "Tension prevailed across the region as talks between the two sides stalled again.",
    "The situation on the ground remained calm but fragile, according to local reports.",
    "Officials declined to give further details about the negotiations or their timetable.",
    "Residents said shops had reopened, although many streets were still blocked by barricades.",
    "Analysts warned that the dispute over municipal elections could drag on for months.",
    "The next round of talks is expected to take place after the holidays, diplomats said.",
    "Traffic at the crossing was slow, with long queues of trucks waiting to pass the checkpoint.",
    "Both governments accused each other of violating earlier agreements reached in Brussels.",
]


class Article:
    """Text and Label Studio result items, built sentence by sentence with known offsets."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.parts: list[str] = []
        self.length = 0
        self.result: list[dict] = []
        self.last_person: str | None = None

    def add(self, text: str) -> tuple[int, int]:
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start, self.length

    def rid(self) -> str:
        return "".join(self.rng.choices(string.ascii_letters + string.digits, k=10))

    def region(self, control: str, label: str, text: str, choice: tuple[str, str] | None = None) -> str:
        start, end = self.add(text)
        rid = self.rid()
        self.result += region_items(rid, control, label, start, end, text, choice, origin="manual")
        return rid

    def entity(self, label: str, text: str, mention: str = "NAM") -> str:
        return self.region("entity", label, text, ("mention_type", mention))

    def event(self, label: str, text: str, realis: str = "actual") -> str:
        return self.region("event", label, text, ("realis", realis))

    def relate(self, a: str, b: str, label: str) -> None:
        self.result.append(relation(a, b, label))

    def quote_words(self, n: int) -> str:
        words = self.rng.choices(QUOTE_WORDS, k=n)
        return " ".join(words).capitalize()

    # --- sentence templates -------------------------------------------------
    def direct_quote(self) -> None:
        words = self.quote_words(self.rng.randint(8, 16))
        quote = self.region("quote", "direct", f"“{words},”")
        self.add(" ")
        person = self.entity("PERSON", self.rng.choice(PEOPLE))
        self.add(" ")
        cue = self.region("cue", "cue", "told")
        self.add(" ")
        org = self.entity("ORG", self.rng.choice(ORGS))
        # A DATE is marked only as an event's Time (GUIDELINES.md 3.3): here it stays plain text.
        self.add(f" on {self.rng.choice(DATES)}. ")
        self.relate(quote, cue, "cue")
        self.relate(quote, person, "speaker")
        self.last_person = person
        del org

    def pronoun_quote(self) -> None:
        if self.last_person is None:
            return self.direct_quote()
        he = self.entity("PERSON", self.rng.choice(["He", "She"]), "PRO")
        self.relate(he, self.last_person, "coref")
        self.add(" ")
        cue = self.region("cue", "cue", "added")
        self.add(": ")
        quote = self.region("quote", "direct", f"“{self.quote_words(self.rng.randint(6, 12))}.”")
        self.add(" ")
        self.relate(quote, cue, "cue")
        self.relate(quote, he, "speaker")

    def attack(self) -> None:
        attacker = self.entity("GPE", self.rng.choice(GPES))
        self.add(" forces ")
        trigger = self.event("Conflict.Attack", "fired")
        self.add(" at ")
        target = self.entity("NORP", self.rng.choice(NORPS))
        self.add(" protesters in ")
        place = self.entity("LOC", self.rng.choice(LOCS))
        self.add(f" {self.rng.choice(EMOJI)}, leaving ")
        self.add(str(self.rng.randint(2, 40)))
        self.add(" people ")
        injure = self.event("Life.Injure", "wounded")
        self.add(". ")
        for role, ent in (("Attacker", attacker), ("Target", target), ("Place", place)):
            self.relate(trigger, ent, role)
        self.relate(injure, place, "Place")

    def demonstrate(self) -> None:
        self.add("Hundreds of ")
        crowd = self.entity("NORP", self.rng.choice(NORPS))
        self.add(" ")
        trigger = self.event("Conflict.Demonstrate", "gathered")
        self.add(" outside ")
        fac = self.entity("FAC", self.rng.choice(FACS), "NOM")
        self.add(" in ")
        gpe = self.entity("GPE", self.rng.choice(GPES))
        self.add(" on ")
        date = self.entity("DATE", self.rng.choice(DATES))
        self.add(". ")
        for role, ent in (("Entity", crowd), ("Place", fac), ("Time", date)):
            self.relate(trigger, ent, role)
        del gpe

    def deploy(self) -> None:
        agent = self.entity("ORG", self.rng.choice(ORGS))
        self.add(" decided to ")
        trigger = self.event("Military.Deploy", "send", "other")
        self.add(" more troops to ")
        destination = self.entity("LOC", self.rng.choice(LOCS))
        self.add(". ")
        self.relate(trigger, agent, "Agent")
        self.relate(trigger, destination, "Destination")

    def indirect_quote(self) -> None:
        speaker = self.entity("PERSON", self.rng.choice(PEOPLE))
        self.add(" ")
        cue = self.region("cue", "cue", "warned")
        self.add(" that ")
        quote = self.region("quote", "indirect", self.quote_words(self.rng.randint(7, 14)).lower())
        self.add(". ")
        self.relate(quote, cue, "cue")
        self.relate(quote, speaker, "speaker")
        self.last_person = speaker


def make_article(rng: random.Random, target_chars: int = 2000) -> Article:
    article = Article(rng)
    templates = [
        article.attack,
        article.demonstrate,
        article.deploy,
        article.attack,
        article.direct_quote,
        article.pronoun_quote,
        article.indirect_quote,
    ]
    while article.length < target_chars:
        if rng.random() < 0.55:  # most sentences of a news article carry no annotation
            article.add(rng.choice(FILLER) + " ")
        else:
            rng.choice(templates)()
        if rng.random() < 0.25:
            article.add("\n\n")
    return article


def task(index: int, rng: random.Random) -> tuple[str, str, dict]:
    doc_id = f"syn_{index:07d}"
    article = make_article(rng)
    text = "".join(article.parts).strip()
    # strip() may only remove trailing separators: offsets stay valid because the text starts with a region.
    annotations = [
        {
            "id": index * 10 + 1,
            "completed_by": 1,
            "result": article.result,
            "was_cancelled": False,
            "ground_truth": False,
            "lead_time": 600.0,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
    ]
    if rng.random() < 0.10:  # a second annotator who disagrees on one label
        second = json.loads(json.dumps(article.result))
        for item in second:
            if item["from_name"] == "entity":
                item["value"]["labels"] = ["ORG" if item["value"]["labels"] != ["ORG"] else "GPE"]
                break
        annotations.append(
            {
                **annotations[0],
                "id": index * 10 + 2,
                "completed_by": 2,
                "result": second,
                "updated_at": "2025-12-31T00:00:00Z",
            }
        )
    if rng.random() < 0.02:
        annotations.append(
            {**annotations[0], "id": index * 10 + 3, "completed_by": 3, "result": [], "was_cancelled": True}
        )
    return (
        doc_id,
        text,
        {
            "id": index + 1,
            "data": {"doc_id": doc_id, "text": text},
            "annotations": annotations,
            "drafts": [],
            "predictions": [],
            "meta": {},
            "project": 1,
        },
    )


def generate(docs: int, out: Path, seed: int = 0) -> Path:
    rng = random.Random(seed)
    (out / "seeds").mkdir(parents=True, exist_ok=True)
    (out / "annotation" / "exports").mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "schemas", out / "schemas", dirs_exist_ok=True)
    shutil.copytree(REPO / "validation", out / "validation", dirs_exist_ok=True)
    shutil.copy2(REPO / "DATACARD.md", out / "DATACARD.md")
    shutil.copy2(REPO / "annotation" / "GUIDELINES.md", out / "annotation" / "GUIDELINES.md")
    export = out / "annotation" / "exports" / EXPORT_NAME
    with open(export, "w", encoding="utf-8") as handle:
        handle.write("[")
        for index in range(docs):
            doc_id, text, item = task(index, rng)
            (out / "seeds" / f"{doc_id}.txt").write_text(f"date 2023-06-{1 + index % 28:02d}\n{text}\n", "utf-8")
            handle.write(("," if index else "") + "\n" + json.dumps(item, ensure_ascii=False, separators=(",", ":")))
        handle.write("\n]\n")
    # As `newscorpus annotate pull` stores an export: its sha256 beside it (the build checks it).
    digest = hashlib.sha256()
    with open(export, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    export.with_name(export.name + ".sha256").write_text(f"{digest.hexdigest()}  {export.name}\n", "utf-8")
    return export


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    export = generate(args.docs, args.out, args.seed)
    print(f"wrote {args.docs} articles and {export.name} ({export.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
