"""Where things live in a newscorpus checkout (see DESIGN: Layout)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
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
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.name
