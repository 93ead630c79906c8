"""Validation time and peak memory on a synthetic release, Great Expectations against plain pyarrow.compute.

    python benchmarks/validate_bench.py [--docs 100000] [--runs 3] [--seed 0]

Generates a release's four tables directly with numpy and pyarrow (deterministic by seed,
valid against schemas/annotation.yaml: ~2,000 characters, 25 mentions, 8 events with
arguments and 4 quotes per document), writes them as the build does, then times in fresh
processes, `--runs` times each:

- great_expectations: `validate_tables`, what the build's gate runs (the views, then the
  five table suites in Great Expectations on pandas);
- pyarrow: the same views, then every expectation of the same suite JSON evaluated with
  pyarrow.compute (the baseline).

Prints the median of each figure and the ratio great_expectations / pyarrow. A benchmark,
not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from newscorpus.build.builder import PARQUET_OPTIONS  # noqa: E402
from newscorpus.project import Project  # noqa: E402
from newscorpus.release.shards import shard_name  # noqa: E402
from newscorpus.schema import CONFIGS  # noqa: E402

TOKENS, WIDTH = 250, 8  # a text is 250 tokens of 7 letters and a space: 2,000 characters
ENTITIES, EVENTS, QUOTES = 25, 8, 4


# -- synthetic release ---------------------------------------------------------------


def synthetic_tables(project: Project, docs: int, seed: int) -> dict[str, pa.Table]:
    schema = project.schema
    arrow = schema.arrow_schemas()
    rng = np.random.default_rng(seed)
    letters = rng.integers(ord("a"), ord("z") + 1, size=(docs, TOKENS, WIDTH), dtype=np.uint8)
    letters[:, :, WIDTH - 1] = ord(" ")
    letters[:, -1, WIDTH - 1] = ord(".")
    doc_ids = pa.array([f"doc{d:07d}" for d in range(docs)])
    texts = _strings(letters.reshape(docs, TOKENS * WIDTH))

    def spans(tokens: np.ndarray, length: int = 1):
        """Spans of `length` tokens starting at token index `tokens` (docs x k), and their texts."""
        doc = np.repeat(np.arange(docs), tokens.shape[1])
        flat = tokens.reshape(-1)
        chars = np.stack([letters[doc, flat + i] for i in range(length)], axis=1).reshape(len(flat), -1)[:, :-1]
        start = (flat * WIDTH).astype(np.int32)
        return doc, start, (start + length * WIDTH - 1).astype(np.int32), _strings(chars)

    def pick(values, count: int) -> pa.Array:
        return pc.take(pa.array(list(values)), pa.array(rng.integers(0, len(values), count)))

    def ids(prefix: str, per_doc: int) -> pa.Array:
        return pc.take(
            pa.array([f"{prefix}{j:02d}" for j in range(per_doc)]), pa.array(np.tile(np.arange(per_doc), docs))
        )

    # Mentions: one in each run of ten tokens; every fifth heads the chain of the next four.
    entity_tokens = np.arange(ENTITIES) * 10 + rng.integers(0, 10, size=(docs, ENTITIES))
    doc, start, end, text = spans(entity_tokens)
    heads = np.tile(np.arange(ENTITIES) - np.arange(ENTITIES) % 5, docs)
    entity_ids = ids("e", ENTITIES)
    entities = {
        "doc_id": pc.take(doc_ids, pa.array(doc)), "id": entity_ids, "start": start, "end": end, "text": text,
        "type": pick(schema.entity_types, len(doc)), "mention_type": pick(schema.mention_types, len(doc)),
        "cluster_id": pc.take(pa.array([f"e{j:02d}" for j in range(ENTITIES)]), pa.array(heads)),
    }  # fmt: skip
    # Events: a trigger token, a type, and two arguments with distinct roles of that type.
    doc, start, end, text = spans(np.tile(np.arange(EVENTS) * 31 + 5, (docs, 1)))
    type_index = rng.integers(0, len(schema.event_types), len(doc))
    event_types = list(schema.event_types.values())
    roles = [[t.roles[k] for k in range(2)] for t in event_types]
    argument_roles = pa.array([r for i in type_index for r in roles[i]])
    argument_entities = pc.take(
        pa.array([f"e{j:02d}" for j in range(ENTITIES)]), pa.array(rng.integers(0, ENTITIES, (len(doc), 2)).reshape(-1))
    )
    argument_type = arrow["events"].field("arguments").type
    arguments = pa.ListArray.from_arrays(
        pa.array(np.arange(0, 2 * len(doc) + 1, 2, dtype=np.int32)),
        pa.StructArray.from_arrays([argument_roles, argument_entities], fields=list(argument_type.value_type)),
    ).cast(argument_type)
    span_type = arrow["events"].field("trigger").type
    events = {
        "doc_id": pc.take(doc_ids, pa.array(doc)), "id": ids("v", EVENTS),
        "type": pc.take(pa.array([t.name for t in event_types]), pa.array(type_index)),
        "realis": pick(schema.realis, len(doc)),
        "trigger": pa.StructArray.from_arrays([start, end, text], fields=list(span_type)),
        "arguments": arguments,
    }  # fmt: skip
    # Quotes: four tokens, a cue just before (or none), a chain head as speaker (or none).
    quote_tokens = np.tile(np.arange(QUOTES) * 60 + 22, (docs, 1))
    doc, start, end, text = spans(quote_tokens, 4)
    _, cue_start, cue_end, cue_text = spans(quote_tokens - 1)
    with_cue = rng.random(len(doc)) < 0.8
    head = rng.integers(0, ENTITIES // 5, len(doc)) * 5
    with_speaker = rng.random(len(doc)) < 0.9
    speaker_rows = pa.array(doc * ENTITIES + head)
    mask = pa.array(~with_speaker)
    quotes = {
        "doc_id": pc.take(doc_ids, pa.array(doc)), "id": ids("q", QUOTES), "start": start, "end": end, "text": text,
        "kind": pick(schema.quote_kinds, len(doc)),
        "cue": pa.StructArray.from_arrays([cue_start, cue_end, cue_text], fields=list(span_type),
                                          mask=pa.array(~with_cue)),
        "speaker_id": pc.if_else(mask, pa.scalar(None, pa.string()), pc.take(entity_ids, speaker_rows)),
        "speaker": pc.if_else(mask, pa.scalar(None, pa.string()), pc.take(entities["text"], speaker_rows)),
    }  # fmt: skip
    tables = {
        "entities": pa.table(entities, schema=arrow["entities"]),
        "events": pa.table(events, schema=arrow["events"]),
        "quotes": pa.table(quotes, schema=arrow["quotes"]),
    }
    published = rng.integers(dt.date(2000, 1, 1).toordinal(), dt.date(2023, 12, 31).toordinal(), docs)
    epoch = dt.date(1970, 1, 1).toordinal()
    documents = {
        "doc_id": doc_ids, "published": pa.array(published - epoch, pa.int32()).cast(pa.date32()),
        "published_precision": pa.array(["day"] * docs), "language": pa.array([schema.language] * docs),
        "text": texts,
        "text_sha256": pa.array([hashlib.sha256(t).hexdigest() for t in letters.reshape(docs, -1)]),
        "source_file": pa.array([f"seeds/{d}.txt" for d in doc_ids.to_pylist()]),
        **{layer: _nest(tables[layer], docs, arrow["documents"].field(layer).type) for layer in tables},
        "ls_export": pa.array(["annotation/exports/synthetic.json"] * docs),
        "ls_task_id": pa.array(np.arange(docs), pa.int64()), "ls_annotation_id": pa.array(np.arange(docs), pa.int64()),
        "annotator_ids": pa.array([[1]] * docs, pa.list_(pa.field("item", pa.int64(), nullable=False))),
        "guideline_version": pa.array([schema.guideline_version] * docs),
    }  # fmt: skip
    tables["documents"] = pa.table(documents, schema=arrow["documents"])
    return tables


def _strings(chars: np.ndarray) -> pa.Array:
    """Rows of ASCII bytes -> a string array, without Python strings."""
    rows, width = chars.shape
    offsets = pa.py_buffer(np.arange(0, rows * width + 1, width, dtype=np.int32).tobytes())
    return pa.StringArray.from_buffers(rows, offsets, pa.py_buffer(np.ascontiguousarray(chars).tobytes()))


def _nest(flat: pa.Table, docs: int, list_type: pa.DataType) -> pa.Array:
    per_doc = flat.num_rows // docs
    fields = list(list_type.value_type)
    items = pa.StructArray.from_arrays([flat.column(f.name).combine_chunks() for f in fields], fields=fields)
    return pa.ListArray.from_arrays(pa.array(np.arange(0, flat.num_rows + 1, per_doc, dtype=np.int32)), items).cast(
        list_type
    )


# -- the baseline: the suites' expectations in pyarrow.compute ------------------------------


def arrow_checks(view: pa.Table, suite: dict, parameters: dict) -> list[str]:
    """Evaluate every expectation of a suite on a view with pyarrow.compute; return the failing checks."""
    from newscorpus.validation.suites import TYPE_NAMES

    failed = []
    for e in suite["expectations"]:
        kind, kw = e["type"], e["kwargs"]
        col = view.column(kw["column"]) if "column" in kw else None
        if kind == "expect_table_columns_to_match_ordered_list":
            bad = int(view.column_names != kw["column_list"])
        elif kind == "expect_column_values_to_be_in_type_list":
            bad = int(TYPE_NAMES.get(col.type, [None])[0] not in kw["type_list"])
        elif kind == "expect_column_values_to_not_be_null":
            bad = col.null_count
        elif kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
            keys = kw.get("column_list", [kw.get("column")])
            counts = view.select(keys).group_by(keys).aggregate([([], "count_all")]).column("count_all")
            bad = pc.sum(pc.filter(counts, pc.greater(counts, 1))).as_py() or 0
        elif kind == "expect_column_values_to_match_regex":
            # RE2 has no look-ahead: the suites' "no further character" (suites.whole) is its \z
            regex = kw["regex"].replace(r"(?![\s\S])", r"\z")
            bad = pc.sum(pc.invert(pc.match_substring_regex(col, regex))).as_py() or 0
        elif kind == "expect_column_value_lengths_to_be_between":
            bad = pc.sum(pc.less(pc.utf8_length(col), kw["min_value"])).as_py() or 0
        elif kind == "expect_column_values_to_be_in_set":
            found = pc.is_in(col, value_set=pa.array(kw["value_set"], col.type))
            bad = pc.sum(pc.and_(col.is_valid(), pc.invert(found))).as_py() or 0  # nulls do not apply
        elif kind == "expect_column_values_to_be_between":
            low, high = (_value(kw.get(k), parameters, col.type) for k in ("min_value", "max_value"))
            out = pc.less(col, low) if low is not None else pa.nulls(len(col), pa.bool_())
            if high is not None:
                out = pc.or_kleene(out, pc.greater(col, high))
            bad = pc.sum(out).as_py() or 0
        else:  # the pair expectations
            a, b = view.column(kw["column_A"]), view.column(kw["column_B"])
            if kind == "expect_column_pair_values_a_to_be_greater_than_b":
                ok = pc.greater_equal(a, b) if kw["or_equal"] else pc.greater(a, b)
            else:
                assert kind == "expect_column_pair_values_to_be_equal", kind
                ok = pc.equal(a, b)
            bad = pc.sum(pc.invert(ok)).as_py() or 0
        if bad:
            failed.append(e["meta"]["check"])
    return failed


def _value(value, parameters: dict, type_: pa.DataType):
    if isinstance(value, dict):
        value = parameters[value["$PARAMETER"]]
    if value is None:
        return None
    return pa.scalar(dt.date.fromisoformat(value) if pa.types.is_date(type_) else value, type_)


# -- one measured run (a fresh process) -------------------------------------------------------


def child(engine: str, folder: Path) -> dict:
    project = Project(ROOT)
    read = []

    def tables() -> dict[str, pa.Table]:
        # Handed over without a reference kept here, as the build and `newscorpus validate` do.
        begin = time.perf_counter()
        out = {c: pq.read_table(folder / shard_name(c, 0, 1)) for c in CONFIGS}
        read.append(time.perf_counter() - begin)
        return out

    imported, views, failed, expectations = 0.0, 0.0, [], 0
    if engine == "read":
        from newscorpus.validation.views import ViewBuilder

        begin = time.perf_counter()
        ViewBuilder(project.schema, tables())
        seconds = time.perf_counter() - begin
    elif engine == "great_expectations":
        from newscorpus.validation.expectations import import_great_expectations
        from newscorpus.validation.pandas_engine import validate_tables

        begin = time.perf_counter()
        import_great_expectations()  # timed apart: a fixed cost of ~3 s per process, whatever the size
        imported = time.perf_counter() - begin
        begin = time.perf_counter()
        validation = validate_tables(project, tables(), "synthetic")
        seconds = time.perf_counter() - begin
        failed = [o.check for o in validation.failures]
        expectations = validation.expectations
    else:
        from newscorpus.validation.suites import suite
        from newscorpus.validation.view_specs import TABLE_SUITES
        from newscorpus.validation.views import ViewBuilder

        begin = time.perf_counter()
        builder = ViewBuilder(project.schema, tables())
        parameters = {"today": dt.date.today().isoformat(), **suite("documents", project.schema)["meta"]["parameters"]}
        for name in TABLE_SUITES:
            at = time.perf_counter()
            view = builder.build(name)
            views += time.perf_counter() - at
            spec = suite(name, project.schema)
            failed += arrow_checks(view, spec, parameters)
            expectations += len(spec["expectations"])
            del view
        seconds = time.perf_counter() - begin
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "read": read[0],
        "import": imported,
        "validate": seconds - read[0],
        "views": views,
        "peak_mib": peak,
        "failed": failed,
        "n": expectations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=["great_expectations", "pyarrow", "read"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data)))
        return
    with tempfile.TemporaryDirectory(prefix="newscorpus-bench-") as scratch:
        folder = Path(scratch)
        begin = time.perf_counter()
        tables = synthetic_tables(Project(ROOT), args.docs, args.seed)
        for config in CONFIGS:
            (folder / shard_name(config, 0, 1)).parent.mkdir(parents=True)
            pq.write_table(tables[config], folder / shard_name(config, 0, 1), **PARQUET_OPTIONS)
        rows = {c: t.num_rows for c, t in tables.items()}
        del tables
        print(f"synthetic release: {rows} rows, written in {time.perf_counter() - begin:.1f} s (seed {args.seed})")
        results: dict[str, list[dict]] = {"great_expectations": [], "pyarrow": [], "read": []}
        for run in range(args.runs):
            for engine in results:  # alternate, so that both see the same machine state
                out = subprocess.run(
                    [sys.executable, __file__, "--child", engine, "--data", str(folder)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                result = json.loads(out.stdout.splitlines()[-1])
                results[engine].append(result)
                figures = f"validate {result['validate']:6.1f} s, " if engine != "read" else ""
                figures += f"peak {result['peak_mib']:,.0f} MiB"
                print(f"  run {run + 1} {engine:<18} {figures}", flush=True)
    for engine, runs in results.items():
        failed = {tuple(r["failed"]) for r in runs}
        assert failed == {()}, f"{engine}: the synthetic release fails {failed}"
    reading = results.pop("read")
    keys = ("read", "import", "validate", "peak_mib")
    med = {e: {k: statistics.median(r[k] for r in runs) for k in keys} for e, runs in results.items()}
    views = statistics.median(r["views"] for r in results["pyarrow"])
    n = results["pyarrow"][0]["n"]
    print(f"\nmedians of {args.runs} runs, {n} expectations in 5 suites, all passed with both engines:")
    print(f"  {'':<18} {'read':>8} {'import':>8} {'validate':>10} {'peak RSS':>12}")
    for engine, m in med.items():
        print(f"  {engine:<18} {m['read']:7.1f}s {m['import']:7.1f}s {m['validate']:9.1f}s {m['peak_mib']:9,.0f} MiB")
    print(f"  (of which building the views: {views:.1f} s, the same code for both)")
    print(f"  reading the tables alone: peak {statistics.median(r['peak_mib'] for r in reading):,.0f} MiB")
    ge, base = med["great_expectations"], med["pyarrow"]
    print(f"ratio great_expectations / pyarrow: time {ge['validate'] / base['validate']:.1f}x,"
          f" checks alone {(ge['validate'] - views) / (base['validate'] - views):.1f}x,"
          f" peak memory {ge['peak_mib'] / base['peak_mib']:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
