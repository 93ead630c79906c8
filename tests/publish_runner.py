"""`newscorpus publish` in a subprocess against the stand-in Hub, with the gate's validations of known releases reused.

publish validates the whole release with Great Expectations before it contacts the Hub;
in a fresh process that costs ~15 s (imports and context) on a small machine. The tests of
what publish sends to the Hub run it many times on the same two releases, so they validate
those once (`known_validations`, in the test process) and run the command through this file:
its `__main__` answers `validate_release` from that record when the release's files are byte
for byte the ones validated, and runs the real validation otherwise. A changed release is
therefore always validated for real; the gate's own tests (test_publish_gate.py) run without
the record.
"""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
from pathlib import Path

from newscorpus import cli
from newscorpus import publish as publish_module
from newscorpus.project import Project
from newscorpus.validation.pandas_engine import validate_release
from tests.helpers import REPO, REPO_ID, TOKEN, hub_environment


def fingerprint(release: Path) -> str:
    """The release's files, their names and bytes (symlinks followed) as one sha256."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(release).rglob("*") if p.is_file()):
        digest.update(path.relative_to(release).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


_RECORDS: dict[tuple[Path, ...], Path] = {}


def known_validations(releases: list[Path], folder: Path) -> Path:
    """Validate each release once per test run; the record file that `run_publish(validated=...)` reads."""
    key = tuple(releases)
    if key not in _RECORDS:
        record = {fingerprint(r): validate_release(Project(REPO), r) for r in releases}
        path = folder / "validations.pickle"
        path.write_bytes(pickle.dumps(record))
        _RECORDS[key] = path
    return _RECORDS[key]


def run_publish(
    hub_url: str,
    release: Path,
    *args: str,
    token: str | None = TOKEN,
    repo_id: str = REPO_ID,
    validated: Path | None = None,
    **extra_env: str,
) -> tuple[int, str, str]:
    """Run `newscorpus publish RELEASE --repo-id REPO_ID ARGS` as a user would; (exit code, stdout, stderr)."""
    env = hub_environment(hub_url, token, drop=("NEWSCORPUS_HUB_TIMEOUT",), **extra_env)
    command = [f"--root={REPO}", "publish", str(release), f"--repo-id={repo_id}", *args]
    if validated is None:
        command = [sys.executable, "-m", "newscorpus.cli", *command]
    else:
        command = [sys.executable, "-m", "tests.publish_runner", str(validated), *command]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, cwd=REPO)
    assert TOKEN not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, result.stderr


def _main() -> int:
    record = pickle.loads(Path(sys.argv[1]).read_bytes())
    validate = publish_module.validate_release

    def known_or_validated(project, release, **options):
        found = record.get(fingerprint(release))
        return found if found is not None else validate(project, release, **options)

    publish_module.validate_release = known_or_validated
    return cli.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(_main())
