"""`newscorpus publish` through huggingface_hub's real client, against a stand-in Hub on 127.0.0.1.

Each publish runs the CLI in a subprocess with HF_ENDPOINT pointing at tests/hub_server.py,
as a user would run it. The server records every request; the tests assert on what the
client sent (method, path, commit message, files and their bytes, tag) and on what ends
up on the stand-in Hub. The token is a sentinel that must never be printed. The two
releases are validated once for the module (tests/publish_runner.py says how); what the
gate refuses is tested in test_publish_gate.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import time
from importlib.metadata import version

import pytest

from newscorpus.errors import PublishError
from newscorpus.publish import check_repo_id, hub_copies
from tests.helpers import REPO_ID, TOKEN
from tests.hub_server import GITATTRIBUTES, FakeHub, SilentServer, git_sha1
from tests.publish_runner import known_validations, run_publish

API = f"/api/datasets/{REPO_ID}"


def release_files(release) -> dict[str, bytes]:
    return {p.relative_to(release).as_posix(): p.read_bytes() for p in sorted(release.rglob("*")) if p.is_file()}


def uploaded_files(release, repo_id: str = REPO_ID) -> dict[str, bytes]:
    """The files publish uploads: the release's, with README.md and croissant.json naming the Hub dataset from
    format 2 on (what those copies say is checked in test_publish_card.py)."""
    files = release_files(release)
    if json.loads(files["manifest.json"]).get("format", 1) >= 2:
        files |= hub_copies(release, json.loads(files["manifest.json"])["version"], repo_id)
    return files


def rewritten_line(release, repo_id: str) -> list[str]:
    """The dry run's line about the Hub copies of README.md and croissant.json (format 2 on), or none."""
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format", 1) < 2:
        return []
    return [
        "rewritten for the Hub: README.md, croissant.json (quick start, citation and url name"
        f" https://huggingface.co/datasets/{repo_id} and tag v{manifest['version']}; the release folder is not changed)"
    ]


