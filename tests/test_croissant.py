"""croissant.json: validated and read by mlcroissant, the MLCommons reference implementation."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil

import mlcroissant as mlc
import pyarrow.parquet as pq
import pytest

from newscorpus.card import croissant
from newscorpus.card.croissant import CONTEXT
from newscorpus.project import Project
from newscorpus.release.formats import configs
from newscorpus.release.shards import data_files
from tests.helpers import REPO, data_file

DATE_PUBLISHED_WARNING = (
    '[Metadata(newscorpus)] Property "https://schema.org/datePublished" is recommended, but does not exist.'
)


def plain(value):
    """An mlcroissant record value as Python values: field ids shortened to names, bytes decoded."""
    if isinstance(value, dict):
        return {key.rsplit("/", 1)[1]: plain(v) for key, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        return value.to_pydatetime().date()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


@pytest.fixture(scope="module")
def release(two_releases):
    return two_releases[1]


def test_mlcroissant_validates_the_release_metadata(release, caplog):
    with caplog.at_level(logging.WARNING):
        dataset = mlc.Dataset(jsonld=release / "croissant.json")
    # Format 1 has no datePublished (a release holds no wall-clock time); format 2 takes the newest export's day.
    assert dataset.metadata.ctx.issues.errors == set()
    expected = set() if release_format_of(release) >= 2 else {DATE_PUBLISHED_WARNING}
    assert dataset.metadata.ctx.issues.warnings == expected
    assert not [r for r in caplog.records if "not standard" in r.getMessage()]
    assert dataset.metadata.name == "newscorpus" and dataset.metadata.version == "0.2.0"


def test_the_context_is_croissant_1_0s_standard_one():
    from mlcroissant._src.core.rdf import make_context

    assert make_context() == CONTEXT  # the context mlcroissant writes for Croissant 1.0


def test_file_objects_name_every_parquet_file_with_its_sha256(release):
    doc = json.loads((release / "croissant.json").read_text(encoding="utf-8"))
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    manifest = {e["path"]: e for e in json.loads((release / "manifest.json").read_text("utf-8"))["outputs"]}
    files = {f["contentUrl"]: f for f in doc["distribution"]}
    names = configs(release_format_of(release))  # format 2 adds tokens, chains, event_arguments
    assert sorted(files) == sorted(data_file(c) for c in names)
    for path, entry in files.items():
        data = (release / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() == manifest[path]["sha256"]
        assert entry["contentSize"] == f"{len(data)} B"
        assert entry["encodingFormat"] == "application/x-parquet"
    record_sets = {r["name"]: r for r in doc["recordSet"]}
    assert list(record_sets) == list(names)
    for config in names:
        names = [f["name"] for f in record_sets[config]["field"]]
        assert names == pq.read_schema(release / data_file(config)).names


@pytest.mark.parametrize("config", ["entities", "events", "quotes"])
def test_mlcroissant_reads_the_flat_configs_exactly(release, config):
    dataset = mlc.Dataset(jsonld=release / "croissant.json")
    records = [plain(r) for r in dataset.records(config)]
    assert records == pq.read_table(release / data_file(config)).to_pylist()


def test_mlcroissant_reads_documents_one_level_deep(release):
    """mlcroissant 1.1.1 reads a list of structs of scalars (entities) but not structs or lists nested in one
    (events[].trigger, events[].arguments, quotes[].cue): it returns those beside the list, and a JSONPath
    transform keeps only its first match. The metadata describes them correctly; the reader cannot follow."""
    dataset = mlc.Dataset(jsonld=release / "croissant.json")
    records = [plain(r) for r in dataset.records("documents")]
    rows = pq.read_table(release / data_file("documents")).to_pylist()
    assert [r["doc_id"] for r in records] == [r["doc_id"] for r in rows]
    for record, row in zip(records, rows, strict=True):
        assert record["published"] == row["published"] and isinstance(row["published"], dt.date)
        assert record["text"] == row["text"] and record["annotator_ids"] == row["annotator_ids"]
        assert record["entities"] == row["entities"]
        assert [e["type"] for e in record["events"]] == [e["type"] for e in row["events"]]


def test_mlcroissant_rejects_a_broken_description(release, tmp_path):
    broken = tmp_path / "v0.2.0"
    shutil.copytree(release, broken)
    doc = json.loads((broken / "croissant.json").read_text(encoding="utf-8"))
    doc["distribution"] = [f for f in doc["distribution"] if f["@id"] != "quotes-parquet"]
    (broken / "croissant.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(mlc.ValidationError, match=r"quotes-parquet"):
        mlc.Dataset(jsonld=broken / "croissant.json")


# -- format 2: references, url, creator, datePublished, the warning about nested fields -----------


def release_format_of(release) -> int:
    return json.loads((release / "manifest.json").read_text(encoding="utf-8")).get("format", 1)


def format_2_croissant(release, tmp_path):
    """The release's croissant.json as format 2 writes it, in a copy of the release."""
    copy = tmp_path / release.name
    shutil.copytree(release, copy)
    files = {
        p.name: data_files(copy, p.name) for p in sorted(copy.iterdir()) if p.is_dir() and data_files(copy, p.name)
    }
    datacard = (REPO / "DATACARD.md").read_text(encoding="utf-8")
    text = croissant.for_release(copy, Project(REPO).schema, "0.2.0", files, datacard, 2)
    (copy / "croissant.json").write_text(text, encoding="utf-8")
    return copy, json.loads(text)


