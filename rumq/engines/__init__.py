"""Other engines for the same dataset and query library: Spark (and, as SQL text, Athena).

``rumq.engines.portable`` parses rumq's DuckDB-dialect SQL once with sqlglot
and renders it for another engine with rumq's own rewrites on the parse tree,
refusing by name whatever it cannot render exactly; ``rumq.engines.spark``
gets a SparkSession, reads the dataset with an explicit schema and runs the
rendered views and named queries. docs/engines.md explains the choice.
``rumq.engines.polars_views`` / ``polars_twins`` / ``polars_query`` are the
Polars engine: the views as LazyFrames, the twins of the core built-ins, and
``.py`` query files.

Importing this package imports neither sqlglot nor pyspark.
"""

from __future__ import annotations

#: The engines ``--engine`` accepts.
ENGINES: tuple[str, ...] = ("duckdb", "spark", "athena", "polars")
