"""`newscorpus add FILE...`: new articles into seeds/, each under the doc_id rule.

An input is a plain-text seed file (`*.txt`, the format `ingest` reads: the date line,
optional provenance headers, the text), copied byte for byte, or JSON Lines (`*.jsonl`),
one article per line as an object with `text` and `date` and optionally `url`, `title`,
`publisher`, `author`, `language`, written as a seed file with those headers.

The doc_id rule: `NNN_<the first 16 hex digits of the sha256 of the article text>`, the
text as `ingest` reads it (UTF-8, after the date line and headers, surrounding whitespace
removed); `NNN` is one more than the highest leading number of a seed file name in seeds/
(000 in an empty folder), zero-padded to three digits, counting up in the order the
articles are given. A text already in seeds/ (or given twice) is refused. Every input is
checked before anything is written: one problem and nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from newscorpus.errors import InputError, Problem
from newscorpus.ingest import (
    PROVENANCE_KEYS,
    failing_at,
    parse_date,
    parse_seed_bytes,
    provenance_of,
    read_seeds,
    seed_paths,
    sha256_text,
)
from newscorpus.project import Project

_SEQUENCE = re.compile(r"(\d+)_")
JSONL_FIELDS = ("text", "date", *PROVENANCE_KEYS)
JSONL_FIX = f"use only the fields {', '.join(JSONL_FIELDS)}"


@dataclass(frozen=True)
class NewArticle:
    source: str  # the input as named on the command line, with the JSON Lines line: "new.jsonl line 3"
    text_sha256: str
    content: bytes  # exactly what its seed file will hold


@dataclass(frozen=True)
class AddedSeed:
    source: str
    seed_file: str  # as the project names it: "seeds/001_<hex>.txt"


def add_articles(project: Project, inputs: Sequence[Path]) -> list[AddedSeed]:
    """Check every input, then write one seeds/<doc_id>.txt per article; nothing is written on any problem."""
    existing = read_seeds(seed_paths(project.seeds_dir), relative=project.relative, language=project.schema.language)
    known = {seed.text_sha256: seed.source_file for seed in existing.values()}
    numbers = [int(m[1]) for doc_id in existing if (m := _SEQUENCE.match(doc_id))]
    number = max(numbers, default=-1) + 1
    problems: list[Problem] = []
    planned: list[tuple[str, NewArticle]] = []
    for path in inputs:
        try:
            articles = _read_input(path)
        except InputError as exc:
            problems += exc.problems
            continue
        for article in articles:
            if article.text_sha256 in known:
                where = known[article.text_sha256]
                problems.append(_problem(article.source, "text", f"the same text is in {where}", _DUPLICATE_FIX))
                continue
            known[article.text_sha256] = article.source
            doc_id = f"{number:03d}_{article.text_sha256[:16]}"  # the doc_id rule
            planned.append((doc_id, article))
            number += 1
    if problems:
        raise InputError(problems)
    project.seeds_dir.mkdir(parents=True, exist_ok=True)
    added = []
    for doc_id, article in planned:
        path = project.seeds_dir / f"{doc_id}.txt"
        with path.open("xb") as out:  # never replaces a file
            out.write(article.content)
        added.append(AddedSeed(article.source, project.relative(path)))
    return added


_DUPLICATE_FIX = "leave it out: the article is in the corpus already"


def _problem(source: str, field: str, message: str, fix: str) -> Problem:
    return Problem(source, field=field, message=message, fix=fix)


def _read_input(path: Path) -> list[NewArticle]:
    name = path.as_posix()
    if path.suffix not in (".txt", ".jsonl"):
        raise InputError([_problem(name, "file", "is neither a text file (.txt) nor JSON Lines (.jsonl)", _NAME_FIX)])
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a file"
        raise InputError([_problem(name, "file", what, "name an article file (.txt) or JSON Lines (.jsonl)")])
    raw = path.read_bytes()
    if path.suffix == ".txt":
        content = parse_seed_bytes(raw, failing_at(name, None))  # checked as the build will read it
        return [NewArticle(name, sha256_text(content.text), raw)]
    return _read_jsonl(name, raw)


_SURROGATE_FIX = "write the character itself, or both halves of its surrogate pair"
_NAME_FIX = "give an article as a .txt file (date line, headers, text) or as JSON Lines in a .jsonl file"


def _read_jsonl(name: str, raw: bytes) -> list[NewArticle]:
    try:
        decoded = raw.decode("utf-8-sig")  # a BOM is harmless here: nothing of this file is kept as bytes
    except UnicodeDecodeError as exc:
        raise InputError(
            [_problem(name, "encoding", f"byte {exc.start} is not valid UTF-8", "re-save the file as UTF-8")]
        ) from None
    articles, problems = [], []
    for number, line in enumerate(decoded.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            articles.append(_record(f"{name} line {number}", line))
        except InputError as exc:
            problems += exc.problems
    if not articles and not problems:
        problems.append(_problem(name, "file", "holds no article", "write one JSON object per line"))
    if problems:
        raise InputError(problems)
    return articles


def _record(source: str, line: str) -> NewArticle:
    fail = failing_at(source, None)
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise fail("line", f"is not JSON ({exc.msg} at column {exc.colno})", "write one JSON object per line") from None
    if not isinstance(record, dict):
        raise fail("line", f"is a JSON {type(record).__name__}, not an object", "write one JSON object per line")
    unknown = sorted(set(record) - set(JSONL_FIELDS))
    if unknown:
        raise fail(unknown[0], f"unknown field {unknown[0]!r}", JSONL_FIX)
    for key, value in record.items():
        if isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value):
            raise fail(key, "holds a lone surrogate escape (\\ud800-\\udfff), which is no character", _SURROGATE_FIX)
    for required in ("date", "text"):
        if not isinstance(record.get(required), str):
            got = "missing" if record.get(required) is None else f"a {type(record[required]).__name__}"
            raise fail(required, f"{required} is {got}, not a string", f"give the article's {required} as a string")
    parse_date(record["date"].strip(), lambda _field, message, fix: fail("date", message, fix))
    values = {key: record[key] for key in PROVENANCE_KEYS if record.get(key) is not None}
    provenance = provenance_of(values, fail, "field", JSONL_FIX)
    if not record["text"].strip():
        raise fail("text", "the article text is empty", "give the article's text")
    headers = [f"{key}: {getattr(provenance, key)}" for key in PROVENANCE_KEYS if getattr(provenance, key)]
    # a blank line always ends the date line and headers, so that the text's first line is never read as one
    content = "\n".join([f"date {record['date'].strip()}", *headers]) + "\n\n" + record["text"].strip() + "\n"
    encoded = content.encode("utf-8")
    parsed = parse_seed_bytes(encoded, fail)  # the seed reads back as given
    return NewArticle(source, sha256_text(parsed.text), encoded)
