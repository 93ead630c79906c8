"""`newscorpus annotate users add` / `list` / `wait`: annotator accounts on the server, and the roster.

Label Studio 1.23.2 has no API call that makes a user who can log in: `POST /api/users/` makes
one outside the organization, without a password. What works is what a person invited by link
does: the organization's invite link (`GET /api/invite`, as the admin whose key is in
LABEL_STUDIO_API_KEY), then the sign-up form at that link, with its CSRF token, the email and
the password. The password is read from the environment variable the caller names, never from
the command line (which `ps` shows) and never printed. Every new annotator also gets the next
roster code (`roster`), unless already on the roster (someone who annotated on another server
keeps their code).
"""

from __future__ import annotations

import os
import re
import time
import urllib.request
from dataclasses import dataclass
from html import unescape

from newscorpus.errors import LabelStudioError
from newscorpus.labelstudio.client import URL_VARIABLE, Connection, connect, translated
from newscorpus.labelstudio.pull import list_users
from newscorpus.labelstudio.roster import ROSTER_FILE, Roster, is_email, read_roster, write_roster
from newscorpus.project import Project

DEFAULT_PASSWORD_VARIABLE = "ANNOTATOR_PASSWORD"
MIN_PASSWORD, MAX_PASSWORD = 8, 128  # Label Studio's AUTH_PASSWORD_MIN_LENGTH / MAX_LENGTH
_FIELD_ERRORS = re.compile(r'<ul class="field_errors">(.*?)</ul>', re.S)
_ITEM = re.compile(r"<li>(.*?)</li>", re.S)


@dataclass(frozen=True)
class AddedUser:
    email: str
    user_id: int | None  # None: only put on the roster
    code: str
    new_code: bool
    url: str

    def lines(self) -> list[str]:
        out = []
        if self.user_id is not None:
            out.append(f"created {self.email} at {self.url} (Label Studio user {self.user_id}); they log in there")
        roster = f"{self.code}, {'new' if self.new_code else 'on the roster already'}, in {ROSTER_FILE}"
        out.append(f"roster code of {self.email}: {roster}")
        return out


def add_user(
    project: Project, connection: Connection | None, email: str, password_variable: str, *, roster_only: bool = False
) -> AddedUser:
    """Create an annotator who can log in, in the organization of the admin whose key is given; add them to the roster.

    With `roster_only`, the server is not contacted (an account made by hand, or on another server).
    """
    email = email.strip()
    if not is_email(email):
        raise LabelStudioError(f"{email!r} is not an email address; give the annotator's email, e.g. ana@example.org")
    email = email.lower()  # Label Studio stores emails in lower case
    roster = read_roster(project) or Roster()
    if roster_only:
        roster, code, new = roster.added(email)
        write_roster(project, roster)
        return AddedUser(email, None, code, new, "")
    password = _password(password_variable)
    if connection is None:
        raise LabelStudioError(f"{URL_VARIABLE} and LABEL_STUDIO_API_KEY are needed to create an account")
    client = connect(connection)
    url = connection.shown_url
    users = list_users(client, connection)
    existing = next((uid for uid, known in users.items() if known == email), None)
    if existing is not None:
        code = roster.code_of(email)
        fix = (
            f"it is on the roster as {code}"
            if code
            else f"to put it on the roster: `newscorpus annotate users add {email} --roster-only`"
        )
        raise LabelStudioError(
            f"{email} already has an account at {url} (Label Studio user {existing}); nothing changed; {fix}"
        )
    with translated(connection, "get the organization's invite link"):
        invite = client.organizations.invites.get_invite_link()
    _sign_up(connection, invite.invite_url, email, password)
    user_id = next((uid for uid, known in list_users(client, connection).items() if known == email), None)
    if user_id is None:
        raise LabelStudioError(
            f"Label Studio at {url} accepted the sign-up of {email} but does not list the user;"
            " check the server's log (.cache/label-studio/server.log)"
        )
    roster, code, new = roster.added(email)
    write_roster(project, roster)
    return AddedUser(email, user_id, code, new, url)


