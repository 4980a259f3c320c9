"""Run named queries, SQL and Logs Insights text over a dataset: the one code path.

The CLI (``rumq run``, ``rumq sql``) and the Python API (``Dataset``) both call
these functions. They never print: notices (a user query overriding a
built-in, low cookie coverage) go to the ``notify`` callback, and the CLI
writes them to stderr.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rumq.errors import DatasetError, QueryExecutionError, RumqError, UsageError
from rumq.library import Library, Query
from rumq.params import bind_values, resolve, substitute_identifiers
from rumq.sqltext import quote_identifier
from rumq.timewindow import TimeWindow, resolve_window

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import polars as pl

    from rumq.render import Rows

#: Session-based results below this cookie coverage get a warning.
COVERAGE_WARNING = 0.9

Notify = Callable[[str], None]
TimeArg = str | dt.datetime | dt.date | dt.timedelta | None


def _quiet(_: str) -> None:
    return None


def window(since: TimeArg = None, until: TimeArg = None, now: dt.datetime | None = None) -> TimeWindow:
    """Resolve ``since``/``until`` (strings, datetimes, ...) to a UTC window."""
    return resolve_window(since, until, now=now)


def connect(
    data_dir: str | os.PathLike[str],
    *,
    since: TimeArg = None,
    until: TimeArg = None,
    app: str | None = None,
    now: dt.datetime | None = None,
    allow_writes: bool | None = None,
) -> duckdb.DuckDBPyConnection:
    """A catalog connection (``events`` and the analysis views) for the window.

    Read-only unless ``allow_writes`` (or ``[sql] allow_writes`` in rumq.toml
    when it is None): see ``rumq.catalog.restrict``.
    """
    return _catalog(data_dir, window(since, until, now), app,
                    allow_writes=writes_allowed(data_dir, allow_writes))


def writes_allowed(data_dir: str | os.PathLike[str], allow_writes: bool | None) -> bool:
    """Whether SQL may write: ``allow_writes`` when given, else rumq.toml's ``[sql] allow_writes``."""
    if allow_writes is not None:
        return bool(allow_writes)
    from rumq.pages import allow_writes_setting

    return allow_writes_setting(data_dir=data_dir)


def _check_limit(limit: int | None) -> None:
    from rumq.formats import MAX_LIMIT

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT):
        raise UsageError(f"--limit must be a whole number from 0 to {MAX_LIMIT}, got {limit!r}")


def execute(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    limit: int | None = None,
    what: str = "query",
    read_only: bool = False,
    rows: bool = False,
) -> pl.DataFrame | Rows:
    """Run ``sql`` with bound named ``params`` and return a Polars DataFrame.

    With ``rows``, return ``rumq.render.Rows`` (DuckDB's fetched values, no
    Polars import) when the text formats render them exactly; a result with
    other column types still comes back as a Polars DataFrame.

    INTERVAL columns (which Polars cannot import) become Polars durations;
    statements that return no rows (``CREATE ...``) give an empty frame.
    ``read_only`` refuses statements that are not reads before any runs
    (``rumq.catalog.check_read_only``).

    Raises:
        QueryExecutionError: DuckDB's message when the statement fails.
        ReadOnlyError: the SQL writes, or the restricted connection refused it.
    """
    import duckdb

    from rumq.catalog import check_read_only, read_only_error

    _check_limit(limit)
    if read_only:
        check_read_only(con, sql, what=what)
    try:
        rel = con.sql(sql, params=dict(params) if params else None)
        if rel is None:
            if rows:
                from rumq.render import Rows

                return Rows([], [], [])
            import polars as pl

            return pl.DataFrame()
        if limit is not None:
            # The relation API adds LIMIT around the query as a whole, which is
            # safe even when the text ends in a comment.
            rel = rel.limit(limit)
        intervals = [c for c, t in zip(rel.columns, rel.types, strict=True) if str(t) == "INTERVAL"]
        if intervals:
            rel = rel.select(
                ", ".join(
                    f"epoch_us({quote_identifier(c)}) AS {quote_identifier(c)}" if c in intervals else quote_identifier(c)
                    for c in rel.columns
                )
            )
        fetched = _fetch_rows(rel, intervals) if rows else None
        if fetched is not None:
            return fetched
        df = rel.pl()
    except duckdb.Error as e:
        raise (read_only_error(e, what=what) or QueryExecutionError(f"{what} failed: {e}")) from None
    import polars as pl

    if intervals:
        df = df.with_columns(pl.col(c).cast(pl.Duration("us")) for c in intervals)
    return df




