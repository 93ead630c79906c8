"""Regenerate docs/labeling-view.png: the seed article in Label Studio's labeling view.

    .venv/bin/python scripts/screenshot_labeling.py [--out docs/labeling-view.png]

Starts a throwaway Label Studio on 127.0.0.1 (installed into .cache/label-studio/venv on first
use), pushes the checkout's labeling config, instructions and the seed's pre-annotations to a
new project, opens the task in the system Chromium (Debian's `chromium`, driven by Playwright;
never Playwright's own browser download), selects the pronoun "He" so that its mention type
shows beside the labels, and saves the screenshot. Everything else lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from newscorpus.labelstudio.client import Connection
from newscorpus.labelstudio.push_pull import push
from newscorpus.labelstudio.server import ServerSettings, default_venv, ensure_installed, start_server
from newscorpus.project import Project

REPO = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARGS += ["--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "labeling-view.png")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("no chromium on PATH: apt-get install chromium")
    email, password = "docs@newscorpus.test", secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="newscorpus-screenshot-") as scratch:
        folder = Path(scratch)
        settings = ServerSettings(
            executable=ensure_installed(default_venv(REPO)),
            data_dir=folder / "data",
            port=_free_port(),
            home=folder / "home",
            admin_email=email,
            admin_password=password,
            admin_token=secrets.token_hex(20),
        )
        server = start_server(settings, folder / "server.log")
        try:
            pushed = push(Project(REPO), Connection(server.url, settings.admin_token), title="newscorpus")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(60_000)
                page.goto(f"{server.url}/user/login/")
                page.fill("input[name=email]", email)
                page.fill("input[name=password]", password)
                page.click("button[type=submit]")
                page.wait_for_url(lambda u: "/user/login" not in u)
                page.goto(f"{server.url}/projects/{pushed.project_id}/data?labeling=1")
                page.get_by_text("Labeling Instructions").wait_for()
                page.keyboard.press("Escape")
                line = page.locator(".lsf-richtext__line", has_text="He added")
                line.wait_for()
                line.locator("span.htx-highlight", has_text="He").first.click()
                page.wait_for_timeout(800)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out))
                browser.close()
        finally:
            server.stop()
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
