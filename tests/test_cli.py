import subprocess
import sys
from importlib.metadata import version

from newscorpus.cli import _parser, main
from tests.helpers import REPO, SEED_ID, copy_project


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_build_reports_what_it_used_and_wrote(tmp_path, capsys):
    copy_project(tmp_path / "repo")
    code, out, err = run(capsys, "--root", str(tmp_path / "repo"), "build", "--version", "0.9.0")
    assert (code, err) == (0, "")
    assert out == (
        "read 3 export(s), 3 task(s): 1 document(s) annotated\n"
        "not used: 0 other submitted annotation(s), 0 cancelled, 0 draft(s), 0 prediction(s),"
        " 2 task(s) superseded by a newer export\n"
        f"v0.9.0: 242 of 243 expectations passed in 10 suites (great_expectations {version('great_expectations')});"
        " 1 warning\n"
        # Both speakers are never named in the article (GUIDELINES 6.3): a warning, the build goes on.
        f"WARNING quality.speaker.named: 2 of 8 rows: doc_id={SEED_ID} record=q05 start=999 end=1061"
        f" text=ethnic Albanian mayors and Kosovo police leave northern Kosovo; doc_id={SEED_ID} record=q08"
        " start=1603 end=1668 text=Serbia will not stand idly by if the Serbs in Kosovo are attacked\n"
        "  (A quote's speaker mention is in a chain with a NAM mention (the speaker is named in the document)."
        " (GUIDELINES.md section 6.3))\n"
        "wrote corpus/v0.9.0 (documents 1, entities 66, events 16, quotes 8, tokens 13, chains 33,"
        " event_arguments 36 rows)\n"
    )


def test_build_refuses_an_existing_version(tmp_path, capsys):
    copy_project(tmp_path / "repo", with_corpus=True)
    code, out, err = run(capsys, "--root", str(tmp_path / "repo"), "build", "--version", "0.1.0")
    assert (code, out) == (1, "")
    assert err == (
        "error: corpus/v0.1.0 exists; releases are never overwritten: build a new version (see README: Versioning)\n"
    )


def test_schema_check_and_stale_files(tmp_path, capsys):
    root = tmp_path / "repo"
    copy_project(root)
    code, out, _ = run(capsys, "--root", str(root), "schema")
    assert (code, out) == (
        0,
        "up to date with schemas/annotation.yaml 1.0.0: annotation/label_config.xml, schemas/arrow_schema.txt,"
        " validation/ (23 files)\n",
    )
    yaml_path = root / "schemas" / "annotation.yaml"
    yaml_path.write_text(yaml_path.read_text("utf-8").replace("  LOC: ", "  EVENT: A named event.\n  LOC: "), "utf-8")
    code, out, err = run(capsys, "--root", str(root), "schema")
    assert (code, out) == (1, "")
    assert err == (
        # A new entity type: a new label, new IOB2 tag names (the snapshot lists them), new values of the
        # entity type in the entities and chains suites.
        "error: out of date with schemas/annotation.yaml: annotation/label_config.xml, schemas/arrow_schema.txt,"
        " validation/suites/entities.json, validation/suites/chains.json; run `newscorpus schema --write`\n"
    )
    assert run(capsys, "--root", str(root), "schema", "--write")[0] == 0
    assert 'value="EVENT"' in (root / "annotation" / "label_config.xml").read_text("utf-8")
    assert '"EVENT"' in (root / "validation" / "suites" / "entities.json").read_text("utf-8")
    assert run(capsys, "--root", str(root), "schema")[0] == 0


def test_verify_and_reproduce_a_release(tmp_path, capsys):
    assert run(capsys, "verify", str(REPO / "corpus" / "v0.1.0")) == (
        0,
        "v0.1.0: every file matches manifest.json\n",
        "",
    )
    root = tmp_path / "repo"
    copy_project(root)
    assert run(capsys, "--root", str(root), "build", "--version", "0.3.0")[0] == 0
    release = str(root / "corpus" / "v0.3.0")
    assert run(capsys, "verify", release) == (0, "v0.3.0: every file matches manifest.json\n", "")
    assert run(capsys, "--root", str(root), "reproduce", release) == (
        0,
        "v0.3.0: all 19 files rebuilt byte for byte\n",
        "",
    )


def test_verify_of_a_folder_that_is_no_release(tmp_path, capsys):
    code, out, err = run(capsys, "verify", str(tmp_path))
    assert (code, out) == (1, "")
    assert err == f"error: {tmp_path.name}: no manifest.json; is this a release folder (corpus/vX.Y.Z)?\n"


def test_show_loads_with_datasets(capsys):
    code, out, _ = run(capsys, "show", str(REPO / "corpus" / "v0.1.0"))
    assert code == 0
    assert out.splitlines()[0].startswith("documents: 1 rows, columns doc_id, published,")
    assert "    direct   Milos Vucevic [added]: “First, we should call the situation by its pro..." in out


def test_help_is_cheap_and_every_command_is_documented():
    probe = (
        "import sys, contextlib, io\n"
        "from newscorpus.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "print(sorted(m for m in ('datasets', 'great_expectations', 'label_studio_sdk') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = _parser()._subparsers._group_actions[0].choices
    missing = [name for name in commands if f"newscorpus {name}" not in readme]
    assert missing == [], f"README.md does not document: {missing}"
