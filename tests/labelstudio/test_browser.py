"""The labeling view in a real browser: Chromium (Debian's package) driven by Playwright.

Against the session's Label Studio, with the generated config and the pushed pre-annotations,
the test does what an annotator does: logs in, reads the instructions, finds every label, makes
an entity by double-click, sets its mention type, draws a labelled relation and submits. Then
it checks through the API and through the converter that exactly that was stored.

Screenshots are written to the test's tmp folder (the path is printed). Playwright's own
browser download is never used: the system Chromium is launched by its path. With CI=true a
missing browser or Playwright fails the test; elsewhere it skips.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from newscorpus.errors import Location
from newscorpus.ingest import read_articles, seed_paths
from newscorpus.labelstudio.client import Connection
from newscorpus.labelstudio.exports import export_paths, read_annotations
from newscorpus.labelstudio.push_pull import pull, push
from newscorpus.labelstudio.regions import convert_result
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, copy_project, required

pytestmark = pytest.mark.labelstudio

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
LOAD_TIMEOUT_MS = 60_000  # the labeling view takes 6-10 s on two busy cores


def _unavailable(reason: str):
    required(reason, f"the browser test needs Chromium and Playwright when CI=true: {reason}")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session: the system's, launched by its path."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[test]'")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        _unavailable("no chromium on PATH: apt-get install chromium (scripts/test.sh does so as root)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Screens:
    """Numbered screenshots in one folder, printed so a failing run shows where they are."""

    def __init__(self, folder: Path):
        self.folder, self.count = folder, 0
        print(f"\nscreenshots: {folder}")

    def take(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path))
        return path


def login(page, url: str) -> None:
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/user/login" not in u, timeout=LOAD_TIMEOUT_MS)


def word_position(page, word: str, context: str) -> tuple[float, float]:
    """The middle of `word` on the first line of the text that contains `context`, scrolled into view."""
    script = """([word, context]) => {
      const line = [...document.querySelectorAll('.lsf-richtext__line')].find(l => l.textContent.includes(context));
      if (!line) return null;
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.textContent.search(new RegExp('\\\\b' + word + '\\\\b'));
        if (i < 0) continue;
        n.parentElement.scrollIntoView({block: 'center'});
        const range = document.createRange();
        range.setStart(n, i);
        range.setEnd(n, i + word.length);
        const box = range.getBoundingClientRect();
        return [box.x + box.width / 2, box.y + box.height / 2];
      }
      return null;
    }"""
    found = page.evaluate(script, [word, context])
    assert found is not None, f"the word {word!r} is not on the line with {context!r}"
    return found[0], found[1]


def _key(item: dict, spans: dict[str, tuple]) -> tuple:
    """A result item without its region id: what it says, not how Label Studio named it."""
    if item["type"] == "relation":
        return ("relation", spans[item["from_id"]], spans[item["to_id"]], tuple(item.get("labels") or ()))
    value = item["value"]
    what = tuple(value.get("labels") or value.get("choices") or ())
    return (item["type"], item["from_name"], value["start"], value["end"], value["text"], what)


def _keys(result: list[dict]) -> Counter:
    spans = {r["id"]: (r["value"]["start"], r["value"]["end"]) for r in result if r["type"] == "labels"}
    return Counter(_key(item, spans) for item in result)


def test_an_annotator_labels_relates_and_submits_in_the_browser(label_studio, browser, tmp_path):
    started = time.monotonic()
    project = copy_project(tmp_path / "repo")
    schema = project.schema
    connection = Connection(label_studio.url, label_studio.token)
    pushed = push(project, connection, title=f"browser-{uuid.uuid4().hex[:10]}")
    client = label_studio.client()
    [task] = client.tasks.list(project=pushed.project_id, fields="all")
    predicted = task.predictions[0]
    predicted = (predicted if isinstance(predicted, dict) else predicted.dict())["result"]
    text = task.data["text"]
    screens = Screens(tmp_path / "screenshots")
    screens.folder.mkdir()

    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    try:
        login(page, label_studio.url)
        page.goto(f"{label_studio.url}/projects/{pushed.project_id}/data?labeling=1")
        # The instructions come first: the guidelines, rendered.
        modal = page.get_by_text("Labeling Instructions")
        modal.wait_for()
        assert page.get_by_role("heading", name="newscorpus annotation guidelines").is_visible()
        assert page.get_by_role("heading", name="8. Checklist before you submit").count() == 1
        screens.take(page, "instructions")
        page.keyboard.press("Escape")
        page.locator(".lsf-richtext__line", has_text="Kosovo Serbs").first.wait_for()
        page.wait_for_timeout(500)
        screens.take(page, "task-opened")

        # Every label of the schema is a button, with its own hotkey, in the order of the schema.
        buttons = [t.split() for t in page.locator(".lsf-label").all_inner_texts()]
        expected = [*schema.entity_types, *schema.event_types, *schema.quote_kinds, "cue"]
        assert [b[0] for b in buttons] == expected
        assert [b[1] for b in buttons] == [schema.presentation.hotkeys[label] for label in expected]

        # An entity by double-click, with the label's hotkey: "army" as an ORG.
        page.keyboard.press(schema.presentation.hotkeys["ORG"])
        army = word_position(page, "army", "high alert")
        page.mouse.dblclick(*army)
        page.locator(".lsf-richtext__line", has_text="high alert").locator(
            "span.htx-highlight", has_text="army"
        ).wait_for()
        page.mouse.click(*word_position(page, "army", "high alert"))  # select it: its choices appear
        page.locator(".lsf-choice", has_text="NOM").first.click()
        screens.take(page, "entity-with-mention-type")

        # A coref relation from "Peskov" to "Dmitry Peskov" (both proposed by the pre-annotator).
        page.mouse.click(*word_position(page, "Peskov", "warned of"))
        page.keyboard.press("Alt+r")
        page.mouse.click(*word_position(page, "Dmitry", "spokesman"))
        page.get_by_text("Relations", exact=True).first.click()
        relation = page.locator(".lsf-relations__item").last
        relation.hover()
        relation.get_by_label("Show Relation Labels").click()
        page.locator(".lsf-relation-meta").last.get_by_test_id("select-trigger").click()
        page.get_by_role("option", name="coref", exact=True).click()
        page.keyboard.press("Escape")
        screens.take(page, "relation-labelled")

        with page.expect_response(lambda r: "/annotations" in r.url and r.request.method == "POST") as submitted:
            page.get_by_test_id("bottombar-submit-button").click()
        assert submitted.value.ok, submitted.value.text()
        page.wait_for_timeout(500)
        screens.take(page, "submitted")
    finally:
        page.close()

    # Through the API: the pre-annotation, plus exactly the entity, its choice and the relation.
    [annotation] = client.tasks.get(id=task.id).annotations
    annotation = annotation if isinstance(annotation, dict) else annotation.dict()
    stored = annotation["result"]
    start = text.index("army on high alert")
    peskov, dmitry = text.index("Peskov warned"), text.index("Dmitry Peskov")
    assert _keys(stored) - _keys(predicted) == Counter(
        [
            ("labels", "entity", start, start + 4, "army", ("ORG",)),
            ("choices", "mention_type", start, start + 4, "army", ("NOM",)),
            ("relation", (peskov, peskov + 6), (dmitry, dmitry + 13), ("coref",)),
        ]
    )
    assert not _keys(predicted) - _keys(stored), "a pre-annotated item was lost"

    # Through the converter: the same regions as typed records; Peskov joins Dmitry Peskov's chain.
    layers, problems = convert_result(stored, text, schema, Location("browser test", doc_id=task.data["doc_id"]))
    assert problems == []
    entities = {(e.start, e.end): e for e in layers.entities}
    assert (entities[(start, start + 4)].type, entities[(start, start + 4)].mention_type) == ("ORG", "NOM")
    assert entities[(peskov, peskov + 6)].cluster_id == entities[(dmitry, dmitry + 13)].cluster_id
    before, _ = convert_result(predicted, text, schema, Location("prediction"))
    assert len(layers.entities) == len(before.entities) + 1
    assert [replace(q, speaker=None) for q in layers.quotes] == [replace(q, speaker=None) for q in before.quotes]
    [fragment] = [q for q in layers.quotes if q.text.startswith("“provocative actions”")]
    assert fragment.speaker == "Dmitry Peskov"  # was "Peskov": the new coref link resolves it

    # And as a release reads it: pulled, then read from annotation/exports/.
    pull(project, connection, project_id=pushed.project_id)
    articles = read_articles(seed_paths(project.seeds_dir), relative=project.relative, language=schema.language)
    exports = [p for p in export_paths(project.exports_dir) if f"project-{pushed.project_id}" in p.name]
    chosen, _ = read_annotations(exports, {a.doc_id: a for a in articles}, schema, project.relative)
    assert chosen[task.data["doc_id"]].layers == layers
    print(f"browser test: {time.monotonic() - started:.1f} s")
