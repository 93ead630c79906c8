"""Rebuild a release from exactly the inputs its manifest records, and compare it byte for byte.

The manifest names every input (seeds, exports, schema, card, guidelines) with its sha256.
Each is taken from the working tree when it is unchanged there, else from the repository's
git history (the newest committed version of that path with that sha256), so that a later
pull, a new article or an edited guideline does not stop an old release from reproducing.
Inputs added since are left out. An input found in neither place is named, and nothing is
rebuilt. The inputs are laid out as a project in a scratch folder and built there with the
releases beside the original as their history (card figures, CHANGELOG.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from newscorpus.build.builder import GUIDELINES, build_release
from newscorpus.card.datacard import hand_written
from newscorpus.errors import CardError, ReleaseError
from newscorpus.files import bytes_sha256, file_sha256
from newscorpus.project import Project
from newscorpus.release.manifest import LATER_MANIFEST_FIELDS, manifest_text, read_manifest, release_format
from newscorpus.release.shards import MAX_SHARD_BYTES
from newscorpus.validation.suites import derived_files
from newscorpus.validation.view_specs import recorded_gate


@dataclass(frozen=True)
class Reproduction:
    identical: list[str]
    different: list[str]
    changed_inputs: list[str]  # recorded inputs that differ in the working tree
    predated: dict[str, list[str]] = field(default_factory=dict)  # file -> fields the release predates
    from_history: dict[str, str] = field(default_factory=dict)  # input -> the commit it was taken from
    substituted: dict[str, str] = field(default_factory=dict)  # input -> why today's version was used


def reproduce(project: Project, release: Path) -> Reproduction:
    """Rebuild the release's version from its recorded inputs in a scratch folder and compare byte for byte."""
    manifest = read_manifest(release)
    entries = _input_entries(manifest, release)
    with tempfile.TemporaryDirectory(prefix="newscorpus-reproduce-") as scratch:
        root = Path(scratch) / "project"
        changed, from_history = _lay_out_inputs(project, entries, root, release.name)
        if GUIDELINES not in {e["path"] for e in entries}:  # a release older than its recording: today's
            _place(project.root / GUIDELINES if (project.root / GUIDELINES).is_file() else None, root / GUIDELINES)
        copy = Project(root)
        for path, text in derived_files(copy).items():  # the suites and config of the recorded schema
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        # The same layout as the release (its largest file size), so that the same files come out.
        max_bytes = (manifest.get("layout") or {}).get("max_shard_bytes", MAX_SHARD_BYTES)
        build = {
            "corpus_dir": Path(scratch) / "corpus",
            "history_dir": release.parent,
            "max_shard_bytes": max_bytes,
            "gate_suites": recorded_gate(manifest),  # the gate it had, not the suites added since
            "release_format": release_format(manifest),  # the configs and columns it had, not today's format
        }
        substituted = {}
        try:
            rebuilt = build_release(copy, manifest["version"], **build).path
        except CardError as exc:
            if "DATACARD.md" not in from_history:
                raise
            # A card older than this builder's card format: the data can still be compared.
            substituted["DATACARD.md"] = f"its released version cannot be rendered by this builder ({exc})"
            (root / "DATACARD.md").unlink()
            _place(project.datacard_path, root / "DATACARD.md")
            rebuilt = build_release(copy, manifest["version"], **build).path
        identical, different, predated = _compare(release, rebuilt, manifest)
    return Reproduction(identical, different, changed, predated, from_history, substituted)


def _input_entries(manifest: dict, release: Path) -> list[dict]:
    entries = manifest.get("inputs")
    problem = None
    if not isinstance(entries, list):
        problem = "'inputs' is not a list"
    else:
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("path", "sha256")):
                problem = f"inputs[{index}] is not an object with a 'path' and a 'sha256'"
                break
            parts = Path(entry["path"]).parts
            if Path(entry["path"]).is_absolute() or ".." in parts or not parts:
                problem = f"inputs[{index}].path {entry['path']!r} is not a path inside the repository"
                break
    if problem:
        raise ReleaseError(f"{release.name}/manifest.json: {problem}; the release cannot be reproduced")
    return entries


