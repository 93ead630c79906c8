"""`reproduce` rebuilds a release from the inputs its manifest records, not from today's folders."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from newscorpus.build.builder import build_release
from newscorpus.build.reproduce import reproduce
from newscorpus.cli import main
from newscorpus.errors import ReleaseError
from newscorpus.labelstudio.export_names import export_paths
from tests.helpers import copy_project

EXPORTS = "annotation/exports"
LATER_EXPORT = "20261230T120000Z-project-2.json"


def git(root, *args: str) -> str:
    command = ["git", "-C", str(root), "-c", "user.name=Test", "-c", "user.email=test@newscorpus.test", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def released(tmp_path):
    """A git checkout with release v0.3.0 committed, then changed the way a team changes it."""
    root = tmp_path / "repo"
    project = copy_project(root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "inputs")
    inputs_commit = git(root, "rev-parse", "HEAD").strip()  # the newest commit that changed the guidelines then
    release = build_release(project, "0.3.0").path
    git(root, "add", "-A")
    git(root, "commit", "-qm", "release v0.3.0")
    # Afterwards: the guidelines are edited and committed, and a newer export is pulled (not yet committed).
    guidelines = root / "annotation" / "GUIDELINES.md"
    guidelines.write_text(guidelines.read_text(encoding="utf-8") + "\nA later rule.\n", encoding="utf-8")
    git(root, "commit", "-qam", "guidelines edited")
    newest = export_paths(root / EXPORTS)[-1]
    shutil.copy2(newest, root / EXPORTS / LATER_EXPORT)
    return project, release, inputs_commit


def test_a_release_reproduces_after_later_inputs_and_edits(released, capsys):
    project, release, inputs_commit = released
    result = reproduce(project, release)
    assert result.different == []
    assert result.changed_inputs == ["annotation/GUIDELINES.md"]
    assert result.from_history == {"annotation/GUIDELINES.md": inputs_commit}
    assert main(["--root", str(project.root), "reproduce", str(release)]) == 0
    assert capsys.readouterr().out == (
        "input changed since the release: annotation/GUIDELINES.md; rebuilt with its released version"
        f" (commit {inputs_commit[:12]})\n"
        "v0.3.0: all 19 files rebuilt byte for byte\n"
    )


def test_a_recorded_input_found_nowhere_is_named_and_nothing_is_rebuilt(released):
    project, release, _ = released
    seed = next((project.root / "seeds").glob("*.txt"))
    seed.write_text(seed.read_text(encoding="utf-8") + " Changed.", encoding="utf-8")
    shutil.rmtree(project.root / ".git")  # no history to take the released versions from
    recorded = {e["path"]: e["sha256"] for e in json.loads((release / "manifest.json").read_text())["inputs"]}
    with pytest.raises(ReleaseError) as caught:
        reproduce(project, release)
    assert str(caught.value) == (
        f"v0.3.0: recorded inputs annotation/GUIDELINES.md (sha256 {recorded['annotation/GUIDELINES.md'][:12]}),"
        f" seeds/{seed.name} (sha256 {recorded[f'seeds/{seed.name}'][:12]}) found neither in the working tree"
        " (not a git checkout); restore the file as it was released (e.g. from the release's commit) to reproduce it"
    )
