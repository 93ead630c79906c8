"""The card's parts that name a release and where it lives: quick start, citation, rights per article.

A release's own README.md (format 2 on) loads it from its folder, `corpus/vX.Y.Z`, and cites
its version; `newscorpus publish --repo-id ORG/NAME` rewrites the same parts in the copy it
uploads (`for_hub`) to load it from the Hub at its tag and cite the dataset's URL. The release
folder itself is never changed.
"""

from __future__ import annotations

import re

import pyarrow.parquet as pq

from newscorpus.card.blocks import Snapshot
from newscorpus.card.datacard import MARKER
from newscorpus.release.shards import data_files, iter_batches

HUB_DATASETS = "https://huggingface.co/datasets/"
FIRST_FORMAT_WITH_USAGE = 2  # quick start, citation and rights blocks filled for the release itself
USAGE_BLOCKS = ("quickstart", "figures", "rights")
BIBTEX = re.compile(r"(^```bibtex\n)(?P<entry>.*?)(^```)", re.DOTALL | re.MULTILINE)
# The fields the release adds to the card's BibTeX entry (replaced, never repeated, when rewritten).
RELEASE_FIELDS = ("version", "url", "howpublished")
PROVENANCE = ("title", "publisher", "author", "url")  # documents columns from format 2, null when unknown
MAX_ARTICLES = 100  # articles listed one by one in the rights block; the rest are counted
NOT_RECORDED = "not recorded"


def dataset_url(repo_id: str) -> str:
    return HUB_DATASETS + repo_id


def quickstart(version: str, repo_id: str | None = None) -> str:
    """How to load this release: from its folder, or (once published) from the Hub at its tag."""
    if repo_id is None:
        where = f'"corpus/v{version}", "quotes", split="train"'
        lead = f"Load this release (v{version}) from its folder, `corpus/v{version}` in a checkout of the source"
        lead += " repository:"
        tail = (
            "Once the release is published on the Hugging Face Hub, the card uploaded with it names the dataset's"
            f" repository and loads the release by its tag, `v{version}`."
        )
    else:
        where = f'"{repo_id}", "quotes", split="train", revision="v{version}"'
        lead = f"Load this release (v{version}) from the Hugging Face Hub, pinned to its tag:"
        tail = (
            f"The dataset's page is {dataset_url(repo_id)}. `revision` selects a tag on the Hub only; in a checkout"
            f" of the source repository the same release is the folder `corpus/v{version}`."
        )
    code = ["```python", "from datasets import load_dataset", "", f"quotes = load_dataset({where})", "```"]
    return "\n".join([lead, "", *code, "", tail]) + "\n"


def cite(entry: str, version: str, repo_id: str | None = None) -> str:
    """The card's BibTeX entry with the release's version (and, on the Hub, the dataset's URL)."""
    kept = [line for line in entry.rstrip().splitlines() if line.strip().split("=")[0].strip() not in RELEASE_FIELDS]
    if not kept or kept[-1].strip() != "}":
        return entry  # not an entry this function knows how to extend: left as written
    fields = [line.rstrip().rstrip(",") for line in kept[:-1]]
    fields.append(f"  version = {{{version}}}")
    if repo_id is not None:
        fields += [f"  url = {{{dataset_url(repo_id)}}}", f"  howpublished = {{Hugging Face Hub, tag v{version}}}"]
    head, *rest = fields
    return "\n".join([head + ",", *(line + "," for line in rest[:-1]), rest[-1], "}"]) + "\n"


def with_citation(text: str, version: str, repo_id: str | None = None) -> str:
    """`text` (a card) with its BibTeX entry citing the release."""
    return BIBTEX.sub(lambda m: m.group(1) + cite(m["entry"], version, repo_id) + m.group(3), text, count=1)


def for_hub(readme: str, version: str, repo_id: str) -> str | None:
    """The README.md to upload for `repo_id`: quick start and citation naming the Hub dataset and its tag.

    None for a card without a `quickstart` block (a release before format 2): uploaded as it is.
    """
    if not any(m["name"] == "quickstart" for m in MARKER.finditer(readme)):
        return None
    text = MARKER.sub(
        lambda m: m.group(0) if m["name"] != "quickstart" else m.group(1) + quickstart(version, repo_id) + m.group(4),
        readme,
    )
    return with_citation(text, version, repo_id)


def rights(snapshot: Snapshot | None) -> str:
    """What the release records about each article's source, and so about the rights in its text."""
    if snapshot is None:
        return "No release has been built yet.\n"
    names = _document_columns(snapshot)
    columns = ["doc_id", "published", *[c for c in PROVENANCE if c in names]]
    rows = _first_rows(snapshot, columns, MAX_ARTICLES)
    total = snapshot.rows("documents")
    lines = [
        f"The articles of v{snapshot.version} and what is recorded about their source. The text of each belongs"
        " to its publisher; where none is recorded, the rights holder is unknown and no licence to redistribute"
        " the text has been recorded.",
        "",
        "| article | published | title | publisher | author | URL |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [f"`{row['doc_id']}`", str(row["published"])]
        cells += [_cell(row.get(name), link=name == "url") for name in ("title", "publisher", "author", "url")]
        lines.append("| " + " | ".join(cells) + " |")
    if total > len(rows):
        lines += ["", f"... and {total - len(rows)} more articles: see the `documents` config's columns."]
    return "\n".join(lines) + "\n"


def _cell(value, *, link: bool) -> str:
    if value is None or value == "":
        return NOT_RECORDED
    text = " ".join(str(value).split()).replace("|", "\\|")
    if link and re.fullmatch(r"https?://[^\s<>]+", text):
        return f"<{text}>"
    return text.replace("<", "&lt;").replace("`", "\\`")


def _document_columns(snapshot: Snapshot) -> list[str]:
    if snapshot.tables is not None:
        return snapshot.tables["documents"].schema.names
    return pq.read_schema(snapshot.path / data_files(snapshot.path, "documents")[0]).names


def _first_rows(snapshot: Snapshot, columns: list[str], limit: int) -> list[dict]:
    if snapshot.tables is not None:
        return snapshot.tables["documents"].select(columns).slice(0, limit).to_pylist()
    rows: list[dict] = []
    for batch in iter_batches(snapshot.path, "documents", columns):
        rows += batch.slice(0, limit - len(rows)).to_pylist()
        if len(rows) >= limit:
            break
    return rows
