"""push and pull against the real server: creation, idempotence, pre-annotations, the stored export."""

from __future__ import annotations

import hashlib
import json
import re
import uuid

import pytest

from newscorpus.cli import main
from newscorpus.labelstudio.preannotate import MODEL_VERSION
from tests.helpers import copy_project, tree_bytes

pytestmark = pytest.mark.labelstudio


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def new_title() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def test_push_twice_imports_each_article_once_with_preannotations(tmp_path, ls_env, capsys):
    root = copy_project(tmp_path / "repo").root
    title = new_title()
    code, out, err = run(capsys, "--root", str(root), "annotate", "push", "--title", title)
    assert (code, err) == (0, "")
    project_id = int(re.match(r"created project (\d+) ", out).group(1))
    assert out == (
        f"created project {project_id} ('{title}') with the labeling config of the schema and"
        " annotation/GUIDELINES.md as instructions\n"
        f"imported 1 new task(s) into project {project_id} ('{title}'), 1 with pre-annotations"
        f" ({MODEL_VERSION}; 21 known name(s) from annotation/exports/)\n"
    )
    code, out, err = run(capsys, "--root", str(root), "annotate", "push", "--title", title)
    assert (code, err) == (0, "")
    assert (
        out == f"nothing to import: all 1 article(s) of seeds/ are already tasks of project {project_id} ('{title}')\n"
    )
    (root / "seeds" / "later.txt").write_text("date 2024-01-02\nA later article.\n", encoding="utf-8")
    code, out, err = run(capsys, "--root", str(root), "annotate", "push", "--title", title)
    assert (code, err) == (0, "")
    assert out == (
        f"imported 1 new task(s) into project {project_id} ('{title}'), 0 with pre-annotations"
        f" ({MODEL_VERSION}; 21 known name(s) from annotation/exports/)\n"
    )
    (root / "seeds" / "later.txt").unlink()

    client = ls_env.client()
    tasks = sorted(client.tasks.list(project=project_id, fields="all"), key=lambda t: t.id)
    assert [t.data["doc_id"] for t in tasks] == ["000_ef3ea5b0d932693c", "later"]
    assert tasks[1].predictions == []  # nothing to propose in "A later article."
    project = client.projects.get(id=project_id)
    assert project.label_config.strip() == (root / "annotation" / "label_config.xml").read_text("utf-8").strip()
    assert project.model_version == MODEL_VERSION
    [predicted] = tasks[0].predictions
    predicted = predicted if isinstance(predicted, dict) else predicted.dict()
    assert predicted["model_version"] == MODEL_VERSION
    text = tasks[0].data["text"]
    regions = {r["id"]: r for r in predicted["result"] if r["type"] == "labels"}
    for region in regions.values():
        value = region["value"]
        assert text[value["start"] : value["end"]] == value["text"]
    labels = sorted({(r["value"]["text"], r["value"]["labels"][0]) for r in regions.values()})
    assert ("Dmitry Peskov", "PERSON") in labels and ("Kremlin", "ORG") in labels and ("He", "PERSON") in labels
    speakers = sorted(
        (regions[r["from_id"]]["value"]["text"][:20], regions[r["to_id"]]["value"]["text"])
        for r in predicted["result"]
        if r["type"] == "relation" and r["labels"] == ["speaker"]
    )
    assert speakers == [
        # indirect. Since v0.1.3 "Serb" is no longer a known name (it is inside "a Serb minority"), and the
        # rules predict the nationality word, not the nominal "Serb officials": a known weakness to fix.
        ("Serbia will not stan", "Serb"),
        ("ethnic Albanian mayo", "NATO peacekeepers"),  # indirect
        ("“All the legitimate ", "Dmitry Peskov"),
        ("“First, we should ca", "He"),
        ("“The security situat", "Milos Vucevic"),
        ("“We offer our uncond", "Dmitry Peskov"),
        ("“concern” about the ", "Peskov"),  # mixed
        ("“provocative actions", "Peskov"),  # mixed
    ]
    assert ls_env.token not in out


