"""The quality suite: the guidelines' mechanical rules, their levels, and releases that predate them.

Expected findings are written from reading the seed article and its annotation (corpus/v0.1.2),
not computed by the code under test. Each rule test changes one thing in a copy of v0.1.2 whose
seven unlinked mentions are linked into their chains (as issue #16 asks) and whose manifest
records the quality suite, so that its gate counts as having run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from newscorpus.build.builder import build_release
from newscorpus.cli import main
from newscorpus.project import Project
from newscorpus.validation.pandas_engine import validate_release
from tests.helpers import REPO, SEED_ID, copy_release, edit_record, project_for

V012 = REPO / "corpus" / "v0.1.2"
DOC = f"doc_id={SEED_ID}"

# The seven NOM/PRO mentions of v0.1.2 in no chain, no argument and no quote (GUIDELINES 3.2 c), in
# text order, with the chain each belongs to by a reading of the article.
UNLINKED = [
    ("e67", 137, 139, "We", "e02"),  # "We offer our unconditional support": Peskov speaking for the Kremlin
    ("e68", 146, 149, "our", "e02"),
    ("e66", 654, 659, "their", "e33"),  # "to carry out their duties": the Albanian officials
    ("e65", 823, 826, "its", "e32"),  # "30 of its soldiers": the NATO-led forces
    ("e69", 1414, 1416, "we", "e05"),  # Vucevic: "we should call the situation ...": Serbia
    ("e70", 1863, 1872, "the north", "e11"),  # "unrest in the north of the country": northern Kosovo
    ("e63", 1876, 1887, "the country", "e10"),  # "... of the country bordering Serbia": Kosovo
]
# Quotes whose speaker's chain has no NAM mention (GUIDELINES 6.3): both speakers are never named.
UNNAMED_SPEAKERS = [
    "WARNING quality.speaker.named: 2 of 8 rows:"
    f" {DOC} record=q05 start=999 end=1061 text=ethnic Albanian mayors and Kosovo police leave northern Kosovo;"
    f" {DOC} record=q08 start=1603 end=1668 text=Serbia will not stand idly by if the Serbs in Kosovo are attacked",
]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newscorpus.cli", *args], cwd=REPO, capture_output=True, text=True)


def nominal_line(found: list[tuple]) -> str:
    samples = "; ".join(f"{DOC} record={r} start={s} end={e} text={t}" for r, s, e, t, *_ in found)
    return f"FAILED quality.nominal.in_use: {len(found)} of 26 rows: {samples}"


def heads(validation) -> dict[str, list[str]]:
    """Per level, the first line of each finding of the quality suite."""
    quality = [o for s in validation.suites if s.name == "quality" for o in s.outcomes if not o.success]
    return {
        "failures": [o.lines()[0] for o in quality if o in validation.failures],
        "warnings": [o.lines()[0] for o in quality if o in validation.warnings],
        "not enforced": [o.lines()[0] for o in quality if o in validation.unenforced],
    }


# -- v0.1.2, which predates the suite ------------------------------------------------------


def test_v0_1_2_breaks_the_rules_and_is_not_held_to_them():
    validation = validate_release(Project(REPO), V012)
    assert validation.success and validation.not_enforced == ("quality",)
    assert heads(validation) == {
        "failures": [],
        "warnings": [],
        "not enforced": [nominal_line(UNLINKED), *UNNAMED_SPEAKERS],
    }


def test_validate_of_a_predating_release_exits_0_and_shows_the_findings_as_not_enforced():
    result = cli("validate", "corpus/v0.1.2")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].endswith("; 2 not enforced (the release predates quality)")
    assert "  quality               104 rows   13 of  15 passed" in lines
    start = lines.index("quality: this release predates the quality suite: findings reported, not enforced")
    assert lines[start + 1 :] == [
        "  " + nominal_line(UNLINKED),
        "    (A NOM or PRO mention shares a chain with another mention, fills an event argument or is a quote's"
        " speaker. (GUIDELINES.md section 3.2 (c)))",
        "  " + UNNAMED_SPEAKERS[0],
        "    (A quote's speaker mention is in a chain with a NAM mention (the speaker is named in the document)."
        " (GUIDELINES.md section 6.3))",
    ]


# -- each rule, on a corrected copy whose gate ran the suite ------------------------------------


@pytest.fixture
def corrected(tmp_path) -> Path:
    release = copy_release(tmp_path, V012)
    for record, *_, chain in UNLINKED:
        edit_record(release, "entities", record, cluster_id=chain)
    manifest_path = release / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["validation"]["suites"]["quality"] = {"rows": 104, "expectations": 15, "passed": 14, "warnings": 1}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return release


def findings(release: Path) -> dict[str, list[str]]:
    return heads(validate_release(Project(REPO), release))


def test_the_corrected_copy_has_only_the_warnings(corrected):
    validation = validate_release(Project(REPO), corrected)
    assert validation.success and validation.not_enforced == ()
    assert heads(validation) == {"failures": [], "warnings": UNNAMED_SPEAKERS, "not enforced": []}
    result = cli("validate", str(corrected))
    assert (result.returncode, result.stderr) == (0, "")  # warnings do not change the exit code
    assert result.stdout.splitlines()[0].endswith("; 1 warning")
    assert UNNAMED_SPEAKERS[0] in result.stdout.splitlines()


def test_an_unlinked_nominal_fails(corrected):
    # "put the country’s army": unlinked from Serbia, a NOM in no chain, argument or quote.
    edit_record(corrected, "entities", "e37", cluster_id="e37")
    assert findings(corrected)["failures"] == [
        f"FAILED quality.nominal.in_use: 1 of 26 rows: {DOC} record=e37 start=1079 end=1090 text=the country"
    ]


def test_a_pronoun_speaker_in_a_chain_is_in_use(corrected):
    # "He added": linked to nothing, but the speaker of q07: in use (3.2 b); its chain has no name (a warning).
    edit_record(corrected, "entities", "e49", cluster_id="e49")
    found = findings(corrected)
    assert found["failures"] == []
    assert found["warnings"][0].startswith("WARNING quality.speaker.named: 3 of 8 rows: ")
    assert f"{DOC} record=q07 start=1406 end=1564 " in found["warnings"][0]


def test_a_chain_named_by_a_nominal_fails(corrected):
    # Serbia's chain (Serbia x4, "the country", "we") headed by "the country".
    for record in ("e05", "e36", "e37", "e54", "e64", "e69"):
        edit_record(corrected, "entities", record, cluster_id="e37")
    assert findings(corrected)["failures"] == [
        f"FAILED quality.chain.canonical_is_named: 1 of 22 rows: {DOC} record=e37 start=1079 end=1090 text=the country"
    ]


def test_a_mention_of_another_type_than_its_chain_fails(corrected):
    edit_record(corrected, "entities", "e37", type="LOC")
    assert findings(corrected)["failures"] == [
        f"FAILED quality.chain.same_type: 1 of 66 rows: {DOC} record=e37 start=1079 end=1090 text=the country"
    ]


def test_a_nested_mention_with_the_same_head_fails_and_its_argument_leaves_the_sentence(corrected):
    # "NATO" (ORG, Agent of "send") moved onto "peacekeepers" inside "NATO peacekeepers" (ORG, same last
    # token): not maximal (2); and "send" is in the sentence before (5.2, a warning).
    edit_record(corrected, "entities", "e28", start=972, end=984, text="peacekeepers")
    found = findings(corrected)
    assert found["failures"] == [
        f"FAILED quality.mention.maximal: 1 of 66 rows: {DOC} record=e28 start=972 end=984 text=peacekeepers"
    ]
    assert found["warnings"] == [
        f"WARNING quality.argument.same_sentence: 1 of 30 rows: {DOC} record=v09:Agent:e28 start=972 end=984"
        " text=peacekeepers",
        *UNNAMED_SPEAKERS,
    ]


def test_a_mention_inside_another_with_another_head_passes(corrected):
    # "RTS" (ORG) moved onto "Kosovo" inside "the Kosovo police" (ORG): heads "Kosovo" and "police" differ.
    edit_record(corrected, "entities", "e46", start=708, end=714, text="Kosovo")
    assert findings(corrected)["failures"] == []


def test_a_date_that_is_no_time_and_a_time_that_is_no_date_fail(corrected):
    # "gathered" loses its Time "Wednesday" (3.3) and gets "ethnic Serbs" as Time (5.2).
    edit_record(
        corrected,
        "events",
        "v01",
        arguments=lambda args: [a for a in args if a["role"] != "Time"] + [{"role": "Time", "entity_id": "e13"}],
    )
    assert findings(corrected)["failures"] == [
        f"FAILED quality.date.is_time: 1 of 4 rows: {DOC} record=e12 start=386 end=395 text=Wednesday",
        f"FAILED quality.argument.time_is_date: 1 of 4 rows: {DOC} record=v01:Time:e13 start=412 end=424"
        " text=ethnic Serbs",
    ]


# -- the build's gate --------------------------------------------------------------------


def test_a_new_build_with_a_fail_level_finding_writes_nothing(tmp_path, capsys):
    # newest_export_wins: "Belgrade summoned [the envoy]." marks a NOM in no chain, argument or quote.
    project = project_for(REPO / "tests" / "golden" / "newest_export_wins", tmp_path / "repo")
    assert main(["--root", str(project.root), "build", "--version", "1.0.0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: v1.0.0 fails validation; nothing was written:\n")
    assert "  FAILED quality.nominal.in_use: 1 of 1 rows: doc_id=c1 record=N start=22 end=27 text=envoy\n" in err
    assert not (project.corpus_dir / "v1.0.0").exists()
    # The library's default gate (tests, benchmarks on synthetic data) leaves the guidelines' rules out.
    release = build_release(project, "1.0.0")
    manifest = json.loads((release.path / "manifest.json").read_text(encoding="utf-8"))
    assert "quality" not in manifest["validation"]["suites"]


def test_a_new_build_records_the_quality_suite(tmp_path, capsys):
    # clusters_and_ordering follows the rules: the gate of `newscorpus build` runs and records the suite.
    project = project_for(REPO / "tests" / "golden" / "clusters_and_ordering", tmp_path / "repo")
    assert main(["--root", str(project.root), "build", "--version", "1.0.0"]) == 0
    manifest = json.loads((project.corpus_dir / "v1.0.0" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["validation"]["suites"]["quality"]["passed"] == manifest["validation"]["suites"]["quality"][
        "expectations"
    ] - manifest["validation"]["suites"]["quality"].get("warnings", 0)
    assert validate_release(project, project.corpus_dir / "v1.0.0").not_enforced == ()


# -- a format-2 release: its own sentences and tokens --------------------------------------------


def test_a_format_2_release_is_judged_by_the_sentences_and_tokens_it_ships():
    import pyarrow as pa

    from newscorpus.release.formats import configs
    from newscorpus.release.shards import read_config
    from newscorpus.validation.views import ViewBuilder

    schema = Project(REPO).schema
    tables = {c: read_config(REPO / "corpus" / "v0.2.0", c) for c in configs(2)}
    shipped = ViewBuilder(schema, tables).build("quality")
    segmented = ViewBuilder(schema, {c: t for c, t in tables.items() if c != "tokens"}).build("quality")
    assert shipped.equals(segmented)  # the tokens config holds syntok's sentences of the text
    in_sentence = shipped.column("argument_in_trigger_sentence").to_pylist()
    assert in_sentence.count(True) == 36  # every argument of the seed's 16 events is in its trigger's sentence
    # A tokens config that makes every token a sentence of its own: no argument is in its trigger's sentence
    # (no argument's mention starts in its trigger's token), so the rules read the config, not the text.
    offsets = [o for row in tables["tokens"].column("token_offsets").to_pylist() for o in row]
    one_per_token = pa.table(
        {
            "doc_id": [SEED_ID] * len(offsets),
            "sentence_index": pa.array(range(len(offsets)), pa.int32()),
            "sentence_start": pa.array([o["start"] for o in offsets], pa.int32()),
            "sentence_end": pa.array([o["end"] for o in offsets], pa.int32()),
            "token_offsets": [[o] for o in offsets],
        }
    )
    split = ViewBuilder(schema, {**tables, "tokens": one_per_token}).build("quality")
    assert split.column("argument_in_trigger_sentence").to_pylist().count(False) == 36
    assert split.column("maximal").equals(shipped.column("maximal"))  # the same tokens: the same heads
