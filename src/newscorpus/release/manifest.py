"""A release's manifest.json and its versions: the format's leaf module.

`manifest.json` lists the inputs and outputs of a release with sha256 and size, and what
the build found and checked. Everything that reads or writes a manifest, or orders
versions, goes through here. Imports only `errors`, `files` and `schema`.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from newscorpus.errors import ReleaseError
from newscorpus.files import file_digest
from newscorpus.schema import VERSION_PATTERN

MANIFEST_NAME = "manifest.json"
# Manifest fields added after some releases were built: such a release is compared without them.
LATER_MANIFEST_FIELDS = ("validation", "layout")
# The release format: which configs, columns, card sections and Croissant fields a release has.
# A manifest records it as "format" from format 2 on; a release without the field is format 1.
# A patch release keeps the format of the release line it corrects (a patch adds no field or
# config); a new minor or major version is written in the current format.
CURRENT_FORMAT = 2
FIRST_FORMAT = 1
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
RESTORE = "restore manifest.json as the build wrote it, or rebuild the release"
OWN_FILES = "a release lists only its own files"


def check_version(version: str) -> str:
    """`X.Y.Z` (a leading `v` allowed) -> `X.Y.Z`; anything else is an error."""
    version = version.removeprefix("v")
    if not VERSION_PATTERN.fullmatch(version):
        raise ReleaseError(f"version {version!r} is not X.Y.Z (e.g. 0.1.0); see README: Versioning")
    return version


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of an `X.Y.Z` version: 0.10.0 comes after 0.9.0."""
    return tuple(int(x) for x in version.split("."))


def release_versions(corpus_dir: Path) -> list[str]:
    """Committed releases, oldest first."""
    found = [
        p.name[1:] for p in corpus_dir.glob("v*") if p.is_dir() and VERSION_PATTERN.fullmatch(p.name[1:]) is not None
    ]
    return sorted(found, key=version_key)


def release_format(manifest: dict) -> int:
    """The format a release was written in (see CURRENT_FORMAT)."""
    value = manifest.get("format", FIRST_FORMAT)
    if isinstance(value, bool) or not isinstance(value, int) or not FIRST_FORMAT <= value <= CURRENT_FORMAT:
        raise ReleaseError(
            f"manifest.json: format {value!r} is not one this builder knows ({FIRST_FORMAT}..{CURRENT_FORMAT});"
            " upgrade newscorpus"
        )
    return value


def format_for(version: str, earlier: dict[str, int]) -> int:
    """The format to write `version` in, given the earlier releases' formats by version.

    A patch (X.Y.Z with Z > 0) keeps the format of the newest earlier release of X.Y; anything
    else is written in the current format.
    """
    major, minor, patch = version_key(version)
    line = [v for v in earlier if version_key(v)[:2] == (major, minor) and version_key(v) < (major, minor, patch)]
    if patch > 0 and line:
        return earlier[max(line, key=version_key)]
    return CURRENT_FORMAT


def read_manifest(release: Path) -> dict:
    """The release's manifest.json as a dict; one ReleaseError when it is absent, unreadable or not a JSON object."""
    path = release / MANIFEST_NAME
    if not path.exists() and not path.is_symlink():
        raise ReleaseError(f"{release.name}: no manifest.json; is this a release folder (corpus/vX.Y.Z)?")
    where = f"{release.name}/{MANIFEST_NAME}"
    if (problem := file_problem(path)) is not None:
        raise ReleaseError(f"{where}: {problem}; {RESTORE}")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ReleaseError(f"{where}: cannot be read ({exc.strerror}); {RESTORE}") from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise ReleaseError(f"{where}: not UTF-8 (byte {byte:#04x} at offset {exc.start}); {RESTORE}") from None
    except ValueError as exc:  # not JSON, or a number too long to convert
        raise ReleaseError(f"{where}: not valid JSON ({exc}); {RESTORE}") from None
    except RecursionError:
        raise ReleaseError(f"{where}: not valid JSON (nested too deeply); {RESTORE}") from None
    if not isinstance(manifest, dict):
        raise ReleaseError(f"{where}: {json_kind(manifest)}, not a JSON object; {RESTORE}")
    return manifest


def json_kind(value: object) -> str:
    """What a JSON value is, for a message: `a list`, `a string ('12')`, `a number (-1)`, `null`."""
    if isinstance(value, str):
        shown = repr(value) if len(value) <= 80 else repr(value[:77]) + "..."  # a sha256 with a newline in full
        return f"a string ({shown})"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})" if len(str(value)) <= 30 else "a number"
    return {dict: "an object", list: "a list", type(None): "null"}.get(type(value), type(value).__name__)


