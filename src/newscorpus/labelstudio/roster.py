"""The roster: each annotator's email and pseudonymous code (A01, A02, ...), in annotation/annotators.yaml.

Label Studio knows annotators by user id, which differs from one server to the next; the
roster names people once for all servers. With the per-export user records (`user_records`)
an annotation's `completed_by` becomes a code: export -> user id -> email -> code. Releases
and agreement reports carry codes, never emails or server ids.

The file, as `newscorpus annotate users add` writes it:

    annotators:
      - code: A01
        email: someone@example.org

Codes are given in order and never reused: an entry is never removed (older exports name its
person, and builds must still resolve them), so the roster is checked to run A01, A02, ...
without a gap, and the next code is one past the last. Emails are compared in lower case, as
Label Studio stores them.

For the agreement report and other readers: `codes_for_export(project, export_path)` maps the
user ids of one export to codes. A leaf of the stage: imports `errors`, `project`,
`task_shape`, `user_records` and `export_names` only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from newscorpus.errors import InputError, Location, Problem
from newscorpus.labelstudio.task_shape import user_id
from newscorpus.labelstudio.user_records import RECORD_SUFFIX, read_record
from newscorpus.project import Project

ROSTER_FILE = "annotation/annotators.yaml"
_CODE = re.compile(r"A(\d{2,})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PLAIN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")  # written unquoted; anything else JSON-quoted
_HEADER = """\
# The annotators of newscorpus: each person's email and pseudonymous code.
# Written by `newscorpus annotate users add EMAIL`; see docs/annotating.md.
# Never remove or renumber an entry: older exports name its person, and codes are never reused.
"""


def add_user_fix(email: str) -> str:
    """How to put someone on the roster, for messages."""
    return (
        f"add {email} to {ROSTER_FILE} with `newscorpus annotate users add {email} --password-env VAR`"
        f" (or `--roster-only` when the account exists already), then build again"
    )


@dataclass(frozen=True)
class Roster:
    entries: tuple[tuple[str, str], ...] = ()  # (code, email), in code order

    def code_of(self, email: str) -> str | None:
        wanted = email.lower()
        return next((code for code, known in self.entries if known == wanted), None)

    def next_code(self) -> str:
        return f"A{len(self.entries) + 1:02d}"

    def added(self, email: str) -> tuple[Roster, str, bool]:
        """(the roster with `email`, its code, whether it was added now)."""
        code = self.code_of(email)
        if code is not None:
            return self, code, False
        code = self.next_code()
        return Roster((*self.entries, (code, email.lower()))), code, True

    def text(self) -> str:
        lines = [_HEADER, "annotators:" if self.entries else "annotators: []"]
        for code, email in self.entries:
            shown = email if _PLAIN.fullmatch(email) else _json_string(email)
            lines += [f"  - code: {code}", f"    email: {shown}"]
        return "\n".join(lines) + "\n"


def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def roster_path(project: Project) -> Path:
    return project.root / ROSTER_FILE


def is_email(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None


def read_roster(project: Project) -> Roster | None:
    """The project's roster; None when it has none (a project from before rosters)."""
    path = roster_path(project)
    if not path.exists():
        return None
    try:
        body = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError([_problem(None, f"not valid YAML ({' '.join(str(exc).split())})")]) from None
    if not isinstance(body, dict) or not isinstance(body.get("annotators"), list):
        raise InputError([_problem("annotators", "expected 'annotators:' with a list of {code, email}")])
    entries: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for index, entry in enumerate(body["annotators"]):
        where = f"annotators[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"code", "email"}:
            problems.append(_problem(where, "expected exactly a code and an email"))
            continue
        code, email = entry["code"], entry["email"]
        expected = f"A{index + 1:02d}"
        if code != expected:
            problems.append(
                _problem(
                    f"{where}.code",
                    f"expected {expected}, got {code!r}: codes run A01, A02, ... in order, without a gap",
                    fix=f"restore {ROSTER_FILE} as committed; entries are never removed or renumbered",
                )
            )
        if not isinstance(email, str) or not is_email(email):
            problems.append(_problem(f"{where}.email", f"{email!r} is not an email"))
            continue
        if any(known == email.lower() for _, known in entries):
            problems.append(_problem(f"{where}.email", f"{email} is listed twice"))
        entries.append((str(code), email.lower()))
    if problems:
        raise InputError(problems)
    return Roster(tuple(entries))