def _lay_out_inputs(project: Project, entries: list[dict], root: Path, name: str) -> tuple[list[str], dict]:
    """Write every recorded input into `root`; returns (inputs changed in the working tree, from history)."""
    changed, from_history, missing = [], {}, []
    history = _GitHistory(project.root)
    for entry in sorted(entries, key=lambda e: e["path"]):
        path, wanted = entry["path"], entry["sha256"]
        digest = _digest_of(entry)
        current = project.root / path
        if current.is_file() and digest(current.read_bytes()) == wanted:
            _place(current, root / path)
            continue
        changed.append(path)
        found = history.find(path, lambda data, digest=digest, wanted=wanted: digest(data) == wanted)
        if found is None:
            missing.append(f"{path} (sha256 {wanted[:12]})")
            continue
        commit, data = found
        from_history[path] = commit
        _place(data, root / path)
    if missing:
        where = "the working tree or the git history" if history.available else "the working tree (not a git checkout)"
        raise ReleaseError(
            f"{name}: recorded input{'s' if len(missing) > 1 else ''} {', '.join(missing)} found neither in {where};"
            " restore the file as it was released (e.g. from the release's commit) to reproduce it"
        )
    return changed, from_history


def _digest_of(entry: dict):
    if "hashed" in entry:  # DATACARD.md: hashed without the contents of its generated blocks
        return lambda data: bytes_sha256(hand_written(data.decode("utf-8", errors="replace")).encode("utf-8"))
    return bytes_sha256


def _place(source: Path | bytes | None, target: Path) -> None:
    """An input into the scratch project: a hard link to an unchanged file (no copy of 100,000 seeds)."""
    if source is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, bytes):
        target.write_bytes(source)
        return
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copyfile(source, target)


class _GitHistory:
    """Committed versions of a path, newest first, read with the git command (if the project is a checkout)."""

    def __init__(self, root: Path):
        self.root = root
        self.available = (
            shutil.which("git") is not None and self._git("rev-parse", "--is-inside-work-tree") == b"true\n"
        )

    def _git(self, *args: str) -> bytes | None:
        try:
            done = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    def find(self, path: str, matches) -> tuple[str, bytes] | None:
        """(commit, bytes) of the newest committed version of `path` that `matches`, or None."""
        if not self.available:
            return None
        commits = (self._git("log", "--format=%H", "--all", "--", path) or b"").decode().split()
        for commit in commits:
            data = self._git("show", f"{commit}:{path}")
            if data is not None and matches(data):
                return commit, data
        return None


def _compare(release: Path, rebuilt: Path, manifest: dict) -> tuple[list[str], list[str], dict[str, list[str]]]:
    names = sorted(
        {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
        | {p.relative_to(rebuilt).as_posix() for p in rebuilt.rglob("*") if p.is_file()}
    )
    identical, different, predated = [], [], {}
    for name in names:
        a, b = release / name, rebuilt / name
        same = a.is_file() and b.is_file() and file_sha256(a) == file_sha256(b)
        if not same and name == "manifest.json" and a.is_file() and b.is_file():
            fields = _predated_fields(manifest, json.loads(b.read_text(encoding="utf-8")))
            if fields and a.read_bytes() == _without(b, fields):
                predated[name] = fields
                continue
        (identical if same else different).append(name)
    return identical, different, predated


def _predated_fields(released: dict, rebuilt: dict) -> list[str]:
    return [key for key in LATER_MANIFEST_FIELDS if key in rebuilt and key not in released]


def _without(manifest_path: Path, fields: list[str]) -> bytes:
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return manifest_text({k: v for k, v in manifest.items() if k not in fields}).encode("utf-8")
