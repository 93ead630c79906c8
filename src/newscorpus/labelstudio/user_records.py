"""Which Label Studio user id is which person, per export: `<export>.users.json` beside each export.

A native export names annotators only by user id (`completed_by`), and ids are per server: user
4 on one server is not user 4 on the next. So `annotate pull` asks the server, at pull time, for
the email of every user the export names and writes them beside the export, with a `.sha256` of
its own like the export's:

    annotation/exports/20261201T090000Z-project-3.json                    the export, as downloaded
    annotation/exports/20261201T090000Z-project-3.json.sha256             `<hex>  <name>`
    annotation/exports/20261201T090000Z-project-3.json.users.json         this record
    annotation/exports/20261201T090000Z-project-3.json.users.json.sha256  `<hex>  <name>.users.json`

The record is JSON: `{"export": NAME, "source": WHERE FROM, "users": [{"id": N, "email": E}, ...]}`,
users in id order, emails lower-case (Label Studio stores them so). An old export stays
resolvable for as long as its record is kept: never edit one; pull again instead. A leaf of the
stage: imports only `errors`, `files` and `export_names`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from newscorpus.errors import InputError, Problem
from newscorpus.files import bytes_sha256
from newscorpus.labelstudio.export_names import RECORD_SUFFIX, SIDECAR_SUFFIX, entry_kind

_SHA256 = re.compile(r"[0-9a-f]{64}")
REWRITE = "pull again (`newscorpus annotate pull` writes the record beside each export), or restore the record"


def record_path(export: Path) -> Path:
    """Where the user record of an export is: `<export name>.users.json` beside it."""
    return export.with_name(export.name + RECORD_SUFFIX)


def record_text(export_name: str, users: dict[int, str], source: str) -> str:
    """The record's bytes as `pull` writes them (and as a record made by hand must be written)."""
    head = {"export": export_name, "source": source}
    lines = [f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}," for key, value in head.items()]
    rows = [json.dumps({"id": uid, "email": users[uid].lower()}, ensure_ascii=False) for uid in sorted(users)]
    listed = "[\n" + ",\n".join(f"    {row}" for row in rows) + "\n  ]" if rows else "[]"
    return "{\n" + "\n".join(lines) + f'\n  "users": {listed}\n}}\n'


def sidecar_text(path: Path, data: bytes) -> str:
    return f"{bytes_sha256(data)}  {path.name}\n"


def write_record(export: Path, users: dict[int, str], source: str) -> Path:
    """Write the record and its `.sha256` beside `export` (each through a temporary file, then renamed)."""
    path = record_path(export)
    data = record_text(export.name, users, source).encode("utf-8")
    for target, content in ((path, data), (path.with_name(path.name + SIDECAR_SUFFIX), None)):
        content = content if content is not None else sidecar_text(path, data).encode("utf-8")
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, target)
    return path


def read_record(export: Path, name: str) -> dict[int, str] | None:
    """user id -> email from the export's record; None when the export has no record.

    `name` is how messages call the export. A record that is not a plain file, does not match
    its `.sha256`, is not the JSON `write_record` writes or names another export is an
    InputError naming the record.
    """
    path = record_path(export)
    shown = f"{name}{RECORD_SUFFIX}"
    kind = entry_kind(path)
    if kind == "missing":
        return None
    if kind is not None:
        raise InputError([Problem(shown, message=f"{kind}, not a user record", fix=REWRITE)])
    data = path.read_bytes()
    _check_sidecar(path, data, shown)
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([Problem(shown, message=f"not valid JSON ({exc})", fix=REWRITE)]) from None
    problem = _shape_problem(body, export.name)
    if problem:
        raise InputError([Problem(shown, field=problem[0], message=problem[1], fix=REWRITE)])
    return {user["id"]: user["email"].lower() for user in body["users"]}


def _check_sidecar(path: Path, data: bytes, shown: str) -> None:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    kind = entry_kind(sidecar)
    if kind == "missing":
        return  # a record laid out without its checksum (reproduce copies recorded inputs only)
    if kind is not None:
        raise InputError([Problem(shown, field="sha256", message=f"{sidecar.name} is {kind}", fix=REWRITE)])
    recorded = sidecar.read_bytes()[:4096].split()[:1]
    digest = recorded[0].decode("latin-1") if recorded else ""
    if not _SHA256.fullmatch(digest):
        raise InputError(
            [Problem(shown, field="sha256", message=f"{sidecar.name} does not start with a sha256", fix=REWRITE)]
        )
    if digest != bytes_sha256(data):
        raise InputError(
            [
                Problem(
                    shown,
                    field="sha256",
                    message=f"the record no longer matches {sidecar.name}",
                    fix="user records are kept as written: restore it, or pull again",
                )
            ]
        )


def _shape_problem(body: object, export_name: str) -> tuple[str, str] | None:
    """(field, message) of the first thing wrong with a record's JSON, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("users"), list):
        return "users", "expected an object with a list 'users' of {id, email}"
    if body.get("export") != export_name:
        return "export", f"names export {body.get('export')!r}, not {export_name!r}, the file it stands beside"
    seen: set[int] = set()
    for index, user in enumerate(body["users"]):
        uid = user.get("id") if isinstance(user, dict) else None
        email = user.get("email") if isinstance(user, dict) else None
        if type(uid) is not int or uid < 0 or not isinstance(email, str) or "@" not in email:
            return f"users[{index}]", 'expected {"id": a user id, "email": an email}'
        if uid in seen:
            return f"users[{index}].id", f"user {uid} is listed twice"
        seen.add(uid)
    return None
