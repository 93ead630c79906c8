"""What `newscorpus publish` refuses before it contacts the Hub, with or without --dry-run.

A refused publish sends no request to the stand-in Hub and changes nothing in the release.
The releases are copies of the committed v0.1.2, tampered with as an adversary would: a
manifest that names a file outside the release, a Parquet file rewritten with the manifest's
sha256 and size refreshed (croissant.json then lists the old sha256), and the same with
croissant.json refreshed too (only the Great Expectations validation then stands in the way).
Messages are golden text, checked by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from newscorpus.card.croissant import checksum_mismatches
from newscorpus.cli import main
from tests.helpers import REPO, TOKEN, copy_release, data_file, edit_record, tree_bytes
from tests.hub_server import FakeHub
from tests.publish_runner import run_publish

SOURCE = REPO / "corpus" / "v0.1.2"
PARQUET = [data_file(config) for config in ("documents", "entities", "events", "quotes")]


@pytest.fixture
def hub():
    with FakeHub(TOKEN) as server:
        yield server


@pytest.fixture
def release(tmp_path) -> Path:
    return copy_release(tmp_path / "corpus", SOURCE)


def refused_both_ways(hub: FakeHub, release: Path, message: str) -> None:
    """`publish --dry-run` and `publish` both exit 1 with `message`; no request, nothing written."""
    before = tree_bytes(release.parent)
    for args in (("--dry-run",), ()):
        assert run_publish(hub.url, release, *args) == (1, "", f"error: {message}\n")
    assert hub.requests == [] and hub.repos == {}
    assert tree_bytes(release.parent) == before


def set_output(release: Path, name: str) -> None:
    """Refresh the manifest entry of `name` (sha256 and size), as someone covering a change would."""
    path = release / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    data = (release / name).read_bytes()
    for entry in manifest["outputs"]:
        if entry["path"] == name:
            entry.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- item 1: nothing outside the release is ever sent ---------------------------------------------


def test_a_manifest_naming_a_file_outside_the_release_is_refused(hub, release, tmp_path, capsys):
    secret = tmp_path / "home" / ".token"
    secret.parent.mkdir()
    secret.write_bytes(b"hf_not_a_real_token\n")
    data = secret.read_bytes()
    path = release / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["outputs"].append({"path": str(secret), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    message = (
        f"v0.1.2/manifest.json: outputs[9].path '{secret}' is not a relative path inside the release;"
        " a release lists only its own files"
    )
    assert main(["verify", str(release)]) == 1
    assert capsys.readouterr().err == f"error: {message}\n"
    refused_both_ways(hub, release, message)


def test_a_parent_path_in_the_manifest_is_refused(hub, release):
    path = release / "manifest.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"LICENSE.md"', '"../v0.1.2/LICENSE.md"'), "utf-8")
    refused_both_ways(
        hub,
        release,
        "v0.1.2/manifest.json: outputs[6].path '../v0.1.2/LICENSE.md' is not a relative path inside the release;"
        " a release lists only its own files",
    )


def test_a_file_of_the_release_that_is_a_symlink_to_outside_is_refused(hub, release, tmp_path):
    outside = tmp_path / "LICENSE.md"
    (release / "LICENSE.md").rename(outside)
    (release / "LICENSE.md").symlink_to(outside)
    refused_both_ways(
        hub,
        release,
        "v0.1.2/manifest.json: outputs[6].path 'LICENSE.md' leads outside the release through a symlink;"
        " a release lists only its own files",
    )


# -- item 2: croissant.json's checksums and the validation are part of the gate ---------------------


def changed_entities(release: Path) -> None:
    """Rewrite the entities Parquet file with one entity's type changed; the manifest entry is refreshed."""
    edit_record(release, "entities", "e02", nested=False, type="BOGUS")


