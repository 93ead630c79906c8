"""The exception tree. The CLI turns every CorpusError into one message and exit code 1."""

from __future__ import annotations

from dataclasses import dataclass


class CorpusError(Exception):
    """Root of every error newscorpus raises on purpose."""


class SchemaError(CorpusError):
    """schemas/annotation.yaml is malformed, or a derived file is out of date."""


class CardError(CorpusError):
    """DATACARD.md is malformed: its front matter, a generated block or a section other files are made of."""


class ReleaseError(CorpusError):
    """A release cannot be written or read (exists already, bad version, locked)."""


class PublishError(CorpusError):
    """A release cannot be published to the Hub (bad repo id, no token, refused, or the version exists)."""


class ValidationError(CorpusError):
    """A release fails its Great Expectations suites; the message is the report (expectations, rows, ids)."""


class LabelStudioError(CorpusError):
    """The Label Studio server cannot be reached or refused a request."""


@dataclass(frozen=True)
class Location:
    """Where in an input something is read: file, Label Studio task and annotation, document."""

    file: str
    task_id: int | None = None
    annotation_id: int | None = None
    doc_id: str | None = None

    def problem(self, message: str, *, field: str | None = None, fix: str = "", region_id: str | None = None):
        """A Problem at this place (and, if given, in one region and field of it)."""
        return Problem(self.file, self.task_id, self.annotation_id, region_id, self.doc_id, field, message, fix)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows.

    The field order is the sort order, so a report lists problems file by file,
    task by task, annotation by annotation.
    """

    file: str
    task_id: int | None = None
    annotation_id: int | None = None
    region_id: str | None = None
    doc_id: str | None = None
    field: str | None = None
    message: str = ""
    fix: str = ""

    def location(self) -> str:
        parts = [self.file]
        if self.task_id is not None:
            parts.append(f"task {self.task_id}")
        if self.annotation_id is not None:
            parts.append(f"annotation {self.annotation_id}")
        if self.region_id is not None:
            parts.append(f"region {self.region_id}")
        return "[" + " > ".join(parts) + "]"

    def __str__(self) -> str:
        where = self.location()
        if self.doc_id is not None:
            where += f" doc_id={self.doc_id}"
        if self.field is not None:
            where += f" field={self.field}"
        text = f"{where}: {self.message}"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text


class InputError(CorpusError):
    """Bad input: every problem found in the inputs, reported together, sorted."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=_sort_key)
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the input; nothing was written:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


def _sort_key(problem: Problem) -> tuple:
    # None sorts before any value, so a whole-file problem comes before its tasks.
    return (
        problem.file,
        -1 if problem.task_id is None else problem.task_id,
        -1 if problem.annotation_id is None else problem.annotation_id,
        problem.region_id or "",
        problem.field or "",
        problem.message,
    )
