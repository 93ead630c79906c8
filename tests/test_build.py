import datetime as dt
import fcntl
import json
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

import newscorpus.build.builder as build_module
from newscorpus.build.builder import build_release
from newscorpus.build.reproduce import reproduce
from newscorpus.errors import ReleaseError
from newscorpus.labelstudio.export_names import export_paths
from newscorpus.project import Project
from newscorpus.release.manifest import release_versions
from newscorpus.release.verify import verify
from newscorpus.schema import CONFIGS
from tests.helpers import REPO, SEED_ID, copy_project, data_file, tree_bytes

COMMITTED = REPO / "corpus" / "v0.1.0"


@pytest.fixture(scope="module")
def seed_doc():
    return load_dataset(str(COMMITTED), "documents", split="train")[0]


def test_committed_release_holds_the_seed_as_exported(seed_doc):
    export = REPO / seed_doc["ls_export"]  # the export the release was taken from (newer ones came later)
    assert export in export_paths(REPO / "annotation" / "exports")
    result = json.loads(export.read_text(encoding="utf-8"))[0]["annotations"][0]["result"]
    count = {name: sum(1 for r in result if r.get("from_name") == name) for name in ("entity", "event", "quote")}
    assert seed_doc["doc_id"] == SEED_ID and seed_doc["published"] == dt.date(2023, 6, 1)
    assert (len(seed_doc["entities"]), len(seed_doc["events"]), len(seed_doc["quotes"])) == (
        count["entity"],
        count["event"],
        count["quote"],
    )


def test_every_span_is_its_text_slice(seed_doc):
    text = seed_doc["text"]
    spans = [*seed_doc["entities"], *seed_doc["quotes"], *(e["trigger"] for e in seed_doc["events"])]
    spans += [q["cue"] for q in seed_doc["quotes"] if q["cue"]]
    assert spans and all(text[s["start"] : s["end"]] == s["text"] for s in spans)


def test_pronoun_speaker_resolves_to_the_named_person(seed_doc):
    by_id = {e["id"]: e for e in seed_doc["entities"]}
    quote = next(q for q in seed_doc["quotes"] if q["text"].startswith("“First, we should call"))
    assert quote["kind"] == "direct" and quote["cue"]["text"] == "added"
    assert by_id[quote["speaker_id"]]["text"] == "He" and by_id[quote["speaker_id"]]["mention_type"] == "PRO"
    assert quote["speaker"] == "Milos Vucevic"
    assert by_id[by_id[quote["speaker_id"]]["cluster_id"]]["text"] == "Milos Vucevic"


def test_event_arguments_point_to_mentions(seed_doc):
    by_id = {e["id"]: e for e in seed_doc["entities"]}
    gathered = next(e for e in seed_doc["events"] if e["trigger"]["text"] == "gathered")
    assert gathered["type"] == "Conflict.Demonstrate" and gathered["realis"] == "actual"
    assert [(a["role"], by_id[a["entity_id"]]["text"]) for a in gathered["arguments"]] == [
        ("Entity", "ethnic Serbs"),
        ("Place", "the town hall"),
        ("Time", "Wednesday"),
    ]
    kremlin = {e["cluster_id"] for e in seed_doc["entities"] if e["text"] == "Kremlin"}
    assert len(kremlin) == 1


def test_features_come_back_typed():
    features = load_dataset(str(COMMITTED), "quotes", split="train").features
    documents = load_dataset(str(COMMITTED), "documents", split="train")
    assert isinstance(documents[0]["published"], dt.date)
    assert isinstance(documents[0]["entities"], list) and isinstance(documents[0]["entities"][0], dict)
    assert features["cue"] == {"start": features["start"], "end": features["end"], "text": features["text"]}


# Files the builder writes beside the data since releases became complete Hub dataset repositories.
HUB_FILES = ["CHANGELOG.md", "LICENSE.md", "annotation/GUIDELINES.md", "croissant.json"]


def test_committed_release_verifies_and_reproduces():
    assert verify(COMMITTED) == []
    manifest = json.loads((COMMITTED / "manifest.json").read_text(encoding="utf-8"))
    result = reproduce(Project(REPO), COMMITTED)
    parquet = {data_file(c) for c in CONFIGS}
    if "croissant.json" not in {entry["path"] for entry in manifest["outputs"]}:
        # Built before the card, croissant.json and CHANGELOG.md were part of a release: this builder renders
        # the card files differently, but must still rebuild the data byte for byte.
        # DATACARD.md grew since; schemas/annotation.yaml moved to guidelines 1.1.0 (v0.1.3).
        assert result.changed_inputs == ["DATACARD.md", "schemas/annotation.yaml"]
        assert result.different == sorted(["README.md", "manifest.json", *HUB_FILES])
        assert parquet <= set(result.identical)
        return
    # Inputs edited since (the guidelines' wording) are taken from git history as released.
    assert sorted(result.from_history) == result.changed_inputs and not result.substituted
    if manifest["built_with"]["pyarrow"] == pa.__version__:
        assert result.different == [], f"{COMMITTED.name} is not rebuilt byte for byte from its inputs"
    else:  # another Parquet writer: the bytes may differ, the data may not
        assert set(result.different) <= parquet | {"manifest.json", "croissant.json"}


