"""`newscorpus verify` on releases whose manifest or files were tampered with: one message each, exit 1.

Each case edits a copy of the committed release v0.1.2 and runs the command in-process;
the messages are golden text, checked by hand. A manifest that is malformed or names a
path outside the release is one error (the whole manifest is refused); a listed file that
is missing, changed or special is one line per file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from newscorpus.cli import main
from tests.helpers import REPO, copy_release, tree_bytes

SOURCE = REPO / "corpus" / "v0.1.2"
RESTORE = "restore manifest.json as the build wrote it, or rebuild the release"
OWN = "a release lists only its own files"


@pytest.fixture
def release(tmp_path) -> Path:
    return copy_release(tmp_path / "corpus", SOURCE)


def verify(capsys, release: Path) -> tuple[int, str, str]:
    code = main(["verify", str(release)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def edit_manifest(release: Path, edit) -> None:
    path = release / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def entry_for(path: str, data: bytes) -> dict:
    """A manifest entry with the real sha256 and size of `data`: only the path can be wrong."""
    return {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def refused(message: str) -> tuple[int, str, str]:
    return 1, "", f"error: v0.1.2/manifest.json: {message}\n"


def test_the_committed_release_verifies(release, capsys):
    assert verify(capsys, release) == (0, "v0.1.2: every file matches manifest.json\n", "")


# -- item 1: a manifest names only files inside its release ---------------------------------------


def test_an_absolute_path_to_a_readable_file_outside_is_refused(release, tmp_path, capsys):
    secret = tmp_path / "home" / ".token"
    secret.parent.mkdir()
    secret.write_bytes(b"hf_not_a_real_token\n")
    edit_manifest(release, lambda m: m["outputs"].append(entry_for(str(secret), secret.read_bytes())))
    assert verify(capsys, release) == refused(
        f"outputs[9].path '{secret}' is not a relative path inside the release; {OWN}"
    )


LISTED = (REPO / "corpus" / "v0.1.2" / "LICENSE.md").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "../v0.1.2/LICENSE.md",
        "./LICENSE.md",
        "annotation/../LICENSE.md",
        "annotation//GUIDELINES.md",
        "annotation\\GUIDELINES.md",
        "annotation/",
        "",
        "LICENSE.md\n",
        "LICENSE.md\x00",
        "/LICENSE.md",
    ],
)
def test_a_path_that_is_not_relative_and_normalized_is_refused(release, capsys, path):
    edit_manifest(release, lambda m: m["outputs"].__setitem__(6, entry_for(path, LISTED)))
    assert verify(capsys, release) == refused(
        f"outputs[6].path {path!r} is not a relative path inside the release; {OWN}"
    )


def test_a_symlink_in_the_release_that_leads_outside_is_refused(release, tmp_path, capsys):
    outside = tmp_path / "LICENSE.md"
    outside.write_bytes(LISTED)  # the same bytes: only where it lives is wrong
    (release / "LICENSE.md").unlink()
    (release / "LICENSE.md").symlink_to(outside)
    assert verify(capsys, release) == refused(
        f"outputs[6].path 'LICENSE.md' leads outside the release through a symlink; {OWN}"
    )


def test_a_symlinked_folder_that_leads_outside_is_refused(release, tmp_path, capsys):
    moved = tmp_path / "annotation"
    (release / "annotation").rename(moved)
    (release / "annotation").symlink_to(moved)
    assert verify(capsys, release) == refused(
        f"outputs[7].path 'annotation/GUIDELINES.md' leads outside the release through a symlink; {OWN}"
    )


def test_a_manifest_that_is_a_symlink_to_outside_is_refused(release, tmp_path, capsys):
    moved = tmp_path / "manifest.json"
    (release / "manifest.json").rename(moved)
    (release / "manifest.json").symlink_to(moved)
    assert verify(capsys, release) == refused(f"manifest.json leads outside the release through a symlink; {OWN}")


def test_a_symlink_inside_the_release_is_followed(release, capsys):
    (release / "LICENSE.md").unlink()
    (release / "LICENSE.md").symlink_to("annotation/GUIDELINES.md")
    edit_manifest(
        release, lambda m: m["outputs"][6].update(entry_for("LICENSE.md", (release / "LICENSE.md").read_bytes()))
    )
    assert verify(capsys, release) == (0, "v0.1.2: every file matches manifest.json\n", "")


# -- item 4: a malformed manifest is one message, never a traceback --------------------------------


def _drop(key):
    return lambda m: m["outputs"][3].pop(key)


def _set(key, value):
    return lambda m: m["outputs"][3].__setitem__(key, value)


MALFORMED = {
    "outputs_an_object": (lambda m: m.__setitem__("outputs", {}), f"'outputs' is an object, not a list; {RESTORE}"),
    "outputs_null": (lambda m: m.__setitem__("outputs", None), f"'outputs' is null, not a list; {RESTORE}"),
    "no_outputs": (lambda m: m.pop("outputs"), f"no 'outputs'; {RESTORE}"),
    "entry_a_string": (
        lambda m: m["outputs"].__setitem__(3, "quotes/train-00000-of-00001.parquet"),
        f"outputs[3] is a string ('quotes/train-00000-of-00001.parquet'), not an object; {RESTORE}",
    ),
    "entry_a_list": (lambda m: m["outputs"].__setitem__(3, [[[]]]), f"outputs[3] is a list, not an object; {RESTORE}"),
    "no_bytes": (_drop("bytes"), f"outputs[3]: no 'bytes'; {RESTORE}"),
    "no_sha256": (_drop("sha256"), f"outputs[3]: no 'sha256'; {RESTORE}"),
    "no_path": (_drop("path"), f"outputs[3]: no 'path'; {RESTORE}"),
    "bytes_a_string": (
        _set("bytes", "5604"),
        f"outputs[3].bytes is a string ('5604'), not a whole number of bytes; {RESTORE}",
    ),
    "bytes_negative": (_set("bytes", -1), f"outputs[3].bytes is a number (-1), not a whole number of bytes; {RESTORE}"),
    "bytes_a_fraction": (
        _set("bytes", 5604.5),
        f"outputs[3].bytes is a number (5604.5), not a whole number of bytes; {RESTORE}",
    ),
    "bytes_a_boolean": (
        _set("bytes", True),
        f"outputs[3].bytes is a boolean (true), not a whole number of bytes; {RESTORE}",
    ),
    "sha256_a_number": (
        _set("sha256", 5),
        f"outputs[3].sha256 is a number (5), not 64 lowercase hexadecimal digits; {RESTORE}",
    ),
    "sha256_uppercase": (
        _set("sha256", "D74A96A8D32AEB20FD38ED6073261463814DBA0F4F65D5223D62742D8C7EA530"),
        "outputs[3].sha256 is a string ('D74A96A8D32AEB20FD38ED6073261463814DBA0F4F65D5223D62742D8C7EA530'),"
        f" not 64 lowercase hexadecimal digits; {RESTORE}",
    ),
    "sha256_final_newline": (
        _set("sha256", "d74a96a8d32aeb20fd38ed6073261463814dba0f4f65d5223d62742d8c7ea530\n"),
        "outputs[3].sha256 is a string ('d74a96a8d32aeb20fd38ed6073261463814dba0f4f65d5223d62742d8c7ea530\\n'),"
        f" not 64 lowercase hexadecimal digits; {RESTORE}",
    ),
    "path_a_number": (
        _set("path", 7),
        f"outputs[3].path is a number (7), not a relative path inside the release; {OWN}",
    ),
    "rows_a_string": (_set("rows", "8"), f"outputs[3].rows is a string ('8'), not a whole number of rows; {RESTORE}"),
    "listed_twice": (
        _set("path", "events/train-00000-of-00001.parquet"),
        f"outputs[3].path 'events/train-00000-of-00001.parquet' is listed twice (also outputs[2]); {RESTORE}",
    ),
    "lists_itself": (
        _set("path", "manifest.json"),
        f"outputs[3].path 'manifest.json': the manifest does not list itself; {RESTORE}",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_manifest_is_one_message(release, capsys, case):
    edit, message = MALFORMED[case]
    edit_manifest(release, edit)
    before = tree_bytes(release)
    assert verify(capsys, release) == refused(message)
    assert tree_bytes(release) == before


def test_every_problem_of_a_manifest_is_reported_at_once(release, capsys):
    def edit(manifest):
        manifest["outputs"][1].pop("bytes")
        manifest["outputs"][4]["path"] = "/etc/hostname"
        manifest["outputs"].append(None)

    edit_manifest(release, edit)
    assert verify(capsys, release) == (
        1,
        "",
        "error: v0.1.2/manifest.json: 3 problems:\n"
        f"  outputs[1]: no 'bytes'; {RESTORE}\n"
        f"  outputs[4].path '/etc/hostname' is not a relative path inside the release; {OWN}\n"
        f"  outputs[9] is null, not an object; {RESTORE}\n",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[]", f"a list, not a JSON object; {RESTORE}"),
        (b'"manifest"', f"a string ('manifest'), not a JSON object; {RESTORE}"),
        (b'{"outputs": []}\xff', f"not UTF-8 (byte 0xff at offset 15); {RESTORE}"),
        (b'{"outputs": [}', f"not valid JSON (Expecting value: line 1 column 14 (char 13)); {RESTORE}"),
        (b"", f"not valid JSON (Expecting value: line 1 column 1 (char 0)); {RESTORE}"),
        (b"[" * 100_000 + b"]" * 100_000, f"not valid JSON (nested too deeply); {RESTORE}"),
        (
            b'{"outputs": [], "n": ' + b"9" * 5000 + b"}",
            "not valid JSON (Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits;"
            f" use sys.set_int_max_str_digits() to increase the limit); {RESTORE}",
        ),
    ],
    ids=["list", "string", "not_utf8", "not_json", "empty", "nested_too_deeply", "number_too_long"],
)
def test_a_manifest_that_is_not_a_json_object_is_one_message(release, capsys, content, message):
    (release / "manifest.json").write_bytes(content)
    assert verify(capsys, release) == refused(message)


def test_a_manifest_that_is_a_fifo_a_folder_or_a_dangling_symlink_is_named(release, capsys):
    path = release / "manifest.json"
    path.unlink()
    os.mkfifo(path)
    assert verify(capsys, release) == refused(f"a FIFO, not a regular file; {RESTORE}")  # read, it would block
    path.unlink()
    path.mkdir()
    assert verify(capsys, release) == refused(f"a folder, not a file; {RESTORE}")
    path.rmdir()
    path.symlink_to("gone.json")
    assert verify(capsys, release) == refused(f"a symlink to nothing (its target does not exist); {RESTORE}")
    path.unlink()
    assert verify(capsys, release) == (
        1,
        "",
        "error: v0.1.2: no manifest.json; is this a release folder (corpus/vX.Y.Z)?\n",
    )


# -- item 5: what differs, said as it is ------------------------------------------------------------


def failed(*problems: str) -> tuple[int, str, str]:
    lines = [f"v0.1.2/{p}" for p in problems]
    lines.append(f"error: v0.1.2 fails verification ({len(problems)} problem(s))")
    return 1, "", "\n".join(lines) + "\n"


def test_a_size_edited_in_the_manifest_is_named_as_a_size(release, capsys):
    edit_manifest(release, lambda m: m["outputs"][6].update(bytes=500))
    assert verify(capsys, release) == failed(
        "LICENSE.md: bytes 500 in the manifest, the file has 492 although its sha256 matches"
        " (the manifest's size was edited)"
    )


def test_a_file_that_grew_is_named_by_its_size(release, capsys):
    with open(release / "LICENSE.md", "ab") as handle:
        handle.write(b"one more line\n")
    assert verify(capsys, release) == failed(
        "LICENSE.md: bytes 492 in the manifest, the file has 506 (the file was changed or corrupted)"
    )


def test_a_file_of_the_same_size_with_other_bytes_is_named_by_its_sha256(release, capsys):
    path = release / "LICENSE.md"
    path.write_bytes(path.read_bytes().replace(b"a", b"b", 1))
    assert verify(capsys, release) == failed(
        "LICENSE.md: sha256 differs from the manifest (the file was changed or corrupted)"
    )


# -- item 7: special files are named, never opened --------------------------------------------------


def test_listed_files_that_are_special_are_named(release, tmp_path, capsys):
    (release / "LICENSE.md").unlink()
    os.mkfifo(release / "LICENSE.md")
    (release / "CHANGELOG.md").unlink()
    (release / "CHANGELOG.md").mkdir()
    (release / "README.md").unlink()
    (release / "README.md").symlink_to("README.old")
    (release / "annotation" / "GUIDELINES.md").unlink()
    assert verify(capsys, release) == failed(
        "README.md: a symlink to nothing (its target does not exist)",
        "CHANGELOG.md: a folder, not a file",
        "LICENSE.md: a FIFO, not a regular file",
        "annotation/GUIDELINES.md: missing",
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_named(release, capsys):
    (release / "LICENSE.md").chmod(0)
    assert verify(capsys, release) == failed("LICENSE.md: cannot be read (Permission denied)")


def test_unlisted_fifos_and_symlinks_are_named_too(release, tmp_path, capsys):
    os.mkfifo(release / "pipe")
    (release / "elsewhere").symlink_to(tmp_path)
    (release / "dangling").symlink_to("nothing")
    assert verify(capsys, release) == failed(
        "dangling: not in the manifest", "elsewhere: not in the manifest", "pipe: not in the manifest"
    )
