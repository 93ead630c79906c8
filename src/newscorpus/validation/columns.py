"""Reading a release table's columns for the checks: one array, of the type the schema promises.

A leaf module: the views (views.py), the derived suites (derived_checks.py) and the tokens view
(token_checks.py) all read columns this way, and none of them may import another for it.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def single_array(column) -> pa.Array:
    """A column as one array (a chunked column's chunks combined; one chunk is taken as is)."""
    if not isinstance(column, pa.ChunkedArray):
        return column
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def read_column(table: pa.Table | pa.StructArray, path: str, type_: pa.DataType) -> pa.Array:
    """A column the checks read, by dotted path (`parent.field`), cast to the type the schema promises.

    A missing or uncastable column reads as nulls: the checks that need it then do not
    apply, and the suite's column and type expectations report what is wrong.
    """
    length = len(table) if isinstance(table, pa.StructArray) else table.num_rows
    head, _, rest = path.partition(".")
    try:
        column = pc.struct_field(table, head) if isinstance(table, pa.StructArray) else single_array(table.column(head))
        if rest:
            return read_column(column, rest, type_)
        return column if column.type == type_ else column.cast(type_)
    except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pa.nulls(length, type_)
