"""How Logs Insights values look in SQL: number text, timestamp text, natural sort order;
and how a result's numbers print (``print_form``).

Shared by the compiler core (``rumq.insights.compiler``) and the function table
(``rumq.insights.functions``). Each SQL function takes a SQL expression and returns
a SQL expression; none sees user text (values arrive as bound parameters).
"""

from __future__ import annotations

from typing import Any

#: A decimal number as text (what Logs Insights compares as a number).
NUM_RE = r"^-?[0-9]+(\.[0-9]+)?$"

#: How Logs Insights prints a timestamp (DuckDB strftime; %g is milliseconds).
TS_FORMAT = "%Y-%m-%d %H:%M:%S.%g"


def num_text(x: str) -> str:
    """A number as Logs Insights prints it: integers without a trailing .0."""
    return (
        f"(CASE WHEN {x} = trunc({x}) AND abs({x}) < 1e15 "
        f"THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) ELSE CAST({x} AS VARCHAR) END)"
    )


def natural_key(x: str) -> str:
    """A list key that orders strings the way Logs Insights' natural sort does.

    Digit runs become '0' + their length (6 digits) + the digits, so two runs
    compare by length then value, and a run still compares with a non-digit
    chunk as its first digit would (every digit is in '0'..'9').
    """
    return (
        f"list_transform(regexp_extract_all({x}, '[0-9]+|[^0-9]+'), lambda c: "
        f"CASE WHEN c[1] BETWEEN '0' AND '9' THEN '0' || lpad(CAST(length(c) AS VARCHAR), 6, '0') || c ELSE c END)"
    )


def natural_struct(x: str) -> str:
    """Sort key of the natural sort: non-numbers first, numbers by value, then text."""
    isnum = f"regexp_full_match({x}, '{NUM_RE[1:-1]}')"
    return (
        f"(CASE WHEN {x} IS NOT NULL THEN struct_pack(n := {isnum}, v := "
        f"CASE WHEN {isnum} THEN TRY_CAST({x} AS DOUBLE) END, k := {natural_key(x)}, s := {x}) END)"
    )


#: Whole numbers below this magnitude print as integers (as ``num_text``); larger ones keep
#: the float form (``1e+15``), where a double no longer holds every integer near them.
WHOLE_LIMIT = 1e15


def print_form(result: Any) -> Any:
    """A query's result for the text formats: whole numbers written without ``.0``.

    Logs Insights prints integers as integers (``404``, ``8``, ``4263``). A DOUBLE column
    holds ``404.0``, and a sum of integers comes from DuckDB as a DECIMAL: each whole
    value of a float or decimal column becomes a Python int, the others stay floats, so
    table, CSV, TSV, JSON and JSON lines print the same text. Parquet keeps the types
    (it never goes through here).

    Args:
        result: ``rumq.render.Rows``, or a Polars DataFrame (the Spark engine's result,
            or DuckDB's when a column has no ``Rows`` kind).

    Returns:
        ``Rows`` with the converted values; a Polars DataFrame with a column type that
        ``Rows`` cannot hold comes back unchanged.
    """
    from rumq.render import Rows

    if isinstance(result, Rows):
        columns, kinds, rows = result.columns, list(result.kinds), result.rows
    else:
        kinds = [_polars_kind(t) for t in result.schema.values()]
        if None in kinds:
            return result
        columns, rows = list(result.columns), result.rows()
    numeric = [i for i, k in enumerate(kinds) if k in ("float", "decimal")]
    if numeric:
        rows = [_whole(r, numeric) for r in rows]
    return Rows(columns, ["float" if k == "decimal" else k for k in kinds], rows)  # type: ignore[misc]


def _whole(row: tuple, numeric: list[int]) -> tuple:
    out = list(row)
    for i in numeric:
        v = out[i]
        if v is None:
            continue
        if not isinstance(v, float):  # a Decimal
            v = int(v) if v == v.to_integral_value() and abs(v) < WHOLE_LIMIT else float(v)
        elif v.is_integer() and abs(v) < WHOLE_LIMIT:
            v = int(v)
        out[i] = v
    return tuple(out)


def _polars_kind(dtype: Any) -> str | None:
    """The ``Rows`` kind of a Polars column type of an Insights result, or None."""
    import polars as pl

    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if isinstance(dtype, pl.Decimal):
        return "decimal"
    if dtype in (pl.String, pl.Null):
        return "str"
    if dtype == pl.Boolean:
        return "bool"
    return None
