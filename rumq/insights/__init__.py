"""Run CloudWatch Logs Insights queries on a rumq dataset.

The pipeline is ``tokens`` -> ``parser`` (a typed tree, ``ast``) -> ``compiler``
(one DuckDB SELECT over the ``events`` view). ``fields`` maps Logs Insights
field names to the canonical columns of ``rumq.schema`` or JSON extraction;
``functions`` is the function table (each function's arity and SQL);
``values`` says how values print and sort; ``regex`` the shape of a ``parse``
regex's groups (which ones may take no part in a match).

    >>> from rumq import insights
    >>> c = insights.compile('filter event_type = "x" | stats count(*) by bin(1h)')
    >>> c.columns
    ['bin(1h)', 'count(*)']
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rumq.errors import ParameterError, QueryExecutionError, RumqError
from rumq.insights.compiler import Compiled, compile_query
from rumq.insights.parser import parse

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import polars

__all__ = ["Compiled", "compile", "parse", "run", "execute", "substitute_params", "format_literal"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def format_literal(value: Any) -> str:
    """A Python value as a Logs Insights literal (strings quoted and escaped).

    Strings become double-quoted literals with ``\\`` and ``"`` escaped; numbers
    their decimal text; booleans 1/0; lists ``[a, b]`` of those.

    Raises:
        ParameterError: the value has no Logs Insights literal form.
    """
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ParameterError(f"{value!r} cannot be written as a Logs Insights number")
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_literal(v) for v in value) + "]"
    if hasattr(value, "total_seconds"):  # timedelta -> milliseconds
        return str(int(value.total_seconds() * 1000))
    if hasattr(value, "isoformat"):
        return format_literal(value.isoformat())
    raise ParameterError(f"a {type(value).__name__} cannot be a Logs Insights parameter")


def substitute_params(text: str, params: dict[str, Any]) -> str:
    """Replace ``{{name}}`` placeholders with quoted, escaped Logs Insights literals.

    Used for ``.insights`` named queries: a value never becomes raw query text,
    so ``{{page}}`` with ``" | stats ...`` stays one string literal.

    Raises:
        ParameterError: a placeholder has no value.
    """

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in params:
            raise ParameterError(f"the query uses {{{{{name}}}}} but no value was given for {name!r}")
        return format_literal(params[name])

    return _PLACEHOLDER.sub(sub, text)


def compile(  # noqa: A001 - the natural name, as sqlglot's transpile/parse
    text: str,
    *,
    params: dict[str, Any] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Compiled:
    """Compile a Logs Insights query to DuckDB SQL over the view ``events``.

    Args:
        text: the query.
        params: values for ``{{name}}`` placeholders (see ``substitute_params``).
        since: start of the query's time range (naive UTC, inclusive).
        until: end of the time range (naive UTC, exclusive).

    Returns:
        The SQL, its bound parameters and the Logs Insights column names.

    Raises:
        QuerySyntaxError: the query is malformed (line, column and caret excerpt).
        QueryUnsupportedError: the query uses a command or function rumq does not run.
        ParameterError: a placeholder has no value.
    """
    if params is not None or _PLACEHOLDER.search(text):
        text = substitute_params(text, params or {})
    return compile_query(parse(text), since=since, until=until)


def execute(con: duckdb.DuckDBPyConnection, compiled: Compiled) -> polars.DataFrame:
    """Run a compiled query on a connection that has the ``events`` view.

    Raises:
        QueryExecutionError: DuckDB failed; the message talks about the query's
            data, not the generated SQL.
    """
    import duckdb

    try:
        df = con.sql(compiled.sql, params=compiled.parameters).pl()
    except duckdb.Error as e:
        raise translate_error(e, compiled) from None
    return df.rename(dict(zip(df.columns, compiled.columns, strict=True)))


def run(
    con: duckdb.DuckDBPyConnection,
    text: str,
    *,
    params: dict[str, Any] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> polars.DataFrame:
    """Compile and run a Logs Insights query; returns a Polars DataFrame."""
    return execute(con, compile(text, params=params, since=since, until=until))


def translate_error(e: Exception, compiled: Compiled) -> RumqError:
    """A DuckDB failure on generated SQL, in terms of the Logs Insights query."""
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    kind = type(e).__name__
    reason = first.split("Error: ", 1)[-1]
    if "json" in first.lower() and "malformed" in first.lower():
        what = "a message in the dataset is not valid JSON, so a JSON field could not be read"
    elif kind in ("ConversionException", "InvalidInputException", "OutOfRangeException"):
        what = f"a value in the data could not be converted ({reason})"
    elif kind in ("OutOfMemoryException",):
        what = "DuckDB ran out of memory; narrow the time range with --since/--until"
    elif kind == "InterruptException":
        what = "the query was interrupted"
    else:
        # Binder/parser errors here mean rumq generated bad SQL: a bug, not a user mistake.
        what = "rumq could not run it (an internal compiler error; please report the query)"
    return QueryExecutionError(
        f"the Logs Insights query failed: {what}",
        hint="run with --explain to see the generated SQL",
    )
