"""Streaming builds: shards, bounded batches, document order, problems across batches, chunked validation.

Synthetic projects (benchmarks/synth.py) of a few dozen documents stand in for large ones:
the row group, batch, shard and validation chunk sizes are made small, so that the same code
paths run as at 100,000 documents.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

import newscorpus.build.builder as build_module
import newscorpus.build.segment_ahead as segment_ahead
import newscorpus.release.shards as shards
import newscorpus.validation.chunks as validation_chunks
from newscorpus.build.builder import build_release
from newscorpus.card.hub_checks import check_card
from newscorpus.errors import InputError
from newscorpus.labelstudio import export_file as export_stream
from newscorpus.labelstudio.exports import ExportConversion, export_paths
from newscorpus.project import Project
from newscorpus.release.formats import configs
from newscorpus.release.manifest import CURRENT_FORMAT
from newscorpus.release.shards import data_files
from newscorpus.release.verify import verify
from newscorpus.validation.pandas_engine import PandasEngine, validate_release
from newscorpus.validation.view_specs import GATE_SUITES
from tests.helpers import REPO, tree_bytes

CONFIGS = configs(CURRENT_FORMAT)  # a new release's configs, the derived ones (tokens, chains, ...) included

spec = importlib.util.spec_from_file_location("synth", REPO / "benchmarks" / "synth.py")
synth = importlib.util.module_from_spec(spec)
spec.loader.exec_module(synth)

DOCS = 60
SHARD_BYTES = 100_000  # ~4 shards of this project
EXPORT = Path("annotation/exports") / synth.EXPORT_NAME


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """A project of 60 synthetic documents, generated once; tests copy it."""
    root = tmp_path_factory.mktemp("synthetic") / "project"
    synth.generate(DOCS, root, seed=5)
    return root


@pytest.fixture
def small_layout(monkeypatch):
    """Row groups of 8 documents, batches of 5: a 60-document project runs every streaming path."""
    monkeypatch.setattr(shards, "ROW_GROUP_DOCS", 8)
    monkeypatch.setattr(build_module, "BATCH_DOCS", 5)


@pytest.fixture(scope="module")
def sharded(synthetic, tmp_path_factory) -> Path:
    """The synthetic project built once in the small layout, cut into ~4 shards; tests read it or copy it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shards, "ROW_GROUP_DOCS", 8)
        patch.setattr(build_module, "BATCH_DOCS", 5)
        project = copy(synthetic, tmp_path_factory.mktemp("sharded") / "repo")
        return build_release(project, "0.1.0", max_shard_bytes=SHARD_BYTES).path


def copy(synthetic: Path, target: Path) -> Project:
    shutil.copytree(synthetic, target)
    return Project(target)


def rewrite_export(project: Project, edit) -> None:
    """Change the tasks of the export and keep its .sha256 in step (as a fresh pull would)."""
    path = project.root / EXPORT
    tasks = json.loads(path.read_text(encoding="utf-8"))
    tasks = edit(tasks) or tasks
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    path.with_name(path.name + ".sha256").unlink()


def parquet_files(release: Path) -> dict[str, bytes]:
    return {name: data for name, data in tree_bytes(release).items() if name.endswith(".parquet")}


# -- shards ---------------------------------------------------------------------------------


def test_a_small_maximum_cuts_every_config_into_the_same_shards(synthetic, tmp_path, small_layout):
    project = copy(synthetic, tmp_path / "repo")
    max_bytes = SHARD_BYTES
    release = build_release(project, "0.1.0", max_shard_bytes=max_bytes).path
    names = {config: data_files(release, config) for config in CONFIGS}
    count = len(names["documents"])
    assert count >= 3
    for config in CONFIGS:
        assert names[config] == [f"{config}/train-{k:05d}-of-{count:05d}.parquet" for k in range(count)]
    sizes = [(release / name).stat().st_size for files in names.values() for name in files]
    assert max(sizes) <= max_bytes
    # Shard k of every config holds the same documents; row groups hold 8 documents each.
    for k in range(count):
        documents = pq.read_table(release / names["documents"][k], columns=["doc_id"]).column(0).to_pylist()
        assert documents == sorted(documents)
        for config in CONFIGS[1:]:
            flat = set(pq.read_table(release / names[config][k], columns=["doc_id"]).column(0).to_pylist())
            assert flat <= set(documents)
        groups = pq.ParquetFile(release / names["documents"][k]).metadata
        assert all(groups.row_group(i).num_rows == 8 for i in range(groups.num_row_groups - (k == count - 1)))
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["layout"] == {"max_shard_bytes": max_bytes, "documents_per_row_group": 8}
    listed = {e["path"]: e["rows"] for e in manifest["outputs"] if "rows" in e}
    assert sorted(listed) == sorted(n for files in names.values() for n in files)
    assert verify(release) == [] and check_card(release) == []

    # load_dataset reads every shard through the card's pattern, as a user would.
    documents = load_dataset(str(release), "documents", split="train")
    assert documents.num_rows == DOCS
    assert documents["doc_id"] == [f"syn_{i:07d}" for i in range(DOCS)]
    for config in ("entities", "events", "quotes"):
        rows = sum(n for name, n in listed.items() if name.startswith(f"{config}/"))
        assert load_dataset(str(release), config, split="train").num_rows == rows > 0
    croissant = json.loads((release / "croissant.json").read_text(encoding="utf-8"))
    file_sets = [d for d in croissant["distribution"] if d["@type"] == "cr:FileSet"]
    assert [d["includes"] for d in file_sets] == [f"{c}/train-*.parquet" for c in CONFIGS]


