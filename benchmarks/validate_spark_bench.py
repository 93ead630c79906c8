"""The gate on Spark beside the gate on pandas: time and peak memory at two sizes, on this one machine.

    python benchmarks/validate_spark_bench.py [--docs 10000 100000] [--runs 1] [--seed 0]

For each size, writes a synthetic release folder (validate_bench.py's tables: ~2,000
characters, 25 mentions, 8 events and 4 quotes a document; a manifest.json and README.md so
that all six suites run), then validates it in fresh processes, `--runs` times each:

- pandas: `validate_release`, what `newscorpus validate RELEASE` runs;
- spark: `validate_release_spark` in a local session with Spark's defaults (`local[*]`),
  what `newscorpus validate RELEASE --engine spark` runs; the session's start is timed apart.

Reports medians: seconds, the Python process's peak RSS and, for Spark, the JVM's peak RSS
(each process's own VmHWM; the driver JVM's read before the session stops). On one machine Spark is expected to
be slower than pandas (its views are sort-merge joins and groupings); what it offers here is
memory that does not grow with the release (the JVM's heap is fixed, data beyond it spills to
disk) and, elsewhere, a cluster. A benchmark, not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from newscorpus.build.builder import PARQUET_OPTIONS  # noqa: E402
from newscorpus.project import Project  # noqa: E402
from newscorpus.release.shards import ROW_GROUP_DOCS, shard_name  # noqa: E402
from newscorpus.schema import CONFIGS  # noqa: E402

ENGINES = ("pandas", "spark")


def _validate_bench():
    spec = importlib.util.spec_from_file_location("validate_bench", ROOT / "benchmarks" / "validate_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_release(folder: Path, docs: int, seed: int) -> dict[str, int]:
    """A release folder the six suites pass: the four configs, README.md and a manifest of them."""
    project = Project(ROOT)
    tables = _validate_bench().synthetic_tables(project, docs, seed)
    outputs = []
    for config in CONFIGS:
        path = folder / shard_name(config, 0, 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Row groups of ~ROW_GROUP_DOCS documents, as a built release has them: the pandas engine reads
        # a row group at a time, and pyarrow's default (a million rows) would hold far more.
        group_rows = max(1, tables[config].num_rows * ROW_GROUP_DOCS // docs)
        pq.write_table(tables[config], path, row_group_size=group_rows, **PARQUET_OPTIONS)
        outputs.append({"path": shard_name(config, 0, 1), "rows": tables[config].num_rows})
    (folder / "README.md").write_text("synthetic release for a benchmark\n", encoding="utf-8")
    outputs.append({"path": "README.md"})
    for entry in outputs:
        data = (folder / entry["path"]).read_bytes()
        entry.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    manifest = {"version": "0.0.1", "schema_version": project.schema.schema_version, "outputs": outputs}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return {c: t.num_rows for c, t in tables.items()}


# -- one measured run (a fresh process) -------------------------------------------------------


def peak_mib(status: Path) -> float:
    """A process's own peak resident memory (VmHWM). Not ru_maxrss: that carries over the peak of the
    parent at fork (here the parent that wrote the synthetic release), through exec."""
    line = next(line for line in status.read_text(encoding="utf-8").splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def child(engine: str, release: Path) -> dict:
    project = Project(ROOT)
    session_seconds, jvm_peak = 0.0, None
    if engine == "spark":
        from newscorpus.validation.spark_engine import spark_session, validate_release_spark

        begin = time.perf_counter()
        spark = spark_session()
        session_seconds = time.perf_counter() - begin
        begin = time.perf_counter()
        validation = validate_release_spark(project, release, spark=spark)
        seconds = time.perf_counter() - begin
        jvm = spark.sparkContext._gateway.proc.pid  # spark-submit execs the JVM: the same process
        jvm_peak = peak_mib(Path(f"/proc/{jvm}/status"))
        spark.stop()
    else:
        from newscorpus.validation.expectations import import_great_expectations
        from newscorpus.validation.pandas_engine import validate_release

        import_great_expectations()  # a fixed cost of ~3 s per process, as in validate_bench.py
        begin = time.perf_counter()
        validation = validate_release(project, release)
        seconds = time.perf_counter() - begin
    return {
        "session": session_seconds,
        "validate": seconds,
        "python_mib": peak_mib(Path("/proc/self/status")),
        "jvm_mib": jvm_peak,
        "failed": [o.check for o in validation.failures],
        "expectations": validation.expectations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "spark_results.json",
                        help="where the medians go (default: benchmarks/spark_results.json)")  # fmt: skip
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--release", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.release)))
        return
    medians: dict[tuple[int, str], dict] = {}
    for docs in args.docs:
        with tempfile.TemporaryDirectory(prefix="newscorpus-spark-bench-") as scratch:
            release = Path(scratch) / "v0.0.1"
            begin = time.perf_counter()
            rows = write_release(release, docs, args.seed)
            print(f"{docs:,} documents: {rows} rows, written in {time.perf_counter() - begin:.1f} s", flush=True)
            runs: dict[str, list[dict]] = {engine: [] for engine in ENGINES}
            for run in range(args.runs):
                for engine in ENGINES:  # alternate, so that both see the same machine state
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", engine, "--release", str(release)],
                        capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    result = json.loads(out.stdout.splitlines()[-1])
                    assert result["failed"] == [], f"{engine}: the synthetic release fails {result['failed']}"
                    runs[engine].append(result)
                    jvm = f", JVM peak {result['jvm_mib']:,.0f} MiB" if result["jvm_mib"] else ""
                    print(
                        f"  run {run + 1} {engine:<6} validate {result['validate']:6.1f} s,"
                        f" Python peak {result['python_mib']:,.0f} MiB{jvm}",
                        flush=True,
                    )
            for engine, results in runs.items():
                keys = ("session", "validate", "python_mib", "jvm_mib")
                medians[docs, engine] = {
                    k: statistics.median(r[k] for r in results) if results[0][k] is not None else None for k in keys
                }
            expectations = runs["pandas"][0]["expectations"]
    records = [{"documents": docs, "engine": engine, "runs": args.runs, **m} for (docs, engine), m in medians.items()]
    args.json.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    print(f"\nmedians of {args.runs} run(s); {expectations} expectations in 6 suites, all passed on both engines:")
    print(f"  {'documents':>10} {'engine':<7} {'validate':>10} {'Python peak':>12} {'JVM peak':>10} {'session':>8}")
    for (docs, engine), m in medians.items():
        jvm = f"{m['jvm_mib']:7,.0f} MiB" if m["jvm_mib"] else f"{'-':>11}"
        session = f"{m['session']:6.1f} s" if engine == "spark" else f"{'-':>8}"
        print(f"  {docs:>10,} {engine:<7} {m['validate']:8.1f} s {m['python_mib']:8,.0f} MiB {jvm} {session}")
    for docs in args.docs:
        spark, pandas = medians[docs, "spark"], medians[docs, "pandas"]
        spark_total = spark["python_mib"] + spark["jvm_mib"]
        print(
            f"at {docs:,}: spark / pandas time {spark['validate'] / pandas['validate']:.1f}x,"
            f" peak memory (Python + JVM) / pandas' {spark_total / pandas['python_mib']:.2f}x"
        )
    if len(args.docs) > 1:
        small, large = min(args.docs), max(args.docs)
        for engine in ENGINES:
            a, b = medians[small, engine], medians[large, engine]
            grow = (b["python_mib"] + (b["jvm_mib"] or 0)) / (a["python_mib"] + (a["jvm_mib"] or 0))
            print(f"{engine}: {large // small}x the documents -> {grow:.2f}x the peak memory (Python + JVM)")


if __name__ == "__main__":
    main()
