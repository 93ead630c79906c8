"""Label Studio result items, made in one place: a labelled span, a per-region choice, a relation.

A region is one labelled span of the text; its per-region choices (mention type, realis) are
further items with the same id and span. Pre-annotations, the seed's annotation script, the
synthetic benchmark export and the tests all build their items here, in the shape Label
Studio's native export has. A leaf of the stage: imports only `schema`.
"""

from __future__ import annotations

from newscorpus.schema import TEXT_OBJECT


def _item(region_id: str, control: str, kind: str, value: dict, origin: str | None) -> dict:
    item = {"id": region_id, "from_name": control, "to_name": TEXT_OBJECT, "type": kind}
    if origin is not None:
        item["origin"] = origin
    item["value"] = value
    return item


def labelled_span(
    region_id: str, control: str, label: str, start: int, end: int, text: str, *, origin: str | None = None
) -> dict:
    """A region: `text` is the span's text (the document's `[start:end]`)."""
    return _item(region_id, control, "labels", {"start": start, "end": end, "text": text, "labels": [label]}, origin)


def span_choice(
    region_id: str, control: str, choice: str, start: int, end: int, text: str, *, origin: str | None = None
) -> dict:
    """A per-region choice: the same id and span as its region."""
    return _item(region_id, control, "choices", {"start": start, "end": end, "text": text, "choices": [choice]}, origin)


def relation(from_id: str, to_id: str, label: str, direction: str = "right") -> dict:
    """A labelled relation between two regions (direction is not read: each label fits one pair of kinds)."""
    return {"from_id": from_id, "to_id": to_id, "type": "relation", "direction": direction, "labels": [label]}


def region_items(
    region_id: str,
    control: str,
    label: str,
    start: int,
    end: int,
    text: str,
    choice: tuple[str, str] | None = None,
    *,
    origin: str | None = None,
) -> list[dict]:
    """A region and, if given, its per-region choice as (control, value)."""
    items = [labelled_span(region_id, control, label, start, end, text, origin=origin)]
    if choice is not None:
        items.append(span_choice(region_id, choice[0], choice[1], start, end, text, origin=origin))
    return items
