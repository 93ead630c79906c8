"""Upload a release folder to the Hugging Face Hub as one commit, tagged with its version.

The token comes from HF_TOKEN only (never a token file, never an argument) and is
never printed. Before anything is sent (and before a dry run prints its plan) the
release passes its gate: `verify` (the manifest names only files inside the release,
and they match it), the offline card checks, croissant.json's checksums and the full
Great Expectations validation; the cheap checks run first. A published version is
immutable: when its tag exists on the Hub with other files, publishing refuses; with
the same files, it does nothing. A publish interrupted between commit and tag is
completed by running it again (the commit is then empty and the Hub's head is tagged).
Every request to the Hub waits at most NEWSCORPUS_HUB_TIMEOUT seconds (default 60) for
the server, so a Hub that accepts a connection and never answers is an error, not a hang.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from newscorpus.card import croissant, usage
from newscorpus.card.croissant import checksum_mismatches
from newscorpus.card.hub_checks import check_card
from newscorpus.errors import PublishError, ReleaseError
from newscorpus.files import bytes_sha256
from newscorpus.project import Project
from newscorpus.release.manifest import checked_outputs, checked_versions, read_manifest, release_format
from newscorpus.release.verify import verify
from newscorpus.validation.pandas_engine import validate_release

# A Hub repository id as the Hub accepts it, with the namespace required: letters, digits, '-', '_', '.';
# no '--' or '..'; starting and ending with a letter or digit; at most 96 characters per part.
_PART = r"(?!.*(?:--|\.\.))[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
REPO_ID_PATTERN = re.compile(rf"(?P<namespace>{_PART})/(?P<name>{_PART})")  # used with fullmatch only
KEEP_ON_HUB = {".gitattributes"}  # the Hub creates it with the repository; it is not a release file
BRANCH = "main"
TOKEN_VARIABLE = "HF_TOKEN"
TOKEN_PATTERN = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces, as an HTTP header carries it
# 60 s, as `annotate pull` waits for Label Studio: huggingface_hub's own 10 s (its metadata requests) is
# too short for a commit, which the Hub answers only once it has processed every file of it; no healthy
# Hub stays silent for a minute. It bounds each wait for the server (connect, each read, each write), not
# a whole upload, so a large file on a slow line is not cut. huggingface_hub has no variable for the
# timeout of its API calls (HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT are for downloads), hence ours.
TIMEOUT_VARIABLE = "NEWSCORPUS_HUB_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
SECONDS_PATTERN = re.compile(r"[0-9]+(?:\.[0-9]+)?")
ENDPOINT_PATTERN = re.compile(r"https?://[\x21-\x7e]+")  # no space, no control or non-ASCII character


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
    # Files uploaded with other bytes than the release folder's: the card and croissant.json naming the Hub
    # dataset (format 2 on). `files` describes the bytes uploaded.
    rewritten: dict[str, bytes] = field(default_factory=dict)

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
        if self.rewritten:
            lines.append(
                f"rewritten for the Hub: {', '.join(sorted(self.rewritten))} (quick start, citation and url name"
                f" {usage.dataset_url(self.repo_id)} and tag {self.tag}; the release folder is not changed)"
            )
        lines += [
            f'commit on {BRANCH}: "{self.commit_message}" (files on {BRANCH} that are not in the release are deleted'
            " in the same commit)",
            *(f"  {line}" for line in self.commit_description.splitlines()),
            f"tag: {self.tag} on that commit",
        ]
        return lines


def check_repo_id(repo_id: str) -> str:
    if not REPO_ID_PATTERN.fullmatch(repo_id) or repo_id.endswith(".git"):
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
    rewritten = (
        hub_copies(release, version, repo_id) if release_format(manifest) >= usage.FIRST_FORMAT_WITH_USAGE else {}
    )
    files = tuple(_entry(release, name, rewritten.get(name)) for name in names)
    rows = ", ".join(f"{Path(e['path']).parts[0]} {e['rows']}" for e in outputs if "rows" in e)  # the Parquet files
    description = (
        f"newscorpus v{version}: {rows} rows; schema {versions['schema_version']},"
        f" guidelines {versions['guideline_version']}.\n"
        "What changed since the release before: CHANGELOG.md. Checksums of every file: manifest.json."
    )
    return Plan(release, repo_id, version, files, f"Release v{version}", description, validation.headline(), rewritten)


def hub_copies(release: Path, version: str, repo_id: str) -> dict[str, bytes]:
    """README.md and croissant.json as uploaded to `repo_id`, for a card with a quick start block (format 2 on).

    The card's quick start loads the release from the Hub at its tag and its citation gains the
    dataset's URL; croissant.json's `url` and `citeAs` name the dataset. A release whose card has
    no quick start block is uploaded exactly as it is.
    """
    card = usage.for_hub((release / "README.md").read_text(encoding="utf-8"), version, repo_id)
    if card is None:
        return {}
    copies = {"README.md": card.encode("utf-8")}
    if (release / croissant.FILE_NAME).is_file():
        text = (release / croissant.FILE_NAME).read_text(encoding="utf-8")
        copies[croissant.FILE_NAME] = croissant.for_hub(text, version, repo_id).encode("utf-8")
    return copies


def _entry(release: Path, name: str, data: bytes | None = None) -> FileEntry:
    from huggingface_hub.utils import sha

    data = (release / name).read_bytes() if data is None else data
    return FileEntry(name, len(data), bytes_sha256(data), sha.git_hash(data))


def publish(project: Project, release: Path, repo_id: str, *, private: bool = False) -> list[str]:
    """Upload the release as one commit on main and tag it; returns what was done, line by line.

    The settings are checked first (repo id, HF_TOKEN, HF_ENDPOINT, the timeout), then the gate
    (`plan`), and only then is the Hub contacted.
    """
    check_repo_id(repo_id)
    token = hub_token()
    endpoint = check_endpoint()
    timeout = hub_timeout()
    todo = plan(project, release, repo_id)
    bound_requests(timeout)
    try:
        return [todo.gate, *_publish(todo, token, private)]
    except PublishError:
        raise
    except Exception as exc:  # the Hub client's errors: name what failed, never the token
        raise PublishError(_describe(exc, token, endpoint, timeout)) from None


def hub_token() -> str:
    """HF_TOKEN without surrounding whitespace (as huggingface_hub reads it); never printed, not even when wrong."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise PublishError(
            "HF_TOKEN is not set: create a token with write access on the Hub and export HF_TOKEN"
            " (newscorpus reads the token from the environment only)"
        )
    if not TOKEN_PATTERN.fullmatch(token):
        raise PublishError(
            "HF_TOKEN holds a space, a control or a non-ASCII character inside it: export the token alone"
            " (it is not printed here)"
        )
    return token


