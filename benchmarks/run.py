"""Build and validation at 1,000 / 10,000 / 100,000 documents against a floor measured in the same run.

    python benchmarks/run.py [--sizes 1000 10000 100000] [--runs 3] [--runs-at-largest 1] [--scratch DIR]

For each size, benchmarks/synth.py writes a synthetic project (seeds + one Label Studio
export with its .sha256) into a scratch folder, then every measurement runs in a fresh
process, its peak memory read from the process itself (resource.getrusage, VmHWM), or, if larger, the
largest sum of its memory and its worker's (the build's segmentation worker), sampled every 20 ms:

- build: `build_release` as `newscorpus build` runs it (stream, convert, segment, write, card, the gate with
  every suite `newscorpus build` runs, the quality suite included, manifest), release format 2;
- build without gate: the same with the validation gate replaced by nothing;
- gate: the gate alone on the written Parquet files (the build's own call, the same suites);
- validate: `newscorpus validate` of the release (every suite, the manifest's included);
- load cold / warm: `datasets.load_dataset` of every config into an empty cache, then again;
- floor build (benchmarks/floor.py): orjson, pyarrow tables, pyarrow.parquet, nothing else: format 1's
  four tables (no tokens, chains or event_arguments, no provenance columns);
- peer: label-studio-sdk's own converter on the same export (`Converter(...).convert_to_json_min`,
  the JSON_MIN export: flattened regions as JSON, no checks, no Parquet): what a user who only
  wants the export flattened would run instead of a build;
- floor validate: the table suites' views and expectations in pyarrow.compute on the whole tables in
  memory (benchmarks/validate_bench.py's baseline; not the quality or derived suites).

Medians of `--runs` runs (of `--runs-at-largest` at the largest size), ratios against the floors,
and the slope of time and memory over the sizes go to benchmarks/results.json and to the table in
benchmarks/README.md. A benchmark, not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

MEASURES = (
    "build", "build_without_gate", "gate", "validate", "load_cold", "load_warm", "floor_build", "floor_validate",
    "peer_convert",
)  # fmt: skip
RESULTS = HERE / "results.json"
README = HERE / "README.md"
BEGIN, END = "<!-- BEGIN RESULTS -->", "<!-- END RESULTS -->"


def peak_mib(sampled: float = 0.0) -> float:
    """The run's peak resident memory in MiB: the process's own peak (VmHWM), or, if larger, the largest
    sum of its memory and its child processes' (the build's segmentation worker) sampled at one time."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            own = int(line.split()[1]) / 1024
    return max(own, sampled)


