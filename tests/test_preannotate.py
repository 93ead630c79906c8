"""The pre-annotator: what it proposes on small texts, and that its proposals pass every check."""

from __future__ import annotations

import shutil

import pytest
from label_studio_sdk.label_interface import LabelInterface

from newscorpus.errors import Location
from newscorpus.ingest import read_articles, seed_paths
from newscorpus.labelstudio.preannotate import MODEL_VERSION, check_prediction, known_names, preannotate, prediction
from tests.helpers import REPO, copy_project


def summary(text: str, names: dict[str, str] | None = None):
    """(quote, cue, speaker) triples and (entity, type, mention type) triples of a pre-annotation."""
    result = preannotate(text, names or {})
    regions = {r["id"]: r["value"] for r in result if r["type"] == "labels"}
    choices = {r["id"]: r["value"]["choices"][0] for r in result if r["type"] == "choices"}
    for value in regions.values():
        assert text[value["start"] : value["end"]] == value["text"]
    links: dict[str, dict[str, str]] = {}
    for r in result:
        if r["type"] == "relation":
            links.setdefault(r["from_id"], {})[r["labels"][0]] = regions[r["to_id"]]["text"]
    quotes = [
        (v["text"], links.get(rid, {}).get("cue"), links.get(rid, {}).get("speaker"))
        for rid, v in regions.items()
        if v["labels"] == ["direct"]
    ]
    entities = sorted(
        (v["text"], v["labels"][0], choices[rid])
        for rid, v in regions.items()
        if v["labels"][0] not in ("direct", "indirect", "mixed", "cue")
    )
    return quotes, entities


def reported(text: str, names: dict[str, str] | None = None):
    """(kind, quote, cue, speaker) of the indirect and mixed quotes of a pre-annotation."""
    result = preannotate(text, names or {})
    regions = {r["id"]: r["value"] for r in result if r["type"] == "labels"}
    links: dict[str, dict[str, str]] = {}
    for r in result:
        if r["type"] == "relation":
            links.setdefault(r["from_id"], {})[r["labels"][0]] = regions[r["to_id"]]["text"]
    return [
        (v["labels"][0], v["text"], links.get(rid, {}).get("cue"), links.get(rid, {}).get("speaker"))
        for rid, v in regions.items()
        if v["labels"][0] in ("indirect", "mixed")
    ]


def corefs(text: str, names: dict[str, str] | None = None):
    """(mention, antecedent) pairs of the coref relations of a pre-annotation."""
    result = preannotate(text, names or {})
    regions = {r["id"]: r["value"]["text"] for r in result if r["type"] == "labels"}
    return [
        (regions[r["from_id"]], regions[r["to_id"]])
        for r in result
        if r["type"] == "relation" and r["labels"] == ["coref"]
    ]


def test_curly_quotes_cue_after_and_before_with_name_and_pronoun():
    text = "Protest in Zvešan 🔥: “We will not leave,” Mayor Ana Đurić told RTS. She added: “Never.”"
    quotes, entities = summary(text)
    assert quotes == [("“We will not leave,”", "told", "Ana Đurić"), ("“Never.”", "added", "She")]
    assert entities == [("Ana Đurić", "PERSON", "NAM"), ("She", "PERSON", "PRO")]


def test_offsets_are_code_points_after_an_emoji():
    text = "🔥🔥 “Ready now,” he said."
    [quote] = [r for r in preannotate(text, {}) if r.get("from_name") == "quote"]
    assert (quote["value"]["start"], quote["value"]["end"]) == (3, 15)


def test_straight_quotes_cue_then_speaker_and_a_known_name():
    text = 'Talks began in Priština. "We are ready," said Jörg Müller of the OSCE.'
    quotes, entities = summary(text, {"Priština": "GPE", "OSCE": "ORG"})
    assert quotes == [('"We are ready,"', "said", "Jörg Müller")]
    assert entities == [("Jörg Müller", "PERSON", "NAM"), ("OSCE", "ORG", "NAM"), ("Priština", "GPE", "NAM")]


def test_title_words_are_not_part_of_the_speaker():
    text = "“The situation is precarious,” Serbian Defense Minister Milos Vucevic told reporters."
    assert summary(text)[0] == [("“The situation is precarious,”", "told", "Milos Vucevic")]


def test_known_person_name_is_preferred_over_an_organisation_before_the_cue():
    text = "“We offer support,” Kremlin spokesman Dmitry Peskov told reporters."
    quotes, entities = summary(text, {"Kremlin": "ORG", "Dmitry Peskov": "PERSON"})
    assert quotes == [("“We offer support,”", "told", "Dmitry Peskov")]
    assert entities == [("Dmitry Peskov", "PERSON", "NAM"), ("Kremlin", "ORG", "NAM")]


def test_scare_quotes_are_left_alone():
    text = "The so-called “provocative actions” were discussed at length."
    assert summary(text) == ([], []) and reported(text) == []


def test_mixed_quotes_start_at_the_fragment_after_the_cues_own_words():
    text = (
        "Peskov warned of “provocative actions” that would hurt Serbs, and expressed the Kremlin’s “concern” about it."
    )
    assert reported(text, {"Peskov": "PERSON", "Kremlin": "ORG", "Serbs": "NORP"}) == [
        ("mixed", "“provocative actions” that would hurt Serbs", "warned", "Peskov"),
        ("mixed", "“concern” about it", "expressed", "Peskov"),
    ]


def test_a_single_quoted_word_after_called_is_a_mixed_quote():
    text = "Mayor Ana Đurić called the blockade “unnecessary.” Nobody answered."
    assert reported(text) == [("mixed", "the blockade “unnecessary.”", "called", "Ana Đurić")]


