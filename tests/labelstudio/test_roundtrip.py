"""The whole loop on a real server: push -> annotators work through the API -> pull -> build -> load_dataset.

Annotations are entered as Label Studio's editor stores them (regions with "origin", a
per-region choice under the region's id, relations without ids). What the release gives
back is compared with what was entered, written out here by hand.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from datasets import load_dataset

from newscorpus.cli import main
from newscorpus.labelstudio.exports import ADJUDICATION_RULE
from newscorpus.labelstudio.results import region_items, relation
from newscorpus.project import Project
from tests.helpers import copy_static

pytestmark = pytest.mark.labelstudio

UNICODE_DOC = "rt_unicode"
UNICODE_TEXT = (
    "Protest in Zvešan 🔥: “We will not leave Zvešan,” Mayor Ana Đurić told RTS. She added: “Never 🙅.”\n\n"
    "Police fired tear gas at the crowd on Monday."
)
ACCEPT_DOC = "rt_accept"
ACCEPT_TEXT = (
    'Officials met in Priština on Tuesday. "We are ready," said Jörg Müller. He told reporters: “Talks go on.”'
)


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def make_project(root: Path) -> Project:
    """Schema, label config and card of the repository; two new articles; no export yet."""

    copy_static(root)
    (root / "seeds").mkdir()
    (root / "seeds" / f"{UNICODE_DOC}.txt").write_text(f"date 2024-03-05\n{UNICODE_TEXT}\n", encoding="utf-8")
    (root / "seeds" / f"{ACCEPT_DOC}.txt").write_text(f"date 2024-03\r\n{ACCEPT_TEXT}\r\n", encoding="utf-8")
    return Project(root)


class Result:
    """Builds a `result` list the way the Label Studio editor stores one."""

    def __init__(self, text: str):
        self.text = text
        self.items: list[dict] = []

    def at(self, context: str) -> tuple[int, int]:
        plain = context.replace("[", "").replace("]", "")
        assert self.text.count(plain) == 1, context
        start = self.text.index(plain) + context.index("[")
        return start, start + context.index("]") - context.index("[") - 1

    def region(self, rid: str, control: str, label: str, context: str, choice: tuple[str, str] | None = None):
        start, end = self.at(context)
        self.items += region_items(rid, control, label, start, end, self.text[start:end], choice, origin="manual")

    def entity(self, rid, label, mention_type, context):
        self.region(rid, "entity", label, context, ("mention_type", mention_type))

    def event(self, rid, label, realis, context):
        self.region(rid, "event", label, context, ("realis", realis))

    def relation(self, from_id, to_id, label, direction="right"):
        self.items.append(relation(from_id, to_id, label, direction))


def first_annotator() -> list[dict]:
    r = Result(UNICODE_TEXT)
    r.entity("Hk3-aZ01", "GPE", "NAM", "Protest in [Zvešan] 🔥")
    r.entity("Hk3-aZ02", "GPE", "NAM", "leave [Zvešan],”")  # inside the quote: overlaps it
    r.entity("Hk3-aZ03", "PERSON", "NAM", "Mayor [Ana Đurić] told")
    r.entity("Hk3-aZ04", "ORG", "NAM", "told [RTS].")
    r.entity("Hk3-aZ05", "PERSON", "PRO", "[She] added")
    r.entity("Hk3-aZ06", "ORG", "NOM", "[Police] fired")
    r.entity("Hk3-aZ07", "DATE", "NAM", "on [Monday].")
    r.event("Hk3-aZ08", "Conflict.Demonstrate", "actual", "[Protest] in")
    r.event("Hk3-aZ09", "Conflict.Attack", "actual", "Police [fired] tear")
    r.region("Hk3-aZ10", "quote", "direct", "🔥: [“We will not leave Zvešan,”]")
    r.region("Hk3-aZ11", "cue", "cue", "Đurić [told] RTS")
    r.region("Hk3-aZ12", "quote", "direct", "added: [“Never 🙅.”]")
    r.region("Hk3-aZ13", "cue", "cue", "She [added]:")
    r.relation("Hk3-aZ08", "Hk3-aZ01", "Place")
    r.relation("Hk3-aZ06", "Hk3-aZ09", "Attacker", direction="left")  # drawn from the entity to the event
    r.relation("Hk3-aZ09", "Hk3-aZ07", "Time")
    r.relation("Hk3-aZ10", "Hk3-aZ11", "cue")
    r.relation("Hk3-aZ10", "Hk3-aZ03", "speaker")
    r.relation("Hk3-aZ12", "Hk3-aZ13", "cue")
    r.relation("Hk3-aZ12", "Hk3-aZ05", "speaker")
    r.relation("Hk3-aZ05", "Hk3-aZ03", "coref")
    return r.items


def second_annotator() -> list[dict]:
    """Differs from the first on purpose; the counts in the agreement test follow from these lines."""
    r = Result(UNICODE_TEXT)
    r.entity("Qm7-bY01", "GPE", "NAM", "Protest in [Zvešan] 🔥")
    r.entity("Qm7-bY02", "GPE", "NAM", "leave [Zvešan],”")
    r.entity("Qm7-bY03", "PERSON", "NAM", "[Mayor Ana Đurić] told")  # overlaps, not exact
    r.entity("Qm7-bY04", "NORP", "NAM", "told [RTS].")  # other label
    r.entity("Qm7-bY05", "PERSON", "PRO", "[She] added")
    r.entity("Qm7-bY07", "DATE", "NAM", "on [Monday].")  # no "Police"
    r.event("Qm7-bY08", "Conflict.Demonstrate", "actual", "[Protest] in")
    r.event("Qm7-bY09", "Life.Injure", "actual", "Police [fired] tear")  # other type
    r.region("Qm7-bY10", "quote", "direct", "🔥: [“We will not leave Zvešan,”]")
    r.region("Qm7-bY11", "cue", "cue", "Đurić [told] RTS")
    r.region("Qm7-bY12", "quote", "direct", "added: “[Never 🙅.]”")  # without the marks
    r.region("Qm7-bY13", "cue", "cue", "She [added]:")
    r.relation("Qm7-bY10", "Qm7-bY11", "cue")
    r.relation("Qm7-bY10", "Qm7-bY03", "speaker")
    r.relation("Qm7-bY12", "Qm7-bY13", "cue")
    r.relation("Qm7-bY12", "Qm7-bY05", "speaker")
    return r.items


def test_round_trip_gives_back_exactly_what_annotators_entered(tmp_path, ls_env, capsys):
    root = tmp_path / "repo"
    make_project(root)
    title = f"test-{uuid.uuid4().hex[:10]}"
    code, out, err = run(capsys, "--root", str(root), "annotate", "push", "--title", title)
    assert (code, err) == (0, ""), err
    project_id = int(re.match(r"created project (\d+) ", out).group(1))

    client = ls_env.client()
    first = client.users.create(email=f"a1-{title}@newscorpus.test", username=f"a1-{title}", password="pw-a1-12345")
    second = client.users.create(email=f"a2-{title}@newscorpus.test", username=f"a2-{title}", password="pw-a2-12345")
    tasks = {t.data["doc_id"]: t for t in client.tasks.list(project=project_id, fields="all")}
    assert sorted(tasks) == [ACCEPT_DOC, UNICODE_DOC]
    assert tasks[UNICODE_DOC].data["text"] == UNICODE_TEXT
    assert tasks[ACCEPT_DOC].data["text"] == ACCEPT_TEXT  # CRLF and the date header gone, as ingest reads it

    # The first annotator's work is the ground truth; the second submits later (so is the latest).
    client.annotations.create(
        id=tasks[UNICODE_DOC].id, result=first_annotator(), completed_by=first.id, ground_truth=True, lead_time=300.0
    )
    client.annotations.create(id=tasks[UNICODE_DOC].id, result=second_annotator(), completed_by=second.id)
    # The second annotator accepts the pre-annotation of the other article and adds one coreference link.
    [predicted] = tasks[ACCEPT_DOC].predictions
    predicted = predicted if isinstance(predicted, dict) else predicted.dict()
    regions = {r["value"]["text"]: r["id"] for r in predicted["result"] if r["type"] == "labels"}
    coref = {"from_id": regions["He"], "to_id": regions["Jörg Müller"], "type": "relation", "direction": "right"}
    accepted = [*predicted["result"], {**coref, "labels": ["coref"]}]
    client.annotations.create(id=tasks[ACCEPT_DOC].id, result=accepted, completed_by=second.id)

    code, out, err = run(capsys, "--root", str(root), "annotate", "pull", "--title", title)
    assert (code, err) == (0, ""), err
    assert out.splitlines()[0] == (
        f"pulled project {project_id} ('{title}'): 2 task(s), 3 submitted annotation(s),"
        " 1 task(s) with several annotators, 0 draft(s)"
    )
    code, out, err = run(capsys, "--root", str(root), "build", "--version", "1.0.0")
    assert (code, err) == (0, ""), err
    assert out.splitlines()[0] == "read 1 export(s), 2 task(s): 2 document(s) annotated"
    # Format 2's derived configs follow (tests/test_derived_configs.py checks their rows).
    assert out.splitlines()[-1].startswith("wrote corpus/v1.0.0 (documents 2, entities 9, events 2, quotes 4, ")

    docs = {row["doc_id"]: row for row in load_dataset(str(root / "corpus" / "v1.0.0"), "documents", split="train")}
    unicode_doc = docs[UNICODE_DOC]
    assert unicode_doc["text"] == UNICODE_TEXT
    assert unicode_doc["annotator_ids"] == [first.id, second.id]
    assert [(e["id"], e["text"], e["type"], e["mention_type"], e["cluster_id"]) for e in unicode_doc["entities"]] == [
        ("Hk3-aZ01", "Zvešan", "GPE", "NAM", "Hk3-aZ01"),
        ("Hk3-aZ02", "Zvešan", "GPE", "NAM", "Hk3-aZ02"),
        ("Hk3-aZ03", "Ana Đurić", "PERSON", "NAM", "Hk3-aZ03"),
        ("Hk3-aZ04", "RTS", "ORG", "NAM", "Hk3-aZ04"),
        ("Hk3-aZ05", "She", "PERSON", "PRO", "Hk3-aZ03"),
        ("Hk3-aZ06", "Police", "ORG", "NOM", "Hk3-aZ06"),
        ("Hk3-aZ07", "Monday", "DATE", "NAM", "Hk3-aZ07"),
    ]
    for span in [*unicode_doc["entities"], *unicode_doc["quotes"]]:
        assert UNICODE_TEXT[span["start"] : span["end"]] == span["text"]
    # Code points, not UTF-16 units: the emoji before it counts as one.
    assert unicode_doc["entities"][1]["start"] == UNICODE_TEXT.index("Zvešan,")
    assert [(v["id"], v["type"], v["realis"], v["trigger"]["text"], v["arguments"]) for v in unicode_doc["events"]] == [
        ("Hk3-aZ08", "Conflict.Demonstrate", "actual", "Protest", [{"role": "Place", "entity_id": "Hk3-aZ01"}]),
        (
            "Hk3-aZ09",
            "Conflict.Attack",
            "actual",
            "fired",
            [{"role": "Attacker", "entity_id": "Hk3-aZ06"}, {"role": "Time", "entity_id": "Hk3-aZ07"}],
        ),
    ]
    assert [
        (q["id"], q["text"], q["kind"], q["cue"]["text"], q["speaker_id"], q["speaker"]) for q in unicode_doc["quotes"]
    ] == [
        ("Hk3-aZ10", "“We will not leave Zvešan,”", "direct", "told", "Hk3-aZ03", "Ana Đurić"),
        ("Hk3-aZ12", "“Never 🙅.”", "direct", "added", "Hk3-aZ05", "Ana Đurić"),
    ]

    accept_doc = docs[ACCEPT_DOC]
    assert accept_doc["published_precision"] == "month"
    assert [(e["text"], e["type"], e["mention_type"]) for e in accept_doc["entities"]] == [
        ("Jörg Müller", "PERSON", "NAM"),
        ("He", "PERSON", "PRO"),
    ]
    assert [(q["text"], q["kind"], q["cue"]["text"], q["speaker"]) for q in accept_doc["quotes"]] == [
        ('"We are ready,"', "direct", "said", "Jörg Müller"),
        ("“Talks go on.”", "direct", "told", "Jörg Müller"),
    ]

    capsys.readouterr()  # load_dataset's progress output
    code, out, err = run(capsys, "--root", str(root), "agreement", "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["adjudication"] == ADJUDICATION_RULE
    [document] = report["documents"]
    assert (document["doc_id"], document["annotators"], document["release_annotation_is_ground_truth"]) == (
        UNICODE_DOC,
        [str(first.id), str(second.id)],  # annotator codes: by default the Label Studio id as text
        True,
    )
    layers = document["layers"]
    # entities: 7 + 6 spans; exact 5 (both Zvešan, RTS, She, Monday); overlap 6 (+ Ana Đurić / Mayor Ana Đurić)
    # labels of the 6 matched: one differs (ORG/NORP); chance 9/36 -> kappa (5/6 - 1/4) / (3/4) = 7/9
    assert layers["entities"]["f1_exact"] == pytest.approx(10 / 13)
    assert layers["entities"]["f1_overlap"] == pytest.approx(12 / 13)
    assert layers["entities"]["kappa"] == pytest.approx(7 / 9)
    # triggers: same spans, types agree on 1 of 2; chance 1/4 -> kappa (1/2 - 1/4) / (3/4) = 1/3
    assert (layers["event_triggers"]["f1_exact"], layers["event_triggers"]["f1_overlap"]) == (1.0, 1.0)
    assert layers["event_triggers"]["kappa"] == pytest.approx(1 / 3)
    # quotes: one identical, one without its marks; both "direct", so kappa is undefined
    assert (layers["quotes"]["f1_exact"], layers["quotes"]["f1_overlap"], layers["quotes"]["kappa"]) == (0.5, 1.0, None)
    # speaker links: no pair identical in both quote and speaker span, both overlap
    assert (layers["speaker_links"]["f1_exact"], layers["speaker_links"]["f1_overlap"]) == (0.0, 1.0)
    assert report["overall"] == layers
