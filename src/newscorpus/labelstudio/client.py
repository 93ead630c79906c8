"""Talking to a Label Studio server with label-studio-sdk 2.x: connect, find the project, list, export.

The server is named by LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY from the environment; the
key is never printed, logged or written. Every SDK or HTTP failure becomes a LabelStudioError
of one sentence (see `translated`).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from newscorpus.errors import LabelStudioError

URL_VARIABLE = "LABEL_STUDIO_URL"
KEY_VARIABLE = "LABEL_STUDIO_API_KEY"
PROJECT_TITLE = "newscorpus"
TIMEOUT = 60.0


@dataclass(frozen=True)
class Connection:
    url: str
    key: str = field(repr=False)

    @classmethod
    def from_environment(cls) -> Connection:
        url, key = os.environ.get(URL_VARIABLE, "").strip(), os.environ.get(KEY_VARIABLE, "").strip()
        missing = [name for name, value in ((URL_VARIABLE, url), (KEY_VARIABLE, key)) if not value]
        if missing:
            raise LabelStudioError(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; export the server's"
                f" address (e.g. http://127.0.0.1:8080) and your access token (Label Studio: Account & Settings)"
            )
        return cls(url.rstrip("/"), key)

    @property
    def shown_url(self) -> str:
        """The URL as messages show it: without any user:password@ part."""
        parts = urllib.parse.urlsplit(self.url)
        if parts.username or parts.password:
            parts = parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))
        return urllib.parse.urlunsplit(parts)


@contextmanager
def translated(connection: Connection, doing: str) -> Iterator[None]:
    """Turn SDK, HTTP and parsing failures into one LabelStudioError sentence (never with the key)."""
    import httpx
    import pydantic
    from label_studio_sdk.core.api_error import ApiError

    url = connection.shown_url
    try:
        yield
    except LabelStudioError:
        raise
    except httpx.UnsupportedProtocol:
        raise LabelStudioError(
            f"{URL_VARIABLE} {url!r} is not an http:// or https:// address; set it to e.g. http://127.0.0.1:8080"
        ) from None
    except httpx.ConnectError as exc:
        reason = (
            "host not found" if "name" in str(exc).lower() and "known" in str(exc).lower() else "connection refused"
        )
        raise LabelStudioError(
            f"cannot reach Label Studio at {url} ({reason}); start it (`newscorpus annotate serve`)"
            f" or correct {URL_VARIABLE}"
        ) from None
    except httpx.TimeoutException:
        raise LabelStudioError(
            f"Label Studio at {url} did not answer within {TIMEOUT:.0f} s while trying to {doing}; try again later"
        ) from None
    except ApiError as exc:
        status = exc.status_code
        if status in (401, 403):
            raise LabelStudioError(
                f"Label Studio at {url} refused the API key (HTTP {status}); set {KEY_VARIABLE} to your access"
                " token (Label Studio: Account & Settings)"
            ) from None
        if status is None:
            raise LabelStudioError(f"cannot {doing} at {url}: {_detail(exc.body)}") from None
        raise LabelStudioError(
            f"Label Studio at {url} refused to {doing} (HTTP {status}: {_detail(exc.body)})"
        ) from None
    except (httpx.HTTPError, pydantic.ValidationError, json.JSONDecodeError, UnicodeDecodeError):
        raise LabelStudioError(f"{url} does not answer like a Label Studio server; check {URL_VARIABLE}") from None


def _detail(body: object) -> str:
    if isinstance(body, dict):
        body = body.get("detail") or body.get("validation_errors") or body
    text = " ".join(str(body).split())
    return text if len(text) <= 200 else text[:197] + "..."


def connect(connection: Connection):
    """An SDK client whose server answered as Label Studio and accepted the key."""
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

    url = connection.shown_url
    with translated(connection, "connect"):
        client = LabelStudio(base_url=connection.url, api_key=connection.key, timeout=TIMEOUT, max_retries=0)
        try:
            client.users.whoami()
        except ApiError as exc:
            if exc.status_code in (401, 403):
                raise
            raise LabelStudioError(
                f"{url} does not answer like a Label Studio server (HTTP {exc.status_code} for"
                f" /api/current-user/whoami); check {URL_VARIABLE}"
            ) from None
    return client


def find_project(client, connection: Connection, title: str, project_id: int | None):
    """The project with `project_id`, else the one titled `title`; None when there is no such title."""
    from label_studio_sdk.core.api_error import ApiError

    url = connection.shown_url
    with translated(connection, "read the projects"):
        if project_id is not None:
            try:
                return client.projects.get(id=project_id)
            except ApiError as exc:
                if exc.status_code == 404:
                    raise LabelStudioError(
                        f"there is no project {project_id} at {url}; leave out --project-id to use the project"
                        f" titled {title!r}"
                    ) from None
                raise
        found = [p for p in client.projects.list(title=title) if p.title == title]
    if len(found) > 1:
        ids = ", ".join(str(p.id) for p in sorted(found, key=lambda p: p.id))
        raise LabelStudioError(
            f"{len(found)} projects at {url} are titled {title!r} (ids {ids}); choose one with --project-id"
        )
    if not found:
        return None
    with translated(connection, "read the projects"):
        return client.projects.get(id=found[0].id)


def project_tasks(client, connection: Connection, project_id: int) -> dict[str, tuple[int, str]]:
    """doc_id -> (task id, text) of the project's tasks."""
    tasks: dict[str, tuple[int, str]] = {}
    with translated(connection, f"list the tasks of project {project_id}"):
        for task in client.tasks.list(project=project_id, fields="task_only", page_size=500):
            data = task.data or {}
            if isinstance(data.get("doc_id"), str):
                tasks.setdefault(data["doc_id"], (task.id, data.get("text")))
    return tasks


def download_export(client, connection: Connection, project_id: int) -> bytes:
    with translated(connection, f"export project {project_id}"):
        return b"".join(client.projects.exports.download_sync(project_id, export_type="JSON", download_all_tasks=True))
