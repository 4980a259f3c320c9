"""The ``--engine`` option bundle of ``rumq run``, ``rumq sql`` and ``rumq insights``.

``--engine duckdb|spark`` runs the query; ``--engine athena --print-sql`` prints
it as one Trino statement for Amazon Athena (rumq does not run it there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from rumq.engines import ENGINES


def engine_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--engine``, ``--spark-master``, ``--print-sql`` and ``--athena-table`` to a query command."""
    f = click.option("--athena-table", metavar="[DB.]TABLE", default="rumq_events", show_default=True,
                     help="The Athena table the printed SQL reads (as created by `rumq athena ddl`).")(f)
    f = click.option("--print-sql", is_flag=True,
                     help="With --engine athena: print the query as one Trino statement (parameters as "
                          "literals, views as CTEs); do not run it.")(f)
    f = click.option("--spark-master", metavar="URL", default=None,
                     help="Spark master for --engine spark (env RUMQ_SPARK_MASTER, else [spark] in rumq.toml, "
                          "else local[*]).")(f)
    return click.option("--engine", type=click.Choice(list(ENGINES)), default="duckdb", show_default=True,
                        help="Where the query runs: DuckDB, Apache Spark (pip install 'rumq[spark]'), polars (rumq run: the Polars twin of a built-in), or "
                             "athena with --print-sql (docs/engines.md).")(f)


def print_athena_sql(engine: str, print_sql: bool, render: str, *args: Any, **kwargs: Any) -> bool:
    """Handle ``--engine athena`` / ``--print-sql``: print ``rumq.engines.trino.<render>(*args, **kwargs)``.

    Returns False when neither is given (the command runs the query as usual).

    Raises:
        click.UsageError: one without the other (rumq does not run queries on Athena).
    """
    if engine != "athena" and not print_sql:
        return False
    if engine != "athena":
        raise click.UsageError("--print-sql prints Athena SQL: add --engine athena")
    if not print_sql:
        raise click.UsageError("rumq does not run queries on Athena: add --print-sql to print the Trino statement "
                               "and run it in Athena (docs/engines.md)")
    from rumq.engines import trino

    click.echo(getattr(trino, render)(*args, **kwargs).rstrip(";\n") + ";")
    return True
