"""Where things live in a newscorpus checkout (docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from newscorpus.schema import AnnotationSchema, load_schema


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def seeds_dir(self) -> Path:
        return self.root / "seeds"

    @property
    def exports_dir(self) -> Path:
        return self.root / "annotation" / "exports"

    @property
    def corpus_dir(self) -> Path:
        return self.root / "corpus"

    @property
    def schema_path(self) -> Path:
        return self.root / "schemas" / "annotation.yaml"

    @property
    def arrow_snapshot_path(self) -> Path:
        return self.root / "schemas" / "arrow_schema.txt"

    @property
    def label_config_path(self) -> Path:
        return self.root / "annotation" / "label_config.xml"

    @property
    def datacard_path(self) -> Path:
        return self.root / "DATACARD.md"

    @cached_property
    def schema(self) -> AnnotationSchema:
        return load_schema(self.schema_path)

    def relative(self, path: Path) -> str:
        """A path as the project names it in messages and manifests (never a machine path)."""
        try:
            return _resolved(path).relative_to(_resolved_folder(self.root.absolute())).as_posix()
        except ValueError:
            return path.name


def _resolved(path: Path) -> Path:
    """`path.resolve()`, resolving each folder once: a project names ~100,000 seed files in one folder."""
    path = Path(path).absolute()
    if path.name in ("", ".", "..") or path.is_symlink():
        return path.resolve()
    return _resolved_folder(path.parent) / path.name


@lru_cache(maxsize=4096)
def _resolved_folder(folder: Path) -> Path:
    return folder.resolve()
