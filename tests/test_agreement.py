"""Agreement arithmetic on small cases computed by hand, and the report read from an export."""

from __future__ import annotations

import json
import shutil

import pytest

from newscorpus.cli import main
from newscorpus.labelstudio.agreement import Item, cohens_kappa, compare, f1
from newscorpus.labelstudio.exports import ADJUDICATION_RULE
from newscorpus.labelstudio.results import region_items
from tests.helpers import REPO


def spans(*pairs, labels=None):
    labels = labels or [None] * len(pairs)
    return [Item((p,), label) for p, label in zip(pairs, labels, strict=True)]


def test_exact_and_overlap_f1():
    # A: [0,5) [10,15); B: [0,5) [11,15) [20,25). Exact: 1 -> 2*1/5. Overlap: 2 -> 2*2/5.
    counts = compare(spans((0, 5), (10, 15)), spans((0, 5), (11, 15), (20, 25)))
    assert (counts.spans, counts.exact, counts.overlap) == (5, 1, 2)
    assert f1(counts.exact, counts.spans) == pytest.approx(0.4)
    assert f1(counts.overlap, counts.spans) == pytest.approx(0.8)


def test_overlap_matching_is_one_to_one_and_prefers_the_larger_overlap():
    # B's [0,10) overlaps both of A's spans; it pairs with [2,9) (7 shared) not [8,12) (2 shared),
    # and [8,12) then has nobody left: 1 match of 3 spans.
    counts = compare(spans((8, 12), (2, 9), labels=["X", "Y"]), spans((0, 10), labels=["Y"]))
    assert (counts.exact, counts.overlap, counts.label_pairs) == (0, 1, [("Y", "Y")])
    assert f1(counts.overlap, counts.spans) == pytest.approx(2 / 3)


def test_touching_spans_do_not_overlap():
    assert compare(spans((0, 5)), spans((5, 9))).overlap == 0


def test_repeated_identical_spans_count_once_each():
    counts = compare(spans((0, 5), (0, 5)), spans((0, 5)))
    assert (counts.exact, counts.overlap) == (1, 1)


def test_cohens_kappa_by_hand():
    # observed 3/4; first P,P,O,O and second P,O,O,O: chance 2/4*1/4 + 2/4*3/4 = 1/2 -> (3/4 - 1/2) / (1/2)
    assert cohens_kappa([("P", "P"), ("P", "O"), ("O", "O"), ("O", "O")]) == pytest.approx(0.5)
    # perfect agreement over two labels
    assert cohens_kappa([("A", "A"), ("B", "B")]) == pytest.approx(1.0)
    # systematic disagreement: observed 0, chance 1/2 -> -1
    assert cohens_kappa([("A", "B"), ("B", "A")]) == pytest.approx(-1.0)


def test_kappa_and_f1_undefined_cases():
    assert cohens_kappa([]) is None
    assert cohens_kappa([("A", "A"), ("A", "A")]) is None  # chance agreement is already 1
    assert f1(0, 0) is None  # neither annotator marked anything in the layer


def test_speaker_links_need_both_spans():
    first = [Item(((0, 10), (20, 25)), None)]
    same_quote_other_speaker = [Item(((0, 10), (30, 35)), None)]
    both_overlapping = [Item(((1, 10), (21, 25)), None)]
    assert (compare(first, same_quote_other_speaker).exact, compare(first, same_quote_other_speaker).overlap) == (0, 0)
    assert (compare(first, both_overlapping).exact, compare(first, both_overlapping).overlap) == (0, 1)


TEXT = "Ana Đurić met Marko in Niš."


def region(rid, label, start, end, control="entity", choice=("mention_type", "NAM")):
    return region_items(rid, control, label, start, end, TEXT[start:end], choice)


def annotation(aid, user, result, *, updated, ground_truth=False, cancelled=False):
    return {
        "id": aid,
        "completed_by": user,
        "result": result,
        "was_cancelled": cancelled,
        "ground_truth": ground_truth,
        "updated_at": updated,
    }