class TreeMemory(threading.Thread):
    """Samples the resident memory of this process plus its children every 20 ms; `peak` in MiB."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            pids = [os.getpid()]
            for task in Path("/proc/self/task").iterdir():
                with contextlib.suppress(OSError):
                    pids += [int(p) for p in (task / "children").read_text().split()]
            self.peak = max(self.peak, sum(_rss_mib(pid) for pid in pids))


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:  # ended meanwhile
        pass
    return 0.0


# -- one measurement, in a fresh process ------------------------------------------------------


def child(measure: str, project_root: Path, work: Path) -> dict:
    from newscorpus.project import Project

    project = Project(project_root)
    tree = TreeMemory()
    tree.start()
    begin = time.perf_counter()
    extra: dict = {}
    if measure in ("build", "build_without_gate"):
        import newscorpus.build.builder as build
        from newscorpus.validation.view_specs import GATE_SUITES

        if measure == "build_without_gate":
            from newscorpus.validation.pandas_engine import Validation

            build.gate = lambda project, folder, files, subject, *suites: Validation(subject, "-", ())
        corpus = work / measure
        shutil.rmtree(corpus, ignore_errors=True)
        release = build.build_release(project, "0.0.1", corpus_dir=corpus, gate_suites=GATE_SUITES)
        extra = {"rows": release.rows, "shards": len(list((release.path / "documents").glob("*.parquet")))}
    elif measure == "gate":
        from newscorpus.release.shards import data_files
        from newscorpus.validation.pandas_engine import gate
        from newscorpus.validation.view_specs import GATE_SUITES

        release = work / "build" / "v0.0.1"
        gate(project, release, {c: data_files(release, c) for c in release_configs(release)}, "v0.0.1", GATE_SUITES)
    elif measure == "validate":
        from newscorpus.validation.pandas_engine import validate_release

        validation = validate_release(project, work / "build" / "v0.0.1")
        extra = {"failures": [o.check for o in validation.failures]}
    elif measure in ("load_cold", "load_warm"):
        os.environ["HF_DATASETS_CACHE"] = str(work / "hf-cache")
        os.environ["HF_HUB_OFFLINE"] = "1"
        if measure == "load_cold":
            shutil.rmtree(work / "hf-cache", ignore_errors=True)
        import datasets

        datasets.disable_progress_bars()
        begin = time.perf_counter()  # the import is not loading
        release = work / "build" / "v0.0.1"
        extra = {"rows": {c: datasets.load_dataset(str(release), c, split="train").num_rows
                          for c in release_configs(release)}}  # fmt: skip
    elif measure == "floor_build":
        from floor import build_floor

        extra = {"rows": build_floor(project_root, work / "floor")}
    elif measure == "floor_validate":
        extra = {"failures": floor_validate(project, work / "build" / "v0.0.1")}
    elif measure == "peer_convert":
        extra = peer_convert(project, work / "peer")
    else:
        raise ValueError(measure)
    seconds = time.perf_counter() - begin
    tree.done.set()
    tree.join()
    return {"seconds": seconds, "peak_mib": peak_mib(tree.peak), **extra}


def release_configs(release: Path) -> tuple[str, ...]:
    from newscorpus.release.formats import configs
    from newscorpus.release.manifest import read_manifest, release_format

    return configs(release_format(read_manifest(release)))


def floor_validate(project, release: Path) -> list[str]:
    """Every table whole in memory, the same views, every expectation in pyarrow.compute."""
    import datetime as dt

    from validate_bench import arrow_checks

    from newscorpus.release.shards import read_config
    from newscorpus.schema import CONFIGS
    from newscorpus.validation.suites import suite
    from newscorpus.validation.view_specs import TABLE_SUITES
    from newscorpus.validation.views import ViewBuilder

    builder = ViewBuilder(project.schema, {c: read_config(release, c) for c in CONFIGS})
    parameters = {"today": dt.date.today().isoformat(), **suite("documents", project.schema)["meta"]["parameters"]}
    failed = []
    for name in TABLE_SUITES:
        failed += arrow_checks(builder.build(name), suite(name, project.schema), parameters)
    return failed


def peer_convert(project, out: Path) -> dict:
    """label-studio-sdk's converter, JSON_MIN, on the project's one export; its import is part of the time."""
    from label_studio_sdk.converter import Converter

    from newscorpus.labelstudio.exports import export_paths

    (export,) = export_paths(project.exports_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    converter = Converter(config=project.schema.label_config(), project_dir=None, download_resources=False)
    converter.convert_to_json_min(str(export), str(out), is_dir=False)
    written = sorted(out.rglob("*.json"))
    return {"files": len(written), "bytes": sum(p.stat().st_size for p in written)}


def same_tables(release: Path, floor: Path) -> dict[str, bool]:
    """Does the floor write the build's tables (the check that it is a floor for the same work)?

    The floor writes format 1's four tables: the build's are compared on the floor's columns."""
    import pyarrow.parquet as pq

    from newscorpus.release.shards import read_config
    from newscorpus.schema import CONFIGS

    out = {}
    for config in CONFIGS:
        table = pq.read_table(floor / f"{config}.parquet")
        out[config] = read_config(release, config).select(table.column_names).equals(table)
    return out