def _shown_endpoint(endpoint: str) -> str:
    return re.sub(r"//[^/@]*@", "//", endpoint, count=1)  # without any user:password@


def check_endpoint() -> str:
    """The Hub address huggingface_hub read from HF_ENDPOINT (or its default), if it is an http(s) URL."""
    from huggingface_hub import constants

    endpoint = constants.ENDPOINT
    if not ENDPOINT_PATTERN.fullmatch(endpoint):
        raise PublishError(
            f"HF_ENDPOINT {_shown_endpoint(endpoint)!r} is not an http:// or https:// address: unset it to publish"
            " to the Hugging Face Hub, or set it to your Hub's address"
        )
    return endpoint


def hub_timeout() -> float:
    """Seconds a request may wait for the Hub: NEWSCORPUS_HUB_TIMEOUT, or 60."""
    raw = os.environ.get(TIMEOUT_VARIABLE)
    if raw is None:
        return DEFAULT_TIMEOUT
    if not SECONDS_PATTERN.fullmatch(raw) or float(raw) <= 0:
        raise PublishError(
            f"{TIMEOUT_VARIABLE} {raw!r} is not a number of seconds above 0: set it to e.g. 120, or unset it"
            f" for the default {DEFAULT_TIMEOUT:g}"
        )
    return float(raw)


def bound_requests(seconds: float) -> None:
    """Make every request of huggingface_hub's shared HTTP client wait at most `seconds` for the server.

    huggingface_hub 2.x sends its requests through one httpx2 client made by a factory, with no
    timeout by default (`utils._http.default_client_factory`); a request may also pass
    `timeout=None` itself. The factory set here builds the same client with a timeout, and a
    request hook that replaces every unbounded (or longer) wait by `seconds`. The client is made
    again after a connection error, by the same factory, so the bound holds for retries too.
    """
    from huggingface_hub.utils import _http as hub_http
    from huggingface_hub.utils import set_client_factory

    def bound(request) -> None:
        waits = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {
            kind: seconds if waits.get(kind) is None else min(waits[kind], seconds)
            for kind in ("connect", "read", "write", "pool")
        }

    def factory():
        client = hub_http.default_client_factory()
        client.timeout = seconds
        hooks = client.event_hooks
        client.event_hooks = {**hooks, "request": [*hooks.get("request", []), bound]}
        return client

    set_client_factory(factory)


def _describe(exc: Exception, token: str, endpoint: str, timeout: float) -> str:
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    shown = _shown_endpoint(endpoint)
    if isinstance(exc, OfflineModeIsEnabled):
        text = "HF_HUB_OFFLINE is set; unset it to publish"
    elif isinstance(exc, HfHubHTTPError) and exc.response is not None:
        request = exc.response.request
        server = exc.server_message or exc.response.reason_phrase
        text = (
            f"the Hub refused {request.method} {request.url.path} (HTTP {exc.response.status_code}): {server.strip()};"
            " check that HF_TOKEN may write to the repository"
        )
    elif isinstance(exc, httpx2.TimeoutException):
        try:
            doing = f" {exc.request.method} {exc.request.url.path}"
        except RuntimeError:  # an exception raised without its request
            doing = ""
        text = (
            f"the Hub at {shown} did not answer{doing} within {timeout:g} s: try again later, or set"
            f" {TIMEOUT_VARIABLE} to more seconds on a slow connection"
        )
    else:
        text = f"cannot talk to the Hub at {shown}: {type(exc).__name__}: {exc}"
    text = " ".join(text.split())  # one line, whatever the server or the client put in its message
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
            CommitOperationAdd(
                path_in_repo=f.path, path_or_fileobj=todo.rewritten.get(f.path, str(todo.release / f.path))
            )
            for f in changed
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
