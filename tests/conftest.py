"""Shared fixtures. No test reads the user's home, Hugging Face cache or tokens."""

from __future__ import annotations

import shutil
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
