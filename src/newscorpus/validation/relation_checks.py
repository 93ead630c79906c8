"""The `chains` and `argument_rows` suites' views, computed by Arrow joins (no Python object per row).

The rules are those of `derived_checks` (one view row per row of the config):

- chains: `head_matches`: the entities config has a mention whose id is the chain's cluster_id,
  in the same document, with that cluster_id, the chain's type and its canonical name as text;
  `mentions_match`: the chain's mentions (id, start, end, text, mention_type) are, as a
  multiset, exactly the entities of its document with its cluster_id.
- argument rows: `event_matches`: the document has an event of that id and type whose arguments
  hold (role, entity_id); `entity_matches`: the mention entity_id of the document has that
  text, start, end and cluster_id, and the mention its cluster_id names has the canonical name
  as text.

A mention or event is found by (doc_id, id); where a release repeats one (which the entities and
events suites fail), the first row counts. A null never matches: a row with a null where a
comparison needs a value is False (the column checks report the null itself).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newscorpus.validation.columns import read_column

_ROW = "__row"
_MENTION = ("id", "start", "end", "text", "mention_type")


def chains_view(
    chains: pa.Table, entities: pa.Table, documents: pa.Table, fields: tuple[pa.Field, ...], arrow: dict[str, pa.Schema]
) -> pa.Table:
    """The view's columns (`fields`, in order) for one chunk's chains, entities and documents tables."""
    own = _own(chains, arrow["chains"])
    rows = len(chains)
    mentions = own["mentions"]
    found = _entities(entities, arrow["entities"])
    heads = _lookup(own, ("doc_id", "cluster_id"), found, ("doc_id", "id"), ("cluster_id", "type", "text"))
    head_matches = _all_equal(
        heads["__found"],
        (heads["cluster_id"], own["cluster_id"]),
        (heads["type"], own["type"]),
        (heads["text"], own["canonical_name"]),
    )
    # Multisets: as many mentions as entities with the cluster_id, and every distinct mention as often.
    members = found.group_by(["doc_id", "cluster_id"], use_threads=False).aggregate([([], "count_all")])
    sizes = _lookup(own, ("doc_id", "cluster_id"), members, ("doc_id", "cluster_id"), ("count_all",))
    counted = pc.list_value_length(mentions)  # null for a null list: no match
    same_size = pc.equal(counted, pc.fill_null(sizes["count_all"], 0).cast(pa.int32()))
    parents = pc.list_parent_indices(mentions)
    flat = pc.list_flatten(mentions)
    listed = pa.table(
        {
            _ROW: parents,
            "doc_id": pc.take(own["doc_id"], parents),
            "cluster_id": pc.take(own["cluster_id"], parents),
            **{name: pc.struct_field(flat, name) for name in _MENTION},
        }
    )
    keys = ["doc_id", "cluster_id", *_MENTION]
    listed = listed.group_by([_ROW, *keys], use_threads=False).aggregate([([], "count_all")])
    held = found.group_by(keys, use_threads=False).aggregate([([], "count_all")]).rename_columns([*keys, "held"])
    joined = listed.join(held, keys, join_type="left outer", use_threads=False)
    wrong = pc.invert(pc.fill_null(pc.equal(joined["count_all"], joined["held"]), False))
    bad = np.zeros(rows, bool)
    bad[pc.filter(joined[_ROW], wrong).to_numpy(zero_copy_only=False).astype(np.int64)] = True
    mentions_match = pc.and_(pc.fill_null(same_size, False), pa.array(~bad))
    computed = {
        "doc_in_documents": _in_documents(own["doc_id"], documents),
        "head_matches": head_matches,
        "mentions_match": mentions_match,
    }
    return _view(own, computed, fields)


def argument_rows_view(
    arguments: pa.Table,
    entities: pa.Table,
    events: pa.Table,
    documents: pa.Table,
    fields: tuple[pa.Field, ...],
    arrow: dict[str, pa.Schema],
) -> pa.Table:
    """The view's columns (`fields`, in order) for one chunk's event_arguments, entities, events and documents."""
    own = _own(arguments, arrow["event_arguments"])
    found = _entities(entities, arrow["entities"])
    event_columns = {name: read_column(events, name, arrow["events"].field(name).type) for name in ("doc_id", "id")}
    event_columns["type"] = read_column(events, "type", pa.string())
    event_arguments = read_column(events, "arguments", arrow["events"].field("arguments").type)
    event_table = _first(pa.table({**event_columns, _ROW: pa.array(np.arange(len(events)))}), ("doc_id", "id"))
    event = _lookup(own, ("doc_id", "event_id"), event_table, ("doc_id", "id"), ("type", _ROW))
    parents = pc.list_parent_indices(event_arguments)
    flat = pc.list_flatten(event_arguments)
    pairs = pa.table(
        {
            "event_row": pc.take(pa.array(np.arange(len(events))), parents),
            "role": pc.struct_field(flat, "role"),
            "entity_id": pc.struct_field(flat, "entity_id"),
        }
    )
    keys = ("event_row", "role", "entity_id")
    pairs = pairs.group_by(list(keys), use_threads=False).aggregate([])  # each event's distinct arguments
    own_pairs = {"event_row": event[_ROW], "role": own["role"], "entity_id": own["entity_id"]}
    held = _lookup(own_pairs, keys, pairs, keys, ())
    event_matches = _all_equal(pc.and_(event["__found"], held["__found"]), (event["type"], own["event_type"]))
    mention = _lookup(own, ("doc_id", "entity_id"), found, ("doc_id", "id"), ("text", "start", "end", "cluster_id"))
    head_key = pa.table({"doc_id": own["doc_id"], "cluster_id": mention["cluster_id"]})
    head = _lookup(head_key, ("doc_id", "cluster_id"), found, ("doc_id", "id"), ("text",))
    entity_matches = _all_equal(
        pc.and_(mention["__found"], head["__found"]),
        (mention["text"], own["entity_text"]),
        (mention["start"], own["entity_start"]),
        (mention["end"], own["entity_end"]),
        (mention["cluster_id"], own["cluster_id"]),
        (head["text"], own["canonical_name"]),
    )
    computed = {
        "doc_in_documents": _in_documents(own["doc_id"], documents),
        "event_matches": event_matches,
        "entity_matches": entity_matches,
    }
    return _view(own, computed, fields)


# -- helpers ---------------------------------------------------------------------------


def _own(table: pa.Table, arrow: pa.Schema) -> dict[str, pa.Array]:
    """The config's columns, as its schema types them (nulls where missing or uncastable)."""
    return {field.name: read_column(table, field.name, field.type) for field in arrow}


