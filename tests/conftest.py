"""Shared fixtures. No test reads the user's home, Hugging Face cache or tokens."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import datasets
import pytest

from newscorpus.project import Project

REPO = Path(__file__).resolve().parents[1]
SEED_ID = "000_ef3ea5b0d932693c"


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(home / "hf" / "datasets"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    datasets.disable_progress_bars()  # the variable above is read at import time only
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_URL"):
        monkeypatch.delenv(name, raising=False)


def copy_static(target: Path) -> Project:
    """What every project needs besides its data: schema, suites, card, guidelines, labeling config."""
    shutil.copytree(REPO / "schemas", target / "schemas")
    shutil.copytree(REPO / "validation", target / "validation")
    (target / "annotation").mkdir(parents=True, exist_ok=True)
    for name in ("annotation/GUIDELINES.md", "annotation/label_config.xml", "DATACARD.md"):
        shutil.copy2(REPO / name, target / name)
    return Project(target)


def copy_project(target: Path, *, with_corpus: bool = False) -> Project:
    """A working copy of the repository's inputs (seeds, schema, exports, card, suites) in `target`."""
    for name in ("seeds", "schemas", "annotation", "validation"):
        shutil.copytree(REPO / name, target / name)
    shutil.copy2(REPO / "DATACARD.md", target / "DATACARD.md")
    if with_corpus:
        shutil.copytree(REPO / "corpus", target / "corpus")
    return Project(target)


@pytest.fixture
def project(tmp_path) -> Project:
    return copy_project(tmp_path / "repo")


@pytest.fixture(scope="session")
def seed_release(tmp_path_factory):
    """The repository's inputs built once into a scratch corpus (version 0.0.1)."""
    from newscorpus.build import build_release

    root = tmp_path_factory.mktemp("seed-release")
    project = copy_project(root / "repo")
    return build_release(project, "0.0.1")


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its bytes, for before/after comparisons."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def two_releases(tmp_path_factory):
    """v0.1.0 from the repository's inputs and v0.2.0 from inputs changed on purpose (tests/release_changes.py)."""
    from tests.release_changes import build_two_releases

    return build_two_releases(tmp_path_factory.mktemp("two-releases"))


# Settings for many small validations in one local session: one core and one shuffle partition
# (the test releases are tiny), and for queries that each touch a few hundred rows, no adaptive
# re-planning, interpreted expressions instead of generated code, and a JVM that compiles less
# eagerly: a query's planning and compiling cost more than its data here (~2x faster in total).
# SPARK_PRODUCTION_SETTINGS restores Spark's defaults for the tests that check them.
SPARK_TEST_SETTINGS = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}
NO_PYTHON_WORKERS = "/nonexistent/python-for-spark-workers"
SPARK_PRODUCTION_SETTINGS = {
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.codegen.wholeStage": "true",
    "spark.sql.codegen.factoryMode": "FALLBACK",
}


def _missing(what: str):
    """A missing Java or pyspark skips the Spark tests on a developer's machine and fails them in CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what}; CI=true: the Spark engine's tests must run (scripts/test.sh installs both)")
    pytest.skip(what)


def java_major() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    banner = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)', banner)
    return int(found.group(1)) if found else None


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
    from newscorpus.validate_spark import spark_session

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
