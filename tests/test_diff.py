"""Annotation-level diffs: two real releases built from inputs changed on purpose, and small hand-made cases."""

from __future__ import annotations

import json

from newscorpus.cli import main
from newscorpus.release.changelog import render_text
from newscorpus.release.diff import diff_documents

# Hand-checked against the edits listed in tests/release_changes.py: nothing more, nothing less.
EXPECTED_DIFF = """\
v0.1.0 -> v0.2.0
documents: 1 added, 0 removed, 1 with annotation changes, 0 with text changed
                added  removed  changed
entities            4        0        2
events              1        0        0
quotes              2        0        0
speaker links       2        0        0

~ document 000_ef3ea5b0d932693c
  ~ entity e20: boundary "the municipal buildings" [617:640] -> "municipal buildings" [621:640]
  ~ entity e40: label LOC -> FAC "the border" [1136:1146]
  + quote q09: indirect "to send an additional 700 troops to northern Kosovo" [859:910], cue "decided" [851:858]
  + speaker link q09 -> e28 "NATO"
+ document 001_second added (4 entities, 1 event, 1 quote, 1 speaker link)
"""


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_diff_reports_exactly_the_changes_made(two_releases, capsys):
    first, second = two_releases
    assert run(capsys, "diff", str(first), str(second)) == (0, EXPECTED_DIFF, "")
    # by version, from the project's corpus/
    root = first.parent.parent
    assert run(capsys, "--root", str(root), "diff", "v0.1.0", "0.2.0") == (0, EXPECTED_DIFF, "")


