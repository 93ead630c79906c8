"""Agreement arithmetic on small cases computed by hand, and the report read from an export."""

from __future__ import annotations

import json
import shutil

import pytest

from newscorpus.cli import main
from newscorpus.labelstudio.agreement import agreement_report
from newscorpus.labelstudio.agreement_items import Item, cohens_kappa, compare, f1
from newscorpus.labelstudio.exports import ADJUDICATION_RULE
from newscorpus.labelstudio.results import region_items, relation
from newscorpus.project import Project
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


def test_event_arguments_match_through_trigger_and_argument_spans():
    # A: met(10,18)->(0,5) Attacker, met->(20,25) Target, met->(40,45) Place.
    # B: met(10,18)->(0,5) Attacker, met(10,17)->(20,26) Place, other(30,35)->(40,45) Place.
    # Exact: only the first (both spans identical): 1. Overlap: also the second (trigger and argument overlap);
    # the third has no partner: its argument matches but its trigger does not. 6 links: F1 2/6 and 4/6.
    # Roles of the matched: (Attacker, Attacker), (Target, Place): observed 1/2; chance 1*1/4 (Attacker) = 1/4;
    # kappa (1/2 - 1/4) / (3/4) = 1/3.
    first = [
        Item(((10, 18), (0, 5)), "Attacker"),
        Item(((10, 18), (20, 25)), "Target"),
        Item(((10, 18), (40, 45)), "Place"),
    ]
    second = [
        Item(((10, 18), (0, 5)), "Attacker"),
        Item(((10, 17), (20, 26)), "Place"),
        Item(((30, 35), (40, 45)), "Place"),
    ]
    counts = compare(first, second)
    assert (counts.spans, counts.exact, counts.overlap) == (6, 1, 2)
    assert counts.label_pairs == [("Attacker", "Attacker"), ("Target", "Place")]
    assert cohens_kappa(counts.label_pairs) == pytest.approx(1 / 3)