def measure(name: str, project_root: Path, work: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, "--project", str(project_root), "--work", str(work)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"{name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.splitlines()[-1])


# -- the run ---------------------------------------------------------------------------------


def run_size(docs: int, runs: int, scratch: Path) -> dict:
    import synth

    project_root, work = scratch / f"project-{docs}", scratch / f"work-{docs}"
    shutil.rmtree(project_root, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    begin = time.perf_counter()
    export = synth.generate(docs, project_root, seed=0)
    export_mb = export.stat().st_size / 1e6
    # The generated files go to disk before anything is timed: else the first measurement (the build, whose
    # fsync of the release waits for the file system's journal) pays for writing ~200 MB back per 10,000.
    os.sync()
    print(f"\n{docs:,} documents: export {export.stat().st_size / 1e6:,.0f} MB,"
          f" generated in {time.perf_counter() - begin:.0f} s", flush=True)  # fmt: skip
    results: dict[str, list[dict]] = {m: [] for m in MEASURES}
    for run in range(runs):
        # Ours and the floor alternate, so that both see the same state of the machine.
        for name in MEASURES:
            result = measure(name, project_root, work)
            results[name].append(result)
            print(f"  run {run + 1} {name:<19} {result['seconds']:8.1f} s {result['peak_mib']:8,.0f} MiB", flush=True)
    checks = {
        "floor_tables_equal_build_tables": same_tables(work / "build" / "v0.0.1", work / "floor"),
        "validate_failures": results["validate"][0]["failures"],
        "floor_validate_failures": results["floor_validate"][0]["failures"],
        "shards_per_config": results["build"][0]["shards"],
        "rows": results["build"][0]["rows"],
    }
    shutil.rmtree(project_root)
    shutil.rmtree(work)
    median = {m: {k: statistics.median(r[k] for r in rs) for k in ("seconds", "peak_mib")} for m, rs in results.items()}
    return {
        "docs": docs,
        "export_mb": round(export_mb, 1),
        "runs": runs,
        "median": median,
        "ratios": ratios(median, docs),
        "checks": checks,
        "all_runs": results,
    }


def ratios(m: dict, docs: int) -> dict:
    return {
        "build_per_floor_time": m["build"]["seconds"] / m["floor_build"]["seconds"],
        "build_without_gate_per_floor_time": m["build_without_gate"]["seconds"] / m["floor_build"]["seconds"],
        "build_per_floor_peak": m["build"]["peak_mib"] / m["floor_build"]["peak_mib"],
        "validate_per_floor_time": m["validate"]["seconds"] / m["floor_validate"]["seconds"],
        "gate_per_floor_time": m["gate"]["seconds"] / m["floor_validate"]["seconds"],
        "validate_per_floor_peak": m["validate"]["peak_mib"] / m["floor_validate"]["peak_mib"],
        # Throughput of the build against the peer's on the same export: > 1 means the build is faster.
        "build_per_peer_throughput": m["peer_convert"]["seconds"] / m["build"]["seconds"],
        "build_per_peer_peak": m["build"]["peak_mib"] / m["peer_convert"]["peak_mib"],
        "build_docs_per_second": docs / m["build"]["seconds"],
        "build_without_gate_docs_per_second": docs / m["build_without_gate"]["seconds"],
    }


def slopes(sizes: list[dict]) -> dict:
    """Least-squares line through (documents, median) per measure: seconds and MiB per 1,000 documents."""
    import numpy as np

    out = {}
    x = np.array([s["docs"] for s in sizes], float)
    for name in MEASURES:
        for key in ("seconds", "peak_mib"):
            y = np.array([s["median"][name][key] for s in sizes], float)
            slope, intercept = np.polyfit(x, y, 1) if len(x) > 1 else (0.0, y[0])
            out[f"{name}.{key}"] = {"per_1000_docs": slope * 1000, "intercept": intercept}
    return out


def table(sizes: list[dict]) -> str:
    """The README's table: medians, ratios against the floors, and the slopes."""
    head = "| | " + " | ".join(f"{s['docs']:,} docs ({s['runs']} run{'s' if s['runs'] > 1 else ''})" for s in sizes)
    lines = [head + " |", "|---|" + "---:|" * len(sizes)]

    def row(title: str, cell) -> None:
        lines.append(f"| {title} | " + " | ".join(cell(s) for s in sizes) + " |")

    for name, title in (
        ("build", "build (with gate)"), ("build_without_gate", "build without gate"), ("gate", "gate alone"),
        ("floor_build", "floor build (orjson + pyarrow)"), ("validate", "`newscorpus validate`"),
        ("floor_validate", "floor validation (pyarrow.compute)"), ("load_cold", "`load_dataset`, cold"),
        ("load_warm", "`load_dataset`, warm"), ("peer_convert", "peer: label-studio-sdk converter (JSON_MIN)"),
    ):  # fmt: skip
        row(title, lambda s, n=name: f"{s['median'][n]['seconds']:.1f} s, {s['median'][n]['peak_mib']:,.0f} MiB")
    row("build docs/s", lambda s: f"{s['ratios']['build_docs_per_second']:,.0f}")
    row("**build / peer: throughput**", lambda s: f"{s['ratios']['build_per_peer_throughput']:.2f}x")
    row("build / peer: peak memory", lambda s: f"{s['ratios']['build_per_peer_peak']:.2f}x")
    row("build / floor: time", lambda s: f"{s['ratios']['build_per_floor_time']:.2f}x")
    row("build without gate / floor: time", lambda s: f"{s['ratios']['build_without_gate_per_floor_time']:.2f}x")
    row("build / floor: peak memory", lambda s: f"{s['ratios']['build_per_floor_peak']:.2f}x")
    row("validate / floor: time", lambda s: f"{s['ratios']['validate_per_floor_time']:.2f}x")
    row("validate / floor: peak memory", lambda s: f"{s['ratios']['validate_per_floor_peak']:.2f}x")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--runs-at-largest", type=int, default=1)
    parser.add_argument("--scratch", type=Path, help="where to generate the data (default: a temporary folder)")
    parser.add_argument("--child", choices=MEASURES, help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.project, args.work)))
        return
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="newscorpus-bench-"))
    sizes = []
    try:
        for docs in sorted(args.sizes):
            runs = args.runs_at_largest if docs == max(args.sizes) and len(args.sizes) > 1 else args.runs
            sizes.append(run_size(docs, runs, scratch))
    finally:
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "sizes": sizes,
        "slopes": slopes(sizes),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    text = table(sizes)
    print("\n" + text)
    if README.is_file() and BEGIN in README.read_text(encoding="utf-8"):
        readme = README.read_text(encoding="utf-8")
        head, rest = readme.split(BEGIN, 1)
        README.write_text(head + BEGIN + "\n" + text + END + rest.split(END, 1)[1], encoding="utf-8")


if __name__ == "__main__":
    main()
