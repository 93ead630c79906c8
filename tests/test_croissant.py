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

from newscorpus.card.croissant import CONTEXT
from newscorpus.schema import CONFIGS
from tests.helpers import data_file

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
    # datePublished is left out on purpose: a release holds no wall-clock time (see docs/building.md).
    assert dataset.metadata.ctx.issues.errors == set()
    assert dataset.metadata.ctx.issues.warnings == {DATE_PUBLISHED_WARNING}
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
    assert sorted(files) == sorted(data_file(c) for c in CONFIGS)
    for path, entry in files.items():
        data = (release / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() == manifest[path]["sha256"]
        assert entry["contentSize"] == f"{len(data)} B"
        assert entry["encodingFormat"] == "application/x-parquet"
    record_sets = {r["name"]: r for r in doc["recordSet"]}
    assert list(record_sets) == list(CONFIGS)
    for config in CONFIGS:
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
