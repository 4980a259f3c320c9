"""Run Polars queries: ``.py`` query files and the Polars twins of the built-ins.

A Polars query file has the header of every query file (``#`` comment
lines, docs/queries.md) and a top-level function::

    def query(views, params):
        return views.sessions.filter(...).group_by(...).agg(...)

``views`` is ``rumq.engines.polars_views.Views`` for the window and
application (``views.sessions``, ``views["page_views"]``,
``views.audience(dim)``), ``params`` the dict of the declared parameters,
validated and parsed exactly as for SQL (``rumq.params.resolve``). It
returns a LazyFrame (a DataFrame is accepted too).

The file is executed when the query runs, never when a library is listed
(listing only parses it). An exception raised by the user's code, or by
Polars while computing the frame the function returned, becomes a
``PolarsQueryError`` naming the query, the file and the line, with the
exception's own message, not a traceback through rumq.

Importing this module does not import Polars.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rumq.errors import PolarsQueryError, RumqError
from rumq.library import Query

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from rumq.engines.polars_views import Views

QueryFunction = Callable[[Any, dict[str, Any]], Any]


def _line_in(exc: BaseException, path: str) -> int | None:
    """The line of the innermost frame of ``exc``'s traceback that runs ``path``."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path:
            line = frame.lineno
    return line


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _def_line(query: Query) -> int | None:
    import ast

    tree = ast.parse(query.text)
    return next((n.lineno for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "query"), None)


def load(query: Query) -> QueryFunction:
    """Execute a Polars query file in a fresh namespace and return its ``query`` function.

    Raises:
        PolarsQueryError: the file's top-level code raised (file and line).
    """
    namespace: dict[str, Any] = {"__name__": f"rumq_query_{query.name.replace('/', '_')}", "__file__": query.path}
    try:
        code = compile(query.text, query.path, "exec")
        exec(code, namespace)  # noqa: S102 - the user's own query file, run as a notebook cell would be
    except RumqError:
        raise
    except Exception as e:  # the user's code: say where, not how rumq got there
        raise _failure(query, e, "while loading the file") from None
    fn = namespace.get("query")
    if not callable(fn):
        raise PolarsQueryError(f"query '{query.name}' ({query.path}): no function 'query(views, params)'",
                               path=query.path)
    return fn


def _failure(query: Query, e: BaseException, when: str, line: int | None = None) -> PolarsQueryError:
    line = _line_in(e, query.path) or line
    where = f"{query.path}:{line}" if line else query.path
    return PolarsQueryError(
        f"query '{query.name}' failed {when} ({where}): {_first_line(e)}",
        path=query.path, line=line,
        hint="fix the query file; try its body in a notebook with ds.views(...) (docs/queries.md, Polars queries)",
    )


def run(
    query: Query,
    views: Views,
    params: Mapping[str, Any],
    *,
    function: QueryFunction | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Run a Polars query over ``views`` with the resolved ``params``; return the collected frame.

    Args:
        query: the parsed query (its header; its file unless ``function`` is given).
        views: the window's views.
        params: the resolved parameter values.
        function: the function to run instead of the file's ``query`` (the built-in twins).
        limit: at most this many rows.

    Raises:
        PolarsQueryError: the function or Polars failed (file and line), or it
            did not return a frame.
    """
    import polars as pl

    fn = function if function is not None else load(query)
    try:
        out = fn(views, dict(params))
    except RumqError:
        raise
    except Exception as e:
        raise _failure(query, e, "in its function") from None
    if isinstance(out, pl.DataFrame):
        out = out.lazy()
    if not isinstance(out, pl.LazyFrame):
        raise PolarsQueryError(
            f"query '{query.name}' ({query.path}): 'query' returned {type(out).__name__}, not a polars LazyFrame",
            path=query.path, hint="return the LazyFrame (or DataFrame) of the result")
    if limit is not None:
        out = out.head(limit)
    try:
        return out.collect()
    except Exception as e:  # Polars computing the returned plan: no user frame to point at
        line = _def_line(query) if function is None else None
        raise _failure(query, e, "while Polars computed its result", line) from None
