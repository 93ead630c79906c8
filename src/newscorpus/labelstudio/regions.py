"""One Label Studio annotation's `result` list -> typed entities, events and quotes.

Label Studio validates nothing on the server, so every item is checked here:
control names, labels, choices, offsets against the text, relation endpoints and
the kinds they join. Problems are collected, never raised one at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from newscorpus import schema as S
from newscorpus.errors import Location, Problem
from newscorpus.labelstudio.records import Argument, EntityMention, Event, Layers, Quote, Span
from newscorpus.labelstudio.spans import check_span
from newscorpus.labelstudio.task_shape import REEXPORT, describe
from newscorpus.labelstudio.visible import visible
from newscorpus.schema import AnnotationSchema


@dataclass
class _Region:
    id: str
    kind: str  # entity / event / quote / cue
    label: str
    span: Span
    choices: dict[str, str] = field(default_factory=dict)


_CONTROL_LABELS: dict[str, Callable[[AnnotationSchema], object]] = {
    S.ENTITY_CONTROL: lambda s: s.entity_types,
    S.EVENT_CONTROL: lambda s: s.event_types,
    S.QUOTE_CONTROL: lambda s: s.quote_kinds,
    S.CUE_CONTROL: lambda s: {S.CUE_LABEL: ""},
}
# per-region choice control -> (the region kind it belongs to, its value set)
_CHOICE_CONTROLS: dict[str, tuple[str, Callable[[AnnotationSchema], object]]] = {
    S.MENTION_TYPE_CONTROL: (S.ENTITY_CONTROL, lambda s: s.mention_types),
    S.REALIS_CONTROL: (S.EVENT_CONTROL, lambda s: s.realis),
}
_CONTROLS = {*_CONTROL_LABELS, *_CHOICE_CONTROLS}
_CONTROL_NAMES = sorted(_CONTROLS)
_MENTION_RANK = {"NAM": 0, "NOM": 1, "PRO": 2}


def convert_result(
    result: object, text: str, schema: AnnotationSchema, where: Location
) -> tuple[Layers, list[Problem]]:
    """Convert one annotation. `where` carries file, task, annotation and doc_id for messages."""
    problems: list[Problem] = []

    def problem(region_id: str | None, field_name: str, message: str, fix: str) -> None:
        shown = visible(region_id) if region_id is not None else None  # an id with a newline stays on its line
        problems.append(where.problem(message, field=field_name, fix=fix, region_id=shown))

    if not isinstance(result, list):
        problem(None, "result", f"expected a list of regions, got {describe(result)}", REEXPORT)
        return Layers((), (), ()), problems
    regions: dict[str, _Region] = {}
    broken: set[str] = set()  # regions already reported; what points at them is not reported again
    choices: list[tuple[str, str, dict]] = []
    relations: list[dict] = []
    for index, item in enumerate(result):
        if not isinstance(item, dict):
            problem(None, f"result[{index}]", f"expected a region object, got {describe(item)}", REEXPORT)
            continue
        kind, item_id = item.get("type"), item.get("id")
        to_name = item.get("to_name")
        if to_name != S.TEXT_OBJECT and (kind != "relation" or to_name is not None):
            # a relation has no to_name in Label Studio's export; if it has one, it must be the text too
            broken.add(_key(item_id))
            what = "relation" if kind == "relation" else "region"
            problem(
                _key(item_id) if what == "region" else _key(item.get("from_id")),
                "to_name",
                f"the {what} is on object {_shown(to_name)}, not on {S.TEXT_OBJECT!r}"
                " (the labeling config's text object)",
                "annotate in the project whose labeling config is generated from the schema (newscorpus annotate push)",
            )
            continue
        from_name = item.get("from_name")
        if kind == "relation":
            relations.append(item)
        elif not isinstance(from_name, str) or from_name not in _CONTROLS:
            broken.add(_key(item_id))
            problem(
                _key(item_id) if item_id is not None else None,
                "from_name",
                f"unknown control {_shown(from_name)} (type {_shown(kind)})",
                f"use the labeling config generated from the schema (controls {_CONTROL_NAMES})",
            )
        elif from_name in _CHOICE_CONTROLS:
            choices.append((_key(item_id), from_name, item))
        else:
            region = _read_region(item, text, schema, problem)
            if region is None:
                broken.add(_key(item_id))
                continue
            if region.id in regions:
                same = regions[region.id].span == region.span and regions[region.id].label == region.label
                what = "an identical duplicate of" if same else "a second region with the id of"
                problem(region.id, "id", f"{what} region {region.id}", "delete one of the two regions in Label Studio")
                continue
            regions[region.id] = region
    broken -= regions.keys()  # a bad item beside a good region of the same id: what points at the region counts
    if broken:
        choices = [c for c in choices if c[0] not in broken]
        relations = [
            r for r in relations if _key(r.get("from_id")) not in broken and _key(r.get("to_id")) not in broken
        ]
    _attach_choices(choices, regions, schema, problem)
    links = _read_relations(relations, regions, schema, problem)
    layers = _assemble(regions, links, schema, problem)
    return layers, problems


def _relation(from_id: object, to_id: object) -> str:
    return f"relation {visible(_key(from_id))}->{visible(_key(to_id))}"


def _key(value: object) -> str:
    """An id as a key (of `broken`, of choices): a string as it is; anything else as a message shows it."""
    return value if isinstance(value, str) else _shown(value)


def _shown(value: object) -> str:
    """A value from the export as a message shows it: a string quoted with escapes visible, else its repr."""
    if isinstance(value, str):
        return f"'{visible(value)}'"
    return "null" if value is None else repr(value)


def _read_region(item: dict, text: str, schema: AnnotationSchema, problem) -> _Region | None:
    region_id = item.get("id")
    if not isinstance(region_id, str) or not region_id:
        problem(None, "id", "a region has no id", "re-export the project; Label Studio gives every region an id")
        return None
    if not region_id.isprintable() or region_id.strip() != region_id:
        problem(
            region_id,
            "id",
            "the region id has spaces at its ends or characters that cannot be seen (shown escaped)",
            "re-export the project; Label Studio's region ids are letters and digits",
        )
        return None
    control = item["from_name"]
    value = item.get("value")
    if not isinstance(value, dict):
        problem(
            region_id, "value", f"expected an object with start, end, text and labels, got {describe(value)}", REEXPORT
        )
        return None
    labels = value.get("labels")
    allowed = _CONTROL_LABELS[control](schema)
    if labels is None and (item.get("type") == "choices" or "choices" in value):
        problem(
            region_id,
            "type",
            f"{control} is a labels control: its regions take value.labels, not choices",
            f"label the region with one of {sorted(allowed)}; the per-region choices are {sorted(_CHOICE_CONTROLS)}",
        )
        return None
    if not isinstance(labels, list) or len(labels) != 1:
        problem(region_id, "value.labels", f"expected exactly one label, got {labels!r}", "give the region one label")
        return None
    if not isinstance(labels[0], str) or labels[0] not in allowed:
        problem(
            region_id,
            "value.labels",
            f"unknown {control} label {_shown(labels[0])}",
            f"use one of {sorted(allowed)} or add the label to schemas/annotation.yaml",
        )
        return None
    span = check_span(value, text, region_id, problem)
    return None if span is None else _Region(region_id, control, labels[0], span)


def _attach_choices(choices, regions: dict[str, _Region], schema: AnnotationSchema, problem) -> None:
    for region_id, control, item in choices:
        kind, values = _CHOICE_CONTROLS[control]
        allowed = values(schema)
        picked = (item.get("value") or {}).get("choices") if isinstance(item.get("value"), dict) else None
        region = regions.get(region_id)
        if region is None:
            problem(
                region_id,
                control,
                f"a per-region {control} choice has no region with id {region_id}",
                "select the region in Label Studio and set the choice again, or delete the stray choice",
            )
        elif region.kind != kind:
            problem(
                region_id,
                control,
                f"{control} belongs to {kind} regions, not to {_a(region.kind)} region",
                f"remove the {control} choice from this region",
            )
        elif (
            not isinstance(picked, list)
            or len(picked) != 1
            or not isinstance(picked[0], str)
            or picked[0] not in allowed
        ):
            problem(
                region_id,
                control,
                f"expected one of {list(allowed)}, got {picked!r}",
                f"pick one {control} for the region",
            )
            region.choices[control] = ""  # reported here; not reported again as missing
        elif control in region.choices:
            problem(region_id, control, f"{control} is given twice", "keep one choice for the region")
        else:
            region.choices[control] = picked[0]
    for region in regions.values():
        for control, (kind, _) in _CHOICE_CONTROLS.items():
            if region.kind == kind and control not in region.choices:
                problem(
                    region.id,
                    control,
                    f'{kind} region "{region.span.text}" has no {control}',
                    f"select the region in Label Studio and pick its {control}",
                )


def _one_of(value: object, allowed) -> bool:
    return isinstance(value, str) and value in allowed


def _read_relations(relations, regions: dict[str, _Region], schema: AnnotationSchema, problem) -> list:
    """Return (label, kind-ordered endpoint a, endpoint b) for each valid relation."""
    kinds = schema.relation_kinds
    links = []
    for item in relations:
        from_id, to_id, labels = item.get("from_id"), item.get("to_id"), item.get("labels")
        missing = [x for x in (from_id, to_id) if not isinstance(x, str) or x not in regions]
        if missing:
            problem(
                _key(missing[0]),
                "from_id" if missing[0] == from_id else "to_id",
                f"{_relation(from_id, to_id)} points to a region that does not exist",
                "delete the relation in Label Studio",
            )
            continue
        if not isinstance(labels, list) or len(labels) != 1:
            problem(
                str(from_id),
                "labels",
                f"{_relation(from_id, to_id)} needs exactly one label, got {labels!r}",
                f"give the relation one label of {sorted(kinds)}",
            )
            continue
        label = labels[0]
        if not isinstance(label, str) or label not in kinds:
            problem(
                str(from_id),
                "labels",
                f"{_relation(from_id, to_id)} has unknown label {_shown(label)}",
                f"use one of {sorted(kinds)} or add it to schemas/annotation.yaml",
            )
            continue
        a, b = regions[from_id], regions[to_id]
        want = kinds[label].between
        if (a.kind, b.kind) != want:
            if (b.kind, a.kind) != want:
                problem(
                    str(from_id),
                    "labels",
                    f"{_relation(from_id, to_id)} is labelled {label!r}, which joins {_a(want[0])} and {_a(want[1])},"
                    f" not {_a(a.kind)} and {_a(b.kind)}",
                    "relabel the relation or connect the right regions",
                )
                continue
            a, b = b, a
        if want == (S.EVENT_CONTROL, S.ENTITY_CONTROL) and label not in schema.event_types[a.label].roles:
            problem(
                a.id,
                "labels",
                f"role {label!r} is not allowed for event type {a.label}"
                f" (allowed: {list(schema.event_types[a.label].roles)})",
                "relabel the argument with an allowed role",
            )
            continue
        links.append((label, a, b))
    return links


def _assemble(regions: dict[str, _Region], links: list, schema: AnnotationSchema, problem) -> Layers:
    entities = [r for r in regions.values() if r.kind == S.ENTITY_CONTROL]
    clusters = _clusters(entities, [(a.id, b.id) for label, a, b in links if label == "coref"])
    canonical: dict[str, _Region] = {}
    for members in clusters.values():
        best = min(
            members,
            key=lambda r: (
                _MENTION_RANK.get(r.choices.get(S.MENTION_TYPE_CONTROL), 3),
                -len(r.span.text),
                r.span.start,
                r.id,
            ),
        )
        for member in members:
            canonical[member.id] = best
    out_entities = tuple(
        EntityMention(
            r.id,
            r.span.start,
            r.span.end,
            r.span.text,
            r.label,
            r.choices.get(S.MENTION_TYPE_CONTROL, ""),
            canonical[r.id].id,
        )
        for r in sorted(entities, key=_position)
    )
    arguments: dict[str, list[tuple]] = {}
    cue_of: dict[str, list[_Region]] = {}
    speaker_of: dict[str, list[_Region]] = {}
    linked_cues: set[str] = set()
    for label, a, b in links:
        if label == "cue":
            cue_of.setdefault(a.id, []).append(b)
            linked_cues.add(b.id)
        elif label == "speaker":
            speaker_of.setdefault(a.id, []).append(b)
        elif label in schema.roles:
            roles = schema.event_types[a.label].roles
            arguments.setdefault(a.id, []).append((roles.index(label), b.span.start, b.id, Argument(label, b.id)))
    events = tuple(
        Event(
            r.id,
            r.label,
            r.choices.get(S.REALIS_CONTROL, ""),
            r.span,
            tuple(arg for *_, arg in sorted(set(arguments.get(r.id, [])))),
        )
        for r in sorted(regions.values(), key=_position)
        if r.kind == S.EVENT_CONTROL
    )
    quotes = []
    for r in sorted(regions.values(), key=_position):
        if r.kind == S.CUE_CONTROL and r.id not in linked_cues:
            problem(
                r.id,
                "cue",
                f'cue "{r.span.text}" is not linked to a quote',
                "draw a 'cue' relation from its quote to it, or delete the cue",
            )
        if r.kind != S.QUOTE_CONTROL:
            continue
        cues, speakers = cue_of.get(r.id, []), speaker_of.get(r.id, [])
        for what, linked in (("cue", cues), ("speaker", speakers)):
            if len(linked) > 1:
                problem(
                    r.id,
                    what,
                    f"quote has {len(linked)} {what} relations"
                    f" ({', '.join(x.id for x in linked)}); at most one is allowed",
                    f"keep one {what} relation",
                )
        speaker = speakers[0] if speakers else None
        quotes.append(
            Quote(
                r.id,
                r.span.start,
                r.span.end,
                r.span.text,
                r.label,
                cues[0].span if cues else None,
                speaker.id if speaker else None,
                canonical[speaker.id].span.text if speaker else None,
            )
        )
    return Layers(out_entities, events, tuple(quotes))


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _position(region: _Region) -> tuple:
    return (region.span.start, region.span.end, region.id)


def _clusters(entities: list[_Region], pairs: list[tuple[str, str]]) -> dict[str, list[_Region]]:
    parent = {r.id: r.id for r in entities}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[root(a)] = root(b)
    groups: dict[str, list[_Region]] = {}
    for r in entities:
        groups.setdefault(root(r.id), []).append(r)
    return groups
