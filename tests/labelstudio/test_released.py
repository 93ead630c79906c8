"""Continuing on a new server: push gives an already released article its released annotation back."""

from __future__ import annotations

import re
import uuid

import pytest

from newscorpus.build.builder import build_release
from newscorpus.cli import main
from newscorpus.labelstudio.accounts import add_user
from newscorpus.labelstudio.client import Connection
from newscorpus.labelstudio.roster import read_roster
from newscorpus.release.manifest import release_versions
from newscorpus.release.shards import read_config
from tests.helpers import SEED_ID, copy_project, tree_bytes

pytestmark = pytest.mark.labelstudio

PROVENANCE = ("ls_export", "ls_task_id", "ls_annotation_id", "annotator_ids")  # where it was made: differs by server


def run(capsys, root, *argv):
    code = main(["--root", str(root), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def seed_author(label_studio, tmp_path_factory) -> str:
    """The account of whoever made the seed's released annotation (A01), once on the session's server."""
    project = copy_project(tmp_path_factory.mktemp("author") / "repo")
    email = read_roster(project).entries[0][1]
    connection = Connection(label_studio.url, label_studio.token)
    client = label_studio.client()
    if email not in {u.email for u in client.users.list()}:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SEED_AUTHOR_PASSWORD", f"pw-{uuid.uuid4().hex}")
            add_user(project, connection, email, "SEED_AUTHOR_PASSWORD")
    return email


def next_patch(corpus) -> str:
    major, minor, patch = release_versions(corpus)[-1].split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


def test_a_fresh_server_gets_the_released_annotation_back(tmp_path, ls_env, seed_author, capsys):
    project = copy_project(tmp_path / "repo", with_corpus=True)
    root = project.root
    latest = release_versions(project.corpus_dir)[-1]
    title = f"test-{uuid.uuid4().hex[:10]}"
    code, out, err = run(capsys, root, "annotate", "push", "--title", title)
    assert (code, err) == (0, ""), err
    project_id = int(re.match(r"created project (\d+) ", out).group(1))
    imported, released_line = out.splitlines()[1:]
    assert imported.startswith(f"imported 1 new task(s) into project {project_id} ('{title}'), 0 with pre-annotations")
    assert released_line == (
        f"1 of them already released (v{latest}): imported with the released annotation as the task's annotation"
        " (ground truth, by its annotator's account), so that an edit corrects it"
    )
    client = ls_env.client()
    [task] = client.tasks.list(project=project_id, fields="all")
    assert task.predictions == []
    [annotation] = [a if isinstance(a, dict) else a.dict() for a in task.annotations]
    author = next(u for u in client.users.list() if u.email == seed_author)
    assert (annotation["completed_by"], annotation["ground_truth"]) == (author.id, True)
    released = read_config(project.corpus_dir / f"v{latest}", "entities").to_pylist()
    ids = {item["id"] for item in annotation["result"] if item["type"] == "labels"}
    assert {e["id"] for e in released} <= ids  # the released region ids, kept

    code, out, err = run(capsys, root, "annotate", "pull", "--title", title)
    assert (code, err) == (0, "")
    version = next_patch(project.corpus_dir)
    # The library's build (its data gate: the guidelines' quality rules judge the annotation, not this round trip)
    built = build_release(project, version)
    assert built.changes_line() == f"no document released in v{latest} has a changed annotation"
    old, new = project.corpus_dir / f"v{latest}", built.path
    for config in ("entities", "events", "quotes"):
        assert read_config(new, config).to_pylist() == read_config(old, config).to_pylist(), config
    [before], [after] = read_config(old, "documents").to_pylist(), read_config(new, "documents").to_pylist()
    assert after["doc_id"] == SEED_ID and after["ls_export"].endswith(f"-project-{project_id}.json")
    assert {k: v for k, v in after.items() if k not in PROVENANCE} == {
        k: v for k, v in before.items() if k not in PROVENANCE
    }


def test_push_refuses_when_the_released_annotator_has_no_account(tmp_path, ls_env, capsys):
    project = copy_project(tmp_path / "repo", with_corpus=True)
    nobody = f"gone-{uuid.uuid4().hex[:8]}@example.org"
    for record in project.exports_dir.glob("*.users.json"):  # as if someone else had made the seed's annotation
        text = record.read_text(encoding="utf-8").replace(read_roster(project).entries[0][1], nobody)
        record.write_text(text, encoding="utf-8")
        (record.parent / f"{record.name}.sha256").unlink()
    title = f"test-{uuid.uuid4().hex[:10]}"
    before = tree_bytes(project.root)
    assert run(capsys, project.root, "annotate", "push", "--title", title) == (
        1,
        "",
        "error: nothing pushed: an article already released comes back with its released annotation, under the"
        f" account of whoever made it, and {nobody} (who made the released annotation of {SEED_ID}) has no account"
        f" at {ls_env.url}; add it (`newscorpus annotate users add {nobody} --password-env VAR`), then push again\n",
    )
    assert [p for p in ls_env.client().projects.list() if p.title == title] == []
    assert tree_bytes(project.root) == before
