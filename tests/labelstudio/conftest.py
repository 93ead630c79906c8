"""A real Label Studio server for the whole test session, on 127.0.0.1, in temporary folders.

Installed once into the checkout's ignored .cache/label-studio/venv (or the folder named by
NEWSCORPUS_LABEL_STUDIO_VENV). The first start migrates a fresh database (~30 s); a copy of
that migrated database is kept in .cache/label-studio/ so later sessions start in seconds.
With CI=true a server that cannot be installed or started fails the tests; elsewhere they skip.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from newscorpus.errors import LabelStudioError
from newscorpus.labelstudio.server import (
    RunningServer,
    ServerSettings,
    default_venv,
    ensure_installed,
    start_server,
)
from tests.helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    REPO,
    TEMPLATE,
    TEMPLATE_FILES,
    free_port,
    required,
)


@dataclass(frozen=True)
class LabelStudio:
    url: str
    token: str
    server: RunningServer

    def client(self):
        from label_studio_sdk import LabelStudio as Client

        return Client(base_url=self.url, api_key=self.token)


def _unavailable(reason: str):
    required(f"no Label Studio server: {reason}", f"Label Studio is required when CI=true: {reason}")


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory) -> LabelStudio:
    try:
        executable = ensure_installed(default_venv(REPO))
    except (LabelStudioError, OSError) as exc:
        _unavailable(str(exc))
    folder = tmp_path_factory.mktemp("label-studio")
    data_dir = folder / "data"
    fresh = not all((TEMPLATE / name).is_file() for name in TEMPLATE_FILES)
    if not fresh:
        data_dir.mkdir()
        for name in TEMPLATE_FILES:
            shutil.copy2(TEMPLATE / name, data_dir / name)
    settings = ServerSettings(
        executable=executable,
        data_dir=data_dir,
        port=free_port(),
        home=folder / "home",
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        admin_token=ADMIN_TOKEN,
    )
    try:
        server = start_server(settings, folder / "server.log")
    except LabelStudioError as exc:
        _unavailable(str(exc))
    if fresh:
        _save_template(data_dir)
    yield LabelStudio(server.url, ADMIN_TOKEN, server)
    server.stop()


def _save_template(data_dir: Path) -> None:
    """Keep the freshly migrated database (with the admin user and token) for the next session."""
    staging = TEMPLATE.with_name(f"{TEMPLATE.name}.tmp-{os.getpid()}")
    staging.mkdir(parents=True, exist_ok=True)
    with (
        sqlite3.connect(data_dir / "label_studio.sqlite3") as source,
        sqlite3.connect(staging / "label_studio.sqlite3") as target,
    ):
        source.backup(target)  # a consistent copy while the server runs
    shutil.copy2(data_dir / ".env", staging / ".env")
    try:
        staging.rename(TEMPLATE)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another session saved it first


@pytest.fixture
def ls_env(label_studio, monkeypatch) -> LabelStudio:
    """The server's URL and key in the environment, as a person would export them."""
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.token)
    return label_studio
