import hashlib
import importlib.util

from newscorpus.build.builder import build_release
from newscorpus.project import Project
from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("synth", REPO / "benchmarks" / "synth.py")
synth = importlib.util.module_from_spec(spec)
spec.loader.exec_module(synth)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_synthetic_export_is_deterministic_valid_and_realistic(tmp_path):
    first = synth.generate(60, tmp_path / "a", seed=7)
    second = synth.generate(60, tmp_path / "b", seed=7)
    other = synth.generate(60, tmp_path / "c", seed=8)
    assert digest(first) == digest(second) != digest(other)
    release = build_release(Project(tmp_path / "a"), "0.0.1")  # passes every converter check
    assert release.rows["documents"] == 60
    per_doc = {layer: release.rows[layer] / 60 for layer in ("entities", "events", "quotes")}
    assert 18 <= per_doc["entities"] <= 35 and 5 <= per_doc["events"] <= 12 and 2 <= per_doc["quotes"] <= 7
    summary = release.summary
    assert summary.unused_submitted > 0  # some tasks have a second annotator