def test_indirect_quotes_after_that_or_a_reporting_clause():
    text = (
        "NATO peacekeepers insisted that ethnic Albanian mayors leave northern Kosovo.\n\n"
        "Jörg Müller told reporters that the talks had failed again.\n\n"
        "She said the border would stay closed."
    )
    names = {"NATO": "ORG", "Albanian": "NORP", "northern Kosovo": "LOC"}
    assert reported(text, names) == [
        ("indirect", "ethnic Albanian mayors leave northern Kosovo", "insisted", "NATO peacekeepers"),
        ("indirect", "the talks had failed again", "told", "Jörg Müller"),
        ("indirect", "the border would stay closed", "said", "She"),
    ]


def test_a_cue_after_a_direct_quote_is_no_indirect_quote():
    text = '"We are ready," said Jörg Müller of the OSCE.'
    assert reported(text) == []


def test_mentions_are_maximal():
    text = "NATO-led forces and NATO peacekeepers met Albanian officials and ethnic Albanian mayors; NATO agreed."
    _, entities = summary(text, {"NATO": "ORG", "Albanian": "NORP"})
    assert entities == [
        ("Albanian officials", "PERSON", "NOM"),
        ("NATO", "ORG", "NAM"),
        ("NATO peacekeepers", "ORG", "NOM"),
        ("NATO-led forces", "ORG", "NOM"),
        ("ethnic Albanian mayors", "PERSON", "NOM"),
    ]


def test_a_pronoun_speaker_corefers_with_the_nearest_person():
    text = "Ana Đurić met Jörg Müller in Pristina. “We agree,” he told RTS. She added: “Never.” Pristina was calm."
    names = {"Ana Đurić": "PERSON", "Jörg Müller": "PERSON", "Pristina": "GPE", "RTS": "ORG"}
    assert corefs(text, names) == [("he", "Jörg Müller"), ("She", "Jörg Müller")]


def test_a_long_quote_without_a_cue_is_still_proposed():
    text = "The banner read “we will never leave this town”. Nobody moved."
    assert summary(text)[0] == [("“we will never leave this town”", None, None)]


def test_quotes_do_not_cross_paragraphs():
    text = "He said: “It starts here\n\nand ends there,” she said."
    assert summary(text)[0] == []


def test_known_names_match_whole_words_longest_first():
    text = "Kosovo Serbs and Serbs of Kosovo; Serbia."
    names = {"Kosovo": "GPE", "Serbs": "NORP", "Kosovo Serbs": "NORP", "Serb": "NORP"}
    assert summary(text, names)[1] == [
        ("Kosovo", "GPE", "NAM"),
        ("Kosovo Serbs", "NORP", "NAM"),
        ("Serbs", "NORP", "NAM"),
    ]


@pytest.fixture(scope="module")
def interface():
    return LabelInterface((REPO / "annotation" / "label_config.xml").read_text(encoding="utf-8"))


def test_the_seed_article_prediction_passes_the_config_and_the_converter(tmp_path, interface):
    project = copy_project(tmp_path / "repo")
    articles = read_articles(seed_paths(project.seeds_dir), relative=project.relative, language="en")
    names, source = known_names(project, articles)
    assert (len(names), source) == (21, "annotation/exports/")
    assert names["Dmitry Peskov"] == "PERSON" and names["northern Kosovo"] == "LOC"
    predicted = prediction(articles[0].text, names)
    assert predicted["model_version"] == MODEL_VERSION
    assert len(predicted["result"]) > 80
    where = Location("pre-annotation", doc_id=articles[0].doc_id)
    assert check_prediction(predicted["result"], articles[0].text, project.schema, interface, where) == []


def test_a_broken_prediction_is_caught(tmp_path, interface):
    project = copy_project(tmp_path / "repo")
    text = "“We will not leave,” Ana told RTS."
    result = preannotate(text, {"RTS": "ORG"})
    result[0]["value"]["text"] = "RTs"  # the region's text no longer is its slice
    result[2]["value"]["labels"] = ["MONSTER"]  # a label the config does not have
    where = Location("pre-annotation", doc_id="d1")
    problems = check_prediction(result, text, project.schema, interface, where)
    assert sorted(str(p) for p in problems if p.field != "prediction") == [
        '[pre-annotation > region pre-c1] doc_id=d1 field=cue: cue "told" is not linked to a quote;'
        " fix: draw a 'cue' relation from its quote to it, or delete the cue",
        '[pre-annotation > region pre-e1] doc_id=d1 field=value.text: span text "RTs" != text[30:33] "RTS";'
        " fix: re-create the region in Label Studio on the current text",
        "[pre-annotation > region pre-q1] doc_id=d1 field=value.labels: unknown quote label 'MONSTER';"
        " fix: use one of ['direct', 'indirect', 'mixed'] or add the label to schemas/annotation.yaml",
    ]
    assert any("Invalid value for control 'quote'" in p.message for p in problems if p.field == "prediction")


def test_known_names_fall_back_to_the_latest_release_when_an_export_is_broken(tmp_path):
    project = copy_project(tmp_path / "repo", with_corpus=True)
    for export in project.exports_dir.glob("*.json"):
        export.write_bytes(export.read_bytes()[:100])  # truncated: the exports cannot be read
    articles = read_articles(seed_paths(project.seeds_dir), relative=project.relative, language="en")
    names, source = known_names(project, articles)
    latest = max((p.name for p in (project.corpus_dir).glob("v*")), key=lambda v: tuple(map(int, v[1:].split("."))))
    assert (len(names), source) == (21, f"corpus/{latest}")


def test_no_names_without_release_or_export(tmp_path):
    project = copy_project(tmp_path / "repo")
    shutil.rmtree(project.exports_dir)
    assert known_names(project, []) == ({}, "no release or export yet")
