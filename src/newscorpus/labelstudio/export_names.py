"""What counts as an export in annotation/exports/: the names `annotate pull` writes, as plain files.

`annotate pull` names each export `YYYYMMDDTHHMMSSZ-project-N.json` (the UTC time of the
download, the Label Studio project id) and writes `<name>.sha256` beside it, and the export's
user record `<name>.users.json` with its own `<name>.users.json.sha256` (`user_records`). Names order by
time, and the build ranks exports by name, so a file under any other name (a copy
`backup-project-2.json`, `export.JSON`, `<name>.json.bak`) would be ranked by an accident of
its spelling; it is reported instead, never read. So is an entry that is not a plain file (a
folder, a named pipe, a symbolic link, dangling or not): an export is kept exactly as
downloaded, in the repository, and a pipe would block whoever opens it. Hidden names (a
leading dot) are left alone unless they end in `.json`: a pull writes its `.<name>.<pid>.tmp`
files there before moving them into place, and `.gitkeep`-style files are not inputs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from pathlib import Path

from newscorpus.errors import Problem

SIDECAR_SUFFIX = ".sha256"
RECORD_SUFFIX = ".users.json"  # an export's user record (`user_records`)
_EXPORT_NAME = re.compile(r"(\d{8}T\d{6}Z)-project-([1-9][0-9]{0,17})\.json")
_PULL = "`newscorpus annotate pull` names exports YYYYMMDDTHHMMSSZ-project-N.json, with a .sha256 beside each"


def export_name(when: dt.datetime, project_id: int) -> str:
    return f"{when.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}-project-{project_id}.json"


def is_export_name(name: str) -> bool:
    """A name `export_name` can write: the whole name (no trailing newline), a real UTC time, a project id."""
    match = _EXPORT_NAME.fullmatch(name)
    if match is None:
        return False
    try:
        dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ")
    except ValueError:
        return False
    return True


def export_paths(exports_dir: Path) -> list[Path]:
    """Every entry of the folder that is, or might be taken for, an export; sorted by name.

    The sidecars and user records of export names are left out (each export reads its own);
    everything else that is not hidden is listed, so that `check_export_path` reports it
    rather than the build skipping it silently. The folder is listed without opening or
    following anything.
    """
    if not exports_dir.is_dir():
        return []
    names = {entry.name for entry in os.scandir(exports_dir)}
    listed = []
    for name in names:
        if name.startswith(".") and not name.lower().endswith(".json"):
            continue
        if _owner(name) in names:
            continue  # an export's own sidecar or user record, a record's own sidecar
        listed.append(exports_dir / name)
    return sorted(listed)


def _owner(name: str) -> str | None:
    """The file a sidecar or user record stands beside: its export, or for a record's sidecar the record."""
    export = owner_export(name)
    if export is not None and name == export + RECORD_SUFFIX + SIDECAR_SUFFIX:
        return export + RECORD_SUFFIX
    return export


def owner_export(name: str) -> str | None:
    """The export name a sidecar, user record or user record's sidecar belongs to; None for other names."""
    for suffix in (SIDECAR_SUFFIX, RECORD_SUFFIX, RECORD_SUFFIX + SIDECAR_SUFFIX):
        export = name.removesuffix(suffix)
        if export != name and is_export_name(export):
            return export
    return None


def check_export_path(path: Path, name: str) -> Problem | None:
    """Why `path` cannot be read as an export (its name, or what kind of entry it is); None if it can.

    Nothing is opened: a named pipe would block the reader, and a folder or a link is no
    downloaded export. `name` is how messages call the file.
    """
    kind = entry_kind(path)
    if kind is not None:
        return Problem(name, message=f"{kind}, not an export file", fix=_fix_kind(kind))
    export = owner_export(path.name)
    if export is not None:
        if path.name == export + SIDECAR_SUFFIX:
            return Problem(
                name,
                message=f"a checksum file whose export {export} is not in the folder",
                fix="restore the export as downloaded, or delete its .sha256 too if the export was removed on purpose",
            )
        if path.name == export + RECORD_SUFFIX + SIDECAR_SUFFIX and os.path.lexists(path.with_name(export)):
            return Problem(
                name,
                message=f"a checksum file whose user record {export}{RECORD_SUFFIX} is not in the folder",
                fix="restore the user record as `annotate pull` wrote it, or pull again",
            )
        what = "a user record" if path.name == export + RECORD_SUFFIX else "the checksum of a user record"
        return Problem(
            name,
            message=f"{what} whose export {export} is not in the folder",
            fix="restore the export as downloaded, or delete its .sha256, .users.json and .users.json.sha256 too"
            " if the export was removed on purpose",
        )
    if not is_export_name(path.name):
        what = "not an export name" if path.name.lower().endswith(".json") else "not an export"
        return Problem(
            name,
            message=f"{what} ({_PULL})",
            fix="rename it to the name it was pulled under, or move it out of annotation/exports/",
        )
    return None


def check_sidecar_path(path: Path, name: str) -> Problem | None:
    """An export's `<name>.sha256` that exists but is no plain file (a folder, a pipe, a link)."""
    kind = entry_kind(path)
    if kind is None or kind == _MISSING:
        return None
    return Problem(name, field="sha256", message=f"{path.name} is {kind}, not a checksum file", fix=_fix_kind(kind))


_MISSING = "missing"


def entry_kind(path: Path) -> str | None:
    """What a folder entry is, in words, when it is not a plain file (None for a plain file); links are not followed."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return _MISSING
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):  # its target is not named: it may be a path on someone's machine
        return "a symbolic link" if os.path.exists(path) else "a symbolic link to nothing (dangling)"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device file"


def _fix_kind(kind: str) -> str:
    if kind == _MISSING:
        return "keep annotation/exports/ unchanged while a build runs"
    if kind.startswith("a symbolic link"):
        return "put the export file itself in annotation/exports/ (as downloaded by `annotate pull`), not a link"
    return "move it out of annotation/exports/; that folder holds only the files `annotate pull` writes"
