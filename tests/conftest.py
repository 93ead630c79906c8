"""Shared fixtures. No test reads the user's home, Hugging Face cache or tokens."""

from __future__ import annotations

import os

import datasets
import pytest

from newscorpus.project import Project
from tests.helpers import NO_PYTHON_WORKERS, SPARK_TEST_SETTINGS, copy_project, java_major, required


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(home / "hf" / "datasets"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    datasets.disable_progress_bars()  # the variable above is read at import time only
    # So is HF_DATASETS_CACHE (datasets is imported above, before any test): without this, every test
    # shared the user's ~/.cache/huggingface/datasets, and a release folder loaded there before could be
    # read back from that cache instead of from the folder.
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", home / "hf" / "datasets")
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path) -> Project:
    return copy_project(tmp_path / "repo")


@pytest.fixture(scope="session")
def seed_release(tmp_path_factory):
    """The repository's inputs built once into a scratch corpus (version 0.0.1)."""
    from newscorpus.build.builder import build_release

    root = tmp_path_factory.mktemp("seed-release")
    project = copy_project(root / "repo")
    return build_release(project, "0.0.1")


@pytest.fixture(scope="session")
def two_releases(tmp_path_factory):
    """v0.1.0 from the repository's inputs and v0.2.0 from inputs changed on purpose (tests/release_changes.py)."""
    from tests.release_changes import build_two_releases

    return build_two_releases(tmp_path_factory.mktemp("two-releases"))


def _missing(what: str):
    """A missing Java or pyspark skips the Spark tests on a developer's machine and fails them in CI."""
    required(what, f"{what}; CI=true: the Spark engine's tests must run (scripts/test.sh installs both)")


@pytest.fixture(scope="session")
def spark():
    """The one local Spark session of the test run (starting one takes seconds)."""
    try:
        import pyspark  # noqa: F401
    except ModuleNotFoundError:
        _missing("pyspark is not installed (pip install -e '.[spark]')")
    major = java_major()
    if major is None or major < 17:
        _missing(f"the Spark engine needs Java 17 or newer (found: {major or 'none'})")
    from newscorpus.validation.spark_engine import spark_session

    # No row passes through Python: a Spark job that needed a Python worker would fail to start one.
    before = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = NO_PYTHON_WORKERS
    session = spark_session("local[1]", SPARK_TEST_SETTINGS)
    yield session
    session.stop()
    if before is None:
        os.environ.pop("PYSPARK_PYTHON")
    else:
        os.environ["PYSPARK_PYTHON"] = before
