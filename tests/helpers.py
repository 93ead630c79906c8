"""What tests share: the repository's paths, working copies of it, Parquet edits, small clients.

Tests import from here (never from another test module or a conftest).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newscorpus.build.builder import PARQUET_OPTIONS
from newscorpus.files import file_digest
from newscorpus.labelstudio.server import LABEL_STUDIO_VERSION
from newscorpus.project import Project
from newscorpus.release.shards import shard_name
from tests.hub_server import FakeHub

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "corpus" / "v0.1.0"  # the first committed release

SEED_ID = "000_ef3ea5b0d932693c"

NO_PYTHON_WORKERS = "/nonexistent/python-for-spark-workers"

# Settings for many small validations in one local session: one core and one shuffle partition
# (the test releases are tiny), and for queries that each touch a few hundred rows, no adaptive
# re-planning, interpreted expressions instead of generated code, and a JVM that compiles less
# eagerly: a query's planning and compiling cost more than its data here (~2x faster in total).
# SPARK_PRODUCTION_SETTINGS restores Spark's defaults for the tests that check them.
SPARK_TEST_SETTINGS = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}

SPARK_PRODUCTION_SETTINGS = {
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.codegen.wholeStage": "true",
    "spark.sql.codegen.factoryMode": "FALLBACK",
}


def copy_static(target: Path) -> Project:
    """What every project needs besides its data: schema, suites, card, guidelines, labeling config."""
    shutil.copytree(REPO / "schemas", target / "schemas")
    shutil.copytree(REPO / "validation", target / "validation")
    (target / "annotation").mkdir(parents=True, exist_ok=True)
    for name in ("annotation/GUIDELINES.md", "annotation/label_config.xml", "DATACARD.md"):
        shutil.copy2(REPO / name, target / name)
    return Project(target)


def copy_project(target: Path, *, with_corpus: bool = False) -> Project:
    """A working copy of the repository's inputs (seeds, schema, exports, card, suites) in `target`."""
    for name in ("seeds", "schemas", "annotation", "validation"):
        shutil.copytree(REPO / name, target / name)
    shutil.copy2(REPO / "DATACARD.md", target / "DATACARD.md")
    if with_corpus:
        shutil.copytree(REPO / "corpus", target / "corpus")
    return Project(target)


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its bytes, for before/after comparisons."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def java_major() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    banner = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)', banner)
    return int(found.group(1)) if found else None


def copy_release(tmp_path: Path, source: Path = COMMITTED) -> Path:
    release = tmp_path / source.name
    shutil.copytree(source, release)
    return release


def _relaxed(type_: pa.DataType) -> pa.DataType:
    """The same type with every field nullable, so that a test can write a null where none belongs."""
    if pa.types.is_struct(type_):
        return pa.struct([pa.field(f.name, _relaxed(f.type)) for f in type_])
    if pa.types.is_list(type_):
        return pa.list_(pa.field("item", _relaxed(type_.value_type)))
    return type_


def write_table(release: Path, config: str, table: pa.Table) -> None:
    """Replace a config's Parquet file and update its manifest entry (sha256, bytes, rows)."""
    path = release / data_file(config)
    pq.write_table(table, path, **PARQUET_OPTIONS)
    manifest_path = release / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for entry in manifest["outputs"]:
        if entry["path"] == data_file(config):
            size, digest = file_digest(path)
            entry.update(sha256=digest, bytes=size, rows=table.num_rows)
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def edit_rows(release: Path, config: str, edit: Callable[[list[dict]], None]) -> None:
    table = pq.read_table(release / data_file(config))
    rows = table.to_pylist()
    edit(rows)
    try:
        edited = pa.Table.from_pylist(rows, schema=table.schema)
        pq.write_table(edited, pa.BufferOutputStream())  # a null where the schema forbids one fails here
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        relaxed = pa.schema([pa.field(f.name, _relaxed(f.type)) for f in table.schema], metadata=table.schema.metadata)
        edited = pa.Table.from_pylist(rows, schema=relaxed)
    write_table(release, config, edited)


def edit_record(release: Path, layer: str, record_id: str, *, doc_id: str = SEED_ID, nested: bool = True, **changes):
    """Change one record in the flat config and (unless nested=False) the same record in `documents`."""

    def apply(records: list[dict]) -> None:
        matches = [r for r in records if r["id"] == record_id and r.get("doc_id", doc_id) == doc_id]
        assert len(matches) == 1, f"no single record {record_id} in {layer}"
        for key, value in changes.items():
            if callable(value):
                matches[0][key] = value(matches[0][key])
            else:
                matches[0][key] = value

    edit_rows(release, layer, apply)
    if nested:
        edit_rows(release, "documents", lambda docs: apply(next(d for d in docs if d["doc_id"] == doc_id)[layer]))


def project_for(case: Path, root: Path) -> Project:
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "validation", root / "validation")
    shutil.copy2(REPO / "DATACARD.md", root / "DATACARD.md")
    shutil.copytree(case / "seeds", root / "seeds")
    shutil.copytree(case / "exports", root / "annotation" / "exports")
    shutil.copy2(REPO / "annotation" / "GUIDELINES.md", root / "annotation" / "GUIDELINES.md")
    return Project(root)


TOKEN = "hf_SENTINELsentinel0123456789"

REPO_ID = "newsorg/newscorpus"


def hub_environment(hub_url: str, token: str | None, *, drop: tuple[str, ...] = (), **extra: str) -> dict[str, str]:
    """The environment of a `newscorpus publish` run against the stand-in Hub at `hub_url`."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN", *drop)}
    env.update(
        HF_ENDPOINT=hub_url,
        HF_HUB_DISABLE_XET="1",  # take the LFS upload path the stand-in Hub speaks
        HF_HUB_DISABLE_TELEMETRY="1",  # no user-agent registry fetch among the recorded requests
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        PYTHONPATH=f"{REPO / 'src'}{os.pathsep}{REPO}",
    )
    if token is not None:
        env["HF_TOKEN"] = token
    env.update(extra)
    return env


def publish(hub: FakeHub, release, *args: str, token: str | None = TOKEN, repo_id: str = REPO_ID, **extra_env):
    env = hub_environment(hub.url, token, **extra_env)
    command = [sys.executable, "-m", "newscorpus.cli", "publish", str(release), f"--repo-id={repo_id}", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert TOKEN not in result.stdout + result.stderr
    return result.returncode, result.stdout, result.stderr


def required(reason: str, in_ci: str) -> NoReturn:
    """A component a test needs is missing: a skip on a developer's machine, a failure when CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(in_ci, pytrace=False)
    pytest.skip(reason)


# The test Label Studio's first user.
ADMIN_EMAIL = "admin@newscorpus.test"
ADMIN_PASSWORD = "admin-password-for-tests"
ADMIN_TOKEN = "newscorpus-test-admin-token"  # a throwaway server on 127.0.0.1, made for this test session

TEMPLATE = REPO / ".cache" / "label-studio" / f"test-data-{LABEL_STUDIO_VERSION}"

TEMPLATE_FILES = ("label_studio.sqlite3", ".env")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def data_file(config: str) -> str:
    """A config's Parquet file in a release of one shard (every test release is one)."""
    return shard_name(config, 0, 1)
