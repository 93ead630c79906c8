"""The floor the build is measured against: the same release tables, made the quickest plain way.

Parse the whole export with orjson (the fastest JSON parser for Python), with the garbage
collector off; read the seeds; pick each task's annotation (ground truth, else the latest
submitted); build the four tables column by column with pyarrow; write them with
pyarrow.parquet and the build's writer options. No check of any kind, no card, no
manifest, one export only, and everything in memory at once. `benchmarks/run.py` checks
that its tables equal the build's.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from itertools import chain
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from newscorpus import schema as S
from newscorpus.build.builder import PARQUET_OPTIONS
from newscorpus.project import Project
from newscorpus.schema import CONFIGS

_RANK = {"NAM": 0, "NOM": 1, "PRO": 2}


def build_floor(root: Path, out: Path) -> dict[str, int]:
    """Write the four tables of the single export of project `root` into `out`; returns rows per config."""
    gc.disable()
    project = Project(root)
    schema = project.schema
    (export,) = sorted(project.exports_dir.glob("*.json"))
    tasks = orjson.loads(export.read_bytes())
    seeds = {p.stem: p for p in project.seeds_dir.glob("*.txt")}
    docs = []
    for task in tasks:
        submitted = [a for a in task["annotations"] if not a.get("was_cancelled")]
        if not submitted:
            continue
        best = max(submitted, key=lambda a: (bool(a.get("ground_truth")), str(a.get("updated_at") or ""), a["id"]))
        doc_id = task["data"]["doc_id"]
        header, _, body = seeds[doc_id].read_text(encoding="utf-8").partition("\n")
        text = body.strip()
        entities, events, quotes = _layers(best["result"], schema)
        annotators = sorted({a["completed_by"] for a in submitted})
        docs.append((doc_id, header.split()[1], text, task["id"], best["id"], annotators, entities, events, quotes))
    docs.sort(key=lambda d: d[0])
    tables = _tables(docs, schema, f"annotation/exports/{export.name}")
    out.mkdir(parents=True, exist_ok=True)
    for config in CONFIGS:
        pq.write_table(tables[config], out / f"{config}.parquet", **PARQUET_OPTIONS)
    return {c: t.num_rows for c, t in tables.items()}


def _layers(result: list[dict], schema) -> tuple[list, list, list]:
    regions, choices, links = {}, {}, []
    for item in result:
        if item["type"] == "relation":
            links.append((item["labels"][0], item["from_id"], item["to_id"]))
        elif item["from_name"] in (S.MENTION_TYPE_CONTROL, S.REALIS_CONTROL):
            choices[item["id"]] = item["value"]["choices"][0]
        else:
            value = item["value"]
            regions[item["id"]] = (item["from_name"], value["labels"][0], value["start"], value["end"], value["text"])
    parent = {rid: rid for rid, r in regions.items() if r[0] == S.ENTITY_CONTROL}

    def root(x):
        while parent[x] != x:
            x = parent[x]
        return x

    cue_of, speaker_of, arguments = {}, {}, {}
    for label, a, b in links:
        if label == "coref":
            parent[root(a)] = root(b)
        elif label == "cue":
            cue_of.setdefault(a, regions[b])
        elif label == "speaker":
            speaker_of.setdefault(a, b)
        else:
            roles = schema.event_types[regions[a][1]].roles
            arguments.setdefault(a, set()).add((roles.index(label), regions[b][2], b, label))
    members = {}
    for rid in parent:
        members.setdefault(root(rid), []).append(rid)
    canonical = {}
    for group in members.values():
        head = min(group, key=lambda r: (_RANK.get(choices.get(r), 3), -len(regions[r][4]), regions[r][2], r))
        canonical.update(dict.fromkeys(group, head))
    ordered = sorted(regions.items(), key=lambda kv: (kv[1][2], kv[1][3], kv[0]))
    entities = [
        (rid, r[2], r[3], r[4], r[1], choices.get(rid, ""), canonical[rid]) for rid, r in ordered if r[0] == "entity"
    ]
    events = [
        (rid, r[1], choices.get(rid, ""), (r[2], r[3], r[4]), [(x[3], x[2]) for x in sorted(arguments.get(rid, ()))])
        for rid, r in ordered
        if r[0] == "event"
    ]
    quotes = []
    for rid, r in ordered:
        if r[0] == "quote":
            cue, speaker = cue_of.get(rid), speaker_of.get(rid)
            name = regions[canonical[speaker]][4] if speaker else None
            quotes.append((rid, r[2], r[3], r[4], r[1], cue and (cue[2], cue[3], cue[4]), speaker, name))
    return entities, events, quotes


def _tables(docs: list, schema, export_name: str) -> dict[str, pa.Table]:
    arrow = schema.arrow_schemas()
    documents = arrow["documents"]
    flat = {}
    nested = {}
    for position, name in ((6, "entities"), (7, "events"), (8, "quotes")):
        records = list(chain.from_iterable(d[position] for d in docs))
        item = documents.field(name).type.value_type
        columns = _record_columns(name, records, item)
        doc_ids = pa.array([d[0] for d in docs for _ in d[position]], pa.string())
        flat[name] = pa.Table.from_arrays([doc_ids, *columns], schema=arrow[name])
        offsets = pa.array([0, *_cumulative(len(d[position]) for d in docs)], pa.int32())
        items = pa.StructArray.from_arrays(columns, fields=list(item))
        nested[name] = pa.ListArray.from_arrays(offsets, items, type=documents.field(name).type)
    dates = [_date(d[1]) for d in docs]
    columns = {
        "doc_id": pa.array([d[0] for d in docs], pa.string()),
        "published": pa.array([x for x, _ in dates], pa.date32()),
        "published_precision": pa.array([p for _, p in dates], pa.string()),
        "language": pa.array([schema.language] * len(docs), pa.string()),
        "text": pa.array([d[2] for d in docs], pa.string()),
        "text_sha256": pa.array([hashlib.sha256(d[2].encode()).hexdigest() for d in docs], pa.string()),
        "source_file": pa.array([f"seeds/{d[0]}.txt" for d in docs], pa.string()),
        **nested,
        "ls_export": pa.array([export_name] * len(docs), pa.string()),
        "ls_task_id": pa.array([d[3] for d in docs], pa.int64()),
        "ls_annotation_id": pa.array([d[4] for d in docs], pa.int64()),
        "annotator_ids": pa.ListArray.from_arrays(
            pa.array([0, *_cumulative(len(d[5]) for d in docs)], pa.int32()),
            pa.array(list(chain.from_iterable(d[5] for d in docs)), pa.int64()),
            type=documents.field("annotator_ids").type,
        ),
        "guideline_version": pa.array([schema.guideline_version] * len(docs), pa.string()),
    }
    flat["documents"] = pa.Table.from_arrays([columns[f.name] for f in documents], schema=documents)
    return flat


def _record_columns(name: str, records: list, item: pa.StructType) -> list[pa.Array]:
    fields = list(item)
    if name == "entities":
        return [pa.array(list(values), f.type) for values, f in zip(_transpose(records, 7), fields, strict=True)]
    if name == "events":
        ids, types, realis, triggers, arguments = _transpose(records, 5)
        span = fields[3].type
        trigger = pa.StructArray.from_arrays(
            [pa.array(list(v), f.type) for v, f in zip(_transpose(triggers, 3), span, strict=True)], fields=list(span)
        )
        argument_type = fields[4].type
        pairs = list(chain.from_iterable(arguments))
        argument_items = pa.StructArray.from_arrays(
            [pa.array(list(v), pa.string()) for v in _transpose(pairs, 2)], fields=list(argument_type.value_type)
        )
        offsets = pa.array([0, *_cumulative(len(a) for a in arguments)], pa.int32())
        return [
            pa.array(list(ids), pa.string()),
            pa.array(list(types), pa.string()),
            pa.array(list(realis), pa.string()),
            trigger,
            pa.ListArray.from_arrays(offsets, argument_items, type=argument_type),
        ]
    ids, starts, ends, texts, kinds, cues, speaker_ids, speakers = _transpose(records, 8)
    span = fields[5].type
    cue_values = [c or (0, 0, "") for c in cues]
    cue = pa.StructArray.from_arrays(
        [pa.array(list(v), f.type) for v, f in zip(_transpose(cue_values, 3), span, strict=True)],
        fields=list(span),
        mask=pa.array([c is None for c in cues], pa.bool_()),
    )
    head = [pa.array(list(v), f.type) for v, f in zip((ids, starts, ends, texts, kinds), fields[:5], strict=True)]
    return [*head, cue, pa.array(list(speaker_ids), pa.string()), pa.array(list(speakers), pa.string())]


def _transpose(rows: list, width: int) -> list:
    return list(zip(*rows, strict=True)) if rows else [()] * width


def _cumulative(counts) -> list[int]:
    out, total = [], 0
    for count in counts:
        total += count
        out.append(total)
    return out


def _date(value: str) -> tuple[dt.date, str]:
    parts = [int(x) for x in value.split("-")]
    precision = ("year", "month", "day")[len(parts) - 1]
    return dt.date(parts[0], *[*parts[1:], 1, 1][:2]), precision
