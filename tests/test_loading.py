"""A release loads every way users load it: datasets (also streaming, also by tag from the Hub), pandas, pyarrow."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from datasets import Features, List, load_dataset

from newscorpus.release.formats import configs
from newscorpus.release.manifest import read_manifest, release_format
from newscorpus.schema import CONFIGS
from tests.helpers import REPO, REPO_ID, TOKEN, data_file, publish
from tests.hub_server import FakeHub


def rows(release, config) -> list[dict]:
    return pq.read_table(release / data_file(config)).to_pylist()


@pytest.fixture(scope="module")
def release(two_releases):
    return two_releases[1]


@pytest.mark.parametrize("config", CONFIGS)
def test_load_dataset_reads_every_config_typed(release, config):
    dataset = load_dataset(str(release), config, split="train")
    assert dataset.features == Features.from_arrow_schema(pq.read_schema(release / data_file(config)))
    assert dataset.to_list() == rows(release, config)


def test_features_come_back_as_dates_and_lists_of_structs(release):
    documents = load_dataset(str(release), "documents", split="train")
    first = documents[0]
    assert isinstance(first["published"], dt.date) and first["published"] == dt.date(2023, 6, 1)
    # lists of structs are lists of dicts (datasets' `List`), not the old dict-of-lists `Sequence`
    assert isinstance(first["entities"], list) and isinstance(first["entities"][0], dict)
    assert isinstance(first["events"][0]["arguments"], list) and "role" in first["events"][0]["arguments"][0]
    entities = documents.features["entities"]
    assert type(entities) is List and isinstance(entities.feature, dict) and entities.feature["start"].dtype == "int32"
    assert documents.features["published"].dtype == "date32"
    quotes = load_dataset(str(release), "quotes", split="train")
    assert quotes.features["cue"]["start"].dtype == "int32" and quotes.features["speaker_id"].dtype == "string"


@pytest.mark.parametrize("config", CONFIGS)
def test_streaming_gives_the_same_rows(release, config):
    stream = load_dataset(str(release), config, split="train", streaming=True)
    assert stream.features == Features.from_arrow_schema(pq.read_schema(release / data_file(config)))
    assert list(stream) == rows(release, config)


def test_pandas_and_pyarrow_read_the_files_as_they_are(release):
    for config in CONFIGS:
        frame = pd.read_parquet(release / data_file(config))
        table = ds.dataset(release / config, format="parquet").to_table()
        assert len(frame) == table.num_rows == len(rows(release, config))
        assert list(frame.columns) == table.column_names == pq.read_schema(release / data_file(config)).names
        assert table.to_pylist() == rows(release, config)
    documents = pd.read_parquet(release / data_file("documents"))
    assert documents.loc[0, "published"] == dt.date(2023, 6, 1)
    assert documents.loc[0, "entities"][0]["id"] == "e01"
    whole = ds.dataset(release, format="parquet", partitioning=None, exclude_invalid_files=True)
    names = configs(release_format(read_manifest(release)))  # format 2 adds the derived configs
    assert sorted(whole.files) == sorted(str(release / data_file(c)) for c in names)


def _git(cwd, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_a_git_checkout_loads_the_checked_out_tag_and_ignores_revision(two_releases, tmp_path):
    """datasets ignores `revision` for a folder on disk: a clone of the dataset repository serves the commit
    that is checked out. To load an older release from a clone, check out its tag (here: a worktree)."""
    clone = tmp_path / "clone"
    clone.mkdir()
    _git(clone, "init", "-q", "-b", "main")
    for release in two_releases:
        for item in clone.iterdir():
            if item.name != ".git":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        shutil.copytree(release, clone, dirs_exist_ok=True)
        _git(clone, "add", "-A")
        _git(clone, "commit", "-q", "-m", f"Release {release.name}")
        _git(clone, "tag", release.name)
    first, second = two_releases
    ignored = load_dataset(str(clone), "quotes", split="train", revision="v0.1.0")
    assert ignored.num_rows == len(rows(second, "quotes")) == 10  # v0.2.0, checked out, not v0.1.0
    _git(clone, "worktree", "add", "-q", str(tmp_path / "v0.1.0"), "v0.1.0")
    old = load_dataset(str(tmp_path / "v0.1.0"), "quotes", split="train")
    assert old.to_list() == rows(first, "quotes") and old.num_rows == 8


def test_load_dataset_by_tag_from_the_hub(two_releases):
    """What users do: publish both releases to the (stand-in) Hub, then load each one by its tag."""
    first, second = two_releases
    with FakeHub(TOKEN) as hub:
        for release in two_releases:
            assert publish(hub, release)[0] == 0
        env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN")}
        env.update(HF_ENDPOINT=hub.url, HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
        env.update(HF_DATASETS_DISABLE_PROGRESS_BARS="1", PYTHONPATH=str(REPO / "src"))
        probe = (
            "import json, sys\n"
            "from datasets import load_dataset\n"
            "out = {}\n"
            "for rev in ('v0.1.0', 'v0.2.0'):\n"
            f"    d = load_dataset({REPO_ID!r}, 'quotes', split='train', revision=rev)\n"
            f"    s = load_dataset({REPO_ID!r}, 'documents', split='train', revision=rev, streaming=True)\n"
            "    out[rev] = {'quotes': d.to_list(), 'doc_ids': [r['doc_id'] for r in s],\n"
            "               'published': str(type(next(iter(s))['published']))}\n"
            "print(json.dumps(out, default=str))\n"
        )
        result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert all(r.authorization is None for r in hub.requests if "/resolve/" in r.path)  # anonymous reads
    loaded = json.loads(result.stdout)
    assert loaded["v0.1.0"]["quotes"] == json.loads(json.dumps(rows(first, "quotes")))
    assert loaded["v0.2.0"]["quotes"] == json.loads(json.dumps(rows(second, "quotes")))
    assert loaded["v0.1.0"]["doc_ids"] == ["000_ef3ea5b0d932693c"]
    assert loaded["v0.2.0"]["doc_ids"] == ["000_ef3ea5b0d932693c", "001_second"]
    assert loaded["v0.2.0"]["published"] == "<class 'datetime.date'>"