def _fetch_rows(rel: duckdb.DuckDBPyRelation, intervals: list[str]) -> Rows | None:
    """``rel``'s result as ``Rows``, or None when only the Polars path renders it exactly."""
    from rumq.render import Rows, kind_of

    kinds = [kind_of(t, duration=c in intervals) for c, t in zip(rel.columns, rel.types, strict=True)]
    if None in kinds or len(set(rel.columns)) != len(rel.columns):
        return None
    return Rows(rel.columns, kinds, rel.fetchall())  # type: ignore[arg-type]


def _below(value: float, limit: float, decimals: int) -> str:
    """``value`` (< ``limit``) with ``decimals`` or more decimals: as few as keep the printed number below
    ``limit`` (0.8973 rounded to 0.90 would read as not below 0.90), truncated past 6 more."""
    for d in range(decimals, decimals + 7):
        if round(value, d) < limit:
            return f"{value:.{d}f}"
    d = decimals + 6
    return f"{math.floor(value * 10**d) / 10**d:.{d}f}"


def coverage_warning(query: Query, df: pl.DataFrame | Rows, params: Mapping[str, Any]) -> str | None:
    """The warning to show when a session-based result has low cookie coverage."""
    if not query.session_based or "coverage" not in df.columns or df.height == 0:
        return None
    try:
        if hasattr(df, "get_column"):
            lowest = df.get_column("coverage").cast(float).drop_nulls().drop_nans().min()
        else:
            values = [float(v) for v in df.column("coverage") if v is not None]
            values = [v for v in values if not math.isnan(v)]
            lowest = min(values) if values else None
    except Exception:  # a coverage column of a strange type is the query's problem
        return None
    if lowest is None or lowest >= COVERAGE_WARNING:
        return None
    msg = (
        f"{query.name}: only {_below(lowest * 100, COVERAGE_WARNING * 100, 0)}% of the page views in the "
        f"window belong to cookie sessions (coverage {_below(lowest, COVERAGE_WARNING, 2)} < {COVERAGE_WARNING:.2f})"
    )
    if query.param("include_cookieless") is not None and not params.get("include_cookieless"):
        msg += (
            "; cookieless page views are excluded from session-based results "
            "(-p include_cookieless=true counts each as its own session)"
        )
    return msg