def write_project(root, tasks):
    shutil.copytree(REPO / "schemas", root / "schemas")
    exports = root / "annotation" / "exports"
    exports.mkdir(parents=True)
    (exports / "20260101T000000Z-project-1.json").write_text(json.dumps(tasks), encoding="utf-8")


def test_report_from_an_export(tmp_path, capsys):
    # Annotator 1 (ground truth): Ana Đurić PERSON, Marko PERSON, Niš GPE.
    # Annotator 2 (later): Ana Đurić PERSON, Marko ORG, "in Niš" GPE. Annotator 3: cancelled, not counted.
    # entities: 3 + 3 spans; exact 2; overlap 3 -> F1 4/6 and 6/6; labels PERSON/PERSON, PERSON/ORG, GPE/GPE:
    # observed 2/3; chance (2*1 + 1*1) / 9 = 1/3 -> kappa (2/3 - 1/3) / (2/3) = 1/2.
    first = region("a", "PERSON", 0, 9) + region("b", "PERSON", 14, 19) + region("c", "GPE", 23, 26)
    second = region("a", "PERSON", 0, 9) + region("b", "ORG", 14, 19) + region("c", "GPE", 20, 26)
    tasks = [
        {
            "id": 7,
            "data": {"doc_id": "doc1", "text": TEXT},
            "annotations": [
                annotation(70, 1, first, updated="2026-01-01T10:00:00Z", ground_truth=True),
                annotation(71, 2, second, updated="2026-01-01T11:00:00Z"),
                annotation(72, 3, [], updated="2026-01-01T12:00:00Z", cancelled=True),
            ],
        },
        {
            "id": 8,
            "data": {"doc_id": "doc2", "text": TEXT},
            "annotations": [annotation(80, 1, first, updated="2026-01-01T10:00:00Z")],
        },
    ]
    write_project(tmp_path, tasks)
    assert main(["--root", str(tmp_path), "agreement"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    table = (
        "  layer           spans  F1 exact  F1 overlap   kappa\n"
        "  entities            6     0.667       1.000   0.500\n"
        "  event_triggers      0         -           -       -\n"
        "  quotes              0         -           -       -\n"
        "  speaker_links       0         -           -       -\n"
    )
    assert out == (
        f"adjudication used by the release: {ADJUDICATION_RULE}\n"
        "1 document(s) with several annotators (2 annotators); F1 of spans (exact / overlap), Cohen's kappa on the"
        " labels of overlap-matched spans\n"
        "overall\n" + table + "doc1: task 7 in annotation/exports/20260101T000000Z-project-1.json, annotators 1, 2;"
        " the release uses annotation 70 (ground truth)\n" + table
    )
    assert main(["--root", str(tmp_path), "agreement", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["overall"]["entities"] == {
        "spans": 6,
        "exact_matches": 2,
        "overlap_matches": 3,
        "labelled_pairs": 3,
        "f1_exact": pytest.approx(2 / 3),
        "f1_overlap": 1.0,
        "kappa": pytest.approx(0.5),
    }
    assert [d["annotation_ids"] for d in report["documents"]] == [[70, 71]]


def test_annotation_with_problems_is_named_not_compared(tmp_path, capsys):
    good = region("a", "PERSON", 0, 9)
    bad = region("a", "PERSON", 0, 8)  # fine offsets, but...
    bad[0]["value"]["text"] = "Ana"  # ...the stored text is not the slice
    tasks = [
        {
            "id": 7,
            "data": {"doc_id": "doc1", "text": TEXT},
            "annotations": [
                annotation(70, 1, good, updated="2026-01-01T10:00:00Z"),
                annotation(71, 2, bad, updated="2026-01-01T11:00:00Z"),
            ],
        }
    ]
    write_project(tmp_path, tasks)
    assert main(["--root", str(tmp_path), "agreement"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "no document in annotation/exports/ has comparable annotations by two or more annotators",
        "not compared: doc1: annotation 71 by annotator 2 has 1 problem(s); `newscorpus build` lists them",
    ]
