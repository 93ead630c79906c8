"""The scripts in examples/ run as the docs show them (from the repository root, on the newest release).

Each is run in a subprocess with no argument, so it reads the newest committed release in
corpus/, and its output is checked against facts of the seed article read off its text by
hand: "“All the legitimate rights ...,” Kremlin spokesman Dmitry Peskov told reporters" is
Peskov's quote; "hundreds of ethnic Serbs gathered outside the town hall" on Wednesday is
a demonstration with those three arguments.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from newscorpus.release.manifest import release_versions
from tests.helpers import REPO

SEED_ID = "000_ef3ea5b0d932693c"
NEWEST = REPO / "corpus" / f"v{release_versions(REPO / 'corpus')[-1]}"


def run_example(name: str, *args: str) -> list[str]:
    """`python examples/<name>.py ARGS` from the repository root, offline; its output lines."""
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, f"examples/{name}.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_quotes_come_with_their_speakers_canonical_name():
    lines = run_example("quotes_with_speakers")
    assert lines[0] == (
        f"{SEED_ID} q01 [direct] Dmitry Peskov: “All the legitimate rights and interests of Kosovo Serbs must be"
        " respected,”"
    )
    assert sum(line.startswith(f"{SEED_ID} ") for line in lines) == 8  # the seed's eight quotes


def test_events_come_with_the_text_of_their_arguments():
    lines = run_example("events_with_arguments")
    assert (
        f'{SEED_ID} v01 Conflict.Demonstrate (actual) "gathered": Entity="ethnic Serbs", Place="the town hall",'
        ' Time="Wednesday"'
    ) in lines


def test_chains_list_each_entitys_mentions_under_its_canonical_name():
    lines = run_example("coreference_chains")
    [peskov] = [line for line in lines if line.startswith(f'{SEED_ID} e03 PERSON "Dmitry Peskov" (')]
    assert peskov.split(": ", 1)[1].split(" | ")[:2] == ["Dmitry Peskov", "Peskov"]


def test_an_example_reads_the_release_it_is_given():
    lines = run_example("quotes_with_speakers", "corpus/v0.1.0")
    assert lines[0].startswith(f"{SEED_ID} q01 [direct] Dmitry Peskov: ")


def test_token_classification_data_is_ready_for_a_trainer():
    if not (NEWEST / "tokens").is_dir():
        pytest.skip(f"{NEWEST.name} has no tokens config (releases in format 2 and later have it)")
    check_token_output(run_example("token_classification"))


def test_token_classification_on_a_freshly_built_release(two_releases):
    release = two_releases[1]  # the seed article comes first (doc_ids sort)
    if not (release / "tokens").is_dir():
        pytest.skip("the build writes format 1, which has no tokens config")
    check_token_output(run_example("token_classification", str(release)))


def check_token_output(lines: list[str]) -> None:
    """The label names and the seed's first sentence, tagged: "... Kosovo Serbs ... Kremlin spokesman Dmitry Peskov"."""
    labels = lines[0].split(": ", 1)[1].split()
    assert labels[:3] == ["O", "B-PERSON", "I-PERSON"] and "B-NORP" in labels and "I-GPE" in labels
    first = lines[1].split()
    for tagged in ("Kosovo/B-NORP", "Serbs/I-NORP", "Kremlin/B-ORG", "Dmitry/B-PERSON", "Peskov/I-PERSON"):
        assert tagged in first
    assert "spokesman/O" in first