def _entities(entities: pa.Table, arrow: pa.Schema) -> pa.Table:
    """The entities config's columns the checks compare, the first row of each (doc_id, id)."""
    names = ("doc_id", "id", "cluster_id", "type", "text", "start", "end", "mention_type")
    return first_rows(entities, arrow, names, ("doc_id", "id"))


def first_rows(table: pa.Table, arrow: pa.Schema, names: tuple[str, ...], keys: tuple[str, ...]) -> pa.Table:
    """Columns `names` of the table (typed by `arrow`), the first row of each key, in table order."""
    return _first(pa.table({name: read_column(table, name, arrow.field(name).type) for name in names}), keys)


def _first(table: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    """The table's first row of each key."""
    numbered = table.append_column(_ROW + "first", pa.array(np.arange(len(table))))
    firsts = numbered.group_by(list(keys), use_threads=False).aggregate([(_ROW + "first", "min")])
    rows = pc.sort_indices(firsts[_ROW + "first_min"])
    return table.take(pc.take(firsts[_ROW + "first_min"], rows))


def _lookup(
    left: dict[str, pa.Array] | pa.Table,
    left_keys: tuple[str, ...],
    right: pa.Table,
    right_keys: tuple[str, ...],
    wanted: tuple[str, ...],
) -> dict[str, pa.Array]:
    """For each left row, the `wanted` columns of the right row with the same keys (unique on the right),
    nulls where none; `__found` says which rows found one."""
    rows = len(left[left_keys[0]])
    keys = pa.table({**{f"k{i}": left[k] for i, k in enumerate(left_keys)}, _ROW: pa.array(np.arange(rows))})
    side = pa.table(
        {
            **{f"k{i}": right[k] for i, k in enumerate(right_keys)},
            **{f"w_{name}": right[name] for name in wanted},
            "__found": pa.array(np.ones(len(right), bool)),
        }
    )
    joined = keys.join(side, [f"k{i}" for i in range(len(left_keys))], join_type="left outer", use_threads=False)
    order = pc.sort_indices(joined[_ROW])
    joined = joined.take(order)
    out = {name: joined[f"w_{name}"].combine_chunks() for name in wanted}
    out["__found"] = pc.fill_null(joined["__found"], False).combine_chunks()
    return out


def _all_equal(found: pa.Array, *pairs: tuple[pa.Array, pa.Array]) -> pa.Array:
    """found, and each pair equal (a null equals nothing)."""
    result = pc.fill_null(found, False)
    for a, b in pairs:
        result = pc.and_(result, pc.fill_null(pc.equal(a, b), False))
    return result


def _in_documents(doc_id: pa.Array, documents: pa.Table) -> pa.Array:
    return pc.is_in(doc_id, value_set=read_column(documents, "doc_id", pa.string()))


def _view(own: dict[str, pa.Array], computed: dict[str, pa.Array], fields: tuple[pa.Field, ...]) -> pa.Table:
    columns = {}
    for field in fields:
        if field.name in computed:
            columns[field.name] = computed[field.name]
        elif field.name in own:
            columns[field.name] = own[field.name]
        else:  # a list's length (`<name>_count`)
            columns[field.name] = pc.list_value_length(own[field.name.removesuffix("_count")]).cast(pa.int32())
    return pa.table({field.name: columns[field.name] for field in fields})