@pytest.fixture
def hub():
    with FakeHub(TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def publish(two_releases, tmp_path_factory):
    """Run `newscorpus publish` against a stand-in Hub; the two releases' validations are reused."""
    validated = known_validations(list(two_releases), tmp_path_factory.mktemp("validated"))

    def run(hub, release, *args, **options):
        options.setdefault("validated", validated)
        return run_publish(hub.url, release, *args, **options)

    return run


def gate(version: str) -> str:
    """The line publish prints once the release has passed its gate (hand-checked)."""
    return (
        f"checked: files against manifest.json, the card, croissant.json checksums; v{version}: 250 of 251"
        f" expectations passed in 11 suites (great_expectations {version_of_ge()}); 1 not enforced (the release"
        " predates quality)"
    )


def version_of_ge() -> str:
    return version("great_expectations")


def test_publish_creates_the_repo_commits_the_release_once_and_tags_it(publish, hub, two_releases):
    release = two_releases[0]
    code, out, err = publish(hub, release)
    assert (code, err) == (0, "")
    repo = hub.repos[("dataset", REPO_ID)]
    oid = repo.tags["v0.1.0"]
    assert out == (
        f"{gate('0.1.0')}\n"
        f"created dataset repository {REPO_ID}\n"
        f"committed v0.1.0 to main of dataset {REPO_ID}: 19 file(s) added or changed, 0 unchanged, 0 removed:"
        f" {oid[:12]}\n"
        f"tagged {oid[:12]} as v0.1.0\n"
        f'load it with: load_dataset("{REPO_ID}", "documents", revision="v0.1.0")\n'
    )
    files = uploaded_files(release)
    parquet = sorted(name for name in files if name.endswith(".parquet"))
    uploads = sorted(("PUT", f"/lfs-upload/{hashlib.sha256(files[n]).hexdigest()}") for n in parquet)
    calls = hub.calls()
    initial = _initial_commit(repo)  # the commit the Hub made when it created the repository
    assert calls[:7] == [
        ("GET", f"{API}/refs"),  # 404: the repository does not exist yet
        ("POST", "/api/repos/create"),
        ("GET", f"{API}/refs"),
        ("GET", f"{API}/tree/{initial}"),  # what main holds: files to keep, change or delete
        ("POST", "/api/validate-yaml"),
        ("POST", f"{API}/preupload/main"),
        ("POST", f"/datasets/{REPO_ID}.git/info/lfs/objects/batch"),
    ]
    assert sorted(calls[7:14]) == uploads  # parallel uploads of the 7 Parquet files: order varies
    assert calls[14:] == [("POST", f"{API}/commit/main"), ("POST", f"{API}/tag/{oid}")]
    # The token goes to the Hub's API, never to the storage URLs the files are uploaded to.
    assert {r.authorization for r in hub.requests if r.method != "PUT"} == {f"Bearer {TOKEN}"}
    assert {r.authorization for r in hub.requests if r.method == "PUT"} == {None}

    create, *_ = (r for r in hub.requests if r.path == "/api/repos/create")
    assert create.json() == {"name": "newscorpus", "organization": "newsorg", "type": "dataset"}
    commit = next(r for r in hub.requests if r.path == f"{API}/commit/main").ndjson()
    assert commit[0] == {
        "key": "header",
        "value": {
            "summary": "Release v0.1.0",
            # the seed's 13 sentences, 41 chains (distinct cluster_ids) and 30 arguments in the derived configs
            "description": "newscorpus v0.1.0: documents 1, entities 66, events 16, quotes 8, tokens 13, chains 33,"
            " event_arguments 36 rows; schema 1.0.0, guidelines 1.1.0.\nWhat changed since the release before:"
            " CHANGELOG.md. Checksums of every file: manifest.json.",
            "parentCommit": initial,
        },
    }
    expected_ops = []
    for name in sorted(files):
        if name.endswith(".parquet"):
            sha = hashlib.sha256(files[name]).hexdigest()
            expected_ops.append(
                {"key": "lfsFile", "value": {"path": name, "algo": "sha256", "oid": sha, "size": len(files[name])}}
            )
        else:
            content = base64.b64encode(files[name]).decode()
            expected_ops.append({"key": "file", "value": {"content": content, "path": name, "encoding": "base64"}})
    assert commit[1:] == expected_ops
    tag = hub.requests[-1]
    assert tag.json() == {"tag": "v0.1.0", "message": "newscorpus v0.1.0"}
    validated = next(r for r in hub.requests if r.path == "/api/validate-yaml").json()
    assert validated == {"content": files["README.md"].decode("utf-8"), "repoType": "dataset"}
    # What the Hub holds at the tag is the release folder, byte for byte (plus the Hub's own .gitattributes).
    assert repo.resolve("v0.1.0").files == {**files, ".gitattributes": GITATTRIBUTES}
    assert repo.resolve("v0.1.0").lfs == frozenset(parquet)


def _initial_commit(repo) -> str:
    return next(c.oid for c in repo.commits.values() if c.message == "initial commit")


def test_the_next_release_is_one_commit_on_top_that_removes_stale_files(publish, hub, two_releases):
    first, second = two_releases
    assert publish(hub, first)[0] == 0
    repo = hub.repos[("dataset", REPO_ID)]
    head = repo.branches["main"]
    repo.commits[head].files["notes.txt"] = b"left from an earlier upload"  # a file no release holds
    hub.requests.clear()
    code, out, err = publish(hub, second)
    assert (code, err) == (0, "")
    oid = repo.tags["v0.2.0"]
    files, before = uploaded_files(second), uploaded_files(first)
    changed = sorted(name for name in files if files[name] != before.get(name))
    # hand-checked: the data (every config), the card, its figures (a new article adds to every label count),
    # the Croissant file, the changelog and the manifest change; the licence, guidelines and schema do not
    assert changed == [
        "CHANGELOG.md",
        "README.md",
        "chains/train-00000-of-00001.parquet",
        "croissant.json",
        "documents/train-00000-of-00001.parquet",
        "entities/train-00000-of-00001.parquet",
        "event_arguments/train-00000-of-00001.parquet",
        "events/train-00000-of-00001.parquet",
        "figures/entity-types.svg",
        "figures/event-types.svg",
        "figures/mention-types.svg",
        "figures/quote-kinds.svg",
        "figures/realis.svg",
        "manifest.json",
        "quotes/train-00000-of-00001.parquet",
        "tokens/train-00000-of-00001.parquet",
    ]
    assert out.splitlines()[:2] == [
        gate("0.2.0"),
        f"committed v0.2.0 to main of dataset {REPO_ID}: 16 file(s) added or changed, 3 unchanged, 1 removed:"
        f" {oid[:12]}",
    ]
    assert ("POST", "/api/repos/create") not in hub.calls()
    commit = next(r for r in hub.requests if r.path == f"{API}/commit/main").ndjson()
    assert commit[0]["value"]["summary"] == "Release v0.2.0"
    assert commit[0]["value"]["parentCommit"] == head
    assert commit[1] == {"key": "deletedFile", "value": {"path": "notes.txt"}}
    assert [op["value"]["path"] for op in commit[2:]] == changed
    assert repo.tags == {"v0.1.0": head, "v0.2.0": oid}
    assert repo.resolve("v0.2.0").files == {**files, ".gitattributes": GITATTRIBUTES}
    assert repo.resolve("v0.1.0").files["README.md"] == before["README.md"]


def test_publishing_a_version_again_changes_nothing(publish, hub, two_releases):
    assert publish(hub, two_releases[0])[0] == 0
    oid = hub.repos[("dataset", REPO_ID)].tags["v0.1.0"]
    hub.requests.clear()
    assert publish(hub, two_releases[0]) == (
        0,
        f"{gate('0.1.0')}\n"
        f"v0.1.0 is already on dataset {REPO_ID} (commit {oid[:12]}) with the same files; nothing to do\n",
        "",
    )
    assert [m for m, _ in hub.calls()] == ["GET", "GET"]  # refs and the tree at the tag: nothing written


def test_an_existing_tag_with_other_files_is_refused(publish, hub, two_releases, tmp_path):
    assert publish(hub, two_releases[0])[0] == 0
    oid = hub.repos[("dataset", REPO_ID)].tags["v0.1.0"]
    # A rebuilt v0.1.0 whose changelog differs: same version, different content.
    changed = tmp_path / "v0.1.0"
    shutil.copytree(two_releases[0], changed)
    _rewrite(changed, "CHANGELOG.md", b"# Changes in v0.1.0\n\nRewritten.\n")
    hub.requests.clear()
    validated = known_validations([changed], tmp_path)
    assert publish(hub, changed, validated=validated) == (
        1,
        "",
        f"error: tag v0.1.0 already exists on dataset {REPO_ID} (commit {oid[:12]}) with other files"
        " (different: CHANGELOG.md, manifest.json); a published version never changes: build and publish a new one\n",
    )
    assert all(method == "GET" for method, _ in hub.calls())


def _rewrite(release, name: str, data: bytes) -> None:
    """Change a file and keep the manifest consistent, as a rebuild would."""
    (release / name).write_bytes(data)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["outputs"]:
        if entry["path"] == name:
            entry.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    (release / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def test_a_publish_interrupted_before_the_tag_is_completed_by_running_it_again(publish, hub, two_releases):
    hub.fail[("POST", rf"{API}/tag/.*")] = 500
    code, out, err = publish(hub, two_releases[0])
    repo = hub.repos[("dataset", REPO_ID)]
    head = repo.branches["main"]
    assert (code, out) == (1, "")
    assert err == (
        f"error: the Hub refused POST {API}/tag/{head} (HTTP 500): injected failure;"
        " check that HF_TOKEN may write to the repository\n"
    )
    assert repo.tags == {}
    hub.requests.clear()
    assert publish(hub, two_releases[0]) == (
        0,
        f"{gate('0.1.0')}\n"
        f"main of dataset {REPO_ID} already holds these files: {head[:12]}\n"
        f"tagged {head[:12]} as v0.1.0\n"
        f'load it with: load_dataset("{REPO_ID}", "documents", revision="v0.1.0")\n',
        "",
    )
    assert repo.tags == {"v0.1.0": head} and repo.branches["main"] == head  # no second commit
    assert hub.calls() == [("GET", f"{API}/refs"), ("GET", f"{API}/tree/{head}"), ("POST", f"{API}/tag/{head}")]


def test_no_token_no_request(publish, hub, two_releases):
    assert publish(hub, two_releases[0], token=None) == (
        1,
        "",
        "error: HF_TOKEN is not set: create a token with write access on the Hub and export HF_TOKEN"
        " (newscorpus reads the token from the environment only)\n",
    )
    assert hub.requests == []


def test_a_refused_token_is_reported_without_printing_it(publish, hub, two_releases):
    code, out, err = publish(hub, two_releases[0], token=TOKEN[::-1])
    assert (code, out) == (1, "")
    assert err == (
        f"error: the Hub refused GET {API}/refs (HTTP 401): Invalid credentials in Authorization header;"
        " check that HF_TOKEN may write to the repository\n"
    )
    assert TOKEN[::-1] not in err


BAD_REPO_IDS = ["newscorpus", "org/", "/name", "a/b/c", "org/na--me", "org/na..me", "-org/name", "org/name-",
                "org/name.git", "org/na me", "org/näme", "o" * 97 + "/name", "org/name\n", "org\n/name"]  # fmt: skip


def repo_id_message(repo_id: str) -> str:
    return (
        f"repo id {repo_id!r} is not ORG/NAME: two parts of letters, digits, '-', '_' and '.', each starting"
        " and ending with a letter or digit, without '--' or '..', at most 96 characters each"
    )


@pytest.mark.parametrize("repo_id", BAD_REPO_IDS)
def test_repo_ids_are_checked_strictly(repo_id):
    with pytest.raises(PublishError) as caught:
        check_repo_id(repo_id)
    assert str(caught.value) == repo_id_message(repo_id)


@pytest.mark.parametrize("repo_id", ["org/name", "my.org/news_corpus-2", "A1/b", "o" * 96 + "/" + "n" * 96])
def test_good_repo_ids_pass(repo_id):
    assert check_repo_id(repo_id) == repo_id


def test_a_bad_repo_id_stops_the_command_before_any_request(publish, hub, two_releases):
    assert publish(hub, two_releases[0], repo_id="-org/name") == (1, "", f"error: {repo_id_message('-org/name')}\n")
    assert hub.requests == []


def test_dry_run_prints_files_and_commit_and_contacts_nothing(publish, hub, two_releases):
    release = two_releases[1]
    code, out, err = publish(hub, release, "--dry-run", token=None, repo_id="my.org/news_corpus-2")
    assert (code, err) == (0, "")
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    assert {e["path"]: e["sha256"] for e in manifest["outputs"]} == {
        n: hashlib.sha256(d).hexdigest() for n, d in release_files(release).items() if n != "manifest.json"
    }
    files = uploaded_files(release, "my.org/news_corpus-2")
    listing = [f"  {hashlib.sha256(files[n]).hexdigest()}  {len(files[n]):>10}  {n}" for n in sorted(files)]
    assert out.splitlines() == [
        "dry run: nothing was sent; would publish v0.2.0 to dataset my.org/news_corpus-2",
        gate("0.2.0"),
        f"files (19, {sum(map(len, files.values()))} bytes):",  # 7 configs, 5 figures, card, croissant, ...
        *listing,
        *rewritten_line(release, "my.org/news_corpus-2"),
        'commit on main: "Release v0.2.0" (files on main that are not in the release are deleted in the same commit)',
        "  newscorpus v0.2.0: documents 2, entities 70, events 17, quotes 10, tokens 15, chains 37, event_arguments 39"
        " rows; schema 1.0.0, guidelines 1.1.0.",  # event_arguments: the seed's 36 and the second article's 3
        "  What changed since the release before: CHANGELOG.md. Checksums of every file: manifest.json.",
        "tag: v0.2.0 on that commit",
    ]
    assert hub.requests == []


def test_a_release_that_fails_verification_is_not_sent(publish, hub, two_releases, tmp_path):
    broken = tmp_path / "v0.1.0"
    shutil.copytree(two_releases[0], broken)
    (broken / "LICENSE.md").write_text("changed after the build\n", encoding="utf-8")
    code, out, err = publish(hub, broken)
    assert (code, out) == (1, "")
    assert err == (
        "error: v0.1.0 cannot be published:\n"
        "  v0.1.0/LICENSE.md: bytes 492 in the manifest, the file has 24 (the file was changed or corrupted)\n"
    )
    assert hub.requests == []


def test_git_blob_ids_match_the_hubs():
    # The tag comparison relies on the Hub's id for a non-LFS file being git's blob sha1.
    assert git_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_offline_mode_and_an_unreachable_hub_are_named(publish, hub, two_releases):
    assert publish(hub, two_releases[0], HF_HUB_OFFLINE="1") == (
        1,
        "",
        "error: HF_HUB_OFFLINE is set; unset it to publish\n",
    )
    assert hub.requests == []
    closed = hub.url.rsplit(":", 1)[0] + ":9"  # the discard port: nothing listens there
    assert publish(hub, two_releases[0], HF_ENDPOINT=closed) == (
        1,
        "",
        f"error: cannot talk to the Hub at {closed}: ConnectError: [Errno 111] Connection refused\n",
    )


def test_a_hub_that_never_answers_is_an_error_after_the_timeout(publish, two_releases):
    # The server accepts the connection and stays silent; NEWSCORPUS_HUB_TIMEOUT shortens the 60 s default.
    with SilentServer() as silent:
        started = time.monotonic()
        code, out, err = publish(silent, two_releases[0], NEWSCORPUS_HUB_TIMEOUT="2")
        elapsed = time.monotonic() - started
        assert silent.connections  # the connection was accepted: this is a read that timed out
    assert (code, out) == (1, "")
    assert err == (
        f"error: the Hub at {silent.url} did not answer GET {API}/refs within 2 s: try again later, or set"
        " NEWSCORPUS_HUB_TIMEOUT to more seconds on a slow connection\n"
    )
    assert elapsed < 60


@pytest.mark.parametrize("value", ["0", "-1", "abc", "2\n", "nan", "inf", ""])
def test_a_timeout_that_is_not_a_number_of_seconds_is_refused_before_any_request(publish, hub, two_releases, value):
    assert publish(hub, two_releases[0], NEWSCORPUS_HUB_TIMEOUT=value) == (
        1,
        "",
        f"error: NEWSCORPUS_HUB_TIMEOUT {value!r} is not a number of seconds above 0: set it to e.g. 120, or unset"
        " it for the default 60\n",
    )
    assert hub.requests == []


@pytest.mark.parametrize("token", [TOKEN[:8] + "\n" + TOKEN[8:], TOKEN[:8] + " " + TOKEN[8:], TOKEN + "é"])
def test_a_token_with_a_space_or_control_character_inside_is_refused_without_printing_it(
    publish, hub, two_releases, token
):
    code, out, err = publish(hub, two_releases[0], token=token)
    assert (code, out, err) == (
        1,
        "",
        "error: HF_TOKEN holds a space, a control or a non-ASCII character inside it: export the token alone (it is"
        " not printed here)\n",
    )
    assert TOKEN[:8] not in err and TOKEN[8:] not in err
    assert hub.requests == []


def test_a_token_with_a_final_newline_is_used_without_it(publish, hub, two_releases):
    # `HF_TOKEN=$(cat file)` strips it, a .env file may not: huggingface_hub strips it too.
    code, _, err = publish(hub, two_releases[0], token=TOKEN + "\n")
    assert (code, err) == (0, "")
    assert {r.authorization for r in hub.requests if r.method != "PUT"} == {f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        ("{url}\n", "'{url}\\n'"),
        ("ftp://127.0.0.1:9", "'ftp://127.0.0.1:9'"),
        ("127.0.0.1:9", "'127.0.0.1:9'"),
        ("http://user:secret@127.0.0.1 :9", "'http://127.0.0.1 :9'"),
    ],
)
def test_an_endpoint_that_is_not_an_http_address_is_refused_before_any_request(
    publish, hub, two_releases, endpoint, shown
):
    code, out, err = publish(hub, two_releases[0], HF_ENDPOINT=endpoint.format(url=hub.url))
    assert (code, out) == (1, "")
    assert err == (
        f"error: HF_ENDPOINT {shown.format(url=hub.url)} is not an http:// or https:// address: unset it to publish to"
        " the Hugging Face Hub, or set it to your Hub's address\n"
    )
    assert hub.requests == []