def references(doc: dict) -> dict[str, str]:
    found = {}

    def walk(fields):
        for field in fields:
            if "references" in field:
                found[field["@id"]] = field["references"]["field"]["@id"]
            walk(field.get("subField", []))

    for record_set in doc["recordSet"]:
        walk(record_set["field"])
    return found


def test_format_2_croissant_links_ids_dates_and_credits_and_mlcroissant_validates_it_without_warning(
    release, tmp_path, caplog
):
    copy, doc = format_2_croissant(release, tmp_path)
    chains = "chains" in {r["@id"] for r in doc["recordSet"]}
    expected = {
        "entities/doc_id": "documents/doc_id",
        "events/doc_id": "documents/doc_id",
        "events/arguments/entity_id": "entities/id",
        "quotes/doc_id": "documents/doc_id",
        "quotes/speaker_id": "entities/id",
    }
    if chains:  # the configs format 2 adds (without them a chain is named within entities itself: no link)
        expected |= {
            "entities/cluster_id": "chains/cluster_id",
            "tokens/doc_id": "documents/doc_id",
            "chains/doc_id": "documents/doc_id",
            "chains/mentions/id": "entities/id",
            "event_arguments/doc_id": "documents/doc_id",
            "event_arguments/event_id": "events/id",
            "event_arguments/entity_id": "entities/id",
            "event_arguments/cluster_id": "chains/cluster_id",
        }
    assert references(doc) == expected
    assert doc["datePublished"] == "2026-12-01"  # v0.2.0's newest export is 20261201T090000Z-project-2.json
    assert doc["creator"] == {"@type": "sc:Organization", "name": "newscorpus maintainers"}
    assert "version = {0.2.0}" in doc["citeAs"]
    assert "mlcroissant 1.1.1 the nested `documents` record set is not read correctly" in doc["description"]
    with caplog.at_level(logging.WARNING):
        dataset = mlc.Dataset(jsonld=copy / "croissant.json")
    assert dataset.metadata.ctx.issues.errors == set()
    assert dataset.metadata.ctx.issues.warnings == set()
    # the references change nothing in what is read
    assert [plain(r) for r in dataset.records("quotes")] == pq.read_table(copy / data_file("quotes")).to_pylist()


def test_the_card_and_croissant_warn_about_what_mlcroissant_reads_wrong():
    """The warning says what mlcroissant 1.1.1 does: 15 of the seed's 30 arguments come back (one per event)."""
    release = REPO / "corpus" / "v0.1.2"
    dataset = mlc.Dataset(jsonld=release / "croissant.json")
    [seed] = [plain(r) for r in dataset.records("documents")]
    [row] = pq.read_table(release / data_file("documents")).to_pylist()
    assert sum(len(e["arguments"]) for e in row["events"]) == 30
    assert len(seed["arguments"]) == 15 and "trigger" not in seed["events"][0]
    card = (REPO / "DATACARD.md").read_text(encoding="utf-8")
    assert "Through mlcroissant 1.1.1, however, the\n`documents` record set comes back wrong" in card
    assert "(15 of the 30 arguments of the seed article come back)" in " ".join(card.split())


def test_croissant_uploaded_to_the_hub_names_the_dataset(release, tmp_path):
    copy, _ = format_2_croissant(release, tmp_path)
    doc = json.loads(croissant.for_hub((copy / "croissant.json").read_text(encoding="utf-8"), "0.2.0", "org/name"))
    assert doc["url"] == "https://huggingface.co/datasets/org/name"
    assert doc["citeAs"].endswith(
        "  version = {0.2.0},\n  url = {https://huggingface.co/datasets/org/name},\n"
        "  howpublished = {Hugging Face Hub, tag v0.2.0}\n}"
    )
    assert doc["citeAs"].count("version =") == 1
