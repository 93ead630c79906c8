"""Upload a release folder to the Hugging Face Hub as one commit, tagged with its version.

The token comes from HF_TOKEN only (never a token file, never an argument) and is
never printed. Before anything is sent (and before a dry run prints its plan) the
release passes its gate: `verify` (the manifest names only files inside the release,
and they match it), the offline card checks, croissant.json's checksums and the full
Great Expectations validation; the cheap checks run first. A published version is
immutable: when its tag exists on the Hub with other files, publishing refuses; with
the same files, it does nothing. A publish interrupted between commit and tag is
completed by running it again (the commit is then empty and the Hub's head is tagged).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from newscorpus.card.croissant import checksum_mismatches
from newscorpus.card.hub_checks import check_card
from newscorpus.errors import PublishError, ReleaseError
from newscorpus.project import Project
from newscorpus.release.manifest import checked_outputs, checked_versions, read_manifest
from newscorpus.release.verify import verify
from newscorpus.validation.pandas_engine import validate_release

# A Hub repository id as the Hub accepts it, with the namespace required: letters, digits, '-', '_', '.';
# no '--' or '..'; starting and ending with a letter or digit; at most 96 characters per part.
_PART = r"(?!.*(?:--|\.\.))[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
REPO_ID_PATTERN = re.compile(rf"^(?P<namespace>{_PART})/(?P<name>{_PART})$")
KEEP_ON_HUB = {".gitattributes"}  # the Hub creates it with the repository; it is not a release file
BRANCH = "main"


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str
    git_sha1: str  # the id the Hub reports for a non-LFS file


@dataclass(frozen=True)
class Plan:
    release: Path
    repo_id: str
    version: str
    files: tuple[FileEntry, ...]
    commit_message: str
    commit_description: str
    checked: str  # what the gate found: the validation's headline

    @property
    def gate(self) -> str:
        return f"checked: files against manifest.json, the card, croissant.json checksums; {self.checked}"

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    def lines(self) -> list[str]:
        total = sum(f.size for f in self.files)
        lines = [
            f"dry run: nothing was sent; would publish {self.release.name} to dataset {self.repo_id}",
            self.gate,
            f"files ({len(self.files)}, {total} bytes):",
        ]
        lines += [f"  {f.sha256}  {f.size:>10}  {f.path}" for f in self.files]
        lines += [
            f'commit on {BRANCH}: "{self.commit_message}" (files on {BRANCH} that are not in the release are deleted'
            " in the same commit)",
            *(f"  {line}" for line in self.commit_description.splitlines()),
            f"tag: {self.tag} on that commit",
        ]
        return lines


def check_repo_id(repo_id: str) -> str:
    if not REPO_ID_PATTERN.match(repo_id) or repo_id.endswith(".git"):
        raise PublishError(
            f"repo id {repo_id!r} is not ORG/NAME: two parts of letters, digits, '-', '_' and '.', each starting and"
            " ending with a letter or digit, without '--' or '..', at most 96 characters each"
        )
    return repo_id


def plan(project: Project, release: Path, repo_id: str) -> Plan:
    """What publishing `release` would upload, once it has passed the gate. Contacts nothing."""
    check_repo_id(repo_id)
    manifest = read_manifest(release)
    outputs = checked_outputs(release, manifest)
    versions = checked_versions(release, manifest, ("version", "schema_version", "guideline_version"))
    version = versions["version"]
    if release.name != f"v{version}":
        raise ReleaseError(f"{release.name}: manifest.json says version {version}; the folder must be v{version}")
    problems = [f"{release.name}/{p}" for p in verify(release)] + [f"{release.name}/{p}" for p in check_card(release)]
    parquet = [entry["path"] for entry in outputs if entry["path"].endswith(".parquet")]
    problems = problems or [f"{release.name}/{p}" for p in checksum_mismatches(release, parquet)]
    if problems:
        raise ReleaseError(f"{release.name} cannot be published:\n  " + "\n  ".join(problems))
    validation = validate_release(project, release)
    if not validation.success:
        failed = "; ".join(outcome.lines()[0].removeprefix("FAILED ") for outcome in validation.failures)
        raise ReleaseError(
            f"{release.name} cannot be published:\n  {release.name} fails validation ({len(validation.failures)} of"
            f" {validation.expectations} expectations): {failed}; `newscorpus validate {release}` reports them"
        )
    names = sorted([entry["path"] for entry in outputs] + ["manifest.json"])
    files = tuple(_entry(release, name) for name in names)
    rows = ", ".join(f"{Path(e['path']).parts[0]} {e['rows']}" for e in outputs if "rows" in e)  # the Parquet files
    description = (
        f"newscorpus v{version}: {rows} rows; schema {versions['schema_version']},"
        f" guidelines {versions['guideline_version']}.\n"
        "What changed since the release before: CHANGELOG.md. Checksums of every file: manifest.json."
    )
    return Plan(release, repo_id, version, files, f"Release v{version}", description, validation.headline())


def _entry(release: Path, name: str) -> FileEntry:
    from huggingface_hub.utils import sha

    data = (release / name).read_bytes()
    return FileEntry(name, len(data), hashlib.sha256(data).hexdigest(), sha.git_hash(data))


def publish(project: Project, release: Path, repo_id: str, *, private: bool = False) -> list[str]:
    """Upload the release as one commit on main and tag it; returns what was done, line by line."""
    todo = plan(project, release, repo_id)
    token = os.environ.get("HF_TOKEN", "")
    if not token:
        raise PublishError(
            "HF_TOKEN is not set: create a token with write access on the Hub and export HF_TOKEN"
            " (newscorpus reads the token from the environment only)"
        )
    try:
        return [todo.gate, *_publish(todo, token, private)]
    except PublishError:
        raise
    except Exception as exc:  # the Hub client's errors: name what failed, never the token
        raise PublishError(_describe(exc, token)) from None


def _describe(exc: Exception, token: str) -> str:
    from huggingface_hub import constants
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if isinstance(exc, OfflineModeIsEnabled):
        text = "HF_HUB_OFFLINE is set; unset it to publish"
    elif isinstance(exc, HfHubHTTPError) and exc.response is not None:
        request = exc.response.request
        server = exc.server_message or exc.response.reason_phrase
        text = (
            f"the Hub refused {request.method} {request.url.path} (HTTP {exc.response.status_code}): {server.strip()};"
            " check that HF_TOKEN may write to the repository"
        )
    else:
        text = f"cannot talk to the Hub at {constants.ENDPOINT}: {type(exc).__name__}: {exc}"
    return text.replace(token, "<HF_TOKEN>")


def _publish(todo: Plan, token: str, private: bool) -> list[str]:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    api = HfApi(token=token)
    repo = {"repo_id": todo.repo_id, "repo_type": "dataset"}
    done = []
    try:
        refs = api.list_repo_refs(**repo)
    except RepositoryNotFoundError:
        api.create_repo(**repo, private=True if private else None, exist_ok=True)
        done.append(f"created dataset repository {todo.repo_id}{' (private)' if private else ''}")
        refs = api.list_repo_refs(**repo)
    tags = {t.name: t.target_commit for t in refs.tags}
    if todo.tag in tags:
        differences = _differences(todo, _remote_files(api, repo, todo.tag))
        if differences:
            raise PublishError(
                f"tag {todo.tag} already exists on dataset {todo.repo_id} (commit {tags[todo.tag][:12]}) with other"
                f" files ({'; '.join(differences)}); a published version never changes: build and publish a new one"
            )
        same = f"{todo.tag} is already on dataset {todo.repo_id} (commit {tags[todo.tag][:12]}) with the same files"
        return [*done, same + "; nothing to do"]
    head = next((b.target_commit for b in refs.branches if b.name == BRANCH), None)
    on_main = {p: v for p, v in _remote_files(api, repo, head).items() if p not in KEEP_ON_HUB} if head else {}
    stale = sorted(set(on_main) - {f.path for f in todo.files})
    changed = [f for f in todo.files if on_main.get(f.path) not in (("git", f.git_sha1), ("sha256", f.sha256))]
    if not stale and not changed:  # e.g. a publish stopped after its commit: tag what is there
        oid = head
        done.append(f"{BRANCH} of dataset {todo.repo_id} already holds these files: {oid[:12]}")
    else:
        operations = [CommitOperationDelete(path_in_repo=path) for path in stale]
        operations += [
            CommitOperationAdd(path_in_repo=f.path, path_or_fileobj=str(todo.release / f.path)) for f in changed
        ]
        commit = api.create_commit(
            **repo,
            operations=operations,
            commit_message=todo.commit_message,
            commit_description=todo.commit_description,
            revision=BRANCH,
            parent_commit=head,
        )
        oid = commit.oid
        done.append(
            f"committed {todo.tag} to {BRANCH} of dataset {todo.repo_id}: {len(changed)} file(s) added or changed,"
            f" {len(todo.files) - len(changed)} unchanged, {len(stale)} removed: {oid[:12]}"
        )
    api.create_tag(**repo, tag=todo.tag, tag_message=f"newscorpus {todo.tag}", revision=oid)
    done.append(f"tagged {oid[:12]} as {todo.tag}")
    done.append(f'load it with: load_dataset("{todo.repo_id}", "documents", revision="{todo.tag}")')
    return done


def _remote_files(api, repo: dict, revision: str) -> dict[str, tuple[str, str]]:
    """path -> (kind, id) of every file at `revision`: ("sha256", ...) for LFS files, ("git", ...) otherwise."""
    from huggingface_hub.hf_api import RepoFile

    files = {}
    for item in api.list_repo_tree(**repo, revision=revision, recursive=True):
        if isinstance(item, RepoFile):
            files[item.path] = ("sha256", item.lfs.sha256) if item.lfs else ("git", item.blob_id)
    return files


def _differences(todo: Plan, remote: dict[str, tuple[str, str]]) -> list[str]:
    local = {f.path: f for f in todo.files}
    remote = {path: value for path, value in remote.items() if path not in KEEP_ON_HUB}
    out = []
    changed = [
        path
        for path in sorted(local.keys() & remote.keys())
        if remote[path][1] != (local[path].sha256 if remote[path][0] == "sha256" else local[path].git_sha1)
    ]
    if changed:
        out.append("different: " + ", ".join(changed))
    if only_remote := sorted(remote.keys() - local.keys()):
        out.append("only on the Hub: " + ", ".join(only_remote))
    if only_local := sorted(local.keys() - remote.keys()):
        out.append("only here: " + ", ".join(only_local))
    return out
