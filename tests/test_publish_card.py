"""The card and croissant.json as `publish` uploads them: quick start and citation naming the Hub dataset and tag.

From format 2 on the release's own README.md loads it from its folder (`corpus/vX.Y.Z`) and cites
its version; the uploaded copy loads it from the Hub at its tag and cites the dataset's URL, and
croissant.json's `url` is that URL. The release folder is never changed. A format-1 release is
uploaded byte for byte as it is.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from newscorpus.card.blocks import read_snapshot
from newscorpus.card.render import committed_snapshots, release_readme
from newscorpus.card.usage import for_hub
from newscorpus.project import Project
from newscorpus.publish import hub_copies
from tests.helpers import REPO, REPO_ID, TOKEN, tree_bytes
from tests.hub_server import FakeHub
from tests.publish_runner import known_validations, run_publish

SEED = REPO / "corpus" / "v0.1.2"
QUICKSTART = re.compile(r"<!-- BEGIN GENERATED: quickstart -->\n.*?<!-- END GENERATED: quickstart -->", re.DOTALL)
BIBTEX = re.compile(r"^```bibtex\n.*?^```", re.DOTALL | re.MULTILINE)


def format_2_copy(tmp_path):
    """A copy of the seed release whose README.md is rendered in format 2 (its croissant.json kept)."""
    project = Project(REPO)
    copy = tmp_path / "v0.1.2"
    shutil.copytree(SEED, copy)
    datacard = project.datacard_path.read_text(encoding="utf-8")
    earlier = committed_snapshots(project.corpus_dir, below="0.1.2")
    readme = release_readme(project.schema, read_snapshot(copy), datacard, earlier, 2)
    (copy / "README.md").write_text(readme, encoding="utf-8")
    return copy


def test_the_uploaded_card_loads_from_the_hub_at_the_tag_and_cites_the_url(tmp_path):
    release = format_2_copy(tmp_path)
    before = tree_bytes(release)
    copies = hub_copies(release, "0.1.2", "my-org/news")
    assert tree_bytes(release) == before  # the release folder is not changed
    card = copies["README.md"].decode("utf-8")
    original = (release / "README.md").read_text(encoding="utf-8")
    quickstart = QUICKSTART.search(card)[0]
    assert 'quotes = load_dataset("my-org/news", "quotes", split="train", revision="v0.1.2")' in quickstart
    assert "https://huggingface.co/datasets/my-org/news" in quickstart
    assert BIBTEX.search(card)[0] == (
        "```bibtex\n"
        "@misc{newscorpus,\n"
        "  title  = {newscorpus: an annotated news corpus of entities, events and quotes},\n"
        "  author = {{newscorpus maintainers}},\n"
        "  year   = {2026},\n"
        "  version = {0.1.2},\n"
        "  url = {https://huggingface.co/datasets/my-org/news},\n"
        "  howpublished = {Hugging Face Hub, tag v0.1.2}\n"
        "}\n"
        "```"
    )
    # nothing else in the card changes
    assert BIBTEX.sub("", QUICKSTART.sub("", card)) == BIBTEX.sub("", QUICKSTART.sub("", original))
    doc = json.loads(copies["croissant.json"])
    assert doc["url"] == "https://huggingface.co/datasets/my-org/news"
    assert doc["distribution"] == json.loads((release / "croissant.json").read_text("utf-8"))["distribution"]


def test_a_card_without_a_quick_start_block_is_uploaded_as_it_is():
    assert for_hub((SEED / "README.md").read_text(encoding="utf-8"), "0.1.2", "my-org/news") is None


@pytest.fixture
def hub():
    with FakeHub(TOKEN) as server:
        yield server


def test_publish_uploads_the_hub_card_for_format_2_and_the_folder_as_it_is_before(two_releases, hub, tmp_path):
    """Through the real client and the stand-in Hub: what the tag holds, and the dry run's line about it."""
    release = two_releases[1]
    release_format = json.loads((release / "manifest.json").read_text("utf-8")).get("format", 1)
    validated = known_validations(list(two_releases), tmp_path)
    before = tree_bytes(release)
    code, out, err = run_publish(hub.url, release, "--dry-run", token=None, validated=validated)
    assert (code, err) == (0, "")
    line = (
        "rewritten for the Hub: README.md, croissant.json (quick start, citation and url name"
        f" https://huggingface.co/datasets/{REPO_ID} and tag v0.2.0; the release folder is not changed)"
    )
    assert (line in out.splitlines()) == (release_format >= 2)
    code, out, err = run_publish(hub.url, release, validated=validated)
    assert (code, err) == (0, ""), out
    assert tree_bytes(release) == before
    held = hub.repos[("dataset", REPO_ID)].resolve("v0.2.0").files
    if release_format < 2:
        assert held["README.md"] == before["README.md"] and held["croissant.json"] == before["croissant.json"]
        return
    card = held["README.md"].decode("utf-8")
    assert f'load_dataset("{REPO_ID}", "quotes", split="train", revision="v0.2.0")' in card
    assert f"  url = {{https://huggingface.co/datasets/{REPO_ID}}},\n" in card
    assert json.loads(held["croissant.json"])["url"] == f"https://huggingface.co/datasets/{REPO_ID}"
    assert {k: v for k, v in held.items() if k not in ("README.md", "croissant.json", ".gitattributes")} == {
        k: v for k, v in before.items() if k not in ("README.md", "croissant.json")
    }
