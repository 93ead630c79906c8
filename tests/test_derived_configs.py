"""Format 2: the configs derived from the annotation (tokens, chains, event_arguments), the schema file
shipped, the format recorded; the same determinism and gate as the rest; format 1 unchanged."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest
from datasets import ClassLabel, load_dataset

from newscorpus.build.builder import build_release
from newscorpus.build.derived_tables import outermost_mentions, sentence_rows
from newscorpus.ingest import Article, sha256_text
from newscorpus.labelstudio.records import EntityMention
from newscorpus.project import Project
from newscorpus.release.formats import ner_tag_names
from newscorpus.release.manifest import read_manifest, release_format, release_versions
from newscorpus.release.shards import read_config
from newscorpus.release.verify import summarize
from newscorpus.segment import segmenter_version
from newscorpus.validation.pandas_engine import validate_release
from newscorpus.validation.view_specs import QUALITY_SUITE
from tests.helpers import REPO, SEED_ID, copy_project, tree_bytes
from tests.iob2 import check_tags

# By hand, from schemas/annotation.yaml's entity types in order: PERSON, NORP, ORG, GPE, LOC, FAC, DATE.
TAG_NAMES = ["O", "B-PERSON", "I-PERSON", "B-NORP", "I-NORP", "B-ORG", "I-ORG", "B-GPE", "I-GPE",
             "B-LOC", "I-LOC", "B-FAC", "I-FAC", "B-DATE", "I-DATE"]  # fmt: skip
DERIVED = ("tokens", "chains", "event_arguments")


PROVENANCE = {"url": "https://example.org/news/kosovo", "title": "Kremlin warns", "publisher": "Example News",
              "author": None, "article_language": "en"}  # fmt: skip


@pytest.fixture(scope="module")
def format2(tmp_path_factory):
    """The repository's inputs built twice as v0.2.0 (format 2), into two scratch corpora; the seed is given
    provenance headers (its text, which the exports hold, stays the same)."""
    builds = []
    for name in ("a", "b"):
        project = copy_project(tmp_path_factory.mktemp(f"format2-{name}") / "repo")
        seed = project.seeds_dir / f"{SEED_ID}.txt"
        date, text = seed.read_text(encoding="utf-8").lstrip().split(" ", 2)[1:]
        headers = "url: https://example.org/news/kosovo\ntitle: Kremlin warns\npublisher: Example News\nlanguage: en\n"
        seed.write_text(f"date {date}\n{headers}\n{text}", encoding="utf-8")
        builds.append(build_release(project, "0.2.0"))  # the library's gate: every suite but the guidelines' rules
    return builds


def test_the_tag_names_come_from_the_schema():
    assert ner_tag_names(Project(REPO).schema) == TAG_NAMES


def test_a_new_minor_version_is_format_2_with_every_config_and_the_schema_file(format2):
    release = format2[0]
    manifest = read_manifest(release.path)
    assert manifest["format"] == 2 and release_format(manifest) == 2
    assert manifest["built_with"]["segmenter"] == {"syntok": segmenter_version()}
    rows = {o["path"].split("/")[0]: o["rows"] for o in manifest["outputs"] if "rows" in o}
    assert rows == {"documents": 1, "entities": 66, "events": 16, "quotes": 8, "tokens": 13,
                    "chains": 33, "event_arguments": 36}  # fmt: skip
    shipped = release.path / "schemas" / "annotation.yaml"
    assert shipped.read_bytes() == (REPO / "schemas" / "annotation.yaml").read_bytes()
    assert "schemas/annotation.yaml" in {o["path"] for o in manifest["outputs"]}
    assert set(release.validation.summary()["suites"]) >= {"tokens", "chains", "argument_rows", "derived"}


def test_validate_runs_the_derived_suites_on_a_format_2_release_and_summarize_loads_every_config(format2):
    release = format2[0].path
    validation = validate_release(Project(release.parents[1]), release)
    counted = {s.name: s.rows for s in validation.suites}
    assert {k: counted[k] for k in ("tokens", "chains", "argument_rows", "derived")} == {
        "tokens": 13, "chains": 33,
        "argument_rows": 36, "derived": 1,
    }  # fmt: skip
    failed = [o.check for s in validation.suites if s.name != QUALITY_SUITE for o in s.outcomes if not o.success]
    assert failed == []
    lines = summarize(release)
    assert [line.split(":")[0] for line in lines if not line.startswith(" ")] == [
        "documents", "entities", "events", "quotes", "tokens", "chains", "event_arguments"]  # fmt: skip


def test_rebuilding_format_2_gives_the_same_bytes(format2):
    first, second = (tree_bytes(b.path) for b in format2)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_tokens_load_as_a_sequence_of_class_labels(format2, tmp_path):
    tokens = load_dataset(str(format2[0].path), "tokens", split="train", cache_dir=str(tmp_path))
    # What a token-classification script (the Hugging Face run_ner example) reads: a `tokens` column
    # of strings and a `ner_tags` column whose feature is a ClassLabel, its names the label list.
    tags = tokens.features["ner_tags"]
    assert isinstance(tags.feature, ClassLabel) and tags.feature.names == TAG_NAMES
    assert tokens.features["tokens"].feature.dtype == "string"
    first = tokens[0]
    assert first["doc_id"] == SEED_ID and first["sentence_index"] == 0 and first["sentence_start"] == 0
    assert first["tokens"][:3] == ["“", "All", "the"]
    assert first["token_offsets"][:2] == [{"start": 0, "end": 1}, {"start": 1, "end": 4}]
    second = tokens[1]  # "Peskov warned of ... the rights of Serbs, and expressed the Kremlin’s ..."
    labelled = [(t, TAG_NAMES[g]) for t, g in zip(second["tokens"], second["ner_tags"], strict=True) if g]
    assert labelled == [("Peskov", "B-PERSON"), ("Serbs", "B-NORP"), ("Kremlin", "B-ORG"), ("Kosovo", "B-GPE")]


def test_chains_and_arguments_name_the_chain(format2, tmp_path):
    chains = {c["cluster_id"]: c for c in read_config(format2[0].path, "chains").to_pylist()}
    assert (chains["e03"]["type"], chains["e03"]["canonical_name"]) == ("PERSON", "Dmitry Peskov")
    assert [m["text"] for m in chains["e03"]["mentions"]] == ["Dmitry Peskov", "Peskov"]
    # "30 of [its] soldiers" joined the NATO-led forces in v0.1.3; mentions in text order.
    assert [m["id"] for m in chains["e32"]["mentions"]] == ["e15", "e26", "e65", "e32"]
    arguments = load_dataset(str(format2[0].path), "event_arguments", split="train", cache_dir=str(tmp_path))
    peacekeepers = next(a for a in arguments if a["entity_id"] == "e15")
    assert peacekeepers == {
        "doc_id": SEED_ID, "event_id": "v02", "event_type": "Conflict.Attack", "role": "Attacker",
        "entity_id": "e15", "entity_text": "peacekeepers", "entity_start": 476, "entity_end": 488,
        "cluster_id": "e32", "canonical_name": "NATO peacekeepers",
    }  # fmt: skip


def test_documents_have_the_seed_headers_as_provenance_null_when_unknown(format2):
    documents = read_config(format2[0].path, "documents")
    assert documents.column_names[-6:] == [*PROVENANCE, "annotators"]
    assert documents.select(list(PROVENANCE)).to_pylist() == [PROVENANCE]
    assert documents.column("language").to_pylist() == ["en"]  # format 1's column: the schema's language


def _format_2_releases(format2) -> list:
    committed = [REPO / "corpus" / f"v{v}" for v in release_versions(REPO / "corpus")]
    return [p for p in committed if release_format(read_manifest(p)) >= 2] + [format2[0].path]


def test_iob2_tags_decode_back_to_the_outermost_mentions_in_every_format_2_release(format2):
    for release in _format_2_releases(format2):
        tokens = read_config(release, "tokens").to_pylist()
        entities = read_config(release, "entities").to_pylist()
        assert check_tags(tokens, entities, TAG_NAMES) == 0  # no misaligned mention: the spans come back exactly


def test_a_patch_of_a_format_1_line_stays_format_1(tmp_path):
    project = copy_project(tmp_path / "repo")
    release = build_release(project, "0.1.3", history_dir=REPO / "corpus").path
    manifest = read_manifest(release)
    assert "format" not in manifest and "segmenter" not in manifest["built_with"]
    assert sorted(p.name for p in release.iterdir() if p.is_dir()) == ["annotation", "documents", "entities",
                                                                        "events", "quotes"]  # fmt: skip
    assert pq.read_schema(release / "documents" / "train-00000-of-00001.parquet").names[-1] == "guideline_version"
    assert json.loads((release / "croissant.json").read_text())["recordSet"][-1]["@id"] == "quotes"


def _article(text: str) -> Article:
    return Article("d1", dt.date(2024, 1, 1), "day", "en", text, sha256_text(text), "seeds/d1.txt")


def _mention(id_: str, start: int, end: int, text: str, type_: str) -> EntityMention:
    return EntityMention(id_, start, end, text[start:end], type_, "NAM", id_)


def test_tags_of_nested_crossing_and_misaligned_mentions_by_hand():
    text = "Ann Lee met the Kosovo police in Pristina. Then Serbs left."
    ids = {name: index for index, name in enumerate(TAG_NAMES)}
    mentions = (
        _mention("m1", 0, 7, text, "PERSON"),  # "Ann Lee"
        _mention("m2", 12, 29, text, "ORG"),  # "the Kosovo police"
        _mention("m3", 16, 22, text, "GPE"),  # "Kosovo", inside m2: not tagged
        _mention("m4", 33, 40, text, "GPE"),  # "Pristin": ends inside the token "Pristina"
        _mention("m5", 48, 53, text, "NORP"),  # "Serbs"
        _mention("m6", 4, 11, text, "PERSON"),  # "Lee met": crosses m1, whose token "Lee" is tagged first
    )
    assert [m.id for m in outermost_mentions(mentions)] == ["m1", "m6", "m2", "m4", "m5"]
    rows = sentence_rows(_article(text), mentions, ids)
    assert [(r[1], r[2], r[3]) for r in rows] == [(0, 0, 42), (1, 43, 59)]
    assert rows[0][4] == ["Ann", "Lee", "met", "the", "Kosovo", "police", "in", "Pristina", "."]
    assert [TAG_NAMES[t] for t in rows[0][6]] == ["B-PERSON", "I-PERSON", "O", "B-ORG", "I-ORG", "I-ORG", "O",
                                                  "B-GPE", "O"]  # fmt: skip
    assert [TAG_NAMES[t] for t in rows[1][6]] == ["O", "B-NORP", "O", "O"]
    assert (rows[0][7], rows[1][7]) == (2, 0)  # m4 and m6
    assert rows[0][5][7] == {"start": 33, "end": 41}


def test_a_mention_across_sentences_is_tagged_in_both_and_counted_once():
    text = "Go home. Now stay."
    ids = {name: index for index, name in enumerate(TAG_NAMES)}
    rows = sentence_rows(_article(text), (_mention("m1", 3, 11, text, "LOC"),), ids)  # "home. Now"
    assert [[TAG_NAMES[t] for t in r[6]] for r in rows] == [["O", "B-LOC", "I-LOC"], ["B-LOC", "O", "O"]]
    assert [r[7] for r in rows] == [1, 0]
