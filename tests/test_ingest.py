import datetime as dt
import hashlib

import pytest

from newscorpus.errors import InputError
from newscorpus.ingest import Provenance, parse_article, read_articles
from tests.helpers import REPO, SEED_ID


def parse(raw: bytes, doc_id: str = "doc1"):
    return parse_article(raw, source_file=f"seeds/{doc_id}.txt", doc_id=doc_id, language="en")


def error_of(raw: bytes, doc_id: str = "doc1") -> str:
    with pytest.raises(InputError) as caught:
        parse(raw, doc_id)
    return str(caught.value)


def test_the_seed_article():
    raw = (REPO / "seeds" / f"{SEED_ID}.txt").read_bytes()
    article = parse(raw, SEED_ID)
    assert article.doc_id == SEED_ID
    assert article.published == dt.date(2023, 6, 1)
    assert article.published_precision == "day"
    assert article.language == "en"
    assert article.source_file == f"seeds/{SEED_ID}.txt"
    # The header and the space before it are gone; the body starts on the header's line.
    assert article.text.startswith("“All the legitimate rights and interests of Kosovo Serbs")
    assert article.text.endswith("in the north of the country bordering Serbia.")
    assert article.text.count("\n\n") == 11 and "\r" not in article.text
    assert article.text_sha256 == hashlib.sha256(article.text.encode("utf-8")).hexdigest()
    # Nothing inside the body changed: it is a contiguous slice of the decoded file.
    assert article.text in raw.decode("utf-8")


def test_body_on_following_lines_and_crlf():
    article = parse(b"date 2022-07\r\n\r\nFirst line.\r\nSecond line.\r\n")
    assert article.text == "First line.\nSecond line."
    assert (article.published, article.published_precision) == (dt.date(2022, 7, 1), "month")


def test_year_precision_and_inner_whitespace_kept():
    article = parse("date 2021 Zvešan  –  “quoted”\t text.  \n".encode())
    assert (article.published, article.published_precision) == (dt.date(2021, 1, 1), "year")
    assert article.text == "Zvešan  –  “quoted”\t text."


def test_missing_date_header():
    assert error_of(b"Tension prevailed in northern Kosovo.") == (
        "1 problem in the input; nothing was written:\n"
        "  [seeds/doc1.txt] doc_id=doc1 field=published: no 'date YYYY-MM-DD' header at the start of the file;"
        " fix: make the first line 'date YYYY-MM-DD' (or 'date YYYY-MM', 'date YYYY')"
    )


def test_impossible_date():
    assert error_of(b"date 2023-02-30 Text.") == (
        "1 problem in the input; nothing was written:\n"
        "  [seeds/doc1.txt] doc_id=doc1 field=published: date '2023-02-30' does not exist"
        " (day is out of range for month); fix: correct the date"
    )


def test_malformed_date():
    assert "date '01.06.2023' is not YYYY-MM-DD, YYYY-MM or YYYY" in error_of(b"date 01.06.2023 Text.")


def test_empty_body():
    assert error_of(b" date 2023-06-01 \n\n  \n").endswith(
        "field=text: the article body is empty; fix: add the article text after the date header"
    )


def test_not_utf8():
    assert error_of(b"date 2023-06-01 Zve\x9aan").endswith(
        "field=encoding: byte 19 (b'\\x9a') is not valid UTF-8; fix: re-save the file as UTF-8"
    )


def test_byte_order_mark():
    assert error_of(b"\xef\xbb\xbfdate 2023-06-01 Text.").endswith(
        "field=encoding: the file starts with a UTF-8 byte order mark; fix: save it as UTF-8 without BOM"
    )


def test_bad_doc_id():
    message = error_of(b"date 2023-06-01 Text.", doc_id="../etc")
    assert "file name stem '../etc' is not a valid doc_id" in message


