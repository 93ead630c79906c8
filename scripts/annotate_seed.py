"""How the seed article's v0.1.0 annotation was made, kept for the record.

The annotation follows annotation/GUIDELINES.md. It was entered into a real Label
Studio project through its API (one annotator, a human-checked list of regions
below), then exported untouched into annotation/exports/. The export, not this
script, is the source of the release.

Each region is written as a context string that occurs exactly once in the text,
with the span in [brackets]; the script turns it into code-point offsets and
refuses ambiguous or missing contexts.

Usage (server on 127.0.0.1, key from the environment):
    LABEL_STUDIO_URL=http://127.0.0.1:8080 LABEL_STUDIO_API_KEY=... python scripts/annotate_seed.py [--revise]

--revise updates the labeling config of the existing "newscorpus" project and the
seed task's annotation in place, as an annotator revising their work would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
from pathlib import Path

import requests
from label_studio_sdk import LabelStudio

from newscorpus.ingest import parse_article
from newscorpus.labelstudio.results import labelled_span, relation, span_choice

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_ef3ea5b0d932693c.txt"

# id, label, mention type, context with [span]
ENTITIES = [
    ("e01", "NORP", "NAM", "interests of [Kosovo Serbs] must"),
    ("e02", "ORG", "NAM", "[Kremlin] spokesman"),
    ("e03", "PERSON", "NAM", "spokesman [Dmitry Peskov] told"),
    ("e05", "GPE", "NAM", "support to [Serbia] and"),
    ("e06", "NORP", "NAM", "Serbia and [Serbs].”"),
    ("e07", "PERSON", "NAM", "[Peskov] warned"),
    ("e08", "NORP", "NAM", "rights of [Serbs], and"),
    ("e09", "ORG", "NAM", "the [Kremlin]’s"),
    ("e10", "GPE", "NAM", "situation in [Kosovo]."),
    ("e11", "LOC", "NAM", "prevailed in [northern Kosovo] on"),
    ("e12", "DATE", "NAM", "Kosovo on [Wednesday], as"),
    ("e13", "NORP", "NAM", "hundreds of [ethnic Serbs] gathered"),
    ("e14", "FAC", "NOM", "outside [the town hall]"),
    ("e15", "ORG", "NOM", "clashes with [peacekeepers] earlier"),
    ("e16", "DATE", "NOM", "peacekeepers [earlier this week]"),
    ("e17", "DATE", "NOM", "Clashes erupted [last week]"),
    ("e18", "PERSON", "NOM", "after [Albanian officials], elected"),
    ("e19", "NORP", "NAM", "by most [Serbs], entered"),
    ("e20", "FAC", "NOM", "entered [the municipal buildings]"),
    ("e21", "NORP", "NAM", "When the [Serbs] tried"),
    ("e22", "PERSON", "PRO", "to stop [them], the"),
    ("e23", "ORG", "NAM", "the [Kosovo police] fired"),
    ("e24", "NORP", "PRO", "disperse [them] in"),
    ("e25", "GPE", "NAM", "in [Zvešan], which"),
    ("e26", "ORG", "NOM", "clashes with [NATO-led forces] that"),
    ("e27", "PERSON", "NOM", "30 of its [soldiers] wounded"),
    ("e28", "ORG", "NAM", "[NATO] decided"),
    ("e29", "PERSON", "NOM", "additional 700 [troops] to"),
    ("e30", "LOC", "NAM", "troops to [northern Kosovo] to help"),
    ("e31", "DATE", "NAM", "after [Monday]’s"),
    ("e32", "ORG", "NOM", "[NATO peacekeepers] insisted"),
    ("e33", "PERSON", "NOM", "insisted that [ethnic Albanian mayors] and"),
    ("e34", "ORG", "NAM", "mayors and [Kosovo police] leave"),
    ("e35", "LOC", "NAM", "police leave [northern Kosovo]."),
    ("e36", "GPE", "NAM", "[Serbia] has put"),
    ("e37", "GPE", "NOM", "put [the country]’s army"),
    ("e38", "ORG", "NOM", "country’s [army] on"),
    ("e39", "PERSON", "NOM", "sent more [troops] to"),
    ("e40", "LOC", "NOM", "troops to [the border] with"),
    ("e41", "GPE", "NAM", "border with [Kosovo]."),
    ("e42", "GPE", "NAM", "administration in [Pristina],”"),
    ("e43", "NORP", "NAM", "[Serbian] Defense Minister"),
    ("e44", "PERSON", "NAM", "Minister [Milos Vucevic] told"),
    ("e45", "NORP", "NAM", "told [Serbian] state television"),
    ("e46", "ORG", "NAM", "television [RTS] on"),
    ("e49", "PERSON", "PRO", "[He] added"),
    ("e50", "LOC", "NAM", "occupation of [northern Kosovo] by"),
    ("e51", "NORP", "NAM", "by the [Albanian] administration"),
    ("e52", "GPE", "NAM", "administration in [Pristina].”"),
    ("e53", "PERSON", "NOM", "[Serb officials] have long"),
    ("e54", "GPE", "NAM", "warned that [Serbia] will"),
    ("e55", "NORP", "NAM", "if the [Serbs] in Kosovo"),
    ("e56", "GPE", "NAM", "Serbs in [Kosovo] are attacked"),
    ("e57", "GPE", "NAM", "[Belgrade] did not"),
    ("e58", "GPE", "NAM", "recognize [Kosovo]’s"),
    ("e60", "NORP", "NAM", "The [ethnic Albanians] make"),
    ("e61", "GPE", "NAM", "but [Kosovo] includes"),
    ("e62", "NORP", "NAM", "includes a [Serb] minority"),
    ("e63", "GPE", "NOM", "north of [the country] bordering"),
    ("e64", "GPE", "NAM", "bordering [Serbia]."),
    # Added in the revision after the guidelines' review (rule 3.2 c: pronouns and
    # nominals that refer to a marked entity join its chain).
    ("e65", "ORG", "PRO", "30 of [its] soldiers"),
    ("e66", "PERSON", "PRO", "carry out [their] duties"),
    ("e67", "ORG", "PRO", "stressing, “[We] offer"),
    ("e68", "ORG", "PRO", "offer [our] unconditional"),
    ("e69", "GPE", "PRO", "“First, [we] should"),
    ("e70", "LOC", "NOM", "unrest in [the north] of"),
]

# id, type, realis, context with [trigger], arguments (role, entity id)
EVENTS = [
    (
        "v01",
        "Conflict.Demonstrate",
        "actual",
        "ethnic Serbs [gathered] outside",
        [("Entity", "e13"), ("Place", "e14"), ("Time", "e12")],
    ),
    (
        "v02",
        "Conflict.Attack",
        "actual",
        "after [clashes] with peacekeepers",
        [("Attacker", "e13"), ("Attacker", "e15"), ("Time", "e16")],
    ),
    ("v03", "Conflict.Attack", "actual", "[Clashes] erupted", [("Time", "e17")]),
    ("v04", "Personnel.Elect", "actual", "officials, [elected] in", [("Person", "e18")]),
    ("v05", "Movement.Transport", "actual", "Serbs, [entered] the", [("Artifact", "e18"), ("Destination", "e20")]),
    (
        "v06",
        "Conflict.Attack",
        "actual",
        "police [fired] tear gas",
        [("Attacker", "e23"), ("Target", "e24"), ("Place", "e25")],
    ),
    ("v07", "Conflict.Attack", "actual", "led to [clashes] with", [("Attacker", "e21"), ("Attacker", "e26")]),
    ("v08", "Life.Injure", "actual", "soldiers [wounded]", [("Victim", "e27")]),
    (
        "v09",
        "Military.Deploy",
        "other",
        "decided to [send] an",
        [("Agent", "e28"), ("Artifact", "e29"), ("Destination", "e30")],
    ),
    ("v10", "Conflict.Demonstrate", "actual", "violent [protests] after", []),
    ("v11", "Conflict.Attack", "actual", "Monday’s [clashes].", [("Time", "e31")]),
    (
        "v12",
        "Movement.Transport",
        "other",
        "police [leave] northern",
        [("Artifact", "e33"), ("Artifact", "e34"), ("Origin", "e35")],
    ),
    ("v13", "Military.Alert", "actual", "army on [high alert]", [("Agent", "e36"), ("Entity", "e38")]),
    (
        "v14",
        "Military.Deploy",
        "actual",
        "alert and [sent] more troops",
        [("Agent", "e36"), ("Artifact", "e39"), ("Destination", "e40")],
    ),
    ("v15", "Conflict.Attack", "other", "Kosovo are [attacked].", [("Target", "e55"), ("Place", "e56")]),
]

# id, kind, context with [quote], cue id, cue context with [cue], speaker entity id
QUOTES = [
    (
        "q01",
        "direct",
        "[“All the legitimate rights and interests of Kosovo Serbs must be respected,”]",
        "c01",
        "Peskov [told] reporters",
        "e03",
    ),
    (
        "q02",
        "direct",
        "stressing, [“We offer our unconditional support to Serbia and Serbs.”]",
        "c02",
        "reporters, [stressing],",
        "e03",
    ),
    (
        "q03",
        "mixed",
        "warned of [“provocative actions” that would prejudice the rights of Serbs],",
        "c03",
        "Peskov [warned] of",
        "e07",
    ),
    ("q04", "mixed", "Kremlin’s [“concern” about the situation in Kosovo].", "c04", "and [expressed] the", "e07"),
    (
        "q05",
        "indirect",
        "insisted that [ethnic Albanian mayors and Kosovo police leave northern Kosovo].",
        "c05",
        "peacekeepers [insisted] that",
        "e32",
    ),
    (
        "q06",
        "direct",
        "[“The security situation is very precarious because of the unilateral, illegal and "
        "illegitimate decisions taken by the administration in Pristina,”]",
        "c06",
        "Vucevic [told] Serbian",
        "e44",
    ),
    (
        "q07",
        "direct",
        "added: [“First, we should call the situation by its proper name and try to define it as "
        "the occupation of northern Kosovo by the Albanian administration in Pristina.”]",
        "c07",
        "He [added]:",
        "e49",
    ),
    (
        "q08",
        "indirect",
        "warned that [Serbia will not stand idly by if the Serbs in Kosovo are attacked].",
        "c08",
        "have long [warned] that",
        "e53",
    ),
]

# Coreference: each later mention linked to the mention it refers back to.
COREF = [
    ("e07", "e03"),
    ("e09", "e02"),
    ("e26", "e15"),
    ("e32", "e26"),
    ("e34", "e23"),
    ("e22", "e18"),
    ("e33", "e18"),
    ("e21", "e13"),
    ("e24", "e21"),
    ("e49", "e44"),
    ("e36", "e05"),
    ("e37", "e36"),
    ("e54", "e36"),
    ("e64", "e54"),
    ("e41", "e10"),
    ("e56", "e41"),
    ("e58", "e56"),
    ("e61", "e58"),
    ("e30", "e11"),
    ("e35", "e30"),
    ("e50", "e35"),
    ("e52", "e42"),
    ("e08", "e01"),
    ("e19", "e08"),
    ("e55", "e19"),
]


def locate(text: str, context: str) -> tuple[int, int]:
    plain = context.replace("[", "").replace("]", "")
    at = text.find(plain)
    if at < 0 or text.find(plain, at + 1) >= 0:
        raise SystemExit(f"context {context!r} must occur exactly once in the text")
    start = at + context.index("[")
    return start, start + context.index("]") - context.index("[") - 1


def build_result(text: str) -> list[dict]:
    result: list[dict] = []

    def region(rid: str, control: str, label: str, context: str) -> dict:
        start, end = locate(text, context)
        item = labelled_span(rid, control, label, start, end, text[start:end], origin="manual")
        result.append(item)
        return item["value"]

    def choice(rid: str, control: str, value: dict, choice_value: str) -> None:
        result.append(
            span_choice(rid, control, choice_value, value["start"], value["end"], value["text"], origin="manual")
        )

    def link(from_id: str, to_id: str, label: str) -> None:
        result.append(relation(from_id, to_id, label))

    for rid, label, mention_type, context in ENTITIES:
        choice(rid, "mention_type", region(rid, "entity", label, context), mention_type)
    for rid, label, realis, context, arguments in EVENTS:
        choice(rid, "realis", region(rid, "event", label, context), realis)
        for role, entity_id in arguments:
            link(rid, entity_id, role)
    for rid, kind, context, cue_id, cue_context, speaker in QUOTES:
        region(rid, "quote", kind, context)
        region(cue_id, "cue", "cue", cue_context)
        link(rid, cue_id, "cue")
        link(rid, speaker, "speaker")
    for later, earlier in COREF:
        link(later, earlier, "coref")
    return result


def main() -> int:
    url, key = os.environ["LABEL_STUDIO_URL"].rstrip("/"), os.environ["LABEL_STUDIO_API_KEY"]
    article = parse_article(SEED.read_bytes(), source_file="seeds/" + SEED.name, doc_id=SEED.stem, language="en")
    result = build_result(article.text)
    client = LabelStudio(base_url=url, api_key=key)
    config = (ROOT / "annotation" / "label_config.xml").read_text(encoding="utf-8")
    if "--revise" in sys.argv:
        project = next(p for p in client.projects.list() if p.title == "newscorpus")
        client.projects.update(id=project.id, label_config=config)
        task = next(iter(client.tasks.list(project=project.id, fields="all")))
        annotation = task.annotations[0]
        annotation_id = annotation["id"] if isinstance(annotation, dict) else annotation.id
        client.annotations.update(id=annotation_id, result=result, lead_time=1800.0)
    else:
        project = client.projects.create(title="newscorpus", label_config=config)
        client.projects.import_tasks(
            id=project.id, request=[{"data": {"doc_id": article.doc_id, "text": article.text}}]
        )
        task = next(iter(client.tasks.list(project=project.id)))
        client.annotations.create(id=task.id, result=result, lead_time=5400.0, ground_truth=False)
    response = requests.get(
        f"{url}/api/projects/{project.id}/export",
        params={"exportType": "JSON", "download_all_tasks": "true"},
        headers={"Authorization": f"Token {key}"},
        timeout=60,
    )
    response.raise_for_status()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = ROOT / "annotation" / "exports" / f"{stamp}-project-{project.id}.json"
    target.write_bytes(response.content)
    digest = hashlib.sha256(response.content).hexdigest()
    target.with_name(target.name + ".sha256").write_text(f"{digest}  {target.name}\n", encoding="utf-8")
    print(f"exported {len(result)} result items to annotation/exports/{target.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