def test_the_same_inputs_give_the_same_shards(synthetic, tmp_path, small_layout):
    project = copy(synthetic, tmp_path / "repo")
    first = build_release(project, "0.1.0", corpus_dir=tmp_path / "a", max_shard_bytes=SHARD_BYTES).path
    second = build_release(project, "0.1.0", corpus_dir=tmp_path / "b", max_shard_bytes=SHARD_BYTES).path
    assert tree_bytes(first) == tree_bytes(second)
    assert len(data_files(first, "documents")) >= 3


def test_a_release_of_one_shard_keeps_the_single_file_name(synthetic, tmp_path):
    release = build_release(copy(synthetic, tmp_path / "repo"), "0.1.0").path
    for config in CONFIGS:
        assert data_files(release, config) == [f"{config}/train-00000-of-00001.parquet"]


# -- batches and document order -----------------------------------------------------------------


def test_batches_are_bounded_and_do_not_change_the_files(synthetic, tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "ROW_GROUP_DOCS", 8)
    project = copy(synthetic, tmp_path / "repo")
    sizes = []
    make_tables = build_module.make_tables

    def spy(articles, annotations, schema):
        sizes.append(len(articles))
        return make_tables(articles, annotations, schema)

    monkeypatch.setattr(build_module, "make_tables", spy)
    workers = []
    start_worker = segment_ahead.subprocess.Popen

    def popen(*args, **kwargs):
        workers.append(start_worker(*args, **kwargs))
        return workers[-1]

    monkeypatch.setattr(segment_ahead.subprocess, "Popen", popen)
    monkeypatch.setattr(build_module, "BATCH_DOCS", 7)
    by_seven = build_release(project, "0.1.0", corpus_dir=tmp_path / "a").path
    assert sizes == [7] * 8 + [4]
    assert len(workers) == 1 and workers[0].returncode == 0  # 8 full batches segmented by one worker, ended
    sizes.clear()
    monkeypatch.setattr(segment_ahead, "usable_cores", lambda: 1)
    one_core = build_release(project, "0.1.0", corpus_dir=tmp_path / "c").path
    assert len(workers) == 1  # none on one core
    monkeypatch.setattr(build_module, "BATCH_DOCS", 1000)
    whole = build_release(project, "0.1.0", corpus_dir=tmp_path / "b").path
    assert sizes[-1:] == [DOCS]
    assert tree_bytes(by_seven) == tree_bytes(whole) == tree_bytes(one_core)


def test_tasks_are_converted_as_they_are_read(synthetic, tmp_path):
    """The conversion yields a document before the export has been read to its end."""
    project = copy(synthetic, tmp_path / "repo")
    path = project.root / EXPORT
    path.write_bytes(path.read_bytes()[:-1000])  # cut in the last task
    path.with_name(path.name + ".sha256").unlink()
    seeds = {p.stem: _seed(project, p) for p in project.seeds_dir.glob("*.txt")}
    conversion = iter(ExportConversion(export_paths(project.exports_dir), seeds, project.schema, project.relative))
    first, _ = next(conversion)
    assert first.doc_id == "syn_0000000"
    assert sum(1 for _ in conversion) == DOCS - 2  # the last task is cut off


def _seed(project: Project, path: Path):
    from newscorpus.ingest import read_seeds

    return read_seeds([path], relative=project.relative, language="en")[path.stem]


def test_an_export_out_of_doc_id_order_gives_the_same_files(synthetic, tmp_path, small_layout):
    """Tasks in any order are merged into doc_id order: the Parquet files are those of the sorted export."""
    ordered = copy(synthetic, tmp_path / "ordered")
    shuffled = copy(synthetic, tmp_path / "shuffled")
    rewrite_export(ordered, lambda tasks: None)
    rewrite_export(shuffled, lambda tasks: random.Random(1).shuffle(tasks))
    a = build_release(ordered, "0.1.0", max_shard_bytes=SHARD_BYTES).path
    b = build_release(shuffled, "0.1.0", max_shard_bytes=SHARD_BYTES).path
    assert parquet_files(a) == parquet_files(b) and len(parquet_files(a)) >= 12
    assert not (b / ".runs").exists() and sorted(p.name for p in b.iterdir() if p.name.startswith(".")) == []


