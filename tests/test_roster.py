"""The roster (annotation/annotators.yaml), the per-export user records, and annotators resolved to codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from newscorpus.cli import main
from newscorpus.errors import InputError
from newscorpus.ingest import read_seeds, seed_paths
from newscorpus.labelstudio.export_names import check_export_path, export_paths
from newscorpus.labelstudio.exports import read_annotations
from newscorpus.labelstudio.roster import (
    Attribution,
    Roster,
    annotator_code,
    codes_for_export,
    read_roster,
    roster_path,
    write_roster,
)
from newscorpus.labelstudio.user_records import read_record, record_path, write_record
from newscorpus.project import Project
from tests.helpers import REPO, SEED_ID, copy_project, copy_static

BASE = REPO / "tests" / "bad_inputs" / "_base"
BASE_EXPORT = "20261120T100000Z-project-1.json"
SEED_AUTHOR = "maintainers@users.noreply.r-seed-0c81b7da.example"


def base_project(root: Path) -> Project:
    """A valid one-document project (the bad-input suite's base): its annotation 70 is by Label Studio user 1."""
    project = copy_static(root)
    shutil.copytree(BASE / "seeds", root / "seeds")
    shutil.copytree(BASE / "exports", root / "annotation" / "exports")
    return project


def remove_record(export: Path) -> None:
    record = record_path(export)
    record.unlink()
    record.with_name(record.name + ".sha256").unlink()


def annotations(project: Project, roster: Roster | None):
    seeds = read_seeds(seed_paths(project.seeds_dir), relative=project.relative, language="en")
    attribution = Attribution(roster) if roster is not None else None
    return read_annotations(export_paths(project.exports_dir), seeds, project.schema, project.relative, attribution)[0]


def test_codes_are_given_in_order_and_an_email_keeps_its_code(tmp_path):
    roster, code, new = Roster().added("Ana@Example.org")
    assert (code, new) == ("A01", True)
    roster, code, new = roster.added("ben@example.org")
    assert (code, new, roster.next_code()) == ("A02", True, "A03")
    again, code, new = roster.added("ANA@example.org")  # emails compare in lower case, as Label Studio keeps them
    assert (again, code, new) == (roster, "A01", False)
    project = Project(tmp_path)
    write_roster(project, roster)
    assert read_roster(project) == roster
    assert (
        roster_path(project)
        .read_text(encoding="utf-8")
        .endswith("annotators:\n  - code: A01\n    email: ana@example.org\n  - code: A02\n    email: ben@example.org\n")
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "annotators:\n  - code: A01\n    email: a@x.org\n  - code: A03\n    email: b@x.org\n",
            "[annotation/annotators.yaml] field=annotators[1].code: expected A02, got 'A03': codes run A01, A02, ..."
            " in order, without a gap; fix: restore annotation/annotators.yaml as committed; entries are never"
            " removed or renumbered",
        ),
        (
            "annotators:\n  - code: A01\n    email: a@x.org\n  - code: A02\n    email: A@x.org\n",
            "[annotation/annotators.yaml] field=annotators[1].email: A@x.org is listed twice;"
            " fix: correct annotation/annotators.yaml (docs/annotating.md)",
        ),
        (
            "annotators:\n  - code: A01\n    email: nobody\n",
            "[annotation/annotators.yaml] field=annotators[0].email: 'nobody' is not an email;"
            " fix: correct annotation/annotators.yaml (docs/annotating.md)",
        ),
        (
            "- a@x.org\n",
            "[annotation/annotators.yaml] field=annotators: expected 'annotators:' with a list of {code, email};"
            " fix: correct annotation/annotators.yaml (docs/annotating.md)",
        ),
    ],
    ids=["gap", "twice", "not-an-email", "no-list"],
)
def test_a_broken_roster_is_named(tmp_path, body, message):
    (tmp_path / "annotation").mkdir()
    (tmp_path / "annotation" / "annotators.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_roster(Project(tmp_path))
    assert [str(p) for p in caught.value.problems] == [message]


def test_the_committed_exports_resolve_to_the_seed_annotator():
    project = Project(REPO)
    assert read_roster(project).entries[0] == ("A01", SEED_AUTHOR)
    exports = [p for p in export_paths(project.exports_dir) if p.name.startswith("20261129T")]
    assert [p.name for p in exports] == ["20261129T114530Z-project-2.json", "20261129T114955Z-project-2.json"]
    for export in exports:
        assert read_record(export, export.name) == {1: SEED_AUTHOR}
        assert codes_for_export(project, export) == {1: "A01"}
        assert annotator_code(project)(export, 1) == "A01"


def test_the_build_record_carries_the_codes_and_nothing_without_a_roster(tmp_path):
    project = copy_project(tmp_path / "repo")
    assert annotations(project, read_roster(project))[SEED_ID].annotators == ("A01",)
    roster_path(project).unlink()
    for export in export_paths(project.exports_dir):
        remove_record(export)
    assert read_roster(project) is None
    chosen = annotations(project, None)[SEED_ID]
    assert (chosen.annotators, chosen.annotator_ids) == ((), (1,))


@pytest.fixture
def base(tmp_path) -> Project:
    project = base_project(tmp_path / "repo")
    write_roster(project, Roster((("A01", "ana@example.org"),)))
    write_record(project.exports_dir / BASE_EXPORT, {1: "ana@example.org", 2: "ben@example.org"}, "test")
    return project


WHERE = f"[annotation/exports/{BASE_EXPORT} > task 7 > annotation 70] doc_id=doc1 field=completed_by: "


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: write_record(p.exports_dir / BASE_EXPORT, {1: "ben@example.org"}, "test"),
            "annotated by ben@example.org (Label Studio user 1), who is not on the roster annotation/annotators.yaml;"
            " fix: add ben@example.org to annotation/annotators.yaml with `newscorpus annotate users add"
            " ben@example.org --password-env VAR` (or `--roster-only` when the account exists already), then build"
            " again",
        ),
        (
            lambda p: write_record(p.exports_dir / BASE_EXPORT, {2: "ben@example.org"}, "test"),
            f"Label Studio user 1 is not in the export's user record {BASE_EXPORT}.users.json (users 2);"
            " fix: pull again from the server the export came from, so that the record lists every annotator",
        ),
        (
            lambda p: remove_record(p.exports_dir / BASE_EXPORT),
            f"the export has no user record {BASE_EXPORT}.users.json saying who Label Studio user ids are;"
            " fix: pull again (`newscorpus annotate pull` writes the record beside each export), or write the record"
            " by hand from what you know of the server it came from (docs/annotating.md: user records)",
        ),
    ],
    ids=["not-on-the-roster", "not-in-the-record", "no-record"],
)
def test_an_annotator_who_cannot_be_resolved_stops_the_build(base, change, message, capsys):
    change(base)
    assert main(["--root", str(base.root), "build", "--version", "0.2.0"]) == 1
    assert capsys.readouterr().err == f"error: 1 problem in the input; nothing was written:\n  {WHERE}{message}\n"
    assert not (base.root / "corpus").exists()