def test_duplicate_doc_id_and_all_problems_reported(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "doc1.txt").write_bytes(b"date 2023-06-01 One.")
    (tmp_path / "b" / "DOC1.txt").write_bytes(b"date 2023-06-01 Two.")
    (tmp_path / "b" / "doc2.txt").write_bytes(b"no header")
    with pytest.raises(InputError) as caught:
        read_articles(
            sorted(tmp_path.rglob("*.txt")), relative=lambda p: p.relative_to(tmp_path).as_posix(), language="en"
        )
    assert str(caught.value) == (
        "2 problems in the input; nothing was written:\n"
        "  [b/DOC1.txt] doc_id=DOC1 field=doc_id: doc_id repeats a/doc1.txt; fix: give each article a file name"
        " of its own\n"
        "  [b/doc2.txt] doc_id=doc2 field=published: no 'date YYYY-MM-DD' header at the start of the file;"
        " fix: make the first line 'date YYYY-MM-DD' (or 'date YYYY-MM', 'date YYYY')"
    )


# -- provenance headers: only after a date line that carries nothing else, ended by a blank line -----------


def test_provenance_headers():
    article = parse(
        "date 2024-03-05\r\nurl: https://example.org/a?id=1\r\ntitle:  Zvešan talks \r\npublisher: RTS\r\n"
        "author: Ana Đurić\r\nlanguage: sr-Latn\r\n\r\nurl: is not a header here.\r\n".encode()
    )
    assert article.provenance == Provenance(
        url="https://example.org/a?id=1", title="Zvešan talks", publisher="RTS", author="Ana Đurić", language="sr-Latn"
    )
    assert article.text == "url: is not a header here."
    assert article.language == "en"  # the project's language; the header is the article's own statement


def test_no_headers_without_them_or_with_the_body_on_the_date_line():
    assert parse(b"date 2024-03-05 title: Text on the date line.").provenance == Provenance()
    assert parse(b"date 2024-03-05 title: Text on the date line.").text == "title: Text on the date line."
    # the first line after the date is not 'name: value': the body starts there, as it always did
    article = parse(b"date 2024-03-05\nTitle: Upper case is text.\nurl: x\n")
    assert (article.provenance, article.text) == (Provenance(), "Title: Upper case is text.\nurl: x")
    # a blank line right after the date line: no headers, whatever follows
    assert parse(b"date 2024-03-05\n\nurl: text.\n").text == "url: text."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b"date 2024-03-05\nsource: wire\n\nText.",
            "field=source: unknown header 'source'; fix: use only the headers url, title, publisher, author,"
            " language; if the article text starts here, put a blank line after the date line",
        ),
        (
            b"date 2024-03-05\ntitle: One\ntitle: Two\n\nText.",
            "field=title: header 'title' is given twice; fix: keep one 'title:' line",
        ),
        (
            b"date 2024-03-05\nurl: example.org/a\n\nText.",
            "field=url: url 'example.org/a' is not an http(s) address; fix: give the article's address, https://...",
        ),
        (
            b"date 2024-03-05\nurl: javascript:alert(1)\n\nText.",
            "field=url: url 'javascript:alert(1)' is not an http(s) address; fix: give the article's address,"
            " https://...",
        ),
        (
            b"date 2024-03-05\nlanguage: English\n\nText.",
            "field=language: language 'English' is not a language tag; fix: write a BCP 47 tag such as 'en',"
            " 'sr-Latn' or 'pt-BR'",
        ),
        (
            b"date 2024-03-05\nauthor:   \n\nText.",
            "field=author: author '   ' is empty or not one line; fix: give the author on one line, or leave it out",
        ),
        (
            b"date 2024-03-05\ntitle: Talks\nTalks resumed on Monday.",
            "field=headers: line 'Talks resumed on Monday.' follows the headers but is not a header 'name: value';"
            " fix: put a blank line between the headers and the article text",
        ),
        (
            b"date 2024-03-05\ntitle: Talks\n\n \n",
            "field=text: the article body is empty; fix: after the headers, add a blank line and the article text",
        ),
        (
            b"date 2024-03-05\ntitle: Talks",
            "field=text: the article body is empty; fix: after the headers, add a blank line and the article text",
        ),
    ],
    ids=["unknown", "twice", "url-no-scheme", "url-other", "language", "empty", "no-blank-line", "no-body", "no-end"],
)
def test_bad_headers(raw, expected):
    assert error_of(raw) == f"1 problem in the input; nothing was written:\n  [seeds/doc1.txt] doc_id=doc1 {expected}"
