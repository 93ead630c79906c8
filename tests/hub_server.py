"""A small stand-in for the Hugging Face Hub's HTTP API, on 127.0.0.1, for the publish tests.

It answers the requests huggingface_hub's HfApi sends (read from the installed
huggingface_hub 2.4.0): repos/create, refs, validate-yaml, preupload, the LFS batch
API and a basic-transfer upload URL, commit (NDJSON), tag, tree, revision info, and
resolve (file downloads, for `load_dataset("ORG/NAME", revision=...)`). It keeps
repositories as commits of whole file trees and records every request, so that the
tests can assert what the client sent: method, path, commit message, files, tag.

Binary files (*.parquet) are answered with upload mode "lfs", as the Hub does for
them; the client must run with HF_HUB_DISABLE_XET=1 so that it takes the LFS path
(basic transfer: one PUT per file) rather than the Xet protocol.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()


@dataclass
class Commit:
    oid: str
    files: dict[str, bytes]
    lfs: frozenset[str]
    message: str
    description: str


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        oid = self.branches.get(revision) or self.tags.get(revision) or revision
        return self.commits.get(oid)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict
    authorization: str | None
    body: bytes

    def json(self):
        return json.loads(self.body)

    def ndjson(self) -> list[dict]:
        return [json.loads(line) for line in self.body.splitlines() if line.strip()]


class FakeHub:
    """The state of the stand-in Hub, and the server answering for it."""

    def __init__(self, token: str):
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}
        self.requests: list[Request] = []
        self.fail: dict[tuple[str, str], int] = {}  # (method, path regex) -> HTTP status, answered once
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- helpers for tests ----------------------------------------------------
    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    def add_repo(self, repo_id: str, repo_type: str = "dataset", private: bool = False) -> Repo:
        repo = Repo(repo_type, repo_id, private)
        initial = self.commit(repo, "main", {".gitattributes": GITATTRIBUTES}, set(), "initial commit", "")
        repo.branches["main"] = initial.oid
        self.repos[(repo_type, repo_id)] = repo
        return repo

    def commit(self, repo: Repo, branch: str, files: dict[str, bytes], lfs: set[str], message: str, desc: str):
        parent = repo.branches.get(branch, "")
        digest = hashlib.sha1(parent.encode() + message.encode())
        for path in sorted(files):
            digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
        commit = Commit(digest.hexdigest(), dict(files), frozenset(lfs), message, desc)
        repo.commits[commit.oid] = commit
        repo.branches[branch] = commit.oid
        return commit


def _handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            self._dispatch("GET")

        def do_HEAD(self):
            self._dispatch("HEAD")

        def do_POST(self):
            self._dispatch("POST")

        def do_PUT(self):
            self._dispatch("PUT")

        # -- plumbing ------------------------------------------------------------
        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(method, parts.path, parse_qs(parts.query), self.headers.get("Authorization"), body)
            with hub._lock:
                hub.requests.append(request)
                if request.authorization is not None and request.authorization != f"Bearer {hub.token}":
                    return self._error(401, "Invalid credentials in Authorization header")  # as the Hub, on any route
                for (fail_method, pattern), status in list(hub.fail.items()):
                    if fail_method == method and re.fullmatch(pattern, parts.path):
                        del hub.fail[(fail_method, pattern)]
                        return self._error(status, "injected failure")
                for route_method, pattern, handler in self.routes:
                    match = re.fullmatch(pattern, parts.path)
                    if route_method == method and match:
                        return handler(self, request, *(unquote(g) if g else g for g in match.groups()))
            self._error(404, f"no route for {method} {parts.path}")

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None, kind="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, value, status: int = 200, headers: dict | None = None) -> None:
            self._send(status, json.dumps(value).encode(), headers)

        def _error(self, status: int, message: str, code: str | None = None) -> None:
            headers = {"X-Error-Message": message, **({"X-Error-Code": code} if code else {})}
            self._json({"error": message}, status, headers)

        def _authorized(self, request: Request) -> bool:
            if request.authorization != f"Bearer {hub.token}":
                self._error(401, "Invalid credentials in Authorization header")
                return False
            return True

        def _repo(self, repo_type: str, repo_id: str) -> Repo | None:
            repo = hub.repos.get((repo_type, repo_id))
            if repo is None:
                self._error(404, "Repository not found", "RepoNotFound")
            return repo

        def _revision(self, repo: Repo, revision: str) -> Commit | None:
            commit = repo.resolve(revision)
            if commit is None:
                self._error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            return commit

        # -- routes ----------------------------------------------------------------
        def create_repo(self, request: Request) -> None:
            if not self._authorized(request):
                return
            payload = request.json()
            repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else payload["name"]
            repo_type = payload.get("type") or "model"
            if (repo_type, repo_id) in hub.repos:
                return self._error(409, "You already created this dataset repo")
            hub.add_repo(repo_id, repo_type, payload.get("visibility") == "private")
            self._json({"url": f"{hub.url}/{repo_type}s/{repo_id}", "name": repo_id})

        def refs(self, request: Request, repo_type: str, repo_id: str) -> None:
            repo = self._repo(repo_type, repo_id)
            if repo is None:
                return

            def ref(kind, name, oid):
                return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": oid}

            self._json(
                {
                    "branches": [ref("heads", n, o) for n, o in sorted(repo.branches.items())],
                    "tags": [ref("tags", n, o) for n, o in sorted(repo.tags.items())],
                    "converts": [],
                }
            )

        def validate_yaml(self, request: Request) -> None:
            self._json({"errors": [], "warnings": []})

        def preupload(self, request: Request, repo_type: str, repo_id: str, revision: str) -> None:
            if not self._authorized(request) or (repo := self._repo(repo_type, repo_id)) is None:
                return
            current = repo.resolve(revision)
            answers = []
            for item in request.json()["files"]:
                path = item["path"]
                lfs = path.endswith(".parquet")
                oid = None
                if current is not None and path in current.files:
                    data = current.files[path]
                    oid = hashlib.sha256(data).hexdigest() if path in current.lfs else git_sha1(data)
                answers.append(
                    {"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid}
                )
            self._json({"files": answers, "commitOid": current.oid if current else None})

        def lfs_batch(self, request: Request, repo_type: str, repo_id: str) -> None:
            if not self._authorized(request) or self._repo(repo_type, repo_id) is None:
                return
            objects = []
            for item in request.json()["objects"]:
                entry = {"oid": item["oid"], "size": item["size"], "authenticated": True}
                if item["oid"] not in hub.lfs_objects:
                    entry["actions"] = {"upload": {"href": f"{hub.url}/lfs-upload/{item['oid']}"}}
                objects.append(entry)
            self._json({"transfer": "basic", "objects": objects})

        def lfs_upload(self, request: Request, oid: str) -> None:
            if hashlib.sha256(request.body).hexdigest() != oid:
                return self._error(400, "sha256 of the uploaded content differs from the oid")
            hub.lfs_objects[oid] = request.body
            self._send(200)

        def commit(self, request: Request, repo_type: str, repo_id: str, revision: str) -> None:
            if not self._authorized(request) or (repo := self._repo(repo_type, repo_id)) is None:
                return
            lines = request.ndjson()
            header = lines[0]["value"]
            head = repo.branches.get(revision)
            if header.get("parentCommit") and header["parentCommit"] != head:
                return self._error(412, "A commit has happened since. Please refresh and try again.")
            base = repo.commits[head] if head else None
            files, lfs = (dict(base.files), set(base.lfs)) if base else ({}, set())
            for line in lines[1:]:
                key, value = line["key"], line["value"]
                if key == "file":
                    files[value["path"]] = base64.b64decode(value["content"])
                    lfs.discard(value["path"])
                elif key == "lfsFile":
                    if value["oid"] not in hub.lfs_objects:
                        return self._error(400, f"LFS object {value['oid']} was never uploaded")
                    files[value["path"]] = hub.lfs_objects[value["oid"]]
                    lfs.add(value["path"])
                elif key == "deletedFile":
                    files.pop(value["path"], None)
                    lfs.discard(value["path"])
                else:
                    return self._error(400, f"unknown commit operation {key}")
            commit = hub.commit(repo, revision, files, lfs, header["summary"], header.get("description", ""))
            url = f"{hub.url}/{repo_type}s/{repo_id}/commit/{commit.oid}"
            self._json({"commitUrl": url, "commitOid": commit.oid, "pullRequestUrl": None})

        def tag(self, request: Request, repo_type: str, repo_id: str, revision: str) -> None:
            if not self._authorized(request) or (repo := self._repo(repo_type, repo_id)) is None:
                return
            name = request.json()["tag"]
            if name in repo.tags:
                return self._error(409, f"Tag {name} already exists")
            if (commit := self._revision(repo, revision)) is not None:
                repo.tags[name] = commit.oid
                self._json({})

        def tree(self, request: Request, repo_type: str, repo_id: str, revision: str, path: str | None) -> None:
            if (repo := self._repo(repo_type, repo_id)) is None or (commit := self._revision(repo, revision)) is None:
                return
            prefix = f"{path.strip('/')}/" if path and path.strip("/") else ""
            recursive = request.query.get("recursive", ["False"])[0].lower() == "true"
            entries, folders = [], set()
            for name in sorted(commit.files):
                if not name.startswith(prefix):
                    continue
                rest = name[len(prefix) :]
                if "/" in rest and not recursive:
                    folders.add(prefix + rest.split("/")[0])
                    continue
                for depth in range(1, rest.count("/") + 1):
                    folders.add(prefix + "/".join(rest.split("/")[:depth]))
                entries.append(_file_info(commit, name))
            entries += [{"type": "directory", "path": f, "oid": "0" * 40, "size": 0} for f in sorted(folders)]
            self._json(entries)

        def revision_info(self, request: Request, repo_type: str, repo_id: str, revision: str) -> None:
            if (repo := self._repo(repo_type, repo_id)) is None or (commit := self._revision(repo, revision)) is None:
                return
            siblings = [{"rfilename": name} for name in sorted(commit.files)]
            self._json({"id": repo_id, "sha": commit.oid, "private": repo.private, "siblings": siblings, "tags": []})

        def resolve(self, request: Request, repo_type: str, repo_id: str, revision: str, path: str) -> None:
            if (repo := self._repo(repo_type, repo_id)) is None or (commit := self._revision(repo, revision)) is None:
                return
            if path not in commit.files:
                return self._error(404, "Entry not found", "EntryNotFound")
            data = commit.files[path]
            etag = hashlib.sha256(data).hexdigest() if path in commit.lfs else git_sha1(data)
            headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{etag}"'}
            self._send(200, data, headers, kind="application/octet-stream")

    repo = r"(?P<type>dataset|model|space)s/(?P<id>[^/]+/[^/]+)"
    Handler.routes = [
        ("POST", r"/api/repos/create", Handler.create_repo),
        ("GET", rf"/api/{repo}/refs", Handler.refs),
        ("POST", r"/api/validate-yaml", Handler.validate_yaml),
        ("POST", rf"/api/{repo}/preupload/([^/]+)", Handler.preupload),
        ("POST", rf"/{repo}\.git/info/lfs/objects/batch", Handler.lfs_batch),
        ("PUT", r"/lfs-upload/([0-9a-f]{64})", Handler.lfs_upload),
        ("POST", rf"/api/{repo}/commit/([^/]+)", Handler.commit),
        ("POST", rf"/api/{repo}/tag/([^/]+)", Handler.tag),
        ("GET", rf"/api/{repo}/tree/([^/]+)(/.*)?", Handler.tree),
        ("GET", rf"/api/{repo}/revision/([^/]+)", Handler.revision_info),
        ("HEAD", rf"/{repo}/resolve/([^/]+)/(.+)", Handler.resolve),
        ("GET", rf"/{repo}/resolve/([^/]+)/(.+)", Handler.resolve),
    ]
    return Handler


def _file_info(commit: Commit, name: str) -> dict:
    data = commit.files[name]
    info = {"type": "file", "path": name, "size": len(data), "oid": git_sha1(data)}
    if name in commit.lfs:
        info["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
    return info


class SilentServer:
    """A server on 127.0.0.1 that accepts every connection and never sends a byte: a Hub that hangs."""

    def __init__(self):
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.connections.append(connection)  # held open, never answered

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self.connections:
            connection.close()
        self._socket.close()