def test_push_keeps_the_instructions_in_step_with_the_guidelines(tmp_path, ls_env, capsys):
    root = copy_project(tmp_path / "repo").root
    title = new_title()
    code, out, _ = run(capsys, "--root", str(root), "annotate", "push", "--title", title)
    project_id = int(re.match(r"created project (\d+) ", out).group(1))
    client = ls_env.client()
    project = client.projects.get(id=project_id)
    assert project.show_instruction is True
    assert "<h1>newscorpus annotation guidelines</h1>" in project.expert_instruction
    assert "<th>relation label</th>" in project.expert_instruction  # tables render
    guidelines = root / "annotation" / "GUIDELINES.md"
    guidelines.write_text(guidelines.read_text("utf-8") + "\nA new rule <script>alert(1)</script>.\n", "utf-8")
    code, out, err = run(capsys, "--root", str(root), "annotate", "push", "--title", title)
    assert (code, err) == (0, "")
    assert (
        out.splitlines()[0]
        == f"updated the instructions of project {project_id} ('{title}') to annotation/GUIDELINES.md"
    )
    instructions = client.projects.get(id=project_id).expert_instruction
    assert "A new rule &lt;script&gt;alert(1)&lt;/script&gt;." in instructions and "<script>" not in instructions
    code, out, _ = run(capsys, "--root", str(root), "annotate", "push", "--title", title)
    assert (code, out) == (
        0,
        f"nothing to import: all 1 article(s) of seeds/ are already tasks of project {project_id} ('{title}')\n",
    )


def test_pull_stores_the_export_untouched_with_its_user_record_and_never_overwrites(tmp_path, ls_env, capsys):
    root = copy_project(tmp_path / "repo").root
    title = new_title()
    code, out, _ = run(capsys, "--root", str(root), "annotate", "push", "--title", title)
    project_id = int(re.match(r"created project (\d+) ", out).group(1))
    before = set(tree_bytes(root / "annotation" / "exports"))
    code, out, err = run(capsys, "--root", str(root), "annotate", "pull", "--title", title)
    assert (code, err) == (0, "")
    first = re.search(r"wrote annotation/exports/(\S+) ", out).group(1)
    assert out.splitlines()[2] == f"wrote annotation/exports/{first}.users.json: the email of each of its 0 user(s)"

    # Nothing changed in Label Studio: the second pull writes nothing, and says so.
    code, out, err = run(capsys, "--root", str(root), "annotate", "pull", "--title", title)
    assert (code, err, out.splitlines()[1:]) == (
        0,
        "",
        [f"nothing written: the export equals annotation/exports/{first}, the newest stored for project {project_id}"],
    )
    assert set(tree_bytes(root / "annotation" / "exports")) - before == {
        first,
        f"{first}.sha256",
        f"{first}.users.json",
        f"{first}.users.json.sha256",
    }

    # An annotation is submitted: the next pull stores a new export, named for a later second, with its record.
    client = ls_env.client()
    [task] = client.tasks.list(project=project_id, fields="all")
    client.annotations.create(id=task.id, result=[], lead_time=1.0)
    code, out, err = run(capsys, "--root", str(root), "annotate", "pull", "--title", title)
    assert (code, err) == (0, "")
    second = re.search(r"wrote annotation/exports/(\S+) ", out).group(1)
    assert first < second  # a pull in the same second gets the next second's name
    exports = tree_bytes(root / "annotation" / "exports")
    admin = client.users.whoami()
    for name in (first, second):
        assert re.fullmatch(r"\d{8}T\d{6}Z-project-\d+\.json", name)
        digest = hashlib.sha256(exports[name]).hexdigest()
        assert exports[name + ".sha256"] == f"{digest}  {name}\n".encode()
        [task] = json.loads(exports[name])
        assert task["data"]["doc_id"] == "000_ef3ea5b0d932693c"
        assert ls_env.token.encode() not in exports[name] + exports[name + ".users.json"]
        record = json.loads(exports[name + ".users.json"])
        users = [{"id": admin.id, "email": admin.email}] if name == second else []
        assert record == {
            "export": name,
            "source": f"Label Studio at {ls_env.url}, asked by `newscorpus annotate pull`",
            "users": users,
        }
        digest = hashlib.sha256(exports[name + ".users.json"]).hexdigest()
        assert exports[name + ".users.json.sha256"] == f"{digest}  {name}.users.json\n".encode()