def test_the_latest_release_reproduces_byte_for_byte():
    # Whatever changed since in the repository: the inputs are taken as the manifest records them.
    versions = release_versions(REPO / "corpus")
    latest = REPO / "corpus" / f"v{versions[-1]}"
    result = reproduce(Project(REPO), latest)
    assert result.different == [] and not result.substituted
    assert sorted(result.from_history) == result.changed_inputs


def test_same_inputs_give_byte_identical_releases(project, tmp_path):
    first = build_release(project, "1.2.3", corpus_dir=tmp_path / "a").path
    second = build_release(project, "1.2.3", corpus_dir=tmp_path / "b").path
    assert tree_bytes(first) == tree_bytes(second)
    # A new version is written in the current format (2): the derived configs, the schema file, the card's figures.
    figures = [
        f"figures/{name}.svg" for name in ("entity-types", "event-types", "mention-types", "quote-kinds", "realis")
    ]
    assert sorted(tree_bytes(first)) == sorted(
        ["README.md", "manifest.json", *HUB_FILES, "schemas/annotation.yaml", *figures,
         *(data_file(c) for c in (*CONFIGS, "tokens", "chains", "event_arguments"))]
    )  # fmt: skip


def test_existing_version_is_never_overwritten(project):
    build_release(project, "0.2.0")
    before = tree_bytes(project.corpus_dir)
    with pytest.raises(ReleaseError) as caught:
        build_release(project, "v0.2.0")
    assert str(caught.value) == (
        "corpus/v0.2.0 exists; releases are never overwritten: build a new version (see README: Versioning)"
    )
    assert tree_bytes(project.corpus_dir) == before


def test_version_must_be_semantic(project):
    with pytest.raises(ReleaseError, match=r"version '1.0' is not X.Y.Z \(e.g. 0.1.0\); see README: Versioning"):
        build_release(project, "1.0")
    assert not project.corpus_dir.exists()


def test_a_held_lock_stops_a_second_writer(project):
    project.corpus_dir.mkdir()
    with open(project.corpus_dir / ".build.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(ReleaseError, match=r"^another build holds the lock on corpus/; wait for it to finish$"):
            build_release(project, "0.3.0")
    assert sorted(p.name for p in project.corpus_dir.iterdir()) == [".build.lock"]  # the holder's, untouched
    assert build_release(project, "0.3.0").path.is_dir()  # the lock died with its holder
    assert sorted(p.name for p in project.corpus_dir.iterdir()) == ["v0.3.0"]  # the lock file went with the build


def test_the_lock_file_exists_only_while_held(project):
    lock = project.corpus_dir / ".build.lock"
    with build_module._exclusive(project.corpus_dir):
        assert lock.is_file()
        # Another build opened the name just before the holder removes it...
        late = open(lock, "a+b")  # noqa: SIM115 (it outlives the block on purpose)
    assert not project.corpus_dir.exists()  # the build created corpus/ and wrote nothing in it
    with late:
        # ... and gets the lock on the removed file, which no one else sees any more.
        fcntl.flock(late, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert os.fstat(late.fileno()).st_nlink == 0
        with build_module._exclusive(project.corpus_dir):  # the stale lock blocks no one
            assert lock.is_file()
            with open(lock, "a+b") as second, pytest.raises(BlockingIOError):
                fcntl.flock(second, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert not project.corpus_dir.exists()


def test_a_failing_write_leaves_nothing(project, monkeypatch):
    calls = []
    write_table = pq.ParquetWriter.write_table

    def fail_on_second(self, table, *args, **kwargs):
        calls.append(table.num_rows)
        if len(calls) == 2:
            raise OSError("disk full")
        return write_table(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", fail_on_second)
    with pytest.raises(ReleaseError, match=r"^corpus: disk full; nothing was written$"):
        build_release(project, "0.4.0")
    assert not project.corpus_dir.exists()


def test_leftovers_of_a_killed_build_are_removed(project):
    leftover = project.corpus_dir / ".tmp-v0.5.0-99999"
    (leftover / "documents").mkdir(parents=True)
    build_release(project, "0.5.0")
    assert not leftover.exists()


def test_verify_catches_a_flipped_byte(tmp_path):
    release = tmp_path / "v0.1.0"
    shutil.copytree(COMMITTED, release)
    target = release / data_file("entities")
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    (release / "notes.txt").write_text("stray", encoding="utf-8")
    assert verify(release) == [
        "entities/train-00000-of-00001.parquet: sha256 differs from the manifest (the file was changed or corrupted)",
        "notes.txt: not in the manifest",
    ]


def test_release_is_a_repo_copy_independent_of_the_checkout(tmp_path):
    project = copy_project(tmp_path / "elsewhere")
    release = build_release(project, "0.1.0")
    manifest = json.loads((release.path / "manifest.json").read_text(encoding="utf-8"))
    assert all(not entry["path"].startswith("/") for entry in manifest["inputs"] + manifest["outputs"])
    assert str(tmp_path) not in (release.path / "README.md").read_text(encoding="utf-8")
