"""DuckDB connections over a dataset: the ``events`` view and the analysis views.

The time window prunes at the file level: only the partitions (UTC dates)
that overlap ``[since, until)`` are handed to ``read_parquet``, so a one-day
window reads one day's files. The window bounds and file list reach SQL as
DuckDB variables set from bound parameters, never as formatted text.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rumq.schema import COLUMNS, DERIVED, PARTITION_COLUMN, STORED_COLUMNS
from rumq.store import Store

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

#: DuckDB settings for every rumq connection: UTC, so no local-zone surprises;
#: Parquet footers cached, because every view definition binds against the
#: window's files (rumq never rewrites a file in place, so the cache is safe).
SETTINGS = {"TimeZone": "UTC", "parquet_metadata_cache": True}


def new_connection(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set up the rumq way: UTC, and no progress bar.

    DuckDB's progress bar writes to stdout, which carries data only. Under
    Jupyter without ipywidgets DuckDB refuses to change that setting at all;
    there the bar would be a widget, not stdout, so it is left alone.
    """
    import duckdb

    con = duckdb.connect(database)
    try:
        con.execute("SET enable_progress_bar = false").fetchall()
    except duckdb.InvalidInputException:
        pass
    for k, v in SETTINGS.items():
        con.execute(f"SET {k} = ?", [v]).fetchall()
    return con


def window_dates(since: datetime | None, until: datetime | None) -> tuple:
    """The inclusive partition dates that can hold rows of ``[since, until)``."""
    start = since.date() if since else None
    end = None
    if until is not None:
        # until is exclusive: a window ending at midnight does not touch that day.
        end = (until - timedelta(microseconds=1)).date()
    return start, end


def connect(
    data_dir: str | os.PathLike[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    app: str | None = None,
    allow_missing: bool = False,
    views: bool = True,
    for_sql: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection with the dataset's views.

    Args:
        data_dir: the dataset directory.
        since: keep events with ``event_time >= since`` (naive UTC).
        until: keep events with ``event_time < until`` (naive UTC).
        app: keep only this ``application_id``.
        allow_missing: an absent dataset gives empty views instead of an error.
        views: also create the analysis views (``rumq.views``).
        for_sql: create only the views this statement reads (``rumq.views.views_for``);
            None: every view (for ad-hoc SQL). Each view costs a few ms to create.

    Returns:
        A connection with the view ``events`` (canonical columns + ``event_date``)
        and ``rumq_events`` (the same plus the stored id pairs, for the views).

    Raises:
        DatasetError: the directory is not a dataset (unless ``allow_missing``).
    """

    store = Store(data_dir)
    if not allow_missing:
        store.check()
    start, end = window_dates(since, until)
    files = store.event_files(start, end) if store.exists() else []
    con = new_connection()
    con.execute("SET VARIABLE rumq_since = ?::TIMESTAMP", [since]).fetchall()
    con.execute("SET VARIABLE rumq_until = ?::TIMESTAMP", [until]).fetchall()
    con.execute("SET VARIABLE rumq_app = ?::VARCHAR", [app]).fetchall()
    if files:
        con.execute("SET VARIABLE rumq_files = ?::VARCHAR[]", [files]).fetchall()
        source = "read_parquet(getvariable('rumq_files'), hive_partitioning = true)"
        stored = [c.name for c in STORED_COLUMNS] + [PARTITION_COLUMN]
    else:
        source = "(SELECT 1) AS nothing"
        stored = [f"CAST(NULL AS {c.type}) AS {c.name}" for c in STORED_COLUMNS] + [
            f"CAST(NULL AS DATE) AS {PARTITION_COLUMN}"
        ]
    where = ["1 = 1" if files else "false"]
    if since is not None:
        where.append("event_time >= getvariable('rumq_since')")
    if until is not None:
        where.append("event_time < getvariable('rumq_until')")
    if app is not None:
        where.append("application_id = getvariable('rumq_app')")
    # rumq_events: the stored columns (the id storage pairs the session views
    # group by) plus the derived ones; events: the canonical table.
    derived = [f"{expr} AS {name}" for name, expr in DERIVED.items()]
    con.execute(
        f"CREATE VIEW rumq_events AS SELECT {', '.join(stored + derived)} FROM {source} WHERE {' AND '.join(where)}"
    ).fetchall()
    con.execute(
        f"CREATE VIEW events AS SELECT {', '.join([c.name for c in COLUMNS] + [PARTITION_COLUMN])} FROM rumq_events"
    ).fetchall()
    if views:
        from rumq import views as views_mod

        only = views_mod.views_for(con, for_sql) if for_sql is not None else None
        views_mod.create_views(con, data_dir=data_dir, only=only)
    return con


def window_files(
    data_dir: str | os.PathLike[str], since: datetime | None = None, until: datetime | None = None
) -> list[str]:
    """The files a connection for this window reads (for explain and tests)."""
    start, end = window_dates(since, until)
    return Store(data_dir).event_files(start, end)


def applications(data_dir: str | os.PathLike[str]) -> list[tuple[str, str | None]]:
    """The dataset's ``(application_id, application_name)`` pairs, as ``rumq info`` lists them."""
    con = connect(data_dir, views=False)
    try:
        return con.execute(
            "SELECT application_id, any_value(application_name) FROM events "
            "WHERE application_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1"
        ).fetchall()
    finally:
        con.close()


def resolve_app(data_dir: str | os.PathLike[str], app: str | None) -> str | None:
    """The application id that ``app`` names: an id, a unique id prefix, or a name.

    The CLI's ``--app``, the notebook API and reports all resolve through here.
    An exact id wins, then an application name (case-insensitive), then a
    prefix of exactly one id. A dataset without events resolves nothing
    (``app`` is returned as given: the window is empty either way).

    Raises:
        UsageError: no application matches (with a did-you-mean), or the
            name or prefix matches more than one.
    """
    import difflib

    from rumq.errors import UsageError

    if app is None:
        return None
    con = connect(data_dir, views=False)
    try:  # the common case, an exact id, stops at its first event
        if con.execute("SELECT 1 FROM events WHERE application_id = ? LIMIT 1", [app]).fetchall():
            return app
    finally:
        con.close()
    apps = applications(data_dir)
    if not apps:
        return app
    ids = [a for a, _ in apps]
    if app in ids:
        return app
    key = app.strip().casefold()
    by_name = [a for a, n in apps if n and n.casefold() == key]
    by_prefix = [a for a in ids if a.casefold().startswith(key)] if key else []
    for found, what in ((by_name, "name"), (by_prefix, "id prefix")):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise UsageError(
                f"--app {app!r}: the {what} matches {len(found)} applications: {', '.join(found)}",
                hint="give more of the application id",
            )
    names = {n: a for a, n in apps if n}
    close = difflib.get_close_matches(app, ids + list(names), n=1, cutoff=0.6)
    listing = ", ".join(f"{a} ({n})" if n else a for a, n in apps[:5]) + (", ..." if len(apps) > 5 else "")
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UsageError(
        f"--app {app!r}: no application with that id, id prefix or name in the dataset",
        hint=f"{hint}applications (`rumq info` lists them): {listing}",
    )


def event_range(data_dir: str | os.PathLike[str]) -> tuple[datetime | None, datetime | None]:
    """The first and last event time of the whole dataset (naive UTC), or Nones."""
    con = connect(data_dir, views=False)
    try:
        return con.execute("SELECT min(event_time), max(event_time) FROM events").fetchone()
    finally:
        con.close()