def file_problem(path: Path) -> str | None:
    """Why `path` is not a regular file that can be opened without blocking; None when it is one."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a symlink to nothing (its target does not exist)" if path.is_symlink() else "missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    kinds = {stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket", stat.S_ISCHR: "a device", stat.S_ISBLK: "a device"}
    kind = next((name for test, name in kinds.items() if test(mode)), "a special file")
    return f"{kind}, not a regular file"


def member_problem(release: Path, name: str) -> str | None:
    """Why `name` cannot name a file of `release`; None when it can.

    A member is a relative POSIX path, normalized (no `.`, `..` or empty part, no backslash,
    no leading slash, no control character), that stays inside the release folder once every
    symlink on the way is resolved.
    """
    parts = name.split("/")
    if (
        not name
        or "\\" in name
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name)
        or any(part in ("", ".", "..") for part in parts)
    ):
        return "is not a relative path inside the release"
    root = os.path.realpath(release)
    target = os.path.realpath(release / name)
    if os.path.commonpath([root, target]) != root or target == root:
        return "leads outside the release through a symlink"
    return None


def checked_outputs(release: Path, manifest: dict) -> list[dict]:
    """The manifest's `outputs`: objects with a `path` naming a file inside the release, a `sha256` and `bytes`.

    Everything else (a missing key, a wrong type, a path that is absolute, not normalized or
    leads outside the release, a path listed twice) is collected and raised as one ReleaseError,
    one line per entry. `verify` and `publish` read outputs only through here.
    """
    problems = []
    if (why := member_problem(release, MANIFEST_NAME)) is not None:
        problems.append(f"{MANIFEST_NAME} {why}; {OWN_FILES}")
    outputs = manifest.get("outputs")
    if "outputs" not in manifest:
        problems.append(f"no 'outputs'; {RESTORE}")
    elif not isinstance(outputs, list):
        problems.append(f"'outputs' is {json_kind(outputs)}, not a list; {RESTORE}")
    else:
        seen: dict[str, str] = {}
        for index, entry in enumerate(outputs):
            problems += _entry_problems(release, f"outputs[{index}]", entry, seen)
    if problems:
        where = f"{release.name}/{MANIFEST_NAME}"
        if len(problems) == 1:
            raise ReleaseError(f"{where}: {problems[0]}")
        raise ReleaseError(f"{where}: {len(problems)} problems:\n  " + "\n  ".join(problems))
    return outputs


def _entry_problems(release: Path, at: str, entry: object, seen: dict[str, str]) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{at} is {json_kind(entry)}, not an object; {RESTORE}"]
    problems = [f"{at}: no '{key}'; {RESTORE}" for key in ("path", "sha256", "bytes") if key not in entry]
    path = entry.get("path")
    if not isinstance(path, str):
        if "path" in entry:
            problems.append(f"{at}.path is {json_kind(path)}, not a relative path inside the release; {OWN_FILES}")
    elif (why := member_problem(release, path)) is not None:
        problems.append(f"{at}.path {path!r} {why}; {OWN_FILES}")
    elif path == MANIFEST_NAME:
        problems.append(f"{at}.path 'manifest.json': the manifest does not list itself; {RESTORE}")
    elif path in seen:
        problems.append(f"{at}.path {path!r} is listed twice (also {seen[path]}); {RESTORE}")
    else:
        seen[path] = at
    sha256 = entry.get("sha256")
    if "sha256" in entry and not (isinstance(sha256, str) and SHA256_PATTERN.fullmatch(sha256)):
        problems.append(f"{at}.sha256 is {json_kind(sha256)}, not 64 lowercase hexadecimal digits; {RESTORE}")
    for key, unit in (("bytes", "bytes"), ("rows", "rows")):
        value = entry.get(key)
        if key in entry and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            problems.append(f"{at}.{key} is {json_kind(value)}, not a whole number of {unit}; {RESTORE}")
    return problems


def checked_versions(release: Path, manifest: dict, keys: tuple[str, ...]) -> dict[str, str]:
    """The manifest's version fields named by `keys`, each a string X.Y.Z; anything else is one ReleaseError."""
    problems = []
    for key in keys:
        value = manifest.get(key)
        if key not in manifest:
            problems.append(f"no '{key}'")
        elif not (isinstance(value, str) and VERSION_PATTERN.fullmatch(value)):
            problems.append(f"'{key}' is {json_kind(value)}, not a version X.Y.Z")
    if problems:
        raise ReleaseError(f"{release.name}/{MANIFEST_NAME}: {'; '.join(problems)}; {RESTORE}")
    return {key: manifest[key] for key in keys}


def manifest_text(manifest: dict) -> str:
    """The manifest as written: fixed key order, UTF-8, one trailing newline."""
    return json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def file_entry(path: Path, name: str) -> dict:
    """A manifest entry for one file: its path in the release or repository, sha256 and size."""
    size, digest = file_digest(path)
    return {"path": name, "sha256": digest, "bytes": size}