def test_choices_are_paired_on_overlap_matched_spans():
    first = [Item(((0, 5),), "PERSON", "NAM"), Item(((10, 15),), "PERSON", "PRO"), Item(((20, 25),), "GPE", "NAM")]
    second = [Item(((1, 5),), "PERSON", "NOM"), Item(((10, 15),), "PERSON", "PRO"), Item(((30, 35),), "GPE", "NAM")]
    assert compare(first, second).choice_pairs == [("PRO", "PRO"), ("NAM", "NOM")]  # largest overlap first


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
    # No coref link: all singletons. MUC undefined (no link), so is CoNLL. B³ recall: (0,9) and (14,19) are in the
    # response alone as in the key, (23,26) is not there: (1 + 1 + 0) / 3; precision likewise 2/3. CEAF-e: two
    # alignments of phi4 1: 2 / 3 entities each side. Mention types all NAM: chance agreement 1, kappa undefined.
    table = (
        "  layer           spans  F1 exact  F1 overlap   kappa\n"
        "  entities            6     0.667       1.000   0.500\n"
        "  event_triggers      0         -           -       -\n"
        "  event_arguments     0         -           -       -\n"
        "  quotes              0         -           -       -\n"
        "  speaker_links       0         -           -       -\n"
        "  coreference         MUC      B3  CEAF-e   CoNLL\n"
        "  F1                    -   0.667   0.667       -\n"
        "  choice          pairs   kappa\n"
        "  mention_type        3       -\n"
        "  realis              0       -\n"
        "  quote_kind          0       -\n"
    )
    assert out == (
        f"adjudication used by the release: {ADJUDICATION_RULE}\n"
        "1 document(s) with several annotators (2 annotators); F1 of spans (exact / overlap), Cohen's kappa on the"
        " labels of overlap-matched spans; coreference F1 with mentions aligned by exact span; kappa per per-region"
        " choice\n"
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
    assert [d["annotators"] for d in report["documents"]] == [["1", "2"]]
    assert report["overall_coreference"]["muc"] == {"recall": None, "precision": None, "f1": None}
    assert report["overall_coreference"]["b_cubed"]["f1"] == pytest.approx(2 / 3)
    assert report["overall_choices"]["mention_type"] == {"pairs": 3, "kappa": None}


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


LONGER = "Ana Đurić met Marko in Niš. She left."


def entity(rid, label, start, end, mention_type):
    return region_items(rid, "entity", label, start, end, LONGER[start:end], ("mention_type", mention_type))


def event(rid, label, start, end, realis):
    return region_items(rid, "event", label, start, end, LONGER[start:end], ("realis", realis))


def two_annotators(tmp_path):
    # Annotator 1: Ana Đurić, Marko, Niš (NAM), She (PRO) -> Ana Đurić; "met" Contact.Meet actual with
    # Entity Ana Đurić, Entity Marko, Place Niš.
    first = (
        entity("a", "PERSON", 0, 9, "NAM")
        + entity("b", "PERSON", 14, 19, "NAM")
        + entity("c", "GPE", 23, 26, "NAM")
        + entity("d", "PERSON", 28, 31, "PRO")
        + event("e", "Contact.Meet", 10, 13, "actual")
        + [relation("d", "a", "coref"), relation("e", "a", "Entity"), relation("e", "b", "Entity")]
        + [relation("e", "c", "Place")]
    )
    # Annotator 2: Marko NOM, "in Niš" for Niš, She -> Marko; realis other; the same three arguments.
    second = (
        entity("a", "PERSON", 0, 9, "NAM")
        + entity("b", "PERSON", 14, 19, "NOM")
        + entity("c", "GPE", 20, 26, "NAM")
        + entity("d", "PERSON", 28, 31, "PRO")
        + event("e", "Contact.Meet", 10, 13, "other")
        + [relation("d", "b", "coref"), relation("e", "a", "Entity"), relation("e", "b", "Entity")]
        + [relation("e", "c", "Place")]
    )
    tasks = [
        {
            "id": 9,
            "data": {"doc_id": "doc1", "text": LONGER},
            "annotations": [
                annotation(90, 1, first, updated="2026-01-01T10:00:00Z"),
                annotation(91, 2, second, updated="2026-01-01T11:00:00Z"),
            ],
        }
    ]
    write_project(tmp_path, tasks)


def test_every_layer_on_a_worked_example(tmp_path, capsys):
    two_annotators(tmp_path)
    # entities: 8 spans, exact 3 (Niš differs), overlap 4; types agree: observed 1, chance (3*3 + 1*1)/16 -> kappa 1.
    # event_triggers: 2 spans, 1 exact; one type on both sides: chance 1, kappa undefined.
    # event_arguments: 6 links; exact 2 (Place's argument spans differ), overlap 3; roles Entity, Entity, Place
    # on both sides: observed 1, chance (2*2 + 1*1)/9 -> kappa 1.
    # coreference, key = annotator 1: {Ana Đurić, She} {Marko} {Niš}; response {Ana Đurić} {Marko, She} {in Niš}.
    #   MUC recall: {Ana Đurić, She} falls into 2 parts: 0 of 1 link; precision: {Marko, She} into 2: 0 of 1. F1 0.
    #   B³ recall: {Ana Đurić, She}: 1/2 + 1/2, {Marko}: 1, {Niš}: 0 (not in the response) -> 2/4;
    #   precision: {Ana Đurić}: 1, {Marko, She}: 1/2 + 1/2, {in Niš}: 0 -> 2/4. F1 1/2.
    #   CEAF-e: phi4 {Ana Đurić, She}-{Ana Đurić} 2/3, {Ana Đurić, She}-{Marko, She} 1/2, {Marko}-{Marko, She} 2/3;
    #   best 2/3 + 2/3 = 4/3 over 3 entities each side: recall = precision = F1 = 4/9.
    #   CoNLL (0 + 1/2 + 4/9) / 3 = 17/54 = 0.315.
    # mention_type: (NAM,NAM) (NAM,NOM) (NAM,NAM) (PRO,PRO): observed 3/4; chance (3*2 + 1*1)/16 = 7/16;
    #   kappa (3/4 - 7/16) / (9/16) = 5/9. realis: (actual, other): observed 0, chance 0 -> kappa 0.
    assert main(["--root", str(tmp_path), "agreement"]) == 0
    table = (
        "  layer           spans  F1 exact  F1 overlap   kappa\n"
        "  entities            8     0.750       1.000   1.000\n"
        "  event_triggers      2     1.000       1.000       -\n"
        "  event_arguments     6     0.667       1.000   1.000\n"
        "  quotes              0         -           -       -\n"
        "  speaker_links       0         -           -       -\n"
        "  coreference         MUC      B3  CEAF-e   CoNLL\n"
        "  F1                0.000   0.500   0.444   0.315\n"
        "  choice          pairs   kappa\n"
        "  mention_type        4   0.556\n"
        "  realis              1   0.000\n"
        "  quote_kind          0       -\n"
    )
    out = capsys.readouterr().out
    assert out.split("overall\n", 1)[1] == (
        table + "doc1: task 9 in annotation/exports/20260101T000000Z-project-1.json, annotators 1, 2;"
        " the release uses annotation 91\n" + table
    )
    assert main(["--root", str(tmp_path), "agreement", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["overall_coreference"] == {
        "mentions": 8,
        "aligned_mentions": 3,
        "muc": {"recall": 0.0, "precision": 0.0, "f1": 0.0},
        "b_cubed": {"recall": 0.5, "precision": 0.5, "f1": 0.5},
        "ceaf_e": {"recall": pytest.approx(4 / 9), "precision": pytest.approx(4 / 9), "f1": pytest.approx(4 / 9)},
        "conll": pytest.approx(17 / 54),
    }
    assert report["documents"][0]["choices"] == {
        "mention_type": {"pairs": 4, "kappa": pytest.approx(5 / 9)},
        "realis": {"pairs": 1, "kappa": 0.0},
        "quote_kind": {"pairs": 0, "kappa": None},
    }
    assert report["overall"]["event_arguments"]["labelled_pairs"] == 3


def test_annotators_are_named_by_the_given_code(tmp_path):
    two_annotators(tmp_path)
    asked = []

    def roster(export_path, user):
        asked.append((export_path.name, user))
        return {1: "A02", 2: "A01"}[user]

    report = agreement_report(Project(tmp_path), annotator_code=roster)
    assert sorted(set(asked)) == [("20260101T000000Z-project-1.json", 1), ("20260101T000000Z-project-1.json", 2)]
    document = report.as_dict()["documents"][0]
    assert document["annotators"] == ["A01", "A02"]
    assert any(", annotators A01, A02; the release uses annotation 91" in line for line in report.lines())


def test_codes_sort_in_natural_order(tmp_path):
    two_annotators(tmp_path)
    report = agreement_report(Project(tmp_path), annotator_code=lambda path, user: {1: "A10", 2: "A9"}[user])
    assert report.documents[0].annotators == ["A9", "A10"]
