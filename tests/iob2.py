"""IOB2 tags decoded back to spans, and the outermost mentions, written here from their definitions alone.

A support module (no test in it): tests check the `tokens` config against the `entities`
config through these, so the check does not reuse the code that made the tags.
"""

from __future__ import annotations

from collections import defaultdict


def decode(tags: list[str], offsets: list[dict]) -> list[tuple[int, int, str]]:
    """(start, end, type) of each B-X I-X... run in one sentence; an I-X after anything else starts a span."""
    spans, current = [], None
    for tag, offset in zip(tags, offsets, strict=True):
        if tag.startswith("I-") and current is not None and current[2] == tag[2:]:
            current[1] = offset["end"]
            continue
        if current is not None:
            spans.append(tuple(current))
        current = [offset["start"], offset["end"], tag[2:]] if tag != "O" else None
    if current is not None:
        spans.append(tuple(current))
    return spans


def outermost(mentions: list[dict]) -> list[dict]:
    """The mentions no other mention contains; of two with the same span, the one with the smaller id."""

    def holds(a: dict, b: dict) -> bool:
        if a is b or not (a["start"] <= b["start"] and b["end"] <= a["end"]):
            return False
        return (a["start"], a["end"]) != (b["start"], b["end"]) or a["id"] < b["id"]

    return [m for m in mentions if not any(holds(other, m) for other in mentions)]


def check_tags(token_rows: list[dict], entity_rows: list[dict], names: list[str]) -> int:
    """Assert that the tags decode back to the outermost mentions; returns how many mentions are misaligned.

    - every outermost mention that starts and ends on token boundaries of one sentence and overlaps no
      other outermost mention decodes back exactly (span and type);
    - the rows' misaligned_mentions add up to the outermost mentions that do not decode back exactly;
    - every decoded span overlaps an outermost mention of its type.
    """
    sentences, mentions = defaultdict(list), defaultdict(list)
    for row in token_rows:
        sentences[row["doc_id"]].append(row)
    for row in entity_rows:
        mentions[row["doc_id"]].append(row)
    misaligned_total = 0
    for doc_id in sorted(set(sentences) | set(mentions)):
        rows = sorted(sentences[doc_id], key=lambda r: r["sentence_index"])
        decoded = {span for r in rows for span in decode([names[t] for t in r["ner_tags"]], r["token_offsets"])}
        starts = {o["start"]: r["sentence_index"] for r in rows for o in r["token_offsets"]}
        ends = {o["end"]: r["sentence_index"] for r in rows for o in r["token_offsets"]}
        outer = outermost(mentions[doc_id])
        not_back = 0
        for m in outer:
            span = (m["start"], m["end"], m["type"])
            aligned = m["start"] in starts and m["end"] in ends and starts[m["start"]] == ends[m["end"]]
            crossing = any(o is not m and o["start"] < m["end"] and m["start"] < o["end"] for o in outer)
            if aligned and not crossing:
                assert span in decoded, f"{doc_id}: mention {m['id']} {span} is not among the decoded spans"
            not_back += span not in decoded
        counted = sum(r["misaligned_mentions"] for r in rows)
        assert counted == not_back, f"{doc_id}: misaligned_mentions add up to {counted}, expected {not_back}"
        for start, end, type_ in decoded:
            assert any(o["type"] == type_ and o["start"] < end and start < o["end"] for o in outer), (
                f"{doc_id}: decoded span {(start, end, type_)} overlaps no outermost {type_} mention"
            )
        misaligned_total += counted
    return misaligned_total
