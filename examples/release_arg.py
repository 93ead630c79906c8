"""The release an example reads: the path given as its argument, else the newest release in corpus/."""

import sys
from pathlib import Path


def release_path() -> str:
    if len(sys.argv) > 1:
        return sys.argv[1]
    releases = [p for p in Path("corpus").glob("v*.*.*") if p.is_dir()]
    if not releases:
        sys.exit("no release in corpus/: run from the repository root, or pass a release folder")
    newest = max(releases, key=lambda p: tuple(int(part) for part in p.name[1:].split(".")))
    return str(newest)
