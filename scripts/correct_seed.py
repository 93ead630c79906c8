"""The corrections of the seed article's annotation released in v0.1.3, kept for the record.

Read against annotation/GUIDELINES.md (sections 3.2 c, 4, 5.2 and 5.3), the v0.1.2
annotation had seven nominal and pronoun mentions in no chain, argument or quote, Place
arguments missing where the sentence states the place, and no event for the generic
"raises unrest". The corrections below were made in a real Label Studio project whose seed
task held the released annotation (`newscorpus annotate push` imports it), by updating that
annotation through the API as the annotator, then exported with `newscorpus annotate pull`.
The export, not this script, is the source of the release.

Each correction names the region ids it touches; a region given by context has its span in
[brackets], a string that occurs exactly once in the text.

Usage (server on 127.0.0.1, the project pushed, key from the environment):
    LABEL_STUDIO_URL=http://127.0.0.1:8080 LABEL_STUDIO_API_KEY=... python scripts/correct_seed.py
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from annotate_seed import locate  # the same context-with-[span] notation
from label_studio_sdk import LabelStudio

from newscorpus.labelstudio.client import Connection
from newscorpus.labelstudio.push_pull import PROJECT_TITLE
from newscorpus.labelstudio.results import labelled_span, relation, span_choice

SEED_ID = "000_ef3ea5b0d932693c"


@dataclass(frozen=True)
class Link:
    later: str
    earlier: str
    why: str


@dataclass(frozen=True)
class Argument:
    event: str
    role: str
    entity: str
    why: str


@dataclass(frozen=True)
class Respan:
    region: str
    context: str
    mention_type: str
    why: str


@dataclass(frozen=True)
class NewEvent:
    region: str
    type: str
    realis: str
    context: str
    arguments: tuple[tuple[str, str], ...]
    why: str


# 3.2 c and 4: a nominal or pronoun mention refers to an entity with a marked mention and joins its chain.
LINKS = [
    Link("e65", "e26", "“30 of [its] soldiers”: the NATO-led forces’ soldiers (3.2 c, 4)"),
    Link("e66", "e18", "“to carry out [their] duties”: the Albanian officials’ duties (3.2 c, 4)"),
    Link("e67", "e02", "“[We] offer”: Peskov speaks for the Kremlin (3.2 c, 4)"),
    Link("e68", "e67", "“offer [our] unconditional support”: the same Kremlin as “We” (3.2 c, 4)"),
    Link("e69", "e36", "“First, [we] should”: the Serbian defence minister speaks for Serbia (3.2 c, 4)"),
    Link("e63", "e61", "“the north of [the country] bordering Serbia”: Kosovo (3.2 c, 4)"),
    Link("e70", "e50", "“unrest in [the north] of the country”: northern Kosovo (3.2 c, 4)"),
    Link("e62", "e55", "“a Serb minority” is the Serb population of Kosovo, one chain with “Kosovo Serbs” (4)"),
]

# 2 and 3.2: the maximal mention. "a Serb minority" takes part in the new event, so it is marked
# whole and the nationality word inside it is no longer a mention of its own.
RESPANS = [
    Respan("e62", "includes [a Serb minority] that", "NOM", "the maximal mention “a Serb minority”, not “Serb” (3.2)"),
]

# 5.2: a place stated in the same sentence, earlier or later, is the event's Place when the
# sentence puts the event there.
ARGUMENTS = [
    Argument("v02", "Place", "e11", "“Tension prevailed in [northern Kosovo] ..., after clashes with peacekeepers”"),
    Argument("v07", "Place", "e25", "“disperse them in [Zvešan], which led to clashes with NATO-led forces”"),
    Argument("v08", "Place", "e25", "the soldiers were wounded in those clashes in [Zvešan]"),
    Argument("v10", "Place", "e30", "troops sent “to [northern Kosovo] to help quell violent protests”"),
]

# 5.3: a kind of recurring event is generic.
NEW_EVENTS = [
    NewEvent(
        "v16",
        "Conflict.Demonstrate",
        "generic",
        "that raises [unrest] in the north",
        (("Entity", "e62"), ("Place", "e70")),
        "“a Serb minority that raises [unrest] in the north”: habitual unrest, a generic demonstration (5.3)",
    ),
]


def corrected(result: list[dict], text: str) -> list[dict]:
    """The annotation's result with every correction applied; refuses one that is already there."""
    result = [dict(item) for item in result]
    regions = {item["id"] for item in result if "id" in item and item.get("type") != "relation"}
    links = {(i["from_id"], i["to_id"], tuple(i.get("labels") or ())) for i in result if i.get("type") == "relation"}

    def add_link(from_id: str, to_id: str, label: str) -> None:
        missing = {from_id, to_id} - regions
        if missing:
            raise SystemExit(f"region(s) {sorted(missing)} are not in the annotation")
        if (from_id, to_id, (label,)) in links:
            raise SystemExit(f"{from_id} -> {to_id} ({label}) is already in the annotation; nothing to correct")
        result.append(relation(from_id, to_id, label))
        links.add((from_id, to_id, (label,)))

    for respan in RESPANS:
        start, end = locate(text, respan.context)
        for index, item in enumerate(result):
            if item.get("id") == respan.region and item.get("type") in ("labels", "choices"):
                value = {**item["value"], "start": start, "end": end, "text": text[start:end]}
                if item["type"] == "choices":
                    value["choices"] = [respan.mention_type]
                result[index] = {**item, "value": value}
    for event in NEW_EVENTS:
        if event.region in regions:
            raise SystemExit(f"region {event.region} is already in the annotation; nothing to correct")
        start, end = locate(text, event.context)
        result.append(labelled_span(event.region, "event", event.type, start, end, text[start:end], origin="manual"))
        result.append(span_choice(event.region, "realis", event.realis, start, end, text[start:end], origin="manual"))
        regions.add(event.region)
        for role, entity in event.arguments:
            add_link(event.region, entity, role)
    for link in LINKS:
        add_link(link.later, link.earlier, "coref")
    for argument in ARGUMENTS:
        add_link(argument.event, argument.entity, argument.role)
    return result


def main() -> int:
    connection = Connection.from_environment()
    client = LabelStudio(base_url=connection.url, api_key=connection.key)
    project = next(p for p in client.projects.list() if p.title == PROJECT_TITLE)
    task = next(t for t in client.tasks.list(project=project.id, fields="all") if t.data.get("doc_id") == SEED_ID)
    annotations = [a if isinstance(a, dict) else a.dict() for a in task.annotations]
    submitted = [a for a in annotations if not a.get("was_cancelled")]
    if len(submitted) != 1:
        raise SystemExit(f"task {task.id} has {len(submitted)} submitted annotations; expected the released one")
    annotation = submitted[0]
    result = corrected(annotation["result"], task.data["text"])
    client.annotations.update(id=annotation["id"], result=result, lead_time=(annotation.get("lead_time") or 0) + 1200.0)
    for what in [*LINKS, *RESPANS, *ARGUMENTS, *NEW_EVENTS]:
        print(f"- {what.why}")
    print(f"updated annotation {annotation['id']} of task {task.id}: {len(result)} result items")
    return 0


if __name__ == "__main__":
    sys.exit(main())