def test_diff_as_json(two_releases, capsys):
    code, out, err = run(capsys, "diff", *map(str, two_releases), "--json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert (result["old_version"], result["new_version"]) == ("0.1.0", "0.2.0")
    assert result["documents"] == {
        "added": [{"doc_id": "001_second", "entities": 4, "events": 1, "quotes": 1, "speaker_links": 1}],
        "removed": [],
        "text_changed": [],
        "fields_changed": {},
        "annotations_changed": ["000_ef3ea5b0d932693c"],
    }
    assert result["counts"] == {
        "entities": {"added": 4, "removed": 0, "changed": 2},
        "events": {"added": 1, "removed": 0, "changed": 0},
        "quotes": {"added": 2, "removed": 0, "changed": 0},
        "speaker_links": {"added": 2, "removed": 0, "changed": 0},
    }
    summary = [(c["layer"], c["action"], c["id"], c["aspects"]) for c in result["changes"]]
    assert summary == [
        ("entities", "changed", "e20", ["boundary"]),
        ("entities", "changed", "e40", ["label"]),
        ("quotes", "added", "q09", []),
        ("speaker_links", "added", "q09", []),
    ]
    relabelled = result["changes"][1]
    assert (relabelled["before"]["type"], relabelled["after"]["type"]) == ("LOC", "FAC")
    assert result["changes"][3]["after"] == {"quote_id": "q09", "speaker_id": "e28", "speaker": "NATO"}


def test_build_writes_the_changelog_from_the_diff(two_releases):
    first, second = two_releases
    assert (second / "CHANGELOG.md").read_text(encoding="utf-8") == (
        "# Changes in v0.2.0\n\nCompared with v0.1.0, the release before it"
        " (`newscorpus diff v0.1.0 v0.2.0` shows the same).\n\n"
        "Annotation changed in 1 document(s) released in v0.1.0: `000_ef3ea5b0d932693c`.\n\n"
        "```\n" + EXPECTED_DIFF + "```\n"
    )
    manifest = json.loads((second / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"] == {
        "since": "0.1.0",
        "summary": "1 document added; entities 4 added, 2 changed; events 1 added; quotes 2 added;"
        " speaker links 2 added",
        "counts": {
            "entities": {"added": 4, "removed": 0, "changed": 2},
            "events": {"added": 1, "removed": 0, "changed": 0},
            "quotes": {"added": 2, "removed": 0, "changed": 0},
            "speaker_links": {"added": 2, "removed": 0, "changed": 0},
        },
    }
    assert json.loads((first / "manifest.json").read_text(encoding="utf-8"))["changes"]["since"] is None
    changelog = (first / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changes in v0.1.0\n\nThe first release: every document and record in it is new.\n")
    assert "+ document 000_ef3ea5b0d932693c added (66 entities, 16 events, 8 quotes, 8 speaker links)\n" in changelog


def test_diff_of_a_missing_version(tmp_path, capsys):
    assert run(capsys, "--root", str(tmp_path), "diff", "0.1.0", "0.2.0") == (
        1,
        "",
        "error: no release v0.1.0 in corpus/\n",
    )


# -- hand-made documents -------------------------------------------------------------------------------

TEXT = "Ana Kos met Ivo Lin in Split. She said: “Fine.”"


def entity(eid, start, end, type_="PERSON", mention="NAM", cluster=None):
    return {"id": eid, "start": start, "end": end, "text": TEXT[start:end], "type": type_,
            "mention_type": mention, "cluster_id": cluster or eid}  # fmt: skip


def event(vid, arguments, type_="Contact.Meet"):
    trigger = {"start": 8, "end": 11, "text": "met"}
    return {"id": vid, "type": type_, "realis": "actual", "trigger": trigger,
            "arguments": [{"role": r, "entity_id": e} for r, e in arguments]}  # fmt: skip


def quote(qid, speaker_id, speaker, cue=True):
    cue_span = {"start": 34, "end": 38, "text": "said"} if cue else None
    return {"id": qid, "start": 40, "end": 47, "text": TEXT[40:47], "kind": "direct", "cue": cue_span,
            "speaker_id": speaker_id, "speaker": speaker}  # fmt: skip


def doc(entities, events=(), quotes=(), text=TEXT, **fields):
    return {"doc_id": "d1", "text": text, "text_sha256": str(hash(text)), "published": "2023-06-01",
            "entities": list(entities), "events": list(events), "quotes": list(quotes), **fields}  # fmt: skip


def lines_of(old, new):
    return render_text(diff_documents("1.0.0", {"d1": old}, "1.1.0", {"d1": new}))[8:]


def test_a_region_drawn_again_is_matched_by_its_span():
    # "Ivo Lin" got a new id (deleted and drawn again) and a new label: one change, not a removal and an addition.
    old = doc([entity("e1", 0, 7), entity("e2", 12, 19), entity("e3", 29, 32, mention="PRO", cluster="e1")],
              [event("v1", [("Entity", "e1"), ("Entity", "e2")])], [quote("q1", "e3", "Ana Kos")])  # fmt: skip
    new = doc([entity("e1", 0, 7), entity("x9", 12, 19, "ORG"), entity("e3", 29, 32, mention="PRO", cluster="e1")],
              [event("v1", [("Entity", "e1"), ("Entity", "x9")])], [quote("q1", "e3", "Ana Kos")])  # fmt: skip
    assert lines_of(old, new) == ["~ document d1", '  ~ entity x9 (was e2): label PERSON -> ORG "Ivo Lin" [12:19]']


def test_references_follow_renamed_ids_and_report_real_changes():
    old = doc([entity("e1", 0, 7), entity("e2", 12, 19), entity("e3", 29, 32, mention="PRO", cluster="e1")],
              [event("v1", [("Entity", "e1"), ("Entity", "e2")])], [quote("q1", "e3", "Ana Kos")])  # fmt: skip
    # e2 removed (and with it an argument); the quote's speaker moves from "She" to "Ivo Lin"; cue removed.
    new = doc([entity("e1", 0, 7), entity("e3", 29, 32, mention="PRO", cluster="e1")],
              [event("v1", [("Entity", "e1")])], [quote("q1", "e1", "Ana Kos", cue=False)])  # fmt: skip
    assert lines_of(old, new) == [
        "~ document d1",
        '  - entity e2: PERSON NAM "Ivo Lin" [12:19]',
        "  ~ event v1: arguments [Entity=e1, Entity=e2] -> [Entity=e1]",
        '  ~ quote q1: cue "said" [34:38] -> none',
        '  ~ speaker link q1: e3 "Ana Kos" -> e1 "Ana Kos"',
    ]


def test_coreference_text_and_metadata_changes_are_named():
    old = doc([entity("e1", 0, 7), entity("e3", 29, 32, mention="PRO", cluster="e1")], published="2023-06-01")
    new = doc([entity("e1", 0, 7), entity("e3", 29, 32, mention="PRO")], text=TEXT + " ", published="2023-06-02")
    assert lines_of(old, new) == ["~ document d1 (text changed; changed published)", "  ~ entity e3: cluster e1 -> e3"]


def test_removed_documents_and_no_differences():
    one = doc([entity("e1", 0, 7)], quotes=[quote("q1", "e1", "Ana Kos")])
    removed = diff_documents("1.0.0", {"d1": one}, "1.1.0", {})
    assert render_text(removed)[-1] == "- document d1 removed (1 entity, 0 events, 1 quote, 1 speaker link)"
    assert removed.counts["speaker_links"] == {"added": 0, "removed": 1, "changed": 0}
    same = diff_documents("1.0.0", {"d1": one}, "1.1.0", {"d1": one})
    assert same.is_empty() and render_text(same)[-1] == "no differences"


def test_a_release_with_a_history_is_reproduced_byte_for_byte(two_releases):
    from newscorpus.build.reproduce import reproduce
    from newscorpus.project import Project

    second = two_releases[1]
    result = reproduce(Project(second.parent.parent), second)  # rebuilt in scratch, v0.1.0 read beside it
    assert (result.changed_inputs, result.different) == ([], [])
    assert "CHANGELOG.md" in result.identical and "README.md" in result.identical
