"""Release tables -> validation views on Spark: the columns of `views`, computed by Spark.

Each view has exactly the columns, types and row order of the pandas engine's view
(views.py, view_specs.py), so that the same suites give the same verdicts, counts and sample
ids. Every computed column is a Spark column expression over joins (a span against its
document's text, references, nested records against flat ones); no row of a release is
collected into Python. Lookups follow the Arrow code's rules to the letter: a key finds
the first row that has it (in file order), and a missing key matches a missing key, as
`pyarrow.compute.index_in` does.

Imported only by the Spark engine: it needs pyspark.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from newscorpus.release.formats import FORMAT_2_DOCUMENT_COLUMNS
from newscorpus.schema import AnnotationSchema
from newscorpus.validation.view_specs import LAYERS, ROLE_SEPARATOR, view_specs

ROW = "__row"  # a row's place in its file: views come out in the pandas engine's order
_KEY_SEPARATOR = "\x1f"
_SCALARS = {
    pa.int32(): T.IntegerType(),
    pa.int64(): T.LongType(),
    pa.string(): T.StringType(),
    pa.date32(): T.DateType(),
    pa.bool_(): T.BooleanType(),
}


def spark_type(type_: pa.DataType) -> T.DataType:
    """The Spark type Spark reads a Parquet column of this Arrow type as."""
    if pa.types.is_struct(type_):
        return T.StructType([T.StructField(f.name, spark_type(f.type)) for f in type_])
    if pa.types.is_list(type_):
        return T.ArrayType(spark_type(type_.value_type))
    return _SCALARS[type_]


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _lookup(frame: DataFrame, path: str) -> tuple[Column, T.DataType] | None:
    """A column by dotted path, with its type, or None where the path does not exist (names exactly as written)."""
    fields, column, type_ = frame.schema, None, None
    for part in path.split("."):
        if not isinstance(fields, T.StructType) or part not in fields.names:
            return None
        type_ = fields[part].dataType
        column = F.col(_quoted(part)) if column is None else column.getField(part)
        fields = type_
    return column, type_


def _get(frame: DataFrame, path: str, type_: T.DataType) -> Column:
    """A column the checks read, cast to the type the schema promises; missing or uncastable reads as nulls."""
    found = _lookup(frame, path)
    if found is None:
        return F.lit(None).cast(type_)
    column, actual = found
    if actual.simpleString() == type_.simpleString():
        return column
    if isinstance(actual, T.AtomicType) and isinstance(type_, T.AtomicType):
        return column.try_cast(type_)
    return F.lit(None).cast(type_)


def mirror_columns(frame: DataFrame) -> dict[str, Column]:
    """The table's actual columns under the mirror rule of view_specs: structs flattened, lists as lengths."""
    return {
        name: column
        for field in frame.schema
        if field.name != ROW
        for name, column in _mirror(field, F.col(_quoted(field.name)))
    }


def _mirror(field: T.StructField, column: Column, prefix: str = ""):
    name, type_ = prefix + field.name, field.dataType
    if isinstance(type_, T.StructType):
        for child in type_:
            yield from _mirror(child, column.getField(child.name), f"{name}_")
    elif isinstance(type_, T.ArrayType):
        yield f"{name}_count", F.when(column.isNull(), None).otherwise(F.size(column)).cast("int")
    else:
        yield name, column


def _helper(prefix: str, field: str) -> str:
    return "__span_" + prefix.replace(".", "_") + field


def _key(doc_id: Column, other: Column) -> Column:
    return F.concat(doc_id, F.lit(_KEY_SEPARATOR), other)  # null if either is null, as in the Arrow views


