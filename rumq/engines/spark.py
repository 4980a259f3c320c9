"""The dataset on Apache Spark: a SparkSession, the events read with an explicit schema, the views.

``session()`` uses the SparkSession that is already active (``spark-submit``,
a notebook, Databricks) and otherwise builds one from ``--spark-master``,
``$RUMQ_SPARK_MASTER`` or ``[spark]`` in rumq.toml (``local[*]`` by
default), with a UTC session time zone. ``read_events()`` reads the window's
partitions only (the file list of the manifest, as ``rumq.catalog`` does for
DuckDB) with a schema generated from ``rumq.schema``: Spark cannot infer the
16-byte UUID id columns (``FIXED_LEN_BYTE_ARRAY (UUID)``) and reads them as
binary. ``register()`` creates the temp views ``rumq_events``, ``events`` and
the analysis views (rendered by ``rumq.engines.portable``) on the session.

pyspark is an optional extra (``pip install 'rumq[spark]'``); without it every
entry point raises ``EngineUnavailableError`` (exit 2) saying how to install it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rumq.errors import UsageError
from rumq.schema import COLUMNS, DERIVED, PARTITION_COLUMN, STORED_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

MASTER_ENV = "RUMQ_SPARK_MASTER"
DEFAULT_MASTER = "local[*]"
#: Settings of a session rumq builds itself (``[spark]`` in rumq.toml overrides
#: them). A handful of shuffle partitions: the default 200 makes every small
#: local query start 200 tasks. The console progress bar would write to stderr
#: in the middle of the notices.
DEFAULTS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
}
INSTALL_HINT = "install the Spark extra: pip install 'rumq[spark]' (pyspark 4.x; needs Java 17 or later)"


class EngineUnavailableError(UsageError):
    """The engine asked for is not installed (exit 2)."""


def _pyspark() -> Any:
    try:
        import pyspark
        import pyspark.sql  # noqa: F401
    except ImportError:
        raise EngineUnavailableError("--engine spark needs pyspark, which is not installed", hint=INSTALL_HINT) from None
    return pyspark


#: DuckDB type of a schema column -> Spark SQL type name. TIMESTAMP is naive UTC
#: in rumq, which is Spark's TIMESTAMP_NTZ; UUID has no Spark type (binary).
SPARK_TYPES: dict[str, str] = {
    "VARCHAR": "string",
    "TIMESTAMP": "timestamp_ntz",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "VARCHAR[]": "array<string>",
    "UUID": "binary",
    "DATE": "date",
}


def spark_type(duckdb_type: str, column: str) -> str:
    """The Spark SQL type of a ``rumq.schema`` column type.

    Raises:
        UsageError: a type rumq has no Spark mapping for (a new schema column: add it to ``SPARK_TYPES``).
    """
    try:
        return SPARK_TYPES[duckdb_type.upper()]
    except KeyError:
        raise UsageError(f"column {column}: no Spark type for the DuckDB type {duckdb_type}",
                         hint="add the type to rumq.engines.spark.SPARK_TYPES") from None


def schema_ddl() -> str:
    """The Spark schema of the event files (stored columns + ``event_date``) as a DDL string."""
    cols = [(c.name, spark_type(c.type, c.name)) for c in STORED_COLUMNS] + [(PARTITION_COLUMN, "date")]
    return ", ".join(f"`{n}` {t}" for n, t in cols)


def settings(data_dir: str | os.PathLike[str] | None = None, master: str | None = None) -> dict[str, str]:
    """The configuration of a session rumq builds: defaults, then ``[spark]`` of rumq.toml, then the master.

    ``[spark]`` takes ``master`` and any ``spark.*`` key (quoted or as nested
    tables). The master is ``master`` if given, else ``$RUMQ_SPARK_MASTER``,
    else ``[spark] master``, else ``local[*]``.

    Raises:
        UsageError: rumq.toml is not valid TOML, or ``[spark]`` holds something other than settings.
    """
    from rumq.pages import read_config

    conf = dict(DEFAULTS)
    toml_master = None
    found = read_config(data_dir=data_dir)
    if found is not None:
        p, doc = found
        section = doc.get("spark", {})
        if not isinstance(section, dict):
            raise UsageError(f"{p}: [spark] must be a table", hint='e.g. [spark] master = "local[4]"')
        for key, value in _flatten(section):
            if key == "master":
                toml_master = str(value)
            elif key.startswith("spark."):
                conf[key] = str(value).lower() if isinstance(value, bool) else str(value)
            else:
                raise UsageError(f"{p}: [spark] {key}: not a Spark setting",
                                 hint="[spark] takes master and spark.* keys")
    conf["spark.master"] = master or os.environ.get(MASTER_ENV) or toml_master or DEFAULT_MASTER
    return conf


def _flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        if isinstance(v, Mapping):
            out += _flatten(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", v))
    return out


def session(data_dir: str | os.PathLike[str] | None = None, master: str | None = None) -> SparkSession:
    """The SparkSession to run on: the active one if there is one, else a new one from ``settings()``.

    An active session is used as it is (rumq does not change its settings),
    except that its time zone must be UTC: rumq's times are naive UTC.

    Raises:
        EngineUnavailableError: pyspark is not installed.
        UsageError: the active session's time zone is not UTC.
    """
    _pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        tz = active.conf.get("spark.sql.session.timeZone")
        if tz not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
            raise UsageError(f"the active SparkSession's time zone is {tz}, not UTC",
                             hint="spark.conf.set('spark.sql.session.timeZone', 'UTC'): rumq's times are UTC")
        return active
    builder = SparkSession.builder.appName("rumq")
    for k, v in settings(data_dir, master).items():
        builder = builder.config(k, v)
    return builder.getOrCreate()


def read_events(
    spark: SparkSession,
    data_dir: str | os.PathLike[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    app: str | None = None,
) -> DataFrame:
    """The window's events as a DataFrame: stored columns, ``event_date``, then the derived columns.

    Only the partitions of the window are read (the manifest's file list);
    ``since``/``until`` (naive UTC, half-open) and ``app`` are pushed down as
    filters with their values as literals of the DataFrame API, never as SQL text.

    Raises:
        DatasetError: the directory is not a dataset.
    """
    from pyspark.sql import functions as F

    from rumq.catalog import window_dates
    from rumq.engines.portable import render_expression
    from rumq.store import Store

    store = Store(data_dir)
    store.check()
    start, end = window_dates(since, until)
    files = store.event_files(start, end)
    ddl = schema_ddl()
    base = store.url("events")
    if store.remote:
        # Hadoop's S3 connector (hadoop-aws) reads s3a:// URLs; the cluster supplies it
        # and its credentials. Not tested here: local Spark has no S3 connector.
        files, base = [f.replace("s3://", "s3a://", 1) for f in files], base.replace("s3://", "s3a://", 1)
    if files:
        df = spark.read.schema(ddl).option("basePath", base).parquet(*files)
    else:
        df = spark.createDataFrame([], ddl)
    df = df.select(*[c.name for c in STORED_COLUMNS], PARTITION_COLUMN)
    if since is not None:
        df = df.where(F.col("event_time") >= F.lit(since))
    if until is not None:
        df = df.where(F.col("event_time") < F.lit(until))
    if app is not None:
        df = df.where(F.col("application_id") == F.lit(app))
    # The derived columns' one definition (rumq.schema.DERIVED), rendered for Spark.
    return df.select("*", *[F.expr(render_expression(sql, "spark")).alias(name) for name, sql in DERIVED.items()])


def register(
    spark: SparkSession,
    data_dir: str | os.PathLike[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    app: str | None = None,
    views: bool = True,
) -> None:
    """Create the temp views ``rumq_events`` and ``events`` (and the analysis views) on ``spark``.

    The same names and columns as ``rumq.catalog.connect`` gives DuckDB.
    """
    from rumq.pages import load_config

    rumq_events = read_events(spark, data_dir, since=since, until=until, app=app)
    rumq_events.createOrReplaceTempView("rumq_events")
    rumq_events.select(*[c.name for c in COLUMNS], PARTITION_COLUMN).createOrReplaceTempView("events")
    if views:
        from rumq.engines.portable import spark_views

        cfg = load_config(data_dir=data_dir)
        for name, sql in spark_views(cfg).items():
            spark.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        _ingest_totals(spark, data_dir)
        _user_first_seen(spark, data_dir, until=until, app=app, cfg=cfg)


def first_seen_sql(cfg: Any = None) -> str:
    """DuckDB's ``rumq_user_first_seen()`` (``rumq.views``) over the view ``rumq_history`` (every event
    before the window's end, of the app), rendered for Spark."""
    from rumq.engines.portable import render
    from rumq.pages import PageConfig
    from rumq.views import user_first_seen_sql

    sql = user_first_seen_sql(cfg or PageConfig())
    # read_events applies the window's end and the app as DuckDB's variables do.
    for old, new in (("read_parquet(getvariable('rumq_history_files'), hive_partitioning = true)", "rumq_history"),
                     ("(getvariable('rumq_app') IS NULL OR application_id = getvariable('rumq_app'))", "TRUE"),
                     ("(getvariable('rumq_until') IS NULL OR event_time < getvariable('rumq_until'))", "TRUE")):
        if old not in sql:  # rumq.views changed: fail loudly rather than read something else
            raise UsageError(f"rumq_user_first_seen: {old!r} not found in its definition")
        sql = sql.replace(old, new)
    return render(sql, "spark", what="rumq_user_first_seen()")


def _user_first_seen(spark: SparkSession, data_dir: str | os.PathLike[str], *, until: datetime | None,
                     app: str | None, cfg: Any) -> None:
    """The view ``rumq_user_first_seen``: each user's first session over the history up to the window's end,
    as ``rumq.views`` creates the table macro for DuckDB (the users/* queries)."""
    read_events(spark, data_dir, until=until, app=app).createOrReplaceTempView("rumq_history")
    spark.sql(f"CREATE OR REPLACE TEMP VIEW rumq_user_first_seen AS {first_seen_sql(cfg)}")


def _ingest_totals(spark: SparkSession, data_dir: str | os.PathLike[str]) -> None:
    """The one-row view ``ingest_totals`` from the manifest, as ``rumq.views`` creates it for DuckDB."""
    from rumq.store import Store

    ingests = Store(data_dir).load_state().ingests
    row = [len(ingests)] + [sum(int(i.get(k) or 0) for i in ingests)
                            for k in ("read", "written", "duplicates", "rejected")]
    spark.createDataFrame(
        [tuple(row)], "ingests bigint, read bigint, written bigint, duplicates bigint, rejected bigint"
    ).createOrReplaceTempView("ingest_totals")


def to_polars(df: DataFrame) -> Any:
    """A Spark DataFrame as a Polars DataFrame (through Arrow)."""
    import polars as pl

    return pl.from_arrow(df.toArrow())


def run_query(
    data_dir: str | os.PathLike[str],
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    since: Any = None,
    until: Any = None,
    app: str | None = None,
    limit: int | None = None,
    library: Any = None,
    notify: Any = None,
    now: datetime | None = None,
    master: str | None = None,
    rows: bool = False,
) -> Any:
    """Run a named SQL query on Spark; the same result as ``rumq.runner.run_query`` on DuckDB.

    ``rows``: the result is for a text format (a Logs Insights query's whole numbers then
    print as integers, as on DuckDB).

    The query is rendered (``rumq.engines.portable``) before Spark starts, so
    a query Spark cannot compute exactly fails fast, naming the construct.

    Returns:
        A Polars DataFrame.

    Raises:
        EngineUnavailableError: pyspark is not installed.
        NotPortableError: the query (or a view) uses a construct Spark cannot compute exactly.
        QueryExecutionError: Spark failed while running it.
        (and the errors of ``rumq.runner.run_query`` for names, parameters and windows)
    """
    from rumq.engines.portable import render_bound, spark_query, spark_views
    from rumq.library import Library
    from rumq.pages import load_config
    from rumq.params import bind_values, resolve, substitute_identifiers
    from rumq.runner import _check_limit, coverage_warning, window

    _pyspark()
    library = library if library is not None else Library()
    query = library.get(name)
    for n in library.notices_for(name):
        (notify or (lambda _: None))(n)
    values = resolve(query.params, params or {}, query=query.name)
    if query.kind == "insights":
        return run_insights(data_dir, query.body, since=since, until=until, app=app, limit=limit,
                            params=values, now=now, master=master, notify=notify, rows=rows)
    _check_limit(limit)
    w = window(since, until, now)
    sql = substitute_identifiers(query.body, query.params, values)
    spark_query(sql, what=query.name)
    spark_views(load_config(data_dir=data_dir))  # every view must render before Spark starts
    # The values Spark gets: bound patterns and JSON pointers translated (render_bound).
    rendered, bound = render_bound(sql, bind_values(sql, query.params, values), "spark", what=query.name)
    from rumq.catalog import resolve_app

    app = resolve_app(data_dir, app)
    spark = session(data_dir, master)
    register(spark, data_dir, since=w.since, until=w.until, app=app)
    out = _execute(spark, rendered, bound, f"query '{query.name}'", limit)
    warning = coverage_warning(query, out, values)
    if warning and notify:
        notify("warning: " + warning)
    return out


def _execute(spark: SparkSession, sql: str, args: Mapping[str, Any] | None, what: str, limit: int | None) -> Any:
    from rumq.errors import QueryExecutionError

    try:
        df = spark.sql(sql, args=dict(args) if args else None)
        if limit is not None:
            df = df.limit(limit)
        return to_polars(df)
    except Exception as e:  # pyspark's errors share no base class worth naming here
        if type(e).__module__.startswith(("pyspark", "py4j")):
            raise QueryExecutionError(f"{what} failed on Spark: {_spark_message(e)}") from None
        raise


def _spark_message(e: Exception) -> str:
    """The line of a Spark error that says what failed: the first ``[ERROR_CLASS] ...`` line, if any.

    An error raised while the job runs reaches Python as a Py4J error whose
    first line only names the Java call; Spark's own message is further down.
    """
    import re

    text = str(e).strip()
    # A failed stage wraps the task's error ([STAGE_MATERIALIZATION_MULTIPLE_FAILURES] ...).
    found = [m.group(0) for m in re.finditer(r"\[([A-Z][A-Z_.]+)\][^\n]*", text)
             if not m.group(1).startswith("STAGE_")]
    return found[0] if found else (text.splitlines() or [""])[0]


def run_sql(
    data_dir: str | os.PathLike[str],
    sql: str,
    *,
    since: Any = None,
    until: Any = None,
    app: str | None = None,
    limit: int | None = None,
    params: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    master: str | None = None,
) -> Any:
    """Run DuckDB-dialect SQL over the views on Spark (rendered by ``rumq.engines.portable``).

    Only queries run (SELECT/WITH): the Spark path never writes.

    Raises:
        EngineUnavailableError: pyspark is not installed.
        NotPortableError: the SQL uses a construct Spark cannot compute exactly.
        QueryExecutionError: Spark failed while running it.
    """
    from rumq.catalog import resolve_app
    from rumq.engines.portable import render_bound, spark_views
    from rumq.pages import load_config
    from rumq.runner import _check_limit, window

    _pyspark()
    if not sql.strip():
        raise UsageError("no SQL given", hint='rumq sql --engine spark "SELECT count(*) FROM events"')
    _check_limit(limit)
    w = window(since, until, now)
    rendered, bound = render_bound(sql, dict(params or {}), "spark", what="SQL")
    spark_views(load_config(data_dir=data_dir))
    app = resolve_app(data_dir, app)
    spark = session(data_dir, master)
    register(spark, data_dir, since=w.since, until=w.until, app=app)
    return _execute(spark, rendered, bound, "SQL", limit)


def run_insights(
    data_dir: str | os.PathLike[str],
    text: str,
    *,
    since: Any = None,
    until: Any = None,
    app: str | None = None,
    limit: int | None = None,
    params: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    master: str | None = None,
    notify: Any = None,
    rows: bool = False,
) -> Any:
    """Compile a Logs Insights query (``rumq.insights``) and run it on Spark.

    ``rows``: the result is for a text format; whole numbers then print as integers, as on
    DuckDB (``rumq.insights.values.print_form``).

    As on DuckDB (``rumq.runner``): the compiler's notices (e.g. a SOURCE rumq
    cannot map) go to ``notify``, and a query comparing with the previous
    period (``diff``) reads from the start of that period.

    The compiled DuckDB SQL goes through ``rumq.engines.portable``; a query
    whose SQL uses a construct Spark cannot compute exactly is refused by name.

    Raises:
        EngineUnavailableError, NotPortableError, QueryExecutionError, QuerySyntaxError.
    """
    from rumq import insights
    from rumq.catalog import resolve_app
    from rumq.engines.portable import render_bound
    from rumq.runner import _check_limit, window

    _pyspark()
    _check_limit(limit)
    w = window(since, until, now)
    compiled = insights.compile(text, params=dict(params) if params else None, since=w.since, until=w.until)
    rendered, bound = render_bound(compiled.sql, dict(compiled.parameters or {}), "spark", what="insights query")
    app = resolve_app(data_dir, app)
    spark = session(data_dir, master)
    for line in compiled.notices:
        if notify is not None:
            notify(line)
    read_since = compiled.read_since if compiled.read_since is not None else w.since
    register(spark, data_dir, since=read_since, until=w.until, app=app, views=False)
    df = _execute(spark, rendered, bound, "insights query", None)
    df = df.rename(dict(zip(df.columns, compiled.columns, strict=True)))
    if rows:
        from rumq.insights.values import print_form

        df = print_form(df)
    return df.head(limit) if limit is not None else df
