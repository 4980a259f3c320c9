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
