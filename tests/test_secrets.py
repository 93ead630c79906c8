"""Secrets never leak; inputs that could reach a path, a command or the labeling config are refused.

Sentinel values stand in for the Hub token and the Label Studio key. Every command runs in
its own process (successful and failing ones), and everything it printed, logged or wrote
is searched for the sentinels.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from newscorpus.errors import ReleaseError
from newscorpus.ingest import DOC_ID_PATTERN
from newscorpus.release.manifest import check_version
from tests.helpers import copy_project

HF_SENTINEL = "hf_SENTINELsecretHubToken0123456789"
LS_SENTINEL = "lsSENTINELsecretLabelStudioKey0123456789"


def run(root: Path, home: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HOME": str(home),
        "HF_HOME": str(home / "hf"),
        "HF_TOKEN": HF_SENTINEL,
        "HF_ENDPOINT": "http://127.0.0.1:9",  # nothing listens there: publishing fails at the first request
        "HF_HUB_DISABLE_XET": "1",
        "LABEL_STUDIO_API_KEY": LS_SENTINEL,
        "LABEL_STUDIO_URL": "http://127.0.0.1:9",
        "PYTHONWARNINGS": "default",
    }
    return subprocess.run(
        [sys.executable, "-m", "newscorpus.cli", "--root", str(root), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_no_command_prints_or_writes_a_secret(tmp_path):
    root, home = tmp_path / "repo", tmp_path / "home"
    home.mkdir()
    copy_project(root, with_corpus=True)
    release = sorted((root / "corpus").glob("v*"))[-1]
    first = [("build", "--version", "9.0.0"), ("build", "--version", "9.0.0")]  # the second fails: exists
    commands = [
        ("verify", str(release)),
        ("reproduce", str(release)),
        ("validate", str(root / "corpus" / "v9.0.0"), "--data-docs", str(tmp_path / "docs")),
        ("show", str(release)),
        ("schema",),
        ("card", "--check"),
        ("diff", release.name, "v9.0.0"),
        ("agreement",),
        ("annotate", "push"),  # fails: nothing listens on the URL
        ("annotate", "pull"),  # fails likewise
        ("publish", str(release), "--repo-id", "newscorpus/newscorpus", "--dry-run"),
        ("publish", str(release), "--repo-id", "newscorpus/newscorpus"),  # fails: the Hub is unreachable
        ("publish", str(release), "--repo-id", "../etc/passwd"),  # fails: bad repo id
    ]
    outputs = []
    codes = {}
    # The builds first (the rest reads v9.0.0); then the others, which are independent, two at a time.
    results = [(argv, run(root, home, *argv)) for argv in first]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results += zip(commands, pool.map(lambda argv: run(root, home, *argv), commands), strict=True)
    for argv, result in results:
        codes[" ".join(argv[:2])] = result.returncode
        outputs.append(result.stdout + result.stderr)
    # The failing commands did fail, with one message and no traceback.
    for name in ("annotate push", "annotate pull"):
        assert codes[name] == 1
    assert codes["build --version"] == 1  # the last one recorded is the refused rebuild
    text = "\n".join(outputs)
    assert "Traceback" not in text
    assert HF_SENTINEL not in text and LS_SENTINEL not in text
    for folder in (root, home, tmp_path / "docs"):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert HF_SENTINEL.encode() not in data and LS_SENTINEL.encode() not in data, path


@pytest.mark.parametrize("doc_id", ["../etc", "/abs", "a/b", "x;rm -rf", "<tag>", "a b", "", ".hidden", "é"])
def test_doc_ids_that_could_reach_a_path_or_markup_are_refused(doc_id):
    assert not DOC_ID_PATTERN.fullmatch(doc_id)


@pytest.mark.parametrize("version", ["../1.0.0", "1.0.0/..", "1.0", "1.0.0-rc1", "v1.0.0;ls", "01.0.0", " 1.0.0"])
def test_versions_are_strict(version):
    with pytest.raises(ReleaseError):
        check_version(version)


def test_no_unsafe_loading_of_inputs():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (Path(__file__).parents[1] / "src").rglob("*.py"))
    for forbidden in ("pickle", "yaml.load(", "yaml.unsafe_load", "eval(", "exec(", "shell=True", "os.system("):
        assert forbidden not in source, forbidden