# -- problems across batches ------------------------------------------------------------------


def test_problems_in_different_batches_are_all_reported_and_nothing_is_written(synthetic, tmp_path, small_layout):
    project = copy(synthetic, tmp_path / "repo")

    def first_entity(task: dict) -> dict:
        return next(r for r in task["annotations"][0]["result"] if r.get("from_name") == "entity")

    def break_two(tasks):
        early, late = first_entity(tasks[2]), first_entity(tasks[57])
        early["value"]["text"] = "not the text"
        late["value"]["labels"] = ["NOT_A_LABEL"]

    rewrite_export(project, break_two)
    with pytest.raises(InputError) as caught:
        build_release(project, "0.1.0")
    problems = caught.value.problems
    assert [(p.task_id, p.doc_id, p.field) for p in problems] == [
        (3, "syn_0000002", "value.text"),
        (58, "syn_0000057", "value.labels"),
    ]
    assert str(caught.value).startswith("2 problems in the input; nothing was written:\n")
    assert not project.corpus_dir.exists()


def test_an_export_that_breaks_half_way_counts_for_nothing(synthetic, tmp_path, small_layout):
    """Task problems before the point where the file stops being JSON are not reported: the file is."""
    project = copy(synthetic, tmp_path / "repo")
    rewrite_export(project, lambda tasks: tasks[1]["annotations"][0]["result"][0]["value"].update(text="wrong"))
    path = project.root / EXPORT
    path.write_bytes(path.read_bytes()[:-5000])
    with pytest.raises(InputError) as caught:
        build_release(project, "0.1.0")
    (problem,) = caught.value.problems
    assert problem.file == EXPORT.as_posix() and problem.task_id is None
    assert problem.message.startswith("not valid JSON: ")
    assert problem.message.endswith("; the file ends too early (truncated download?)")


# -- reading exports -----------------------------------------------------------------------------


def test_json_errors_are_located_as_the_standard_library_locates_them(tmp_path, monkeypatch):
    """The streamed reader's message, line and column equal json.loads' for random damage to a file."""
    monkeypatch.setattr(export_stream, "READ_SIZE", 7)  # windows far smaller than a task
    tasks = [
        {"id": i, "data": {"text": "a\nb “q” 🙂 é " * 3, "doc_id": f"d{i}"}, "x": [1, 2.5, None, True]}
        for i in range(4)
    ]
    rng = random.Random(11)
    path = tmp_path / "export.json"
    checked = 0
    for _ in range(400):
        text = json.dumps(tasks, ensure_ascii=False, indent=rng.choice([None, 1]))
        at = rng.randrange(len(text))
        text = rng.choice(
            [text[:at], text[:at] + text[at + 1 :], text[:at] + rng.choice('",]}{x \n\\') + text[at:], text + " x"]
        )
        if not text.lstrip().startswith("["):
            continue
        path.write_text(text, encoding="utf-8")
        try:
            json.loads(text)
            expected = None
        except json.JSONDecodeError as exc:
            expected = (exc.msg, exc.lineno, exc.colno, exc.pos >= len(text.rstrip()))
        assert export_stream.locate_json_error(path) == expected, text
        checked += 1
    assert checked > 300


def test_the_first_byte_that_is_not_utf8_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(export_stream, "READ_SIZE", 5)
    rng = random.Random(3)
    base = "[“q” 🙂 é x]".encode() * 4
    path = tmp_path / "export.json"
    for _ in range(200):
        data = bytearray(base)
        data[rng.randrange(len(data))] = rng.randrange(128, 256)
        path.write_bytes(bytes(data))
        try:
            bytes(data).decode("utf-8")
            expected = None
        except UnicodeDecodeError as exc:
            expected = exc.start
        assert export_stream.first_invalid_utf8(path) == expected


# -- validation in chunks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pending",
    [0, 40_000, PandasEngine.pending_bytes],
    ids=["a run per chunk", "runs over a few chunks", "one run per suite"],
)
def test_validation_in_chunks_adds_up_to_validation_in_one(sharded, monkeypatch, pending):
    release = sharded
    whole = validate_release(Project(REPO), release)
    monkeypatch.setattr(validation_chunks, "CHUNK_ROWS", 500)  # ~12 documents per chunk
    monkeypatch.setattr(PandasEngine, "pending_bytes", pending)
    chunked = validate_release(Project(REPO), release)
    assert chunked.success and whole.success
    assert chunked.summary() == whole.summary()
    assert chunked.summary()["suites"]["documents"]["rows"] == DOCS