class SparkViewBuilder:
    """Builds each suite's view as a Spark DataFrame from the four release configs as Spark read them."""

    def __init__(self, schema: AnnotationSchema, tables: dict[str, DataFrame]):
        self.arrow = schema.arrow_schemas()
        self.specs = view_specs(schema)
        self.tables = {name: frame.withColumn(ROW, F.monotonically_increasing_id()) for name, frame in tables.items()}

    def build(self, name: str) -> DataFrame:
        """The view: the table's actual columns (a wrong table shows as wrong columns), then the computed ones."""
        view, order, own = getattr(self, f"_{name}")()
        computed = [f.name for f in self.specs[name].computed]
        return view.orderBy(*order).select(*(_quoted(c) for c in [*own, *computed]))

    # -- columns as the schema promises them -------------------------------------------
    def _typed(self, table: str, path: str, frame: DataFrame | None = None) -> Column:
        frame = self.tables[table] if frame is None else frame
        arrow_type = self.arrow[table]
        for part in path.split("."):
            arrow_type = arrow_type.field(part).type
        return _get(frame, path, spark_type(arrow_type))

    def _str(self, table: str, path: str) -> Column:
        return _get(self.tables[table], path, T.StringType())

    # -- lookups: the first row (in file order) that has a key ---------------------------
    def _first(self, key: Column, values: dict[str, Column], frame: DataFrame, prefix: str) -> DataFrame:
        """One row per key of `frame`: `<prefix>key`, `<prefix>found` and the values of the key's first row."""
        first = F.min_by(F.struct(*(v.alias(n) for n, v in values.items())), F.col(ROW))
        grouped = frame.groupBy(key.alias(f"{prefix}key")).agg(first.alias("first"))
        return grouped.select(
            f"{prefix}key",
            F.lit(True).alias(f"{prefix}found"),
            *(F.col(f"first.{n}").alias(prefix + n) for n in values),
        )

    def _documents_first(self, prefix: str) -> DataFrame:
        docs = self.tables["documents"]
        return self._first(self._str("documents", "doc_id"), {"text": self._str("documents", "text")}, docs, prefix)

    def _entities_first(self, prefix: str) -> DataFrame:
        entities = self.tables["entities"]
        key = _key(self._str("entities", "doc_id"), self._str("entities", "id"))
        values = {name: self._str("entities", name) for name in ("id", "cluster_id", "text")}
        return self._first(key, values, entities, prefix)

    def _join(self, frame: DataFrame, lookup: DataFrame, key: Column, prefix: str) -> DataFrame:
        # Sort-merge, which spills: Spark's size estimate of an aggregate over texts can be far too
        # small, and a broadcast of 100,000 documents' texts does not fit a default driver.
        return frame.join(lookup.hint("merge"), key.eqNullSafe(F.col(f"{prefix}key")), "left")

    @staticmethod
    def _span(start: Column, end: Column, text: Column, doc_text: Column) -> tuple[Column, Column]:
        """(document text length, span text == text[start:end] where the span lies within the text, else null)."""
        length = F.length(doc_text).cast("int")
        within = F.coalesce((start >= 0) & (start < end) & (end <= length), F.lit(False))
        matches = F.coalesce(F.substring(doc_text, start + 1, end - start) == text, F.lit(False))
        return length, F.when(within, matches)

    def _with_spans(
        self, table: str, spans: dict[str, str], extra: tuple[str, ...] = ()
    ) -> tuple[DataFrame, dict[str, Column], list[str]]:
        """The table's own columns, helpers `__<name>` for `extra` columns, and per span prefix whether its
        text matches, with doc_in_documents and doc_text_length; and the own columns' names."""
        frame = self.tables[table]
        own = mirror_columns(frame)
        helpers = [self._str(table, "doc_id").alias("__doc_id"), F.col(ROW)]
        helpers += [self._str(table, name).alias(f"__{name}") for name in extra]
        for prefix in spans:
            helpers += [self._typed(table, f"{prefix}{f}").alias(_helper(prefix, f)) for f in ("start", "end", "text")]
        mirrored = [column.alias(name) for name, column in own.items()]
        joined = self._join(frame.select(*mirrored, *helpers), self._documents_first("__d_"), F.col("__doc_id"), "__d_")
        computed = {"doc_in_documents": F.coalesce(F.col("__d_found"), F.lit(False))}
        for prefix, column in spans.items():
            start, end, text = (F.col(_helper(prefix, f)) for f in ("start", "end", "text"))
            length, matches = self._span(start, end, text, F.col("__d_text"))
            computed["doc_text_length"] = length
            computed[column] = matches
        return joined, computed, list(own)

    def _referenced(self, frame: DataFrame, doc_id: Column, entity_id: Column, prefix: str) -> DataFrame:
        """frame joined with the first mention of (doc_id, entity_id): `<prefix>found`, `<prefix>id`, ... ."""
        return self._join(frame, self._entities_first(prefix), _key(doc_id, entity_id), prefix)

    @staticmethod
    def _reference(entity_id: Column, found: Column) -> Column:
        """Does the id name a mention of the same document? Null where no id is given."""
        return F.when(entity_id.isNotNull(), F.coalesce(found, F.lit(False)))

    # -- one method per suite: (view with helper columns, row order, the table's own columns) ---
    def _documents(self) -> tuple[DataFrame, list, list]:
        docs = self.tables["documents"]
        # Format 2's own documents columns: the `derived` suite checks them (views.py drops them alike).
        mirrored = mirror_columns(docs).items()
        own = {k: v for k, v in mirrored if k.removesuffix("_count") not in FORMAT_2_DOCUMENT_COLUMNS}
        text, sha = self._str("documents", "text"), self._str("documents", "text_sha256")
        published = self._typed("documents", "published")
        precision = self._str("documents", "published_precision")
        first_of_month = F.dayofmonth(published) == 1
        first_of_year = first_of_month & (F.month(published) == 1)
        by_precision = (
            F.when(precision == "day", F.lit(True))
            .when(precision == "month", first_of_month)
            .when(precision == "year", first_of_year)
        )
        frame = docs.select(
            *(column.alias(name) for name, column in own.items()),
            F.when(text.isNotNull(), F.coalesce(F.sha2(text, 256) == sha, F.lit(False))).alias(
                "text_sha256_matches_text"
            ),
            by_precision.alias("published_matches_precision"),
            self._str("documents", "doc_id").alias("__doc_id"),
            *(self._typed("documents", layer).alias(f"__{layer}") for layer in LAYERS),
            F.col(ROW),
        )
        return self._against_flat(frame), [ROW], list(own)

    def _entities(self) -> tuple[DataFrame, list, list]:
        frame, computed, own = self._with_spans("entities", {"": "span_matches_text"}, ("cluster_id",))
        cluster_id = F.col("__cluster_id")
        frame = self._referenced(frame, F.col("__doc_id"), cluster_id, "__h_")
        computed["cluster_id_in_document"] = self._reference(cluster_id, F.col("__h_found"))
        computed["cluster_id_is_chain_head"] = F.col("__h_cluster_id") == cluster_id
        return frame.select("*", *(c.alias(n) for n, c in computed.items())), [ROW], own

    def _events(self) -> tuple[DataFrame, list, list]:
        frame, computed, own = self._with_spans("events", {"trigger.": "trigger_matches_text"})
        return frame.select("*", *(c.alias(n) for n, c in computed.items())), [ROW], own

    def _event_arguments(self) -> tuple[DataFrame, list, list]:
        events = self.tables["events"]
        exploded = events.select(
            self._str("events", "doc_id").alias("doc_id"),
            self._str("events", "id").alias("event_id"),
            self._str("events", "type").alias("event_type"),
            F.col(ROW),
            F.posexplode(self._typed("events", "arguments")).alias("__position", "__argument"),
        ).select(
            "doc_id",
            "event_id",
            "event_type",
            F.col("__argument.role").alias("role"),
            F.col("__argument.entity_id").alias("entity_id"),
            ROW,
            "__position",
        )
        # "type:role", as the Arrow view writes it: an in-set expectation then checks the schema's pairs.
        pair = F.concat(F.col("event_type"), F.lit(ROLE_SEPARATOR), F.col("role"))
        frame = self._referenced(exploded, F.col("doc_id"), F.col("entity_id"), "__m_")
        return (
            frame.select(
                "*",
                pair.alias("event_type_role"),
                self._reference(F.col("entity_id"), F.col("__m_found")).alias("entity_id_in_document"),
            ),
            [ROW, "__position"],
            [f.name for f in self.specs["event_arguments"].table_fields],
        )

    def _quotes(self) -> tuple[DataFrame, list, list]:
        spans = {"": "span_matches_text", "cue.": "cue_matches_text"}
        frame, computed, own = self._with_spans("quotes", spans, ("speaker_id", "speaker"))
        speaker_id, speaker = F.col("__speaker_id"), F.col("__speaker")
        # The speaker is the name of the speaker mention's chain: the text of its cluster head.
        # Where the mention or a sound head is missing, entities' own checks report it: null here.
        frame = self._referenced(frame, F.col("__doc_id"), speaker_id, "__m_")
        frame = self._referenced(frame, F.col("__doc_id"), F.col("__m_cluster_id"), "__h_")
        sound = F.coalesce(F.col("__h_cluster_id") == F.col("__h_id"), F.lit(False))
        names_chain = F.when(sound, F.coalesce(speaker == F.col("__h_text"), F.lit(False)))
        computed["speaker_id_in_document"] = self._reference(speaker_id, F.col("__m_found"))
        computed["speaker_names_chain"] = F.when(speaker_id.isNull(), speaker.isNull()).otherwise(names_chain)
        return frame.select("*", *(c.alias(n) for n, c in computed.items())), [ROW], own

    # -- nested records against flat rows -----------------------------------------------
    def _against_flat(self, frame: DataFrame) -> DataFrame:
        """Per layer, `<layer>_in_flat` (the layer's flat rows of the document) and `<layer>_match_flat`
        (its nested records equal those rows), as the Arrow view computes them.

        The comparison runs for documents whose counts agree (else null). The Arrow view compares
        the nested records of those documents with the flat rows of their doc_ids, and gives up
        (null throughout) when the two totals differ: exactly when a repeated doc_id with flat rows
        agrees more than once. The uniqueness expectation reports such ids.
        """
        for layer in LAYERS:
            frame = self._with_flat(frame, layer)
        repeated = frame.groupBy("__doc_id").agg(
            *(F.sum(F.col(f"__{layer}_risk").cast("int")).alias(layer) for layer in LAYERS)
        )
        repeated = repeated.agg(
            *(F.coalesce(F.max(F.col(layer)) >= 2, F.lit(False)).alias(f"__{layer}_repeated") for layer in LAYERS)
        )
        frame = frame.crossJoin(F.broadcast(repeated))
        computed = {}
        for layer in LAYERS:
            computed[f"{layer}_in_flat"] = F.col(f"__{layer}_in_flat")
            agree = ~F.col(f"__{layer}_repeated") & F.col(f"__{layer}_same_count")
            computed[f"{layer}_match_flat"] = F.when(agree, F.col(f"__{layer}_equal"))
        return frame.select("*", *(c.alias(n) for n, c in computed.items()))

    def _with_flat(self, frame: DataFrame, layer: str) -> DataFrame:
        """The flat rows of each document: how many, whether that is the nested count, whether they are
        the nested records (as multisets), and whether they make a repeated doc_id count twice."""
        flat = self.tables[layer]
        fields = list(self.arrow["documents"].field(layer).type.value_type)
        record = F.struct(*(self._typed(layer, f.name, flat).alias(f.name) for f in fields))
        per_doc = flat.groupBy(self._str(layer, "doc_id").alias("__f_key")).agg(
            F.count(F.lit(1)).cast("int").alias("__f_rows"),
            F.array_sort(F.collect_list(record)).alias("__f_records"),
        )
        frame = frame.join(per_doc.hint("merge"), F.col("__doc_id").eqNullSafe(F.col("__f_key")), "left")
        nested = F.col(f"__{layer}")
        in_flat = F.coalesce(F.col("__f_rows"), F.lit(0))
        same_count = F.coalesce(F.size(nested) == in_flat, F.lit(False))
        return frame.select(
            *(c for c in frame.columns if c not in ("__f_key", "__f_rows", "__f_records")),
            in_flat.alias(f"__{layer}_in_flat"),
            same_count.alias(f"__{layer}_same_count"),
            # No flat rows where none are nested: equal.
            F.coalesce(F.array_sort(nested) == F.col("__f_records"), F.lit(True)).alias(f"__{layer}_equal"),
            (same_count & (in_flat > 0)).alias(f"__{layer}_risk"),
        )
