"""Install, start and stop a local Label Studio server, for annotators and for the test suite.

Label Studio pins an older pyarrow than the package uses, so it lives in a virtual
environment of its own (default `.cache/label-studio/venv` in the checkout; the
NEWSCORPUS_LABEL_STUDIO_VENV variable points elsewhere). The server always binds
127.0.0.1, runs in its own process session, gets an environment built from an
allow-list (Label Studio falls back to unprefixed USERNAME, PASSWORD, PORT, HOST)
with telemetry off, and is stopped by its pid with SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from newscorpus.errors import LabelStudioError

LABEL_STUDIO_VERSION = "1.23.2"
VENV_VARIABLE = "NEWSCORPUS_LABEL_STUDIO_VENV"
HOST = "127.0.0.1"
DEFAULT_PORT = 8080

# Passed through from the caller's environment; everything else is dropped.
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT")
# Label Studio reads LABEL_STUDIO_X, then HEARTEX_X, then plain X: never let a plain one through.
UNPREFIXED_FALLBACKS = ("USERNAME", "PASSWORD", "PORT", "HOST", "USER_TOKEN", "DEBUG", "LOG_LEVEL")
_TELEMETRY_OFF = {
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "COLLECT_ANALYTICS": "false",
    "LATEST_VERSION_CHECK": "false",
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
}
_STARTED = re.compile(r"Starting development server at https?://[^:/\s]+:(\d+)/")


def default_venv(root: Path) -> Path:
    """The Label Studio virtual environment: $NEWSCORPUS_LABEL_STUDIO_VENV, else .cache/label-studio/venv."""
    configured = os.environ.get(VENV_VARIABLE)
    return Path(configured) if configured else root / ".cache" / "label-studio" / "venv"


def installed_version(venv: Path) -> str | None:
    found = sorted(venv.glob("lib/python*/site-packages/label_studio-*.dist-info"))
    if not found or not (venv / "bin" / "label-studio").exists():
        return None
    return found[-1].name.removeprefix("label_studio-").removesuffix(".dist-info")


def ensure_installed(venv: Path, *, python: str | None = None, quiet: bool = True) -> Path:
    """Install label-studio==LABEL_STUDIO_VERSION into `venv` unless it is there; returns the executable.

    Takes a file lock so that two test sessions never install into the same folder at once.
    """
    venv.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(venv.parent / f".{venv.name}.install.lock"):  # waits for another install to finish
        if installed_version(venv) == LABEL_STUDIO_VERSION:
            return venv / "bin" / "label-studio"
        python = python or _base_python()
        steps = [
            [python, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
            + (["--quiet"] if quiet else [])
            + [f"label-studio=={LABEL_STUDIO_VERSION}"],
        ]
        for step in steps:
            if step[1:3] == ["-m", "venv"] and (venv / "bin" / "python").exists():
                continue
            result = subprocess.run(step, stdin=subprocess.DEVNULL)
            if result.returncode != 0:
                raise LabelStudioError(
                    f"installing label-studio {LABEL_STUDIO_VERSION} into {venv.name}/ failed"
                    f" (`{' '.join(Path(step[0]).name if i == 0 else x for i, x in enumerate(step))}`"
                    f" exited with {result.returncode}); see its output above"
                )
        if installed_version(venv) != LABEL_STUDIO_VERSION:
            raise LabelStudioError(f"label-studio {LABEL_STUDIO_VERSION} is still missing from {venv.name}/")
    return venv / "bin" / "label-studio"


def _base_python() -> str:
    # A venv made from inside another venv still points at the base interpreter.
    return sys.executable


@dataclass(frozen=True)
class ServerSettings:
    executable: Path
    data_dir: Path
    port: int = DEFAULT_PORT
    home: Path | None = None  # a private HOME / XDG folder (tests); None keeps the caller's
    admin_email: str | None = None
    admin_password: str | None = None
    admin_token: str | None = None  # legacy API token for the admin user (> 5 characters), set on first start

    def command(self) -> list[str]:
        return [
            str(self.executable),
            "start",
            "--no-browser",
            "--internal-host",
            HOST,
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--enable-legacy-api-token",
        ]


def server_environment(settings: ServerSettings, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The server's whole environment: an allow-list of the caller's, telemetry off, our settings.

    Secrets travel in the environment, never on the command line (which `ps` shows).
    """
    environ = os.environ if environ is None else environ
    env = {name: environ[name] for name in _PASSED_THROUGH if name in environ}
    home = str(settings.home) if settings.home else environ.get("HOME")
    if home:
        env["HOME"] = home
    if settings.home:
        env.update(
            XDG_CONFIG_HOME=str(settings.home / ".config"),
            XDG_DATA_HOME=str(settings.home / ".local" / "share"),
            XDG_CACHE_HOME=str(settings.home / ".cache"),
        )
    env.update(_TELEMETRY_OFF)
    env["PYTHONUNBUFFERED"] = "1"  # the log line that names the port must reach the file at once
    env["LABEL_STUDIO_BASE_DATA_DIR"] = str(settings.data_dir)
    if settings.admin_email and settings.admin_password:
        env["LABEL_STUDIO_USERNAME"] = settings.admin_email
        env["LABEL_STUDIO_PASSWORD"] = settings.admin_password
    if settings.admin_token:
        env["LABEL_STUDIO_USER_TOKEN"] = settings.admin_token
    for name in UNPREFIXED_FALLBACKS:
        env.pop(name, None)
    return env