def run_query(
    data_dir: str | os.PathLike[str],
    name: str | Query,
    params: Mapping[str, Any] | None = None,
    *,
    since: TimeArg = None,
    until: TimeArg = None,
    app: str | None = None,
    limit: int | None = None,
    library: Library | None = None,
    notify: Notify | None = None,
    now: dt.datetime | None = None,
    allow_writes: bool | None = None,
    rows: bool = False,
    estimate: bool = False,
) -> pl.DataFrame | Rows:
    """Run a named query and return its result.

    A ``.py`` query (kind ``polars``) runs its ``query(views, params)`` over the
    window's Polars views (``run_polars``); ``.sql`` and ``.insights`` run on DuckDB.

    Args:
        data_dir: the dataset directory.
        name: the query name (looked up in ``library``) or a parsed ``Query``.
        params: parameter values: CLI strings (lists for repeated ``-p``) or Python values.
        since: window start (inclusive): ``7d``, ``2026-11-01``, an ISO timestamp, a datetime...
        until: window end (exclusive), same forms.
        app: keep only this application: an id, a unique id prefix or a name.
        limit: at most this many rows.
        library: where to find queries (default: built-ins plus ``RUMQ_QUERIES``).
        notify: receives notices and warnings (one string each; a window without
            events is one); never printed here.
        now: the current time for relative windows (tests).
        allow_writes: let the SQL write (``rumq.catalog``); None: rumq.toml's
            ``[sql] allow_writes``, default read-only.
        rows: return ``rumq.render.Rows`` when they render exactly (see ``execute``):
            the CLI's text formats, without importing Polars.
        estimate: scale the query's count-like columns by the declared session
            sample rate (``rumq.sampling``), adding ``estimate_scale``.

    Returns:
        The result as a Polars DataFrame (or ``Rows``).

    Raises:
        ReadOnlyError: the query writes while SQL is read-only.
        UnknownQueryError: no such query (with a did-you-mean).
        QueryDefinitionError: the query file is malformed.
        ParameterError: a parameter is unknown, missing or invalid.
        UsageError: a bad window or limit.
        DatasetError: the dataset does not exist.
        QueryExecutionError: DuckDB failed while running it.
        PolarsQueryError: a Polars query's code (or Polars) failed: its file and line.
    """
    say = notify or _quiet
    if isinstance(name, str):
        library = library if library is not None else Library()
        query = library.get(name)
        for notice in library.notices_for(name):
            say(notice)
    else:
        query = name
    values = resolve(query.params, params or {}, query=query.name)
    _check_limit(limit)
    w = window(since, until, now)
    if estimate and query.kind in ("insights", "polars"):
        raise UsageError(f"--estimate: {query.name} is a {'Logs Insights' if query.kind == 'insights' else 'Polars'} "
                         "query, which declares no count-like columns",
                         hint="--estimate applies to SQL queries whose header lists `estimate:` columns")
    if query.kind == "polars":
        df = run_polars(data_dir, query, values, w, app=app, limit=limit, notify=say)
    elif query.kind == "insights":
        df = _run_insights_text(
            data_dir, query.body, values, w, app=app, limit=limit, what=f"query '{query.name}'", notify=say,
            rows=rows,
        )
    else:
        sql = substitute_identifiers(query.body, query.params, values)
        bound = bind_values(sql, query.params, values)
        # Only the views the query reads: a named query is known in advance.
        writes = writes_allowed(data_dir, allow_writes)
        con = _catalog(data_dir, w, app, for_sql=sql, allow_writes=writes)
        try:
            df = execute(con, sql, bound, limit=limit, what=f"query '{query.name}'", read_only=not writes,
                         rows=rows and not estimate)
            if estimate:
                from rumq import sampling

                df = sampling.estimate(con, query, df, sampling.load_rates(data_dir), say,
                                       rerun=_stratum_runner(data_dir, query, values, w, app, writes))
            _say_if_empty(con, data_dir, w, app, say)
            _say_page_selection(con, data_dir, say)
        finally:
            _release(con)
    warning = coverage_warning(query, df, values)
    if warning:
        say("warning: " + warning)
    return df


def _stratum_runner(data_dir: str | os.PathLike[str], query: Query, values: Mapping[str, Any], w: TimeWindow,
                    app: str | None, writes: bool) -> Callable[[Sequence[str]], pl.DataFrame]:
    """Runs ``query`` on the sessions of some sampling keys only (``rumq.sampling``), every row of it.

    The parts of an estimate across rate changes are matched row by row, so a
    ``top`` parameter is raised to its maximum and no limit applies. (A query
    allowed to write writes once per part too.)
    """
    top = query.param("top")
    if top is not None and top.max is not None:
        values = {**values, "top": top.max}
    sql = substitute_identifiers(query.body, query.params, values)
    bound = bind_values(sql, query.params, values)

    def run(keys: Sequence[str]) -> pl.DataFrame:
        from rumq import catalog

        con = catalog.connect(data_dir, since=w.since, until=w.until, app=catalog.resolve_app(data_dir, app),
                              for_sql=sql, allow_writes=writes, stratum=keys)
        try:
            return execute(con, sql, bound, what=f"query '{query.name}'", read_only=not writes)
        finally:
            _release(con)

    return run


def run_polars(
    data_dir: str | os.PathLike[str],
    query: Query,
    values: Mapping[str, Any],
    w: TimeWindow,
    *,
    app: str | None = None,
    limit: int | None = None,
    notify: Notify = _quiet,
    function: Any = None,
) -> pl.DataFrame:
    """Run a Polars query (a ``.py`` file, or ``function``: a built-in's twin) over the window's views.

    ``values`` are the resolved parameters. Says so through ``notify`` when
    the window holds no event, as the SQL path does.

    Raises:
        PolarsQueryError: the query's code or Polars failed (file and line).
    """
    from rumq.engines import polars_query

    _check_limit(limit)
    views = polars_views(data_dir, since=w.since, until=w.until, app=app)
    df = polars_query.run(query, views, values, function=function, limit=limit)
    if views.rumq_events.select("event_time").head(1).collect().height == 0:
        _say_empty(data_dir, w, app, notify)
    return df