def write_roster(project: Project, roster: Roster) -> Path:
    path = roster_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(roster.text(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _problem(field: str | None, message: str, fix: str = f"correct {ROSTER_FILE} (docs/annotating.md)") -> Problem:
    return Problem(ROSTER_FILE, field=field, message=message, fix=fix)


def code_order(code: str) -> tuple[int, str]:
    """Codes in natural order: A99 before A100."""
    return (len(code), code)


def codes_for_export(project: Project, export_path: Path) -> dict[int, str]:
    """Label Studio user id -> roster code, for the users of one export (by its user record).

    Users the record lists who are not on the roster are left out; ask `read_record` for
    them. Raises InputError when the project has no roster or the export no record, naming
    the fix; the record's own problems (checksum, shape) are InputErrors too.
    """
    roster = read_roster(project)
    name = project.relative(export_path)
    if roster is None:
        raise InputError([_problem(None, "the project has no roster", fix=add_user_fix("EMAIL"))])
    users = read_record(export_path, name)
    if users is None:
        raise InputError([_missing_record(Location(name), "completed_by")])
    return {uid: code for uid, email in users.items() if (code := roster.code_of(email)) is not None}


def annotator_code(project: Project) -> Callable[[Path, int], str]:
    """`code(export_path, user_id)` for readers that name one annotator at a time (the agreement report).

    Raises InputError (naming export and user) for a user who cannot be resolved to a code.
    """
    cache: dict[Path, dict[int, str]] = {}

    def code(export_path: Path, user: int) -> str:
        if export_path not in cache:
            cache[export_path] = codes_for_export(project, export_path)
        found = cache[export_path].get(user)
        if found is None:
            where = Location(project.relative(export_path))
            raise InputError([where.problem(f"Label Studio user {user} has no roster code", fix=REWRITE_OR_ADD)])
        return found

    return code


REWRITE_OR_ADD = f"add the user's email to {ROSTER_FILE} (`newscorpus annotate users add`), or pull again"


def _missing_record(where: Location, field: str) -> Problem:
    return where.problem(
        f"the export has no user record {Path(where.file).name}{RECORD_SUFFIX} saying who Label Studio user ids are",
        field=field,
        fix="pull again (`newscorpus annotate pull` writes the record beside each export), or write the record"
        " by hand from what you know of the server it came from (docs/annotating.md: user records)",
    )


class Attribution:
    """Resolves the annotators of chosen tasks to roster codes, export by export (records read once each)."""

    def __init__(self, roster: Roster):
        self.roster = roster
        self._records: dict[Path, dict[int, str] | InputError | None] = {}

    def codes(
        self, path: Path, name: str, task_id: int, doc_id: str, submitted: list[dict]
    ) -> tuple[tuple[str, ...], list[Problem]]:
        """The codes of everyone who submitted one of `submitted`, or the problems that stop it."""
        if path not in self._records:
            try:
                self._records[path] = read_record(path, name)
            except InputError as exc:
                self._records[path] = exc
        users = self._records[path]
        if isinstance(users, InputError):
            return (), list(users.problems)
        codes, problems = set(), []
        for annotation in submitted:
            where = Location(name, task_id, annotation.get("id"), doc_id=doc_id)
            uid = user_id(annotation.get("completed_by"))
            if uid is None:
                problems.append(
                    where.problem(
                        "the annotation names no annotator, so it cannot be put to a roster code",
                        field="completed_by",
                        fix="download the export again from Label Studio (native JSON)",
                    )
                )
            elif users is None:
                problems.append(_missing_record(where, "completed_by"))
            elif uid not in users:
                listed = ", ".join(str(u) for u in sorted(users)) or "none"
                problems.append(
                    where.problem(
                        f"Label Studio user {uid} is not in the export's user record {Path(name).name}{RECORD_SUFFIX}"
                        f" (users {listed})",
                        field="completed_by",
                        fix="pull again from the server the export came from, so that the record lists every annotator",
                    )
                )
            elif (code := self.roster.code_of(users[uid])) is None:
                problems.append(
                    where.problem(
                        f"annotated by {users[uid]} (Label Studio user {uid}), who is not on the roster {ROSTER_FILE}",
                        field="completed_by",
                        fix=add_user_fix(users[uid]),
                    )
                )
            else:
                codes.add(code)
        return tuple(sorted(codes, key=code_order)), problems
