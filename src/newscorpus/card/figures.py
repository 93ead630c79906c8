"""Label-distribution figures of a release: SVG bar charts, written as text, embedded in its card.

The SVG is built from integers and fixed strings only (no plotting library, no font metrics,
no timestamp), so the same data gives the same bytes and a release still rebuilds byte for
byte. The build writes the figures into the release folder (`figures/<name>.svg`, listed in
the manifest) from format 2 on; the card's `figures` block shows them.
"""

from __future__ import annotations

from collections import Counter
from xml.sax.saxutils import escape

import pyarrow as pa
import pyarrow.compute as pc

from newscorpus.card.blocks import Snapshot
from newscorpus.schema import AnnotationSchema

FIGURE_DIR = "figures"
FIRST_FORMAT_WITH_FIGURES = 2
# name, title, config, column, the schema's labels for that column (their order is the bars' order)
FIGURES = (
    ("entity-types", "Entity mentions by type", "entities", "type", lambda s: s.entity_types),
    ("mention-types", "Entity mentions by mention type", "entities", "mention_type", lambda s: s.mention_types),
    ("event-types", "Events by type", "events", "type", lambda s: s.event_types),
    ("realis", "Events by realis", "events", "realis", lambda s: s.realis),
    ("quote-kinds", "Quotes by kind", "quotes", "kind", lambda s: s.quote_kinds),
)
# The chart's geometry, in pixels.
LABEL_WIDTH, BAR_WIDTH, COUNT_WIDTH, ROW, TOP, MARGIN = 190, 360, 60, 22, 34, 10
BAR_COLOUR, TEXT_COLOUR = "#4c72b0", "#222222"


def figure_path(name: str) -> str:
    return f"{FIGURE_DIR}/{name}.svg"


def label_counts(snapshot: Snapshot, config: str, column: str, labels: tuple[str, ...]) -> dict[str, int]:
    """How often each label occurs in one column. A ClassLabel column (integers) is counted by its names."""
    counts: Counter[str] = Counter()
    for chunk in snapshot.chunks(config, column):
        if pa.types.is_dictionary(chunk.type):
            chunk = chunk.cast(chunk.type.value_type)
        for item in pc.value_counts(chunk):
            value = item["values"].as_py()
            if value is None:
                continue
            name = labels[value] if isinstance(value, int) and 0 <= value < len(labels) else str(value)
            counts[name] += item["counts"].as_py()
    return dict(counts)


def bar_chart(title: str, counts: list[tuple[str, int]]) -> str:
    """One horizontal bar per label, the count beside it; bar lengths are whole pixels."""
    most = max((n for _, n in counts), default=0)
    width = MARGIN + LABEL_WIDTH + BAR_WIDTH + COUNT_WIDTH + MARGIN
    height = TOP + ROW * len(counts) + MARGIN
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="20" font-size="15" font-weight="bold" fill="{TEXT_COLOUR}">{escape(title)}</text>',
    ]
    for index, (label, count) in enumerate(counts):
        y = TOP + ROW * index
        length = (BAR_WIDTH * count) // most if most else 0
        bar_x = MARGIN + LABEL_WIDTH
        lines += [
            f'<text x="{bar_x - 6}" y="{y + 15}" text-anchor="end" fill="{TEXT_COLOUR}">{escape(label)}</text>',
            f'<rect x="{bar_x}" y="{y + 3}" width="{length}" height="{ROW - 6}" fill="{BAR_COLOUR}">'
            f"<title>{escape(f'{label}: {count}')}</title></rect>",
            f'<text x="{bar_x + length + 6}" y="{y + 15}" fill="{TEXT_COLOUR}">{count}</text>',
        ]
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def figure_files(schema: AnnotationSchema, snapshot: Snapshot, release_format: int = 1) -> dict[str, str]:
    """The release's figures, path -> SVG text; none before format 2."""
    if release_format < FIRST_FORMAT_WITH_FIGURES:
        return {}
    files = {}
    for name, title, config, column, labels_of in FIGURES:
        labels = tuple(labels_of(schema))
        counts = label_counts(snapshot, config, column, labels)
        # Labels no longer in the schema still show while the release holds them.
        names = list(labels) + sorted(set(counts) - set(labels))
        # No version in the drawing: a figure whose counts did not change is the same file in the next release.
        files[figure_path(name)] = bar_chart(title, [(n, counts.get(n, 0)) for n in names])
    return files


def figures_block(snapshot: Snapshot | None, release_format: int = 1, folder: str = "") -> str:
    """The card's `figures` block: the release's figures as images.

    `folder` is where the release folder is, seen from the card: "" in the release's own README,
    `corpus/vX.Y.Z/` in DATACARD.md, whose figures are those of the newest release that has them.
    """
    if snapshot is None:
        return "No release has been built yet.\n"
    if release_format < FIRST_FORMAT_WITH_FIGURES:
        return f"v{snapshot.version} has no figures: they are drawn for releases in format 2 and later.\n"
    lines = [f"Label distributions in v{snapshot.version} (the figures are files of the release, `{FIGURE_DIR}/`):", ""]
    for name, title, *_ in FIGURES:
        lines += [f"![{title} in v{snapshot.version}]({folder}{figure_path(name)})", ""]
    return "\n".join(lines[:-1]) + "\n"
