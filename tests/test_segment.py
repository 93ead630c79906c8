"""newscorpus.segment gives exactly what syntok gives: the same tokens (spacing, text, offset) and sentences.

The reference is syntok's own API, called as its documentation shows (`segmenter.analyze`,
`Tokenizer.tokenize`); the texts are the corpus's articles, synthetic news and random text
made of the cases syntok's rules treat apart.
"""

from __future__ import annotations

import importlib.util
import random

import pytest
from syntok import segmenter
from syntok.tokenizer import Tokenizer

from newscorpus.ingest import parse_article, seed_paths
from newscorpus.segment import _tokens, sentences
from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("synth", REPO / "benchmarks" / "synth.py")
synth = importlib.util.module_from_spec(spec)
spec.loader.exec_module(synth)

# Pieces the tokenizer and the segmenter handle apart, with plain words and separators between them.
PIECES = [
    "the", "The", "said", "Officials", "NATO", "KFOR's", "2023", "1,000.50", "3.5", "No.", "no.", "No", "5",
    "Mr.", "Dr.", "St.", "U.S.", "e.g.", "etc.", "Jan.", "Jan", "Sept.", "II.", "XIV", "A.", "b.", "x.",
    "McDonald", "iPhone", "don't", "can’t", "O'Neil", "’s", "well-known", "state-of-the-art", "a_b", "co-op",
    "(", ")", "[1]", "(see above)", "(He left.)", "{", "}", "“", "”", "\"", "'", "«", "»", "‹quoted›",
    ".", "!", "?", ";", ":", ",", "...", "…", "?!", ".)", ".”", "!\"", "—", "–", "-", "/", "&", "%", "$5",
    "Đurić", "Vučević", "Priština", "Ömer", "ÉCOLE", "straße", "İstanbul", "ǅemal", "ʼOkina", "naïve",
    "🙂", "🇷🇸", "#tag", "@user", "http://example.org/a.b?c=d", "e-mail", "24/7", "9:30", "p.m.", "I",
    "Above", "However", "It", "In", "Vol.", "fig.", "Fig.", "approx.", "vs.", "3rd", "10th", "1990s",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", " ", "", "\n", "\n\n", "\t", "\u00a0", "\u200b", "  ", " \n ", "\r\n", "\n \n"]


def reference_tokens(text: str) -> list[tuple[str, str, int]]:
    return [(t.spacing, t.value, t.offset) for t in Tokenizer(replace_not_contraction=False).tokenize(text)]


def reference_sentences(text: str) -> list[tuple]:
    out = []
    for paragraph in segmenter.analyze(text):
        for sentence in paragraph:
            tokens = tuple((t.offset, t.offset + len(t.value), t.value) for t in sentence if t.value)
            if tokens:
                out.append((tokens[0][0], tokens[-1][1], tokens))
    return out


def ours(text: str) -> list[tuple]:
    return [(s.start, s.end, tuple(tuple(t) for t in s.tokens)) for s in sentences(text)]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) + rng.choice(SEPARATORS) for _ in range(rng.randint(1, 80)))


def test_the_corpus_articles_segment_as_syntok_segments_them():
    paths = seed_paths(REPO / "seeds")
    texts = [parse_article(p.read_bytes(), source_file=p.name, doc_id=p.stem, language="en").text for p in paths]
    assert texts
    for text in texts:
        assert ours(text) == reference_sentences(text)
        assert [(t.spacing, t.value, t.offset) for t in _tokens(text, 0, len(text))] == reference_tokens(text)


def test_synthetic_news_segments_as_syntok_segments_it():
    rng = random.Random(3)
    for _ in range(150):
        text = "".join(synth.make_article(rng).parts).strip()
        assert ours(text) == reference_sentences(text)


@pytest.mark.parametrize("seed", range(4))
def test_random_text_of_the_special_cases_segments_as_syntok_segments_it(seed):
    rng = random.Random(seed)
    for _ in range(400):
        text = random_text(rng)
        assert [(t.spacing, t.value, t.offset) for t in _tokens(text, 0, len(text))] == reference_tokens(text), text
        assert ours(text) == reference_sentences(text), text


def test_the_shortcuts_are_taken_and_the_rules_still_split():
    # A plain word is one token; a word with a lowercase-uppercase step, an apostrophe or a hyphen is not.
    text = "Officials said McDonald's well-known iPhone (sold in Priština) works. It does!"
    assert [t.text for s in sentences(text) for t in s.tokens] == [
        "Officials", "said", "Mc", "Donald", "'s", "well", "known", "i", "Phone", "(", "sold", "in", "Priština",
        ")", "works", ".", "It", "does", "!",
    ]  # fmt: skip
    assert [(s.start, s.end) for s in sentences(text)] == [(0, 69), (70, 78)]
