"""seeds/<doc_id>.txt -> Article. The text is never edited after this step.

A seed file is UTF-8 (no BOM; CRLF read as LF). It starts with the date line,
`date YYYY-MM-DD` (or `YYYY-MM`, `YYYY`), after optional leading whitespace:

- when the date line carries text after the date, that text starts the body (the committed
  seed's form) and there are no provenance headers;
- when the date line carries only the date, the lines right after it that have the form
  `name: value` (`name` lowercase ASCII letters) are provenance headers (`url`, `title`,
  `publisher`, `author`, `language`), ended by the first blank line; the body is what
  follows it. A first line that is not of that form (or a blank line) starts the body, as
  before headers existed.

The body is the rest with surrounding whitespace removed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from newscorpus.errors import InputError, Problem
from newscorpus.files import bytes_sha256

# Patterns are matched against the whole string (fullmatch): `$` would let a final newline through.
DOC_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
# "date 2023-06-01", "date 2022-07" or "date 2022"; the body may follow on the same line.
_HEADER = re.compile(r"date[ \t]+(?P<date>\S+)(?=\s|\Z)")
_DATE = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?")
_HEADER_LINE = re.compile(r"(?P<name>[a-z]+):(?P<value>.*)")
PROVENANCE_KEYS = ("url", "title", "publisher", "author", "language")
# A BCP 47-like tag: a 2-3 letter language, then subtags of 2-8 letters or digits ("en", "sr-Latn", "pt-BR").
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")

Fail = Callable[[str, str, str], Exception]  # (field, message, fix) -> the error to raise


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where an article comes from, as its seed's headers state it; None where not stated."""

    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    author: str | None = None
    language: str | None = None  # the article's own language tag, if stated


@dataclass(frozen=True)
class Article:
    doc_id: str
    published: dt.date
    published_precision: str  # "day", "month" or "year"
    language: str
    text: str
    text_sha256: str
    source_file: str  # as the project names it, e.g. "seeds/000_ef3ea5b0d932693c.txt"
    provenance: Provenance = field(default_factory=Provenance)


def sha256_text(text: str) -> str:
    return bytes_sha256(text.encode("utf-8"))


@dataclass(frozen=True)
class SeedContent:
    """What a seed file's bytes say, before the file has a doc_id."""

    published: dt.date
    published_precision: str
    provenance: Provenance
    text: str


def parse_article(raw: bytes, *, source_file: str, doc_id: str, language: str) -> Article:
    """Parse one seed file's bytes. Raises InputError naming the file and what to fix."""
    fail = failing_at(source_file, doc_id)
    if not DOC_ID_PATTERN.fullmatch(doc_id):
        raise fail(
            "doc_id",
            f"file name stem {doc_id!r} is not a valid doc_id ({DOC_ID_PATTERN.pattern})",
            "rename the file using only letters, digits, '_' and '-'",
        )
    content = parse_seed_bytes(raw, fail)
    return Article(
        doc_id=doc_id,
        published=content.published,
        published_precision=content.published_precision,
        language=language,
        text=content.text,
        text_sha256=sha256_text(content.text),
        source_file=source_file,
        provenance=content.provenance,
    )


def failing_at(source_file: str, doc_id: str | None) -> Fail:
    """The `fail` of one input: (field, message, fix) -> an InputError located in that file."""

    def fail(field: str, message: str, fix: str) -> InputError:
        return InputError([Problem(source_file, doc_id=doc_id, field=field, message=message, fix=fix)])

    return fail


