"""Which engines each query of the library runs on, and the construct that keeps it off the others.

DuckDB runs every query (its SQL is the source). For Spark and Athena/Trino
the query is rendered exactly as ``--engine spark`` and ``--engine athena
--print-sql`` would render it (``rumq.engines.portable``, ``rumq.engines.trino``):
with each choice of each identifier parameter (``{{dimension}}`` and the
like: each choice is another SQL text), the declared defaults for the other
parameters and a typed sample value for a required one (values are bound,
so they do not change what renders). A query that does not render names the
construct, as ``NotPortableError`` does when it runs.

The check needs sqlglot (about a second to import on a loaded machine), so it
runs when the engines are asked for (``rumq queries``, ``rumq queries show``,
``rumq run --engine ...``), not on every load of the library: a plain
``rumq run`` on DuckDB never pays for it. User query files are checked the
same way and keep running on DuckDB whatever the answer.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from rumq.library import Query

#: The engines reported, in the order shown.
REPORTED = ("duckdb", "spark", "trino")

#: A sample value per parameter type, for a required parameter (bound, so any value renders alike).
_SAMPLES: dict[str, Any] = {"list": ["/"], "str": "x", "int": 1, "float": 1.0, "bool": False}

#: Manifest totals for data/quality's ingest_totals view (a literal row in the Trino statement).
_NO_TOTALS = {"ingests": 0, "read": 0, "written": 0, "duplicates": 0, "rejected": 0}


def _value_sets(query: Query) -> list[dict[str, Any]]:
    """Parameter values to render with: the defaults, then each other choice of each identifier parameter.

    One parameter at a time (not every combination): each choice is a fragment
    of its own, and fragments do not interact in the library's queries.
    """
    from rumq.params import resolve

    base: dict[str, Any] = {}
    for p in query.params:
        if p.required:
            base[p.name] = p.choices[0] if p.choices else _SAMPLES.get(p.type, "x")
    out = [resolve(query.params, base, query=query.name)]
    for p in query.params:
        if p.is_identifier and p.sql:
            out += [resolve(query.params, {**base, p.name: v}, query=query.name)
                    for v in p.sql if v != out[0].get(p.name)]
    return out


@functools.cache
def _spark_views() -> None:
    """The views rendered for Spark once per process (they hold no parameter)."""
    from rumq.engines.portable import spark_views

    spark_views()


def _spark(query: Query, values: dict[str, Any]) -> None:
    from rumq.engines.portable import render
    from rumq.params import substitute_identifiers

    _spark_views()
    if query.kind == "insights":
        from rumq import insights

        render(insights.compile(query.body, params=values).sql, "spark", what=query.name)
    else:
        render(substitute_identifiers(query.body, query.params, values), "spark", what=query.name)


def _trino(query: Query, values: dict[str, Any]) -> None:
    from rumq.engines import trino
    from rumq.params import bind_values, substitute_identifiers

    if query.kind == "insights":
        trino.insights_statement(query.body, values, what=query.name)
        return
    sql = substitute_identifiers(query.body, query.params, values)
    trino.statement(sql, bind_values(sql, query.params, values), since=None, until=None, app=None,
                    table="rumq_events", cfg=None, what=query.name, ingest_totals=_NO_TOTALS)


def check(query: Query, values: dict[str, Any], engine: str) -> None:
    """Render ``query`` with ``values`` (resolved) for ``engine``; nothing for DuckDB or an engine
    rumq does not render SQL for (it checks its own queries when they run).

    Raises:
        NotPortableError: the query uses a construct ``engine`` cannot compute exactly.
    """
    checks = {"spark": _spark, "trino": _trino, "athena": _trino}
    if engine in checks:
        checks[engine](query, values)


def engines(query: Query) -> dict[str, str | None]:
    """Each engine of ``REPORTED`` -> None if ``query`` renders for it exactly, else why not.

    The reason is ``NotPortableError``'s message without the query's name
    (e.g. ``GLOB pattern ... cannot be rendered exactly for Spark``).
    """
    from rumq.engines.portable import NotPortableError
    from rumq.errors import RumqError

    out: dict[str, str | None] = {"duckdb": None}
    try:
        value_sets = _value_sets(query)
    except RumqError as e:  # a header whose defaults do not resolve: only DuckDB reports it precisely
        return {**out, "spark": str(e).splitlines()[0], "trino": str(e).splitlines()[0]}
    for engine, check in (("spark", _spark), ("trino", _trino)):
        out[engine] = None
        for values in value_sets:
            try:
                check(query, values)
            except NotPortableError as e:
                first = str(e).splitlines()[0]
                out[engine] = first.removeprefix(f"{query.name}: ")
                break
    return out


def supported(query: Query) -> list[str]:
    """The engines ``query`` runs on, in ``REPORTED`` order (always ``duckdb``)."""
    return [e for e, why in engines(query).items() if why is None]