def polars_views(
    data_dir: str | os.PathLike[str],
    *,
    since: TimeArg = None,
    until: TimeArg = None,
    app: str | None = None,
    now: dt.datetime | None = None,
) -> Any:
    """The analysis views of the window as Polars LazyFrames (``rumq.engines.polars_views.Views``).

    Raises:
        DatasetError: the dataset does not exist.
        UsageError: a bad window, or ``app`` names no application.
    """
    from rumq import catalog
    from rumq.engines.polars_views import Views

    w = window(since, until, now)
    return Views(data_dir, since=w.since, until=w.until, app=catalog.resolve_app(data_dir, app))


def _release(con: duckdb.DuckDBPyConnection) -> None:
    """``rumq.catalog.release``: closed, or left to the exit of the ``rumq`` script."""
    from rumq.catalog import release

    release(con)


def _catalog(
    data_dir: str | os.PathLike[str], w: TimeWindow, app: str | None, *, for_sql: str | None = None,
    allow_writes: bool = False,
) -> duckdb.DuckDBPyConnection:
    import duckdb

    from rumq import catalog

    try:
        app = catalog.resolve_app(data_dir, app)  # an id, a unique id prefix or a name
        # range_if_empty: a window without files gets the empty-window warning (_say_if_empty).
        return catalog.connect(data_dir, since=w.since, until=w.until, app=app, for_sql=for_sql,
                               allow_writes=allow_writes, range_if_empty=True)
    except duckdb.Error as e:
        # e.g. a damaged Parquet file of the window: say so, not a traceback.
        raise DatasetError(
            f"cannot open the dataset at {data_dir}: {e}",
            hint="`rumq info` checks the dataset; re-ingest damaged days",
        ) from None


def _say_page_selection(con: duckdb.DuckDBPyConnection, data_dir: str | os.PathLike[str], say: Notify) -> None:
    """Say how many page views rumq.toml's ``[pages] exclude`` / ``include`` left out of the result."""
    import duckdb

    from rumq.pages import load_config
    from rumq.views import page_rule_effect

    cfg = load_config(data_dir=data_dir)
    if not cfg.selects_pages:
        return
    try:
        removed, total = page_rule_effect(con, cfg)
    except duckdb.Error:  # the statement dropped the view, or the like: nothing to say
        return
    say(f"notice: [pages] exclude/include of {cfg.source} left out {removed} of the window's {total} page views")


def _say_if_empty(
    con: duckdb.DuckDBPyConnection, data_dir: str | os.PathLike[str], w: TimeWindow, app: str | None, say: Notify
) -> None:
    """Warn when the window holds no event, naming the dataset's first and last event time.

    A query over an empty window answers zeros (or no rows), which is easy to
    take for a result; the warning says why.
    """
    import duckdb

    from rumq import catalog

    if app is None and catalog.holds_events(data_dir, w.since, w.until):
        return  # a day wholly inside the window has rows: no scan needed to know
    try:
        if con.execute("SELECT 1 FROM events LIMIT 1").fetchall():
            return
    except duckdb.Error:  # the statement dropped the view, or the like: nothing to say
        return
    _say_empty(data_dir, w, app, say)


def _say_empty(data_dir: str | os.PathLike[str], w: TimeWindow, app: str | None, say: Notify) -> None:
    """The warning for a window without events, naming the dataset's first and last event time."""
    import duckdb

    from rumq import catalog

    try:
        first, last = catalog.event_range(data_dir)
    except duckdb.Error:
        return
    if first is None:
        say("warning: the dataset holds no events")
        return
    z = "%Y-%m-%dT%H:%M:%SZ"
    where = f"the window {w.describe()}" if (w.since or w.until) else "the dataset"
    if app is not None:
        where += f" for --app {app}"
    say(f"warning: no events in {where}; the dataset holds events from {first:{z}} to {last:{z}}")