@dataclass
class RunningServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM to the server's process group (its id is the server's pid), SIGKILL if it lingers."""
        return stop_process(self.process, timeout)


def stop_process(process: subprocess.Popen, timeout: float = 30) -> int:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)
    return process.returncode


def start_server(settings: ServerSettings, log_path: Path, *, timeout: float = 240) -> RunningServer:
    """Start Label Studio and wait until /health answers UP on the port its log names.

    Raises LabelStudioError (after stopping the process) when it exits or is not ready in time.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.home:
        settings.home.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        offset = log.tell()  # the log may hold earlier runs: read only this one
        process = subprocess.Popen(
            settings.command(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=server_environment(settings),
            cwd=settings.data_dir,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    port = None
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LabelStudioError(
                    f"Label Studio exited with code {process.returncode} before it was ready;"
                    f" last log line: {_last_line(log_path)!r}"
                )
            if port is None:
                port = _announced_port(log_path, offset)
            if port is not None and _healthy(port):
                return RunningServer(process, port, log_path)
            time.sleep(0.5)
        raise LabelStudioError(
            f"Label Studio did not answer /health within {timeout:.0f} s; last log line: {_last_line(log_path)!r}"
        )
    except BaseException:
        stop_process(process)
        raise


def _announced_port(log_path: Path, offset: int) -> int | None:
    # If the port is taken Label Studio silently moves to the next one; its log line says which.
    with open(log_path, "rb") as log:
        log.seek(offset)
        match = _STARTED.search(log.read().decode("utf-8", errors="replace"))
    return int(match.group(1)) if match else None


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=2) as response:
            return json.loads(response.read()).get("status") == "UP"
    except (OSError, ValueError):
        return False


def _last_line(log_path: Path) -> str:
    lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1][:200] if lines else ""


def default_data_dir() -> Path:
    """Where Label Studio keeps its database when nobody says otherwise (its own default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "label-studio"


def serve(root: Path, *, port: int = DEFAULT_PORT, data_dir: Path | None = None) -> int:
    """Install Label Studio when missing, start it on 127.0.0.1 and keep it running until Ctrl-C.

    LABEL_STUDIO_USERNAME / LABEL_STUDIO_PASSWORD (optional) create the first user without the
    sign-up page, and LABEL_STUDIO_USER_TOKEN (optional, on the first start of a data folder) sets
    that user's API token. No secret is printed: annotators copy theirs from Account & Settings.
    Every path handed to the server is absolute: it runs in its data folder, not in `root`.
    """
    root = root.absolute()
    executable = ensure_installed(default_venv(root).absolute(), quiet=False)
    settings = ServerSettings(
        executable=executable,
        data_dir=(data_dir or default_data_dir()).resolve(),
        port=port,
        admin_email=os.environ.get("LABEL_STUDIO_USERNAME"),
        admin_password=os.environ.get("LABEL_STUDIO_PASSWORD"),
        admin_token=os.environ.get("LABEL_STUDIO_USER_TOKEN"),
    )
    log_path = root / ".cache" / "label-studio" / "server.log"
    print(
        f"starting Label Studio {LABEL_STUDIO_VERSION} (first start of a new data folder takes ~30 s) ...", flush=True
    )
    started = time.monotonic()
    server = start_server(settings, log_path)
    stop = {"requested": False}

    def request_stop(signum, frame) -> None:
        stop["requested"] = True

    previous = signal.signal(signal.SIGTERM, request_stop)
    login = (
        f" as {settings.admin_email}" if settings.admin_email else " (sign up there: the first account is the owner)"
    )
    print(
        f"Label Studio is running at {server.url} (pid {server.pid}, data {settings.data_dir},"
        f" log .cache/label-studio/server.log), started in {time.monotonic() - started:.0f} s;"
        f" log in at {server.url}/user/login/{login}; press Ctrl-C to stop it",
        flush=True,
    )
    try:
        while not stop["requested"] and server.process.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        code = server.stop()
    print(f"Label Studio stopped (exit code {code})")
    return 0