def test_a_changed_user_record_is_named(base):
    record = record_path(base.exports_dir / BASE_EXPORT)
    record.write_text(record.read_text(encoding="utf-8").replace("ben@", "eve@"), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_record(base.exports_dir / BASE_EXPORT, BASE_EXPORT)
    assert str(caught.value.problems[0]) == (
        f"[{BASE_EXPORT}.users.json] field=sha256: the record no longer matches {BASE_EXPORT}.users.json.sha256;"
        " fix: user records are kept as written: restore it, or pull again"
    )


def test_records_are_listed_with_their_export_and_named_without_it(base):
    exports = base.exports_dir
    assert [p.name for p in export_paths(exports)] == [BASE_EXPORT]
    orphan = exports / "20261121T100000Z-project-1.json.users.json"
    shutil.copy2(record_path(exports / BASE_EXPORT), orphan)
    assert [p.name for p in export_paths(exports)] == [BASE_EXPORT, orphan.name]
    assert check_export_path(orphan, orphan.name).message == (
        "a user record whose export 20261121T100000Z-project-1.json is not in the folder"
    )


def test_with_a_roster_the_build_records_it_and_the_user_records_as_inputs(base, capsys):
    assert main(["--root", str(base.root), "build", "--version", "0.2.0"]) == 0
    capsys.readouterr()
    manifest = json.loads((base.corpus_dir / "v0.2.0" / "manifest.json").read_text(encoding="utf-8"))
    inputs = [entry["path"] for entry in manifest["inputs"]]
    assert "annotation/annotators.yaml" in inputs and f"annotation/exports/{BASE_EXPORT}.users.json" in inputs
    assert main(["--root", str(base.root), "reproduce", str(base.corpus_dir / "v0.2.0")]) == 0
    assert capsys.readouterr().out.endswith("rebuilt byte for byte\n")
    # Without a roster (the projects of the committed releases): no check, neither file is an input.
    roster_path(base).unlink()
    remove_record(base.exports_dir / BASE_EXPORT)
    assert main(["--root", str(base.root), "build", "--version", "0.2.1"]) == 0
    manifest = json.loads((base.corpus_dir / "v0.2.1" / "manifest.json").read_text(encoding="utf-8"))
    assert [e["path"] for e in manifest["inputs"] if "annotators" in e["path"] or "users" in e["path"]] == []