def run_sql(
    data_dir: str | os.PathLike[str],
    sql: str,
    *,
    since: TimeArg = None,
    until: TimeArg = None,
    app: str | None = None,
    limit: int | None = None,
    params: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    allow_writes: bool | None = None,
    notify: Notify | None = None,
    rows: bool = False,
) -> pl.DataFrame | Rows:
    """Run any SQL over the dataset's views (``events``, ``page_views``, ...).

    Read-only unless ``allow_writes`` (None: rumq.toml's ``[sql] allow_writes``):
    the SQL reads the window's files and nothing else, writes nothing, loads
    no extension and changes no setting. ``notify`` receives a warning when
    the window holds no event. ``rows``: as in ``run_query``.

    Raises:
        ReadOnlyError: the SQL writes or reads outside the dataset while read-only.
        QueryExecutionError: with DuckDB's message when the SQL fails.
        UsageError: an empty statement, a bad window or limit.
    """
    if not sql.strip():
        raise UsageError("no SQL given", hint='rumq sql "SELECT count(*) FROM events"')
    _check_limit(limit)
    w = window(since, until, now)
    writes = writes_allowed(data_dir, allow_writes)
    # Read-only SQL gets only the views it names; should it reach others (a catalog
    # error), it runs again with every view, so the message is the one it always was.
    partial = not writes and not re.search(_CATALOG_WORDS, sql, re.IGNORECASE)
    con = _catalog(data_dir, w, app, for_sql=sql if partial else None, allow_writes=writes)
    try:
        try:
            df = execute(con, sql, params, limit=limit, what="SQL", read_only=not writes, rows=rows)
        except QueryExecutionError as e:
            if not (partial and "Catalog Error" in str(e)):
                raise
            _release(con)
            con = _catalog(data_dir, w, app, allow_writes=writes)
            df = execute(con, sql, params, limit=limit, what="SQL", read_only=True, rows=rows)
        _say_if_empty(con, data_dir, w, app, notify or _quiet)
        return df
    finally:
        _release(con)


#: SQL that lists the catalog (or names a table in a string) sees every view.
#: (A pattern, compiled by ``re`` at first use: ``rumq run`` never needs it.)
_CATALOG_WORDS = (r"information_schema|duckdb_|pg_catalog|sqlite_master|\bshow\b|\bdescribe\b|"
                            r"\bsummarize\b|query_table|\bpragma\b")


def run_insights(
    data_dir: str | os.PathLike[str],
    text: str,
    *,
    since: TimeArg = None,
    until: TimeArg = None,
    app: str | None = None,
    limit: int | None = None,
    params: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
    rows: bool = False,
) -> pl.DataFrame | Rows:
    """Compile a Logs Insights query (``rumq.insights``) and run it over the window.

    ``rows``: as in ``run_query``; the result is then ready for the text formats, whole
    numbers as integers (``rumq.insights.values.print_form``).
    """
    w = window(since, until, now)
    return _run_insights_text(
        data_dir, text, dict(params or {}), w, app=app, limit=limit, what="insights query", notify=notify or _quiet,
        rows=rows,
    )


def _run_insights_text(
    data_dir: str | os.PathLike[str],
    text: str,
    params: Mapping[str, Any],
    w: TimeWindow,
    *,
    app: str | None,
    limit: int | None,
    what: str,
    notify: Notify = _quiet,
    rows: bool = False,
) -> pl.DataFrame | Rows:
    try:
        from rumq import insights
    except ImportError as e:  # pragma: no cover - the compiler is a separate part
        raise RumqError("Logs Insights queries need rumq.insights, which is not available") from e
    _check_limit(limit)
    # Parameters become quoted Logs Insights literals ({{name}}), never raw text.
    compiled = insights.compile(text, params=dict(params) if params else None, since=w.since, until=w.until)
    for line in compiled.notices:  # e.g. a SOURCE rumq cannot map: said, never silently ignored
        notify(line)
    # The compiled SQL reads the events view only: no analysis views to create. `diff` also
    # reads the period before the window.
    read = TimeWindow(compiled.read_since, w.until) if compiled.read_since is not None else w
    con = _catalog(data_dir, read, app, for_sql=compiled.sql)
    try:
        df = _insights_rows(con, compiled) if rows else None
        if df is None:
            df = insights.execute(con, compiled)
        _say_if_empty(con, data_dir, w, app, notify)
    finally:
        _release(con)
    if rows:  # text output: whole numbers print as integers (404, not 404.0)
        from rumq.insights.values import print_form

        df = print_form(df)
    return df.head(limit) if limit is not None else df


def _insights_rows(con: duckdb.DuckDBPyConnection, compiled: Any) -> Rows | None:
    """``insights.execute`` as ``Rows`` (None when only Polars renders the result exactly)."""
    import duckdb

    from rumq import insights

    try:
        result = _fetch_rows(con.sql(compiled.sql, params=compiled.parameters), [])
    except duckdb.Error as e:
        raise insights.translate_error(e, compiled) from None
    if result is not None:
        result.columns = list(compiled.columns)
    return result