def parse_seed_bytes(raw: bytes, fail: Fail) -> SeedContent:
    """The date, headers and text of a seed file's bytes (the module docstring's format)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raise fail("encoding", "the file starts with a UTF-8 byte order mark", "save it as UTF-8 without BOM")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(
            "encoding",
            f"byte {exc.start} ({raw[exc.start : exc.start + 1]!r}) is not valid UTF-8",
            "re-save the file as UTF-8",
        ) from None
    decoded = decoded.replace("\r\n", "\n")
    stripped = decoded.lstrip()
    header = _HEADER.match(stripped)
    if header is None:
        raise fail(
            "published",
            "no 'date YYYY-MM-DD' header at the start of the file",
            "make the first line 'date YYYY-MM-DD' (or 'date YYYY-MM', 'date YYYY')",
        )
    published, precision = parse_date(header["date"], fail)
    rest = stripped[header.end() :]
    date_line, newline, after = rest.partition("\n")
    provenance, body = Provenance(), rest
    if newline and not date_line.strip():  # the date line carries only the date: headers may follow
        provenance, body = _headers(after, fail, body)
    text = body.strip()
    if not text:
        raise fail("text", "the article body is empty", "add the article text after the date header")
    return SeedContent(published, precision, provenance, text)


def _headers(after_date: str, fail: Fail, body: str) -> tuple[Provenance, str]:
    """Provenance headers from the lines after a date line that carries only the date, and the body after them."""
    lines = after_date.split("\n")
    if not _HEADER_LINE.fullmatch(lines[0]):
        return Provenance(), body  # no header: the body starts on the next line, as before headers existed
    values: dict[str, str] = {}
    for index, line in enumerate(lines):
        if not line.strip():
            provenance, body = provenance_of(values, fail, "header", HEADER_FIX), "\n".join(lines[index + 1 :])
            if body.strip():
                return provenance, body
            break
        match = _HEADER_LINE.fullmatch(line)
        if match is None:
            raise fail(
                "headers",
                f"line {line[:40]!r}{'...' if len(line) > 40 else ''} follows the headers"
                " but is not a header 'name: value'",
                "put a blank line between the headers and the article text",
            )
        name = match["name"]
        if name in values:
            raise fail(name, f"header {name!r} is given twice", f"keep one '{name}:' line")
        values[name] = match["value"]
    raise fail("text", "the article body is empty", "after the headers, add a blank line and the article text")


HEADER_FIX = (
    f"use only the headers {', '.join(PROVENANCE_KEYS)}; if the article text starts here,"
    " put a blank line after the date line"
)


def provenance_of(values: dict[str, object], fail: Fail, what: str, unknown_fix: str) -> Provenance:
    """Checked provenance from header (or JSON Lines) values: every value a non-empty one-line string."""
    unknown = sorted(set(values) - set(PROVENANCE_KEYS))
    if unknown:
        raise fail(unknown[0], f"unknown {what} {unknown[0]!r}", unknown_fix)
    checked: dict[str, str] = {}
    for name, raw in values.items():
        if not isinstance(raw, str):
            raise fail(name, f"{name} is {type(raw).__name__}, not a string", f"write the {name} as a string")
        value = raw.strip()
        if not value or "\n" in value or "\r" in value:
            raise fail(
                name, f"{name} {raw!r} is empty or not one line", f"give the {name} on one line, or leave it out"
            )
        checked[name] = value
    url, language = checked.get("url"), checked.get("language")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
            raise fail("url", f"url {url!r} is not an http(s) address", "give the article's address, https://...")
    if language is not None and not LANGUAGE_TAG.fullmatch(language):
        raise fail(
            "language",
            f"language {language!r} is not a language tag",
            "write a BCP 47 tag such as 'en', 'sr-Latn' or 'pt-BR'",
        )
    return Provenance(**checked)


def parse_date(value: str, fail: Fail) -> tuple[dt.date, str]:
    """A date as YYYY-MM-DD, YYYY-MM or YYYY, with its precision ("day", "month", "year")."""
    match = _DATE.fullmatch(value)
    if match is None:
        raise fail("published", f"date {value!r} is not YYYY-MM-DD, YYYY-MM or YYYY", "write the date as YYYY-MM-DD")
    year, month, day = match["year"], match["month"], match["day"]
    precision = "day" if day else "month" if month else "year"
    try:
        date = dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        raise fail("published", f"date {value!r} does not exist ({exc})", "correct the date") from None
    return date, precision


@dataclass(frozen=True, slots=True)
class Seed:
    """What a streaming build keeps of an article: its checksum stands for the text, which is not kept."""

    doc_id: str
    published: dt.date
    published_precision: str
    text_sha256: str
    source_file: str
    provenance: Provenance = Provenance()

    def article(self, text: str, language: str) -> Article:
        """The article again, from a text whose checksum has been compared with this seed's."""
        return Article(
            self.doc_id,
            self.published,
            self.published_precision,
            language,
            text,
            self.text_sha256,
            self.source_file,
            self.provenance,
        )


def read_articles(paths: Iterable[Path], *, relative, language: str) -> list[Article]:
    """Read seed files, collecting every problem (bad files, repeated doc_ids) before raising."""
    return sorted(_read(paths, relative, language, lambda article: article), key=lambda a: a.doc_id)


def read_seeds(paths: Iterable[Path], *, relative, language: str) -> dict[str, Seed]:
    """Every seed checked like `read_articles`, keeping only what a streaming build needs (no text), by doc_id."""
    seeds = _read(paths, relative, language, _seed)
    return {seed.doc_id: seed for seed in sorted(seeds, key=lambda s: s.doc_id)}


def _seed(article: Article) -> Seed:
    return Seed(
        article.doc_id,
        article.published,
        article.published_precision,
        article.text_sha256,
        article.source_file,
        article.provenance,
    )


def _read(paths: Iterable[Path], relative, language: str, keep) -> list:
    kept: dict[str, object] = {}
    sources: dict[str, str] = {}
    problems: list[Problem] = []
    for path in sorted(paths):
        name = relative(path)
        try:
            article = parse_article(path.read_bytes(), source_file=name, doc_id=path.stem, language=language)
        except InputError as exc:
            problems += exc.problems
            continue
        key = article.doc_id.lower()  # case-insensitive: ids must not collide on any file system
        if key in kept:
            problems.append(
                Problem(
                    name,
                    doc_id=article.doc_id,
                    field="doc_id",
                    message=f"doc_id repeats {sources[key]}",
                    fix="give each article a file name of its own",
                )
            )
            continue
        kept[key] = keep(article)
        sources[key] = article.source_file
    if problems:
        raise InputError(problems)
    return list(kept.values())


def seed_paths(seeds_dir: Path) -> list[Path]:
    """Every *.txt below seeds/, sub-folders included (so two folders may clash on a doc_id).

    Each must be a regular file of the repository: a FIFO, a folder, a dangling symlink or a
    symlink to a file outside the repository (seeds/ lies in it) is refused with the reason,
    so that no seed is silently left out and a release never depends on a file the repository
    does not hold.
    """
    root = seeds_dir.parent.resolve()
    problems, found = [], []
    for path in sorted(seeds_dir.rglob("*.txt")):
        name = path.relative_to(seeds_dir.parent).as_posix()
        wrong = _not_a_seed_file(path, root)
        if wrong:
            fix = "replace it with the article as a UTF-8 text file in seeds/"
            problems.append(Problem(name, doc_id=path.stem, field="file", message=wrong, fix=fix))
        else:
            found.append(path)
    if problems:
        raise InputError(problems)
    return found


def _not_a_seed_file(path: Path, root: Path) -> str | None:
    """Why `path` cannot be read as a seed, or None."""
    if path.is_symlink():
        target = path.resolve()
        if not target.exists():
            return f"is a symlink to {os.readlink(path)!r}, which does not exist"
        if not target.is_relative_to(root):
            return "is a symlink to a file outside the repository (a release must depend only on files it holds)"
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return None
    kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
    return f"is {kind}, not a text file"
