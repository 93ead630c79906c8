"""`annotate users add` / `list` against the real server: an annotator who can log in, the roster, the refusals."""

from __future__ import annotations

import uuid

import httpx
import pytest

from newscorpus.cli import main
from newscorpus.labelstudio.roster import read_roster
from newscorpus.project import Project
from tests.helpers import ADMIN_EMAIL, copy_project, free_port, tree_bytes

pytestmark = pytest.mark.labelstudio

PASSWORD = "SENTINEL-pw-4f1c9e"


def run(capsys, root, *argv):
    code = main(["--root", str(root), "annotate", "users", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def log_in(url: str, email: str, password: str) -> dict:
    """Log in through the form as a browser does; the user Label Studio then says we are."""
    with httpx.Client(base_url=url, timeout=60) as browser:
        browser.get("/user/login/")
        browser.post(
            "/user/login/",
            data={"email": email, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            headers={"Referer": f"{url}/user/login/"},
        )
        return browser.get("/api/current-user/whoami").json()


@pytest.fixture
def repo(tmp_path):
    return copy_project(tmp_path / "repo").root


def test_users_add_makes_an_annotator_who_logs_in_with_the_next_roster_code(repo, ls_env, monkeypatch, capsys):
    email = f"ana-{uuid.uuid4().hex[:8]}@example.org"
    monkeypatch.setenv("ANA_PASSWORD", PASSWORD)
    code, out, err = run(capsys, repo, "add", email.upper(), "--password-env", "ANA_PASSWORD")
    assert (code, err) == (0, "")
    [user] = [u for u in ls_env.client().users.list() if u.email == email]
    assert out == (
        f"created {email} at {ls_env.url} (Label Studio user {user.id}); they log in there\n"
        f"roster code of {email}: A02, new, in annotation/annotators.yaml\n"
    )
    assert PASSWORD not in out + err
    me = log_in(ls_env.url, email, PASSWORD)
    admin = ls_env.client().users.whoami()
    assert (me["email"], me["active_organization"]) == (email, admin.active_organization)
    assert read_roster(Project(repo)).entries[1] == ("A02", email)

    code, out, err = run(capsys, repo, "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith(f"Label Studio at {ls_env.url}: ") and lines[0].endswith(
        " on the roster (annotation/annotators.yaml)"
    )
    assert lines[1] == "    id  code  email"
    assert f"{user.id:>6}  A02   {email}" in lines
    assert any(line.endswith(f"  -     {ADMIN_EMAIL}") for line in lines)  # on the server, not on the roster

    # Once more: the account exists; nothing changes, and the message says how to put it on a roster.
    before = tree_bytes(repo / "annotation")
    assert run(capsys, repo, "add", email, "--password-env", "ANA_PASSWORD") == (
        1,
        "",
        f"error: {email} already has an account at {ls_env.url} (Label Studio user {user.id}); nothing changed;"
        " it is on the roster as A02\n",
    )
    assert tree_bytes(repo / "annotation") == before


def test_roster_only_gives_a_code_without_the_server(repo, monkeypatch, capsys):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    assert run(capsys, repo, "add", "Ben@Example.org", "--roster-only") == (
        0,
        "roster code of ben@example.org: A02, new, in annotation/annotators.yaml\n",
        "",
    )
    assert run(capsys, repo, "add", "ben@example.org", "--roster-only")[1] == (
        "roster code of ben@example.org: A02, on the roster already, in annotation/annotators.yaml\n"
    )


HOW = " (8 to 128 characters) and run again; it is read from there only, never from the command line\n"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        (None, "error: ANA_PASSWORD is not set; export the new annotator's password in ANA_PASSWORD" + HOW),
        ("", "error: ANA_PASSWORD is empty; export the new annotator's password in ANA_PASSWORD" + HOW),
        (
            "short",
            "error: the password in ANA_PASSWORD has 5 characters; Label Studio takes 8 to 128: export the new"
            " annotator's password in ANA_PASSWORD" + HOW,
        ),
    ],
    ids=["unset", "empty", "too-short"],
)
def test_the_password_comes_from_the_named_variable(repo, ls_env, monkeypatch, capsys, password, message):
    if password is None:
        monkeypatch.delenv("ANA_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("ANA_PASSWORD", password)
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    before = tree_bytes(repo / "annotation")
    assert run(capsys, repo, "add", email, "--password-env", "ANA_PASSWORD") == (1, "", message)
    assert tree_bytes(repo / "annotation") == before
    assert email not in {u.email for u in ls_env.client().users.list()}


def test_an_existing_email_is_refused(repo, ls_env, monkeypatch, capsys):
    monkeypatch.setenv("ANNOTATOR_PASSWORD", PASSWORD)  # the default variable
    admin = ls_env.client().users.whoami()
    assert run(capsys, repo, "add", ADMIN_EMAIL) == (
        1,
        "",
        f"error: {ADMIN_EMAIL} already has an account at {ls_env.url} (Label Studio user {admin.id}); nothing"
        f" changed; to put it on the roster: `newscorpus annotate users add {ADMIN_EMAIL} --roster-only`\n",
    )


@pytest.mark.parametrize("action", ["add", "list"])
def test_an_unreachable_server(repo, monkeypatch, capsys, action):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("LABEL_STUDIO_URL", url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "SENTINEL-key")
    monkeypatch.setenv("ANNOTATOR_PASSWORD", PASSWORD)
    argv = ["add", "ana@example.org"] if action == "add" else ["list"]
    assert run(capsys, repo, *argv) == (
        1,
        "",
        f"error: cannot reach Label Studio at {url} (connection refused); start it (`newscorpus annotate serve`)"
        " or correct LABEL_STUDIO_URL\n",
    )


def test_wait_returns_once_the_server_answers(label_studio, monkeypatch, capsys):
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    assert main(["annotate", "wait"]) == 0
    assert capsys.readouterr().out == f"Label Studio at {label_studio.url} answers (waited 0 s)\n"


def test_wait_gives_up_naming_the_server_and_its_log(monkeypatch, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("LABEL_STUDIO_URL", url)
    assert main(["annotate", "wait", "--timeout", "1"]) == 1
    assert capsys.readouterr().err == (
        f"error: Label Studio at {url} did not answer within 1 s; is `newscorpus annotate serve` running?"
        " Its log: .cache/label-studio/server.log\n"
    )
