"""Starting Label Studio safely: its environment, its command line, and failing clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from newscorpus.errors import LabelStudioError
from newscorpus.labelstudio.server import ServerSettings, default_venv, server_environment, start_server


def settings(tmp_path: Path, **extra) -> ServerSettings:
    return ServerSettings(executable=Path("label-studio"), data_dir=tmp_path / "data", port=18111, **extra)


def test_environment_is_an_allow_list_with_telemetry_off(tmp_path):
    caller = {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "HOME": "/home/someone",
        "USERNAME": "someone",
        "PASSWORD": "hunter2",
        "PORT": "9999",
        "HOST": "0.0.0.0",
        "LABEL_STUDIO_API_KEY": "client-key",
        "HF_TOKEN": "hub-token",
    }
    env = server_environment(
        settings(
            tmp_path, home=tmp_path / "home", admin_email="a@b.test", admin_password="pw", admin_token="token-123"
        ),
        caller,
    )
    assert env == {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
        "XDG_DATA_HOME": str(tmp_path / "home" / ".local" / "share"),
        "XDG_CACHE_HOME": str(tmp_path / "home" / ".cache"),
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "COLLECT_ANALYTICS": "false",
        "LATEST_VERSION_CHECK": "false",
        "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
        "PYTHONUNBUFFERED": "1",
        "LABEL_STUDIO_BASE_DATA_DIR": str(tmp_path / "data"),
        "LABEL_STUDIO_USERNAME": "a@b.test",
        "LABEL_STUDIO_PASSWORD": "pw",
        "LABEL_STUDIO_USER_TOKEN": "token-123",
    }


def test_a_person_keeps_their_home(tmp_path):
    env = server_environment(settings(tmp_path), {"HOME": "/home/someone", "USERNAME": "someone"})
    assert env["HOME"] == "/home/someone" and "USERNAME" not in env and "XDG_CONFIG_HOME" not in env


def test_command_binds_loopback_and_holds_no_secret(tmp_path):
    command = settings(tmp_path, admin_password="pw-secret", admin_token="token-secret").command()
    assert command[command.index("--internal-host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "18111"
    assert not any("secret" in part for part in command)


def test_venv_location(tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSCORPUS_LABEL_STUDIO_VENV", raising=False)
    assert default_venv(tmp_path) == tmp_path / ".cache" / "label-studio" / "venv"
    monkeypatch.setenv("NEWSCORPUS_LABEL_STUDIO_VENV", str(tmp_path / "elsewhere"))
    assert default_venv(tmp_path) == tmp_path / "elsewhere"


def test_a_server_that_exits_at_once_is_a_clear_error(tmp_path):
    failing = ServerSettings(executable=Path("/bin/false"), data_dir=tmp_path / "data", port=18112)
    with pytest.raises(LabelStudioError) as caught:
        start_server(failing, tmp_path / "server.log", timeout=30)
    assert str(caught.value) == "Label Studio exited with code 1 before it was ready; last log line: ''"
