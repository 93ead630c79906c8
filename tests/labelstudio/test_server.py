"""The session's server as started by newscorpus.labelstudio.server: isolated, on loopback, moved ports detected."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from newscorpus.labelstudio.server import ServerSettings, default_venv, start_server
from tests.helpers import REPO, TEMPLATE, TEMPLATE_FILES, free_port

pytestmark = pytest.mark.labelstudio


def environ_of(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as handle:
        raw = handle.read().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_the_server_runs_in_its_own_session_with_a_private_home(label_studio, tmp_path_factory):
    pid = label_studio.server.pid
    assert os.getsid(pid) == pid
    env = environ_of(pid)
    assert not {"USERNAME", "PASSWORD", "PORT", "HOST", "LABEL_STUDIO_API_KEY", "HF_TOKEN"} & set(env)
    assert env["COLLECT_ANALYTICS"] == "false" and env["SENTRY_DSN"] == ""
    assert env["HOME"] != os.path.expanduser("~") and env["HOME"].startswith(str(tmp_path_factory.getbasetemp()))
    with urllib.request.urlopen(f"{label_studio.url}/health", timeout=5) as response:
        assert response.read() == b'{"status": "UP"}'


def test_a_busy_port_is_noticed_from_the_log_and_the_server_stops_on_sigterm(label_studio, tmp_path, monkeypatch):
    monkeypatch.setenv("USERNAME", "must-not-reach-the-server")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in TEMPLATE_FILES:
        shutil.copy2(TEMPLATE / name, data_dir / name)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        settings = ServerSettings(
            executable=default_venv(REPO) / "bin" / "label-studio", data_dir=data_dir, port=port, home=tmp_path / "home"
        )
        server = start_server(settings, tmp_path / "server.log")
        try:
            assert server.port != port  # Label Studio moved on; the log line told us where
            assert (
                f"Starting development server at http://127.0.0.1:{server.port}/"
                in (tmp_path / "server.log").read_text()
            )
            assert "USERNAME" not in environ_of(server.pid)
        finally:
            code = server.stop()
    assert code == -signal.SIGTERM
    with pytest.raises(ProcessLookupError):
        os.killpg(server.pid, 0)  # nothing of its process group is left


def test_annotate_serve_runs_until_sigterm(label_studio, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in TEMPLATE_FILES:
        shutil.copy2(TEMPLATE / name, data_dir / name)
    port = free_port()
    # The default Label Studio folder of the project, .cache/label-studio/venv: the installed one, linked.
    (tmp_path / ".cache" / "label-studio").mkdir(parents=True)
    (tmp_path / ".cache" / "label-studio" / "venv").symlink_to(default_venv(REPO).resolve())
    env = {k: v for k, v in os.environ.items() if k != "NEWSCORPUS_LABEL_STUDIO_VENV"}
    env["HOME"] = str(tmp_path / "home")
    # As the docs write it: from the project's folder, with the default --root (a relative ".").
    command = [sys.executable, "-m", "newscorpus.cli", "annotate", "serve"]
    serve = subprocess.Popen(
        [*command, "--port", str(port), "--data-dir", "data"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        first, second = serve.stdout.readline(), serve.stdout.readline()
        assert first.startswith("starting Label Studio 1.23.2")
        assert second.startswith(f"Label Studio is running at http://127.0.0.1:{port} (pid ")
        assert f"data {data_dir}," in second and " started in " in second
        assert second.endswith(
            f"log in at http://127.0.0.1:{port}/user/login/ (sign up there: the first account"
            " is the owner); press Ctrl-C to stop it\n"
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            assert response.status == 200
    finally:
        serve.send_signal(signal.SIGTERM)
        rest = serve.communicate(timeout=60)[0]
    assert (serve.returncode, rest) == (0, "Label Studio stopped (exit code -15)\n")
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)
