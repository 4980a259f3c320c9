"""How Logs Insights values look in SQL: number text, timestamp text, natural sort order.

Shared by the compiler core (``rumq.insights.compiler``) and the function table
(``rumq.insights.functions``). Each function takes a SQL expression and returns
a SQL expression; none sees user text (values arrive as bound parameters).
"""

from __future__ import annotations

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

