"""The notebook API: ``rumq.open(path)`` returns a ``Dataset``.

>>> import rumq
>>> ds = rumq.open("rumq-data")                          # doctest: +SKIP
>>> ds.run("pages/drop_off", since="7d", top=10)         # doctest: +SKIP
>>> ds.sql("SELECT count(*) FROM page_views")            # doctest: +SKIP
>>> ds.events(since="2026-11-01").collect()              # doctest: +SKIP

Every method goes through ``rumq.runner``, the code path the CLI uses, so a
notebook and ``rumq run`` give the same answer. Notices (a user query
overriding a built-in, low cookie coverage) are issued as Python warnings
(``RumqWarning``) unless a ``notify`` callback is given.

SQL runs read-only, as on the command line: it reads the dataset's own files
and nothing else, and cannot write, attach, load extensions or change
settings (``rumq.catalog``). ``rumq.open(path, allow_writes=True)`` (or
``ds.sql(..., allow_writes=True)`` for one statement) lifts that.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rumq import runner
from rumq.interrupt import interruptible
from rumq.library import Library, Listing, Query

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import polars as pl

    from rumq.sessions import SessionDetail

TimeArg = str | dt.datetime | dt.date | dt.timedelta | None


class RumqWarning(UserWarning):
    """A notice from rumq: low cookie coverage, a query overriding a built-in."""


#: rumq's own files: a warning points at the first frame outside them (the user's cell or script).
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _warn(message: str) -> None:
    text = message.removeprefix("warning: ").removeprefix("notice: ")
    level, frame = 1, sys._getframe(0)  # stacklevel 1 is this function
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(text, RumqWarning, stacklevel=level)


class Dataset:
    """A rumq dataset opened for querying.

    Args:
        path: the dataset directory (created by ``rumq ingest``).
        queries: user query library directories, highest precedence first
            (``RUMQ_QUERIES`` is read too, after these).
        notify: receives notices; default: issue them as ``RumqWarning``.
        allow_writes: let SQL write files, attach databases and change settings;
            None (default): ``[sql] allow_writes`` of rumq.toml, else read-only.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "rumq-data",
        *,
        queries: Sequence[str | os.PathLike[str]] | None = None,
        notify: Callable[[str], None] | None = None,
        allow_writes: bool | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.library = Library(queries)
        self.notify = notify or _warn
        self.allow_writes = allow_writes

    def __repr__(self) -> str:
        return f"Dataset({self.path!r})"

    @interruptible
    def run(
        self,
        name: str,
        since: TimeArg = None,
        until: TimeArg = None,
        app: str | None = None,
        limit: int | None = None,
        estimate: bool = False,
        **params: Any,
    ) -> pl.DataFrame:
        """Run a named query.

        Args:
            name: the query name, e.g. ``pages/drop_off``.
            since: window start (inclusive): ``"7d"``, ``"2026-11-01"``, an ISO
                timestamp (UTC unless it has an offset), a datetime, a date.
            until: window end (exclusive), same forms.
            app: keep only this application: an id, a unique id prefix or a name.
            limit: at most this many rows.
            estimate: scale the count-like columns to the full traffic by the
                session sample rate declared in rumq.toml (``rumq.sampling``).
            **params: the query's parameters, as Python values or strings.

        Returns:
            The result as a Polars DataFrame.
        """
        # Re-read the libraries (a few ms) so edits to a query file show up in a notebook.
        self.library.refresh()
        return runner.run_query(
            self.path,
            name,
            params,
            since=since,
            until=until,
            app=app,
            limit=limit,
            library=self.library,
            notify=self.notify,
            allow_writes=self.allow_writes,
            estimate=estimate,
        )

    @interruptible
    def session(self, session_id: str) -> SessionDetail:
        """One session by id or unique id prefix (``rumq session ID``).

        Returns:
            ``.summary`` (a dict: user, browser, device, country, start,
            duration, page views, errors...) and ``.events`` (a frame: one row
            per event in session order with ``t_s``, ``event``, ``page``, ``detail``);
            for an id with events with and without a user id, these are its cookie
            session and ``.cookieless_part`` its cookieless one (as in sessions/list).

        Raises:
            UnknownIdError, AmbiguousIdError: the id does not name exactly one session.
        """
        from rumq.sessions import session_detail

        return session_detail(self.path, session_id)

    @interruptible
    def user(self, user_id: str) -> pl.DataFrame:
        """One user's sessions, oldest first, by user id or unique prefix (``rumq user ID``).

        The user's cookie sessions: events of the same session id without a user id
        are a cookieless session, not the user's (as in sessions/list).

        Raises:
            UnknownIdError, AmbiguousIdError: the id does not name exactly one user.
        """
        from rumq.sessions import user_sessions

        return user_sessions(self.path, user_id)[1]

    @interruptible
    def sessions(
        self, since: TimeArg = None, until: TimeArg = None, app: str | None = None, **filters: Any
    ) -> pl.DataFrame:
        """Sessions newest first, filtered by what happened in them: ``sessions/list``.

        ``**filters`` are its parameters: ``js_error``, ``http_error``, ``page``
        (glob), ``browser``, ``os``, ``device``, ``country``, ``min_duration``,
        ``max_duration``, ``min_pages``, ``top``, ``include_cookieless``.
        """
        return self.run("sessions/list", since=since, until=until, app=app, **filters)

    @interruptible
    def retention_triangle(
        self,
        period: str = "week",
        since: TimeArg = None,
        until: TimeArg = None,
        app: str | None = None,
        value: str = "retention",
    ) -> pl.DataFrame:
        """``users/retention`` as the classic triangle: a row per cohort, a column per period.

        Args:
            period: ``hour``, ``day`` or ``week``.
            since: window start (see ``run``).
            until: window end (exclusive).
            app: keep only this application.
            value: ``retention`` (shares) or ``users`` (counts) in the cells.

        Returns:
            ``cohort``, ``cohort_users``, then ``p0``, ``p1``, ... (``rumq.users.retention_triangle``).
        """
        from rumq.users import retention_triangle

        return retention_triangle(self.run("users/retention", since=since, until=until, app=app, period=period),
                                  value)

    @interruptible
    def sql(
        self,
        text: str,
        since: TimeArg = None,
        until: TimeArg = None,
        app: str | None = None,
        limit: int | None = None,
        allow_writes: bool | None = None,
        **params: Any,
    ) -> pl.DataFrame:
        """Run SQL over the views (``events``, ``page_views``, ``sessions``, ...).

        ``**params`` are bound as DuckDB named parameters (``$name`` in ``text``).
        The SQL is read-only unless ``allow_writes`` (default: the Dataset's).

        Raises:
            ReadOnlyError: the SQL writes, attaches, loads an extension, changes
                a setting or reads a file outside the dataset while read-only.
        """
        writes = self.allow_writes if allow_writes is None else allow_writes
        return runner.run_sql(
            self.path, text, since=since, until=until, app=app, limit=limit, params=params,
            allow_writes=writes, notify=self.notify,
        )

    @interruptible
    def insights(
        self,
        text: str,
        since: TimeArg = None,
        until: TimeArg = None,
        app: str | None = None,
        limit: int | None = None,
    ) -> pl.DataFrame:
        """Run a Logs Insights query over the window."""
        return runner.run_insights(
            self.path, text, since=since, until=until, app=app, limit=limit, notify=self.notify
        )

    def queries(self) -> list[Query]:
        """The available named queries (built-in and user), sorted by name.

        Malformed files are left out; ``query_problems()`` lists them.
        """
        return list(self._listing().queries.values())

    def query(self, name: str) -> Query:
        """One named query's definition (header, parameters, body)."""
        self.library.refresh()
        return self.library.get(name)

    def query_problems(self) -> list[str]:
        """One message per malformed query file in the libraries."""
        return [str(p) for p in self._listing().problems]

    def _listing(self) -> Listing:
        self.library.refresh()
        return self.library.load()

    def connect(
        self, since: TimeArg = None, until: TimeArg = None, app: str | None = None
    ) -> duckdb.DuckDBPyConnection:
        """A fresh DuckDB connection with ``events`` and the analysis views for the window.

        Restricted like ``sql()`` (the dataset's files only, configuration
        locked) unless the Dataset was opened with ``allow_writes=True``.
        """
        return runner.connect(self.path, since=since, until=until, app=app, allow_writes=self.allow_writes)

    def relation(
        self,
        view: str = "events",
        since: TimeArg = None,
        until: TimeArg = None,
        app: str | None = None,
    ) -> duckdb.DuckDBPyRelation:
        """A DuckDB relation over one of the views (default ``events``) for the window."""
        con = self.connect(since=since, until=until, app=app)
        names = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        if view not in names:
            from rumq.errors import UsageError

            raise UsageError(f"no view named {view!r}; views: {', '.join(sorted(names))}")
        return con.view(view)

    def view(
        self, name: str, since: TimeArg = None, until: TimeArg = None, app: str | None = None
    ) -> pl.LazyFrame:
        """One analysis view (``page_views``, ``sessions``, ... docs/analyses.md) as a Polars LazyFrame.

        The same columns, types and rows as the DuckDB view of that name for
        the window and application (``session_uuid`` stays 16 raw bytes);
        computed by Polars from the window's Parquet files, with the filters
        and the columns a query uses pushed down to the scan.

        Raises:
            UsageError: no view of that name, a bad window or application.
        """
        return self.views(since=since, until=until, app=app)[name]

    def views(self, since: TimeArg = None, until: TimeArg = None, app: str | None = None) -> Any:
        """Every analysis view of the window as LazyFrames (``rumq.engines.polars_views.Views``).

        ``v = ds.views(since="7d")`` then ``v.sessions``, ``v["page_views"]``,
        ``v.audience("browser_name")``: what a Polars query file receives.
        """
        return runner.polars_views(self.path, since=since, until=until, app=app)

    def events(self, since: TimeArg = None, until: TimeArg = None, app: str | None = None) -> pl.LazyFrame:
        """The events of the window as a Polars LazyFrame scanning the committed Parquet files.

        Only the partitions that overlap the window are scanned.
        """
        import polars as pl

        from rumq.catalog import window_dates
        from rumq.schema import COLUMN_NAMES, DERIVED, ID_STORAGE, PARTITION_COLUMN
        from rumq.store import Store

        w = runner.window(since, until)
        store = Store(self.path)
        store.check()
        start, end = window_dates(w.since, w.until)
        files = store.event_files(start, end)
        if store.remote:
            # Polars' own S3 client knows neither rumq's endpoint settings nor its
            # retries: on an object store DuckDB reads the window (as every query does).
            con = runner.connect(self.path, since=w.since, until=w.until, app=app)
            cols = ", ".join(c for c in COLUMN_NAMES if c not in DERIVED or c in ID_STORAGE or c == "message")
            return pl.from_arrow(con.sql(f"SELECT {cols}, {PARTITION_COLUMN} FROM events").to_arrow_table()).lazy()
        if not files:
            # No file to scan: an empty frame with the catalog's column types.
            con = runner.connect(self.path, since=w.since, until=w.until, app=app)
            return con.sql("SELECT * FROM events LIMIT 0").pl().lazy()
        lf = pl.scan_parquet(files, hive_partitioning=True)
        # The canonical columns (not ingest bookkeeping); metadata and
        # event_details live in `message` (pl.col("message").str.json_path_match).
        lf = lf.select(
            *(_polars_id(name) if name in ID_STORAGE else _polars_message() if name == "message" else pl.col(name)
              for name in COLUMN_NAMES if name not in DERIVED or name in ID_STORAGE or name == "message"),
            pl.col(PARTITION_COLUMN).cast(pl.Date),
        )
        if w.since is not None:
            lf = lf.filter(pl.col("event_time") >= w.since)
        if w.until is not None:
            lf = lf.filter(pl.col("event_time") < w.until)
        if app is not None:
            from rumq.catalog import resolve_app

            lf = lf.filter(pl.col("application_id") == resolve_app(self.path, app))
        return lf


def _polars_message() -> pl.Expr:
    """``message`` rebuilt byte for byte from its storage (``rumq.schema.MESSAGE_STORAGE``).

    """
    import polars as pl

    head, tail = pl.col("message_head"), pl.col("message_tail")
    rebuilt = pl.concat_str([head, pl.col("event_id"), tail])
    return pl.when(tail.is_null()).then(head).otherwise(rebuilt).alias("message")


def _polars_id(name: str) -> pl.Expr:
    """``session_id`` / ``user_id`` as text from their stored pair (``rumq.schema.ID_STORAGE``).

    Polars reads the UUID half as 16 raw bytes: rendered here in canonical form.
    """
    import polars as pl

    from rumq.schema import ID_STORAGE

    u, t = (c.name for c in ID_STORAGE[name])
    hexed = pl.col(u).bin.encode("hex")
    parts = [hexed.str.slice(a, n) for a, n in ((0, 8), (8, 4), (12, 4), (16, 4), (20, 12))]
    return pl.coalesce(pl.concat_str(parts, separator="-"), pl.col(t)).alias(name)
