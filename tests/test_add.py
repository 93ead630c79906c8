"""`newscorpus add`: new seeds under the doc_id rule, plain files byte for byte, every problem before any write."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from newscorpus.cli import main
from newscorpus.ingest import Provenance, parse_article
from tests.helpers import REPO, SEED_ID, tree_bytes

SEED_TEXT_FILE = f"seeds/{SEED_ID}.txt"


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "seeds", root / "seeds")
    inputs = tmp_path / "incoming"
    inputs.mkdir()
    monkeypatch.chdir(inputs)  # inputs are named as given on the command line: relative here
    return root


def add(root, capsys, *files) -> tuple[int, str, str]:
    code = main(["--root", str(root), "add", *files])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def hex16(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def test_the_committed_seed_keeps_its_id():
    # The rule applies to new articles; the seed's id predates it and is not derived from its text.
    raw = (REPO / SEED_TEXT_FILE).read_bytes()
    assert hex16(parse_article(raw, source_file="x", doc_id=SEED_ID, language="en").text) != SEED_ID[4:]


def test_a_text_file_is_copied_byte_for_byte_under_the_next_number(project, capsys):
    raw = b"date 2024-01-02\r\nurl: https://example.org/news/1\r\ntitle: Talks resume\r\n\r\n  Talks resumed.\r\n"
    with open("talks.txt", "wb") as out:
        out.write(raw)
    code, out, err = add(project, capsys, "talks.txt")
    doc_id = f"001_{hex16('Talks resumed.')}"  # after 000_...: the text without headers and outer spaces
    assert (code, err) == (0, "")
    assert out == (
        f"added seeds/{doc_id}.txt from talks.txt\n"
        "1 article(s) added; `newscorpus annotate push` makes them Label Studio tasks\n"
    )
    assert (project / "seeds" / f"{doc_id}.txt").read_bytes() == raw
    article = parse_article(raw, source_file="x", doc_id=doc_id, language="en")
    assert article.provenance == Provenance(url="https://example.org/news/1", title="Talks resume")


def test_json_lines_become_seed_files_with_headers(project, capsys):
    records = [
        {"text": "First article.", "date": "2024-02", "url": "http://example.org/1", "publisher": "Example News"},
        {"text": "Second article.\nLine two.", "date": "2024-02-03", "language": "sr-Latn", "author": None},
    ]
    with open("batch.jsonl", "w", encoding="utf-8") as out:
        out.write("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n\n")
    code, out, err = add(project, capsys, "batch.jsonl")
    first, second = f"001_{hex16('First article.')}", f"002_{hex16('Second article.' + chr(10) + 'Line two.')}"
    assert (code, err) == (0, "")
    assert out == (
        f"added seeds/{first}.txt from batch.jsonl line 1\n"
        f"added seeds/{second}.txt from batch.jsonl line 2\n"
        "2 article(s) added; `newscorpus annotate push` makes them Label Studio tasks\n"
    )
    assert (project / "seeds" / f"{first}.txt").read_text(encoding="utf-8") == (
        "date 2024-02\nurl: http://example.org/1\npublisher: Example News\n\nFirst article.\n"
    )
    assert (project / "seeds" / f"{second}.txt").read_text(encoding="utf-8") == (
        "date 2024-02-03\nlanguage: sr-Latn\n\nSecond article.\nLine two.\n"
    )


def test_a_text_already_in_seeds_or_given_twice_is_refused(project, capsys):
    seed_body = parse_article((REPO / SEED_TEXT_FILE).read_bytes(), source_file="x", doc_id=SEED_ID, language="en").text
    with open("again.txt", "w", encoding="utf-8") as out:
        out.write(f"date 2023-06-01\ntitle: The same article\n\n{seed_body}\n")
    with open("twice.jsonl", "w", encoding="utf-8") as out:
        out.write(json.dumps({"text": "New.", "date": "2024"}) + "\n" + json.dumps({"text": " New. ", "date": "2025"}))
    before = tree_bytes(project / "seeds")
    code, out, err = add(project, capsys, "again.txt", "twice.jsonl")
    assert (code, out) == (1, "")
    assert err == (
        "error: 2 problems in the input; nothing was written:\n"
        f"  [again.txt] field=text: the same text is in {SEED_TEXT_FILE}; fix: leave it out: the article is in the"
        " corpus already\n"
        "  [twice.jsonl line 2] field=text: the same text is in twice.jsonl line 1; fix: leave it out: the article is"
        " in the corpus already\n"
    )
    assert tree_bytes(project / "seeds") == before


def test_every_problem_is_named_before_anything_is_written(project, capsys):
    with open("good.txt", "w", encoding="utf-8") as out:
        out.write("date 2024-05-06\n\nA good article.\n")
    with open("bad.txt", "w", encoding="utf-8") as out:
        out.write("date 2024-05-06\nsource: wire\n\nText.\n")
    lines = [
        '{"text": "One.", "date": "2024-13-01"}',
        '{"text": "Two.", "date": "2024-01-01", "url": "ftp://example.org/2"}',
        '{"text": "Three.", "date": "2024-01-01", "language": "english please"}',
        '{"text": "Four.", "date": "2024-01-01", "source": "wire"}',
        '{"text": "Five."}',
        '["not", "an", "object"]',
        '{"text": "Seven.", "date": "2024-01-01",',
        '{"text": "Eight.", "date": "2024-01-01", "title": "Two\\nlines"}',
    ]
    with open("bad.jsonl", "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    before = tree_bytes(project / "seeds")
    code, out, err = add(project, capsys, "good.txt", "bad.txt", "bad.jsonl", "missing.txt", "notes.md")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "error: 11 problems in the input; nothing was written:",
        "  [bad.jsonl line 1] field=date: date '2024-13-01' does not exist (month must be in 1..12);"
        " fix: correct the date",
        "  [bad.jsonl line 2] field=url: url 'ftp://example.org/2' is not an http(s) address;"
        " fix: give the article's address, https://...",
        "  [bad.jsonl line 3] field=language: language 'english please' is not a language tag;"
        " fix: write a BCP 47 tag such as 'en', 'sr-Latn' or 'pt-BR'",
        "  [bad.jsonl line 4] field=source: unknown field 'source';"
        " fix: use only the fields text, date, url, title, publisher, author, language",
        "  [bad.jsonl line 5] field=date: date is missing, not a string; fix: give the article's date as a string",
        "  [bad.jsonl line 6] field=line: is a JSON list, not an object; fix: write one JSON object per line",
        "  [bad.jsonl line 7] field=line: is not JSON (Expecting property name enclosed in double quotes at column 41);"
        " fix: write one JSON object per line",
        "  [bad.jsonl line 8] field=title: title 'Two\\nlines' is empty or not one line;"
        " fix: give the title on one line, or leave it out",
        "  [bad.txt] field=source: unknown header 'source'; fix: use only the headers url, title, publisher, author,"
        " language; if the article text starts here, put a blank line after the date line",
        "  [missing.txt] field=file: does not exist; fix: name an article file (.txt) or JSON Lines (.jsonl)",
        "  [notes.md] field=file: is neither a text file (.txt) nor JSON Lines (.jsonl); fix: give an article as a"
        " .txt file (date line, headers, text) or as JSON Lines in a .jsonl file",
    ]
    assert tree_bytes(project / "seeds") == before


def test_a_plain_file_without_date_is_named(project, capsys):
    with open("nodate.txt", "w", encoding="utf-8") as out:
        out.write("Just text.\n")
    assert add(project, capsys, "nodate.txt") == (
        1,
        "",
        "error: 1 problem in the input; nothing was written:\n"
        "  [nodate.txt] field=published: no 'date YYYY-MM-DD' header at the start of the file;"
        " fix: make the first line 'date YYYY-MM-DD' (or 'date YYYY-MM', 'date YYYY')\n",
    )


def test_numbers_continue_after_the_highest(project, capsys):
    (project / "seeds" / "041_0123456789abcdef.txt").write_text("date 2020\n\nAn older one.\n", encoding="utf-8")
    with open("next.jsonl", "w", encoding="utf-8") as out:
        out.write(json.dumps({"text": "Next.", "date": "2024-01-01"}) + "\n")
    code, out, _ = add(project, capsys, "next.jsonl")
    assert code == 0
    assert out.startswith(f"added seeds/042_{hex16('Next.')}.txt from next.jsonl line 1\n")


def test_a_named_pipe_or_a_folder_is_refused_without_reading_it(project, capsys):
    """A FIFO would block a reader forever: it is refused by its type, never opened."""
    import os

    os.mkfifo("pipe.txt")
    os.mkdir("folder.jsonl")
    before = tree_bytes(project / "seeds")
    code, out, err = add(project, capsys, "pipe.txt", "folder.jsonl")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "error: 2 problems in the input; nothing was written:",
        "  [folder.jsonl] field=file: is not a file; fix: name an article file (.txt) or JSON Lines (.jsonl)",
        "  [pipe.txt] field=file: is not a file; fix: name an article file (.txt) or JSON Lines (.jsonl)",
    ]
    assert tree_bytes(project / "seeds") == before
