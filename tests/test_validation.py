"""The suites as data, `newscorpus validate`, the build's gate, and what Great Expectations may not do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

import newscorpus.build.builder as build_module
from newscorpus.build.builder import build_release
from newscorpus.errors import ReleaseError, SchemaError, ValidationError
from newscorpus.project import Project
from newscorpus.release.manifest import read_manifest, release_format
from newscorpus.schema import CONFIGS, load_schema
from newscorpus.validation.derived_checks import DERIVED_SUITES
from newscorpus.validation.pandas_engine import run_chunks, validate_release, validate_tables
from newscorpus.validation.suites import ALL_SUITES, VALIDATION_DIR, validation_files
from newscorpus.validation.views import ViewBuilder
from tests.helpers import REPO, SEED_ID, copy_project, data_file, tree_bytes

GX = version("great_expectations")
RAW = yaml.safe_load((REPO / "schemas" / "annotation.yaml").read_text(encoding="utf-8"))
COMMITTED = REPO / "corpus" / "v0.1.0"
RELEASES = sorted(p for p in (REPO / "corpus").glob("v*") if p.is_dir())
PREDATES = "; 2 not enforced (the release predates quality)"  # the committed releases' quality findings


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """The command line in a fresh process: what CI and users see, stdout and stderr apart."""
    return subprocess.run([sys.executable, "-m", "newscorpus.cli", *args], cwd=cwd, capture_output=True, text=True)


def suite(name: str) -> dict:
    return json.loads((REPO / VALIDATION_DIR / "suites" / f"{name}.json").read_text(encoding="utf-8"))


def expectation(suite_name: str, check: str) -> dict:
    return next(e for e in suite(suite_name)["expectations"] if e["meta"]["check"] == check)


# -- the suites as data -------------------------------------------------------------------


def test_committed_validation_files_are_up_to_date():
    schema = load_schema(REPO / "schemas" / "annotation.yaml")
    committed = sorted(p.relative_to(REPO).as_posix() for p in (REPO / VALIDATION_DIR).rglob("*") if p.is_file())
    generated = validation_files(schema)
    assert committed == sorted(generated), "run `newscorpus schema --write` and commit validation/"
    for path, text in generated.items():
        assert (REPO / path).read_text(encoding="utf-8") == text, f"{path}: run `newscorpus schema --write`"


def test_suites_are_great_expectations_json():
    import great_expectations as gx

    for name in ALL_SUITES:
        data = suite(name)
        loaded = gx.ExpectationSuite(**data)
        assert len(loaded.expectations) == len(data["expectations"])
        assert loaded.to_json_dict() == {**data, "meta": {**data["meta"], "great_expectations_version": GX}}


def test_checks_have_unique_readable_ids():
    ids = [e["meta"]["check"] for name in ALL_SUITES for e in suite(name)["expectations"]]
    assert len(ids) == len(set(ids)) == 167 + 28 + 17 + 25 + 14  # format 2's tokens, chains, argument_rows, derived
    for name in ALL_SUITES:
        for e in suite(name)["expectations"]:
            assert e["meta"]["check"].startswith(f"{name}.") and e["notes"], e


def test_value_sets_are_the_schema_s():
    # Read the YAML independently of the code that generated the suites.
    assert expectation("entities", "entities.type.in_schema")["kwargs"]["value_set"] == list(RAW["entity_types"])
    assert expectation("entities", "entities.mention_type.in_schema")["kwargs"]["value_set"] == ["NAM", "NOM", "PRO"]
    assert expectation("events", "events.type.in_schema")["kwargs"]["value_set"] == list(RAW["event_types"])
    assert expectation("events", "events.realis.in_schema")["kwargs"]["value_set"] == list(RAW["realis"])
    assert expectation("quotes", "quotes.kind.in_schema")["kwargs"]["value_set"] == ["direct", "indirect", "mixed"]
    roles = {role for spec in RAW["event_types"].values() for role in spec["roles"]}
    assert set(expectation("event_arguments", "event_arguments.role.in_schema")["kwargs"]["value_set"]) == roles
    pairs = expectation("event_arguments", "event_arguments.role.allowed_for_event_type")["kwargs"]["value_set"]
    assert sorted(pairs) == sorted(f"{t}:{r}" for t, spec in RAW["event_types"].items() for r in spec["roles"])


def test_schema_check_covers_the_suites_and_write_removes_stale_ones(tmp_path):
    root = tmp_path / "repo"
    copy_project(root)
    path = root / "schemas" / "annotation.yaml"
    path.write_text(path.read_text("utf-8").replace("  mixed: ", "  hearsay: Second-hand speech.\n  mixed: "), "utf-8")
    obsolete = root / VALIDATION_DIR / "suites" / "relations.json"
    obsolete.write_text("{}", encoding="utf-8")
    result = cli("--root", str(root), "schema")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "error: out of date with schemas/annotation.yaml: annotation/label_config.xml, validation/suites/quotes.json,"
        " validation/suites/relations.json (no longer derived); run `newscorpus schema --write`\n"
    )
    result = cli("--root", str(root), "schema", "--write")
    assert result.stdout == (
        "wrote annotation/label_config.xml\n"
        "wrote validation/suites/quotes.json\n"
        "removed validation/suites/relations.json (no longer derived)\n"
    )
    assert not obsolete.exists()
    kinds = json.loads((root / VALIDATION_DIR / "suites" / "quotes.json").read_text("utf-8"))["expectations"]
    assert ["direct", "indirect", "hearsay", "mixed"] in [e["kwargs"].get("value_set") for e in kinds]


def test_suites_out_of_date_stop_validation_and_build(tmp_path):
    root = tmp_path / "repo"
    project = copy_project(root, with_corpus=True)
    path = root / "schemas" / "annotation.yaml"
    path.write_text(path.read_text("utf-8").replace("  LOC: ", "  EVENT: A named event.\n  LOC: "), "utf-8")
    result = cli("--root", str(root), "validate", "corpus/v0.1.0", cwd=root)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "error: out of date with schemas/annotation.yaml: validation/suites/entities.json,"
        " validation/suites/chains.json; run `newscorpus schema --write`\n"
    )
    before = tree_bytes(project.corpus_dir)
    with pytest.raises(SchemaError, match=r"validation/suites/chains.json; run `newscorpus schema --write`$"):
        build_release(project, "0.3.0")
    assert tree_bytes(project.corpus_dir) == before


# -- newscorpus validate --------------------------------------------------------------------


@pytest.mark.parametrize("release", RELEASES, ids=lambda p: p.name)
def test_every_committed_release_passes(release):
    result = cli("validate", f"corpus/{release.name}")
    assert (result.returncode, result.stderr) == (0, "")
    # Format 1: five table suites, quality and manifest; format 2 adds tokens, chains, argument_rows, derived.
    suites = 7 if release_format(read_manifest(release)) == 1 else 11
    assert result.stdout.startswith(f"{release.name}: ")
    assert f" expectations passed in {suites} suites " in result.stdout


def test_validate_prints_a_short_report_and_nothing_else():
    result = cli("validate", "corpus/v0.1.0")
    assert (result.returncode, result.stderr) == (0, "")  # no progress bar, no warning
    lines = result.stdout.splitlines()
    assert (
        lines[:8]
        == textwrap.dedent(f"""\
        v0.1.0: 165 of 167 expectations passed in 7 suites (great_expectations {GX}){PREDATES}
          documents               1 rows   46 of  46 passed
          entities               66 rows   27 of  27 passed
          events                 15 rows   25 of  25 passed
          event_arguments        30 rows   15 of  15 passed
          quotes                  8 rows   31 of  31 passed
          quality               104 rows   13 of  15 passed
          manifest                5 rows    8 of   8 passed
        """).splitlines()
    )
    # Then the quality findings v0.1.0 predates (tests/test_quality.py checks them on v0.1.2): two, two lines each.
    assert lines[8] == "quality: this release predates the quality suite: findings reported, not enforced"
    assert [line.split(":")[0] for line in lines[9::2]] == [
        "  FAILED quality.nominal.in_use",
        "  WARNING quality.speaker.named",
    ]


def test_a_failing_release_exits_1_with_each_failure(tmp_path):
    release = tmp_path / "v0.1.0"
    shutil.copytree(COMMITTED, release)
    (release / "notes.txt").write_text("stray", encoding="utf-8")
    (release / "README.md").write_text("edited", encoding="utf-8")
    result = cli("--root", str(REPO), "validate", str(release))
    assert result.returncode == 1
    failures, _, not_enforced = result.stdout.partition("quality: this release predates the quality suite")
    assert not_enforced.startswith(": findings reported, not enforced\n  FAILED quality.nominal.in_use: 7 of 26 rows")
    assert failures == textwrap.dedent(f"""\
        v0.1.0: 3 of 167 expectations failed in 7 suites (great_expectations {GX}){PREDATES}
          documents               1 rows   46 of  46 passed
          entities               66 rows   27 of  27 passed
          events                 15 rows   25 of  25 passed
          event_arguments        30 rows   15 of  15 passed
          quotes                  8 rows   31 of  31 passed
          quality               104 rows   13 of  15 passed
          manifest                6 rows    5 of   8 passed
        FAILED manifest.files.listed: 1 of 6 rows: path=notes.txt
          (Every file of the release is listed in manifest.json.)
        FAILED manifest.files.sha256_matches: 1 of 6 rows: path=README.md
          (The file's SHA-256 is the one in manifest.json.)
        FAILED manifest.files.bytes_match: 1 of 6 rows: path=README.md
          (The file's size is the one in manifest.json.)
        """)
    assert result.stderr == "error: v0.1.0 fails validation (3 of 167)\n"


def test_validations_one_after_another_do_not_leak_into_each_other(tmp_path):
    # The pandas engine keeps one Great Expectations context for the process: no result, batch
    # or metric of one run may reach the next.
    broken = tmp_path / "v0.1.0"
    shutil.copytree(COMMITTED, broken)
    (broken / "README.md").write_text("edited", encoding="utf-8")
    project = Project(REPO)
    first = validate_release(project, broken)
    good = validate_release(project, COMMITTED)
    again = validate_release(project, broken)
    assert [o.check for o in first.failures] == ["manifest.files.sha256_matches", "manifest.files.bytes_match"]
    assert good.success and not good.failures
    assert again.report() == first.report()


def test_a_release_of_another_schema_major_version_is_refused(tmp_path):
    release = tmp_path / "v0.1.0"
    shutil.copytree(COMMITTED, release)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    (release / "manifest.json").write_text(json.dumps({**manifest, "schema_version": "2.0.0"}), encoding="utf-8")
    result = cli("--root", str(REPO), "validate", str(release))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "error: v0.1.0 was built with schema 2.0.0, these suites are for schema 1.0.0:"
        " validate it from a checkout of schema 2.x at or after 2.0.0\n"
    )


def test_an_unreadable_table_is_an_error(tmp_path):
    release = tmp_path / "v0.1.0"
    shutil.copytree(COMMITTED, release)
    (release / data_file("events")).write_bytes(b"not parquet")
    with pytest.raises(ReleaseError, match=r"^v0.1.0/events/train-00000-of-00001.parquet: cannot be read \("):
        from newscorpus.validation.pandas_engine import validate_release

        validate_release(Project(REPO), release)


def test_data_docs_are_written_for_the_run(tmp_path):
    docs = tmp_path / "docs"
    result = cli("validate", "corpus/v0.1.0", "--data-docs", str(docs))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith(f"data docs: {docs / 'index.html'}\n")
    index = (docs / "index.html").read_text(encoding="utf-8")
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.glob("validations/*/v0.1.0/*/*.html"))
    assert [p.split("/")[1] for p in pages] == sorted(set(ALL_SUITES) - set(DERIVED_SUITES))  # v0.1.0: format 1
    assert all(page in index for page in pages)
    assert "span_matches_text" in (docs / "expectations" / "entities.html").read_text(encoding="utf-8")


def test_great_expectations_sends_nothing(tmp_path):
    """An audit hook records every connection, name lookup and send while validating and writing Data Docs."""
    probe = textwrap.dedent(f"""\
        import os, sys
        seen = []
        watched = {{"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname",
                   "socket.gethostbyname_ex", "socket.gethostbyaddr", "http.client.connect", "urllib.Request"}}
        sys.addaudithook(lambda event, args: seen.append((event, args)) if event in watched else None)
        from newscorpus.cli import main
        code = main(["--root", {str(REPO)!r}, "validate", {str(COMMITTED)!r}, "--data-docs", {str(tmp_path)!r}])
        print(code, seen, os.environ["GX_ANALYTICS_ENABLED"])
        """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "0 [] false"
    assert list(Path(os.environ["HOME"]).rglob("*")) == []  # no config, id or cache file left in the home folder


def test_the_context_has_analytics_and_progress_bars_off():
    from newscorpus.validation.expectations import import_great_expectations, make_context

    context = make_context(import_great_expectations(), None)
    assert context.config.analytics_enabled is False
    assert (context.progress_bars.globally, context.progress_bars.metric_calculations) == (False, False)


# -- the gate in the build --------------------------------------------------------------------


def test_build_records_the_validation_summary(project):
    release = build_release(project, "0.2.0")
    manifest = json.loads((release.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["validation"] == {
        "great_expectations": GX,
        "suites": {
            "documents": {"rows": 1, "expectations": 46, "passed": 46},
            "entities": {"rows": 66, "expectations": 27, "passed": 27},
            "events": {"rows": 16, "expectations": 25, "passed": 25},
            "event_arguments": {"rows": 36, "expectations": 15, "passed": 15},
            "quotes": {"rows": 8, "expectations": 31, "passed": 31},
            # format 2's derived configs (13 sentences, 41 chains, 30 argument rows, 1 document)
            "tokens": {"rows": 13, "expectations": 28, "passed": 28, "warnings": 0},
            "chains": {"rows": 33, "expectations": 17, "passed": 17},
            "argument_rows": {"rows": 36, "expectations": 25, "passed": 25},
            "derived": {"rows": 1, "expectations": 14, "passed": 14},
        },
    }
    result = cli("--root", str(project.root), "validate", "corpus/v0.2.0", cwd=project.root)
    assert (result.returncode, result.stderr) == (0, "")


def shifted_tables(original):
    """make_tables, then one mention's offsets moved by one in both configs (its text kept)."""

    def make_tables(*args):
        tables = original(*args)
        entities = tables["entities"].to_pylist()
        documents = tables["documents"].to_pylist()
        index = next(i for i, row in enumerate(entities) if row["id"] == "e05")
        entities[index] = {**entities[index], "start": entities[index]["start"] + 1, "end": entities[index]["end"] + 1}
        documents[0]["entities"][index] = {k: v for k, v in entities[index].items() if k != "doc_id"}
        return {
            **tables,
            "entities": tables["entities"].from_pylist(entities, schema=tables["entities"].schema),
            "documents": tables["documents"].from_pylist(documents, schema=tables["documents"].schema),
        }

    return make_tables


def test_a_failing_release_is_never_written(project, monkeypatch):
    monkeypatch.setattr(build_module, "make_tables", shifted_tables(build_module.make_tables))
    with pytest.raises(ValidationError) as caught:  # format 1: the derived configs would see the shift too
        build_release(project, "0.2.0", release_format=1)
    lines = str(caught.value).splitlines()
    assert lines[0] == "v0.2.0 fails validation; nothing was written:"
    assert lines[1] == f"  v0.2.0: 1 of 144 expectations failed in 5 suites (great_expectations {GX})"
    assert lines[-2:] == [
        f"  FAILED entities.span.matches_text: 1 of 66 rows: doc_id={SEED_ID} id=e05",
        "    (The mention's text is text[start:end] of its document (code points).)",
    ]
    assert not project.corpus_dir.exists()


def test_the_gate_through_the_command_line(project, monkeypatch, capsys):
    from newscorpus.cli import main

    monkeypatch.setattr(build_module, "make_tables", shifted_tables(build_module.make_tables))
    code = main(["--root", str(project.root), "build", "--version", "0.2.0"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("error: v0.2.0 fails validation; nothing was written:\n")
    assert f"  FAILED entities.span.matches_text: 1 of 66 rows: doc_id={SEED_ID} id=e05\n" in captured.err
    assert not (project.corpus_dir / "v0.2.0").exists()


# -- one table at a time ----------------------------------------------------------------------


def test_a_suite_runs_on_its_own_view():
    tables = {c: pq.read_table(COMMITTED / data_file(c)) for c in CONFIGS}
    project = Project(REPO)
    builder = ViewBuilder(project.schema, tables)
    validation = run_chunks(project, "entities only", iter([{"entities": lambda: builder.build("entities")}]))
    assert [(s.name, s.rows, s.passed, len(s.outcomes)) for s in validation.suites] == [("entities", 66, 27, 27)]
    assert validate_tables(project, tables, "v0.1.0").summary()["suites"]["quotes"] == {
        "rows": 8,
        "expectations": 31,
        "passed": 31,
    }