def _password(variable: str) -> str:
    value = os.environ.get(variable)
    how = (
        f"export the new annotator's password in {variable} ({MIN_PASSWORD} to {MAX_PASSWORD} characters) and run"
        " again; it is read from there only, never from the command line"
    )
    if value is None:
        raise LabelStudioError(f"{variable} is not set; {how}")
    if not value:
        raise LabelStudioError(f"{variable} is empty; {how}")
    if not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise LabelStudioError(
            f"the password in {variable} has {len(value)} characters; Label Studio takes {MIN_PASSWORD} to"
            f" {MAX_PASSWORD}: {how}"
        )
    return value


def _sign_up(connection: Connection, invite_url: str, email: str, password: str) -> None:
    """The sign-up form at the invite link, as a browser fills it (CSRF cookie and token), without the admin's key."""
    import httpx

    url = connection.shown_url
    with translated(connection, f"sign up {email}"), httpx.Client(base_url=connection.url, timeout=60) as browser:
        form = browser.get(invite_url)
        token = browser.cookies.get("csrftoken")
        if form.status_code != 200 or not token:
            raise LabelStudioError(
                f"Label Studio at {url} did not show its sign-up form (HTTP {form.status_code}); check {URL_VARIABLE}"
            )
        answer = browser.post(
            invite_url,
            data={"email": email, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{connection.url}{invite_url}"},
        )
    if answer.status_code == 302:
        return
    errors = [unescape(" ".join(i.split())) for b in _FIELD_ERRORS.findall(answer.text) for i in _ITEM.findall(b)]
    reason = "; ".join(errors) if errors else f"HTTP {answer.status_code}"
    raise LabelStudioError(f"Label Studio at {url} refused the sign-up of {email}: {reason}; nothing changed")


@dataclass(frozen=True)
class UserRow:
    user_id: int | None
    email: str
    code: str | None


def list_accounts(project: Project, connection: Connection) -> tuple[str, list[UserRow]]:
    """(the server's URL, every user of the server with their roster code, then roster entries without an account)."""
    roster = read_roster(project) or Roster()
    client = connect(connection)
    users = list_users(client, connection)
    rows = [UserRow(uid, email, roster.code_of(email)) for uid, email in sorted(users.items())]
    present = set(users.values())
    rows += [UserRow(None, email, code) for code, email in roster.entries if email not in present]
    return connection.shown_url, rows


def account_lines(url: str, rows: list[UserRow], roster_exists: bool) -> list[str]:
    on_server = [r for r in rows if r.user_id is not None]
    coded = sum(1 for r in rows if r.code)
    roster = f"{coded} on the roster ({ROSTER_FILE})" if roster_exists else f"no roster yet ({ROSTER_FILE})"
    out = [f"Label Studio at {url}: {len(on_server)} user(s); {roster}", f"{'id':>6}  {'code':<5} email"]
    for row in rows:
        shown_id = str(row.user_id) if row.user_id is not None else "-"
        note = "" if row.user_id is not None else "  (no account on this server)"
        out.append(f"{shown_id:>6}  {row.code or '-':<5} {row.email}{note}")
    return out


def wait_for_server(timeout: float, *, poll: float = 1.0) -> str:
    """Wait until the server at LABEL_STUDIO_URL answers /health; returns a line saying how long it took."""
    url = (os.environ.get(URL_VARIABLE) or "").strip().rstrip("/")
    if not url:
        raise LabelStudioError(f"{URL_VARIABLE} is not set; export the server's address (e.g. http://127.0.0.1:8080)")
    shown = Connection(url, "").shown_url
    started = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                if b'"UP"' in response.read():
                    return f"Label Studio at {shown} answers (waited {time.monotonic() - started:.0f} s)"
        except (OSError, ValueError):
            pass
        if time.monotonic() - started >= timeout:
            raise LabelStudioError(
                f"Label Studio at {shown} did not answer within {timeout:.0f} s; is `newscorpus annotate serve`"
                " running? Its log: .cache/label-studio/server.log"
            )
        time.sleep(poll)