def test_a_parquet_file_changed_behind_croissant_json_is_refused(hub, release, capsys):
    old = sha256(release / data_file("entities"))
    changed_entities(release)
    new = sha256(release / data_file("entities"))
    assert main(["verify", str(release)]) == 0  # the manifest was refreshed: verify alone cannot tell
    capsys.readouterr()
    refused_both_ways(
        hub,
        release,
        "v0.1.2 cannot be published:\n"
        f"  v0.1.2/croissant.json lists sha256 {old} for entities/train-00000-of-00001.parquet, the file has {new};"
        " rebuild the release",
    )


def test_a_parquet_file_changed_with_croissant_json_refreshed_fails_validation(hub, release):
    changed_entities(release)
    croissant = release / "croissant.json"
    doc = json.loads(croissant.read_text(encoding="utf-8"))
    for item in doc["distribution"]:
        if item.get("contentUrl") == data_file("entities"):
            item.update(sha256=sha256(release / data_file("entities")))
            item.update(contentSize=f"{(release / data_file('entities')).stat().st_size} B")
    croissant.write_text(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    set_output(release, "croissant.json")
    refused_both_ways(
        hub,
        release,
        "v0.1.2 cannot be published:\n"
        "  v0.1.2 fails validation (2 of 167 expectations): documents.entities.match_flat: 1 of 1 rows:"
        " doc_id=000_ef3ea5b0d932693c; entities.type.in_schema: 1 of 66 rows: doc_id=000_ef3ea5b0d932693c id=e02;"
        f" `newscorpus validate {release}` reports them",
    )


# -- checksum_mismatches on its own ---------------------------------------------------------------


def test_checksum_mismatches_is_empty_for_a_committed_release():
    assert checksum_mismatches(SOURCE, PARQUET) == []


def test_a_release_without_croissant_json_has_nothing_to_check():
    assert checksum_mismatches(REPO / "corpus" / "v0.1.0", PARQUET) == []  # built before croissant.json


def edit_croissant(release: Path, edit) -> None:
    path = release / "croissant.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


def file_object(doc: dict, name: str) -> dict:
    return next(item for item in doc["distribution"] if item.get("contentUrl") == name)


def test_croissant_paths_outside_the_release_are_never_read(release, tmp_path):
    os.mkfifo(tmp_path / "pipe")  # hashing it would block

    def edit(doc):
        file_object(doc, data_file("documents"))["contentUrl"] = "/etc/hostname"
        file_object(doc, data_file("entities"))["contentUrl"] = str(tmp_path / "pipe")
        file_object(doc, data_file("events"))["sha256"] = None

    edit_croissant(release, edit)
    os.mkfifo(release / "quotes.fifo")
    (release / data_file("quotes")).unlink()
    (release / data_file("quotes")).symlink_to(release / "quotes.fifo")
    assert checksum_mismatches(release, PARQUET) == [
        "croissant.json: distribution[0].contentUrl '/etc/hostname' is not a relative path inside the release;"
        " rebuild the release",
        f"croissant.json: distribution[1].contentUrl '{tmp_path / 'pipe'}' is not a relative path inside the release;"
        " rebuild the release",
        "croissant.json: distribution[2].sha256 is null, not 64 lowercase hexadecimal digits; rebuild the release",
        "croissant.json lists quotes/train-00000-of-00001.parquet, which is not a readable file of the release"
        " (a FIFO, not a regular file); rebuild the release",
        "croissant.json lists no FileObject for documents/train-00000-of-00001.parquet; rebuild the release",
        "croissant.json lists no FileObject for entities/train-00000-of-00001.parquet; rebuild the release",
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"[]", "croissant.json: no 'distribution' list of files; rebuild the release"),
        (b'{"distribution": {}}', "croissant.json: no 'distribution' list of files; rebuild the release"),
        (b"{", "croissant.json: cannot be read as JSON (JSONDecodeError); rebuild the release"),
        (b"\xff", "croissant.json: cannot be read as JSON (UnicodeDecodeError); rebuild the release"),
    ],
)
def test_a_croissant_json_that_is_not_an_object_with_files_is_one_problem(release, content, problem):
    (release / "croissant.json").write_bytes(content)
    assert checksum_mismatches(release, PARQUET) == [problem]
