"""A release diff as text: one line per change, the `newscorpus diff` listing, the CHANGELOG."""

from __future__ import annotations

from newscorpus.release.diff import ACTIONS, LAYER_NAMES, LAYER_TITLES, Change, ReleaseDiff


def _span_text(record: dict) -> str:
    text = record["text"] if len(record["text"]) <= 60 else record["text"][:57] + "..."
    return f'"{text}" [{record["start"]}:{record["end"]}]'


def describe(change: Change) -> str:
    """One line for a change, naming the record and what changed from what to what."""
    name = LAYER_NAMES[change.layer]
    a, b = change.before, change.after
    if change.layer == "speaker_links":
        link = b or a
        what = f'{name} {link["quote_id"]} -> {link["speaker_id"]} "{link["speaker"]}"'
        if change.action != "changed":
            return f"{'+' if change.action == 'added' else '-'} {what}"
        return f'~ {name} {b["quote_id"]}: {a["speaker_id"]} "{a["speaker"]}" -> {b["speaker_id"]} "{b["speaker"]}"'
    if change.action != "changed":
        record = b or a
        sign = "+" if change.action == "added" else "-"
        return f"{sign} {name} {record['id']}: {_summary(change.layer, record)}"
    renamed = f" (was {change.old_id})" if change.old_id else ""
    parts = [_aspect(change.layer, aspect, a, b) for aspect in change.aspects]
    return f"~ {name} {b['id']}{renamed}: " + "; ".join(parts)


def _summary(layer: str, record: dict) -> str:
    if layer == "entities":
        return f"{record['type']} {record['mention_type']} {_span_text(record)}"
    if layer == "events":
        return f"{record['type']} {_span_text(record['trigger'])}"
    cue = f", cue {_span_text(record['cue'])}" if record["cue"] else ""
    return f"{record['kind']} {_span_text(record)}{cue}"


def _aspect(layer: str, aspect: str, a: dict, b: dict) -> str:
    if aspect == "label":
        key = {"entities": "type", "events": "type", "quotes": "kind"}[layer]
        span = _span_text(b["trigger"] if layer == "events" else b)
        return f"label {a[key]} -> {b[key]} {span}"
    if aspect == "boundary":
        old, new = (a["trigger"], b["trigger"]) if layer == "events" else (a, b)
        return f"boundary {_span_text(old)} -> {_span_text(new)}"
    if aspect == "cue":
        old = _span_text(a["cue"]) if a["cue"] else "none"
        new = _span_text(b["cue"]) if b["cue"] else "none"
        return f"cue {old} -> {new}"
    if aspect == "arguments":
        old = ", ".join(f"{x['role']}={x['entity_id']}" for x in a["arguments"])
        new = ", ".join(f"{x['role']}={x['entity_id']}" for x in b["arguments"])
        return f"arguments [{old}] -> [{new}]"
    key = {"mention_type": "mention_type", "cluster": "cluster_id", "realis": "realis"}[aspect]
    return f"{aspect} {a[key]} -> {b[key]}"


def _count_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {LAYER_NAMES[layer] if n == 1 else LAYER_TITLES[layer]}" for layer, n in counts.items())


def render_text(result: ReleaseDiff) -> list[str]:
    """The diff as lines for a terminal: totals, then document by document."""
    old = f"v{result.old_version}" if result.old_version else "(nothing)"
    lines = [f"{old} -> v{result.new_version}"]
    changed = len({c.doc_id for c in result.changes})
    lines.append(
        f"documents: {len(result.documents_with('added'))} added, {len(result.documents_with('removed'))} removed,"
        f" {changed} with annotation changes, {len(result.text_changed)} with text changed"
    )
    lines.append(f"{'':<14}{'added':>7}{'removed':>9}{'changed':>9}")
    for layer, counts in result.counts.items():
        lines.append(f"{LAYER_TITLES[layer]:<14}{counts['added']:>7}{counts['removed']:>9}{counts['changed']:>9}")
    if result.documents:
        lines.append("")
    by_doc: dict[str, list[Change]] = {}
    for change in result.changes:
        by_doc.setdefault(change.doc_id, []).append(change)
    for document in result.documents:
        if document.status != "changed":
            sign = "+" if document.status == "added" else "-"
            lines.append(f"{sign} document {document.doc_id} {document.status} ({_count_line(document.counts)})")
            continue
        notes = []
        if document.text_changed:
            notes.append("text changed")
        if document.fields_changed:
            notes.append("changed " + ", ".join(document.fields_changed))
        lines.append(f"~ document {document.doc_id}" + (f" ({'; '.join(notes)})" if notes else ""))
        lines += [f"  {describe(change)}" for change in by_doc.get(document.doc_id, [])]
    if result.is_empty():
        lines.append("no differences")
    return lines


def render_changelog(result: ReleaseDiff) -> str:
    """The release's CHANGELOG.md: what this version changed, from the diff against the one before."""
    lines = [f"# Changes in v{result.new_version}", ""]
    if result.old_version is None:
        lines += ["The first release: every document and record in it is new.", ""]
    else:
        lines += [
            f"Compared with v{result.old_version}, the release before it"
            f" (`newscorpus diff v{result.old_version} v{result.new_version}` shows the same).",
            "",
        ]
        changed = sorted({c.doc_id for c in result.changes})
        if changed:  # corrections of released documents, named (a release without any keeps its old text)
            named = ", ".join(f"`{doc_id}`" for doc_id in changed)
            lines += [
                f"Annotation changed in {len(changed)} document(s) released in v{result.old_version}: {named}.",
                "",
            ]
    lines += ["```", *render_text(result), "```", ""]
    return "\n".join(lines)


def summary_line(result: ReleaseDiff) -> str:
    """One line per release for the card's version history."""
    parts = []
    added, removed = result.documents_with("added"), result.documents_with("removed")
    if added:
        parts.append(f"{len(added)} document{'s' if len(added) != 1 else ''} added")
    if removed:
        parts.append(f"{len(removed)} document{'s' if len(removed) != 1 else ''} removed")
    if result.text_changed:
        parts.append(f"{len(result.text_changed)} with text changed")
    for layer, counts in result.counts.items():
        figures = [f"{counts[a]} {a}" for a in ACTIONS if counts[a]]
        if figures:
            parts.append(f"{LAYER_TITLES[layer]} {', '.join(figures)}")
    return "; ".join(parts) if parts else "no annotation changes"
