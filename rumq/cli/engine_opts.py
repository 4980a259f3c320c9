"""The ``--engine`` / ``--spark-master`` option bundle of ``rumq run``, ``rumq sql`` and ``rumq insights``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from rumq.engines import ENGINES


def engine_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--engine`` (duckdb or spark) and ``--spark-master`` to a query command."""
    f = click.option("--spark-master", metavar="URL", default=None,
                     help="Spark master for --engine spark (env RUMQ_SPARK_MASTER, else [spark] in rumq.toml, "
                          "else local[*]).")(f)
    return click.option("--engine", type=click.Choice(list(ENGINES)), default="duckdb", show_default=True,
                        help="Where the query runs: DuckDB, or Apache Spark (pip install 'rumq[spark]'; "
                             "docs/engines.md).")(f)