def test_failures_found_in_chunks_are_those_found_in_one(sharded, tmp_path, monkeypatch):
    """Counts and samples of a failing check added up over runs of different chunk groupings agree."""
    release = Path(shutil.copytree(sharded, tmp_path / sharded.name))
    for name in data_files(release, "entities"):  # every 7th mention loses its text: spans fail in every chunk
        table = pq.read_table(release / name)
        texts = [t if i % 7 else t + "x" for i, t in enumerate(table.column("text").to_pylist())]
        pq.write_table(table.set_column(table.schema.get_field_index("text"), "text", pa.array(texts)), release / name)
    found = []
    for rows, pending in ((None, 0), (500, 0), (500, 40_000), (500, PandasEngine.pending_bytes)):
        monkeypatch.setattr(validation_chunks, "CHUNK_ROWS", rows or validation_chunks.CHUNK_ROWS)
        monkeypatch.setattr(PandasEngine, "pending_bytes", pending)
        validation = validate_release(Project(REPO), release)
        found.append([o.lines() for o in validation.failures])
    assert found[0] and any("entities.span.matches_text" in lines[0] for lines in found[0])
    assert found[1:] == [found[0]] * 3


def test_validation_holds_one_chunk_at_a_time(sharded, monkeypatch):
    """A chunk's views are freed before the next chunk is read, and Great Expectations keeps no data frame."""
    import gc
    import weakref

    import newscorpus.validation.pandas_engine as validate_module

    release = sharded
    monkeypatch.setattr(validation_chunks, "CHUNK_ROWS", 500)
    monkeypatch.setattr(PandasEngine, "pending_bytes", 0)  # a run per chunk and suite
    builders, frames, alive_when_read = [], [], []
    real_init, real_chunks, real_to_pandas = (
        validate_module.ViewBuilder.__init__,
        validate_module.document_chunks,
        validate_module._to_pandas,
    )

    def init(self, *args):
        real_init(self, *args)
        builders.append(weakref.ref(self))

    def chunks(*args, **kwargs):
        for tables in real_chunks(*args, **kwargs):
            gc.collect()
            alive_when_read.append(sum(b() is not None for b in builders))
            yield tables

    def to_pandas(view):
        frame = real_to_pandas(view)
        frames.append(weakref.ref(frame))
        return frame

    monkeypatch.setattr(validate_module.ViewBuilder, "__init__", init)
    monkeypatch.setattr(validate_module, "document_chunks", chunks)
    monkeypatch.setattr(validate_module, "_to_pandas", to_pandas)
    assert validate_release(Project(REPO), release).success
    gc.collect()
    assert len(alive_when_read) == len(builders) > 3
    assert alive_when_read == [0] * len(builders)
    assert len(frames) == len(GATE_SUITES) * len(builders) + 1  # every suite of the gate per chunk, the manifest's once
    assert [f for f in frames if f() is not None] == []


def test_views_of_consecutive_chunks_are_checked_in_one_run(sharded, monkeypatch):
    """Great Expectations' fixed cost per run is paid once per suite when the views fit the waiting budget."""
    import newscorpus.validation.pandas_engine as validate_module

    monkeypatch.setattr(validation_chunks, "CHUNK_ROWS", 500)
    chunks, runs = [], []
    real_chunks, real_to_pandas = validate_module.document_chunks, validate_module._to_pandas

    def counted_chunks(*args, **kwargs):
        for tables in real_chunks(*args, **kwargs):
            chunks.append(tables["documents"].num_rows)
            yield tables

    def to_pandas(view):
        runs.append(view.num_rows)
        return real_to_pandas(view)

    monkeypatch.setattr(validate_module, "document_chunks", counted_chunks)
    monkeypatch.setattr(validate_module, "_to_pandas", to_pandas)
    assert validate_release(Project(REPO), sharded).success
    assert len(chunks) > 3 and sum(chunks) == DOCS
    assert len(runs) == len(GATE_SUITES) + 1  # every suite once over all chunks, the manifest's once
    assert runs.count(DOCS) == 2  # the documents and derived views: one row per document of every chunk


def test_a_doc_id_repeated_in_another_shard_fails_uniqueness_in_chunks(sharded, tmp_path, monkeypatch):
    release = Path(shutil.copytree(sharded, tmp_path / sharded.name))
    names = data_files(release, "documents")
    first, last = pq.read_table(release / names[0]), pq.read_table(release / names[-1])
    schema = last.schema
    pq.write_table(pa.concat_tables([last, first.slice(0, 1)]).cast(schema), release / names[-1])
    monkeypatch.setattr(validation_chunks, "CHUNK_ROWS", 500)
    failures = [o.lines()[0] for o in validate_release(Project(REPO), release).failures]
    assert "FAILED documents.doc_id.unique: 2 of 61 rows: doc_id=syn_0000000; doc_id=syn_0000000" in failures
