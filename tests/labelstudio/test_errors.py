"""What goes wrong between the checkout and the server: one sentence on stderr, exit 1, nothing on disk."""

from __future__ import annotations

import uuid

import pytest

from newscorpus.cli import main
from newscorpus.labelstudio.preannotate import MODEL_VERSION
from tests.helpers import copy_project, free_port, tree_bytes

pytestmark = pytest.mark.labelstudio

SENTINEL_KEY = "SENTINEL-7d1f0c-never-print-me"
STEPS = ("push", "pull")


def run_step(capsys, root, step, *extra):
    code = main(["--root", str(root), "annotate", step, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def repo(tmp_path):
    return copy_project(tmp_path / "repo").root


@pytest.mark.parametrize("step", STEPS)
def test_wrong_url(step, repo, label_studio, monkeypatch, capsys):
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url + "/nothing")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.token)
    before = tree_bytes(repo)
    assert run_step(capsys, repo, step) == (
        1,
        "",
        f"error: {label_studio.url}/nothing does not answer like a Label Studio server"
        " (HTTP 404 for /api/current-user/whoami); check LABEL_STUDIO_URL\n",
    )
    assert tree_bytes(repo) == before


@pytest.mark.parametrize("step", STEPS)
def test_wrong_key_is_refused_and_never_printed(step, repo, label_studio, monkeypatch, capsys):
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", SENTINEL_KEY)
    before = tree_bytes(repo)
    code, out, err = run_step(capsys, repo, step)
    assert (code, out, err) == (
        1,
        "",
        f"error: Label Studio at {label_studio.url} refused the API key (HTTP 401); set LABEL_STUDIO_API_KEY"
        " to your access token (Label Studio: Account & Settings)\n",
    )
    assert SENTINEL_KEY not in out + err
    assert tree_bytes(repo) == before


@pytest.mark.parametrize("step", STEPS)
def test_unreachable_server(step, repo, monkeypatch, capsys):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("LABEL_STUDIO_URL", url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", SENTINEL_KEY)
    before = tree_bytes(repo)
    code, out, err = run_step(capsys, repo, step)
    assert (code, out, err) == (
        1,
        "",
        f"error: cannot reach Label Studio at {url} (connection refused); start it (`newscorpus annotate serve`)"
        " or correct LABEL_STUDIO_URL\n",
    )
    assert SENTINEL_KEY not in out + err
    assert tree_bytes(repo) == before


@pytest.mark.parametrize("step", STEPS)
def test_missing_environment(step, repo, capsys):
    assert run_step(capsys, repo, step) == (
        1,
        "",
        "error: LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY are not set; export the server's address"
        " (e.g. http://127.0.0.1:8080) and your access token (Label Studio: Account & Settings)\n",
    )


def _project_with_extra_label(client, repo, *, used: bool) -> int:
    """A project whose config has an entity label the schema lacks; `used`: an annotation uses it."""
    config = (repo / "annotation" / "label_config.xml").read_text("utf-8")
    config = config.replace(
        '    <Label value="DATE"', '    <Label value="EVENT" background="#000000"/>\n    <Label value="DATE"'
    )
    project = client.projects.create(title=f"test-{uuid.uuid4().hex[:10]}", label_config=config)
    text = "The Expo opened."
    client.projects.import_tasks(id=project.id, request=[{"data": {"doc_id": "other", "text": text}}])
    if used:
        [task] = client.tasks.list(project=project.id)
        value = {"start": 4, "end": 8, "text": "Expo"}
        result = [
            {
                "id": "r1",
                "from_name": "entity",
                "to_name": "text",
                "type": "labels",
                "value": {**value, "labels": ["EVENT"]},
            },
            {
                "id": "r1",
                "from_name": "mention_type",
                "to_name": "text",
                "type": "choices",
                "value": {**value, "choices": ["NAM"]},
            },
        ]
        client.annotations.create(id=task.id, result=result)
    return project.id


def test_pull_refuses_a_project_whose_config_is_not_the_schemas(repo, ls_env, capsys):
    client = ls_env.client()
    project_id = _project_with_extra_label(client, repo, used=False)
    title = client.projects.get(id=project_id).title
    before = tree_bytes(repo)
    assert run_step(capsys, repo, "pull", "--project-id", str(project_id)) == (
        1,
        "",
        f"error: the labeling config of project {project_id} ('{title}') differs from schemas/annotation.yaml 1.0.0;"
        " run `newscorpus annotate push` to update it, then pull again\n",
    )
    assert tree_bytes(repo) == before


def test_push_refuses_a_config_change_that_orphans_annotations(repo, ls_env, capsys):
    client = ls_env.client()
    project_id = _project_with_extra_label(client, repo, used=True)
    config_before = client.projects.get(id=project_id).label_config
    before = tree_bytes(repo)
    assert run_step(capsys, repo, "push", "--project-id", str(project_id)) == (
        1,
        "",
        f"error: refusing to update the labeling config of project {project_id}: existing annotations use"
        " entity 'EVENT' (1x), which the schema no longer has; add them back to schemas/annotation.yaml or change"
        " those annotations in Label Studio first\n",
    )
    assert tree_bytes(repo) == before
    assert client.projects.get(id=project_id).label_config == config_before
    assert [t.data["doc_id"] for t in client.tasks.list(project=project_id)] == ["other"]  # nothing imported


def test_push_updates_a_config_change_that_orphans_nothing(repo, ls_env, capsys):
    client = ls_env.client()
    project_id = _project_with_extra_label(client, repo, used=False)
    title = client.projects.get(id=project_id).title
    code, out, err = run_step(capsys, repo, "push", "--project-id", str(project_id))
    assert (code, err) == (0, ""), err
    assert out.splitlines() == [
        f"updated the labeling config of project {project_id} ('{title}') to the schema's",
        f"updated the instructions of project {project_id} ('{title}') to annotation/GUIDELINES.md",
        f"imported 1 new task(s) into project {project_id} ('{title}'), 1 with pre-annotations"
        f" ({MODEL_VERSION}; 21 known name(s) from annotation/exports/)",
        "warning: 1 task(s) have no article in seeds/ (other); build will refuse them: add the articles or delete"
        " the tasks in Label Studio",
    ]
    config = (repo / "annotation" / "label_config.xml").read_text("utf-8")
    assert client.projects.get(id=project_id).label_config.strip() == config.strip()
    assert client.projects.get(id=project_id).model_version == MODEL_VERSION  # annotators see the predictions
    assert run_step(capsys, repo, "pull", "--project-id", str(project_id))[0] == 0


def test_unknown_project_id(repo, ls_env, capsys):
    before = tree_bytes(repo)
    for step in STEPS:
        assert run_step(capsys, repo, step, "--project-id", "987654") == (
            1,
            "",
            f"error: there is no project 987654 at {ls_env.url}; leave out --project-id to use the project"
            " titled 'newscorpus'\n",
        )
    assert tree_bytes(repo) == before


def test_pull_of_a_title_that_does_not_exist(repo, ls_env, capsys):
    before = tree_bytes(repo)
    assert run_step(capsys, repo, "pull", "--title", "no-such-project-title") == (
        1,
        "",
        f"error: there is no project titled 'no-such-project-title' at {ls_env.url}; push first"
        " (`newscorpus annotate push`) or choose one with --project-id\n",
    )
    assert tree_bytes(repo) == before
