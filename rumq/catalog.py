"""DuckDB connections over a dataset: the ``events`` view and the analysis views.

The time window prunes at the file level: only the partitions (UTC dates)
that overlap ``[since, until)`` are handed to ``read_parquet``, so a one-day
window reads one day's files. The window bounds and file list reach SQL as
DuckDB variables set from bound parameters, never as formatted text.

Connections are read-only by default: once the views exist, ``restrict``
limits DuckDB to reading the window's own Parquet files (no other file, no
writes, no ATTACH, no extension install or load) and locks the configuration
so that ``SET``/``RESET`` cannot lift it. ``check_read_only`` refuses, before
anything runs, the statements that would write even so (``COPY`` onto a
dataset file, ``EXPORT``, ...). ``allow_writes=True`` skips both.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from rumq.errors import ReadOnlyError
from rumq.schema import COLUMNS, DERIVED, PARTITION_COLUMN, STORED_COLUMNS
from rumq.store import State, Store

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

#: DuckDB settings for every rumq connection: UTC, so no local-zone surprises;
#: Parquet footers cached, because every view definition binds against the
#: window's files (rumq never rewrites a file in place, so the cache is safe).
#: One script, one round trip (rumq's own constants, no outside value).
SETTINGS_SQL = "SET TimeZone = 'UTC'; SET parquet_metadata_cache = true"


#: A query's share of physical memory when ``RUMQ_MEMORY_LIMIT`` is not set
#: (DuckDB's own default is 80%): half leaves the rest of a laptop usable, and
#: DuckDB spills its joins, aggregates and sorts to disk beyond it.
DEFAULT_MEMORY_SHARE = 0.5


def memory_limit() -> str:
    """DuckDB's ``memory_limit`` for query connections: ``RUMQ_MEMORY_LIMIT``, else half of physical memory.

    Raises:
        UsageError: the variable is not a size DuckDB reads (``4GB``, ``512MB``).
    """
    raw = os.environ.get("RUMQ_MEMORY_LIMIT", "").strip()
    if raw:
        if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", raw, re.IGNORECASE):
            from rumq.errors import UsageError

            raise UsageError(f"RUMQ_MEMORY_LIMIT={raw!r} is not a memory size",
                             hint="set it to a size such as 4GB or 512MB (the most a query may hold in memory)")
        return raw
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not Linux/macOS: DuckDB's own default
        return ""
    return f"{max(256, int(total * DEFAULT_MEMORY_SHARE) // 2**20)}MiB"


def spill_directory() -> str:
    """Where DuckDB spills: a directory of this process under the system's temporary directory.

    DuckDB's default is ``.tmp`` in the working directory: a query would write
    into wherever the user (or cron) happens to stand. One directory per process,
    because two DuckDB processes must not share temporary files.
    """
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"rumq-spill-{os.getpid()}")


def new_connection(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set up the rumq way: UTC, no progress bar, bounded memory.

    DuckDB's progress bar writes to stdout, which carries data only. Under
    Jupyter without ipywidgets DuckDB refuses to change that setting at all;
    there the bar would be a widget, not stdout, so it is left alone. Memory is
    bounded by ``memory_limit()``; beyond it DuckDB spills to ``spill_directory()``.

    Raises:
        UsageError: ``RUMQ_MEMORY_LIMIT`` is not a memory size.
    """
    import duckdb

    limit = memory_limit()
    # The engine's own settings go in with the connection (values, never SQL text); the others
    # need the extensions loaded by then and go in as one script: each statement is a round trip.
    config = {"temp_directory": spill_directory()}
    if limit:
        config["memory_limit"] = limit
    con = duckdb.connect(database, config=config)
    try:
        con.execute("SET enable_progress_bar = false").fetchall()
    except duckdb.InvalidInputException:
        pass
    con.execute(SETTINGS_SQL).fetchall()
    from rumq.interrupt import track

    return track(con)  # Ctrl-C stops its statements at once (rumq.interrupt)


#: The last committed state read, by dataset: (state file identity, State). A
#: commit replaces state.json (by rename, or by a PUT with a new ETag), so a
#: new commit has a new identity.
_STATES: dict[str, tuple[object, State]] = {}


def committed_state(store: Store) -> State:
    """``store.load_state()``, read once per command (and again only after a new commit).

    Every connection of a command (the window, the empty-window notice, the
    ingest totals of ``data/quality``) needs the manifest; parsing it once
    keeps set-up independent of how many parts ask.
    """
    key = store.state_identity()  # on an object store: one HEAD, not the manifest's GET
    if key is None:
        return store.load_state()  # absent or unreadable: the store says why
    hit = _STATES.get(str(store.state_path))
    if hit is not None and hit[0] == key:
        return hit[1]
    state = store.load_state()
    _STATES[str(store.state_path)] = (key, state)
    return state


def event_files(store: Store, start: date | None = None, end: date | None = None,
                state: State | None = None) -> list[str]:
    """``store.event_files`` over the state read once (``committed_state``, or ``state``)."""
    out = []
    for f in (state or committed_state(store)).files:
        d = date.fromisoformat(f["date"])
        if (start is None or d >= start) and (end is None or d <= end):
            out.append(store.url(f["path"]))
    return sorted(out)


def holds_events(data_dir: str | os.PathLike[str], since: datetime | None, until: datetime | None) -> bool:
    """True when the manifest alone shows that ``[since, until)`` holds events (of any application).

    A file of a day that lies wholly inside the window, whose manifest entry
    counts rows, holds events of the window (files are partitioned by the UTC
    date of ``event_time``). False: the manifest cannot tell, ask the data.
    """
    for f in committed_state(Store(data_dir)).files:
        if not int(f.get("rows") or 0):
            continue
        day = datetime.fromisoformat(f["date"])
        if (since is None or since <= day) and (until is None or day + timedelta(days=1) <= until):
            return True
    return False


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
    allow_writes: bool = False,
    stratum: Sequence[str] | None = None,
    range_if_empty: bool = False,
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
        allow_writes: leave the connection unrestricted; by default it can read
            only the window's files and its configuration is locked (``restrict``).
        stratum: keep only the sessions (and session-less events) of these sampling keys
            (``rumq.sampling.KEY_SQL``: application id and session start day), for ``--estimate``
            across rate changes; None: every event.
        range_if_empty: when the window selects no file (so it holds no event), read the
            dataset's first and last event time (``event_range``, what the empty-window warning
            names) on this connection before it is restricted, saving a connection of its own.

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
    # One read of the manifest for the file list and sizes (empty when there is no dataset):
    # on an object store each read is a request.
    state = committed_state(store)
    files = event_files(store, start, end, state)
    con = new_connection()
    if store.remote:
        store.prepare(con, store.file_sizes(state))
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
    rows = f"SELECT {', '.join(stored + derived)} FROM {source} WHERE {' AND '.join(where)}"
    if stratum is not None:
        from rumq.sampling import stratum_sql

        con.execute("SET VARIABLE rumq_stratum = ?::VARCHAR[]", [list(stratum)]).fetchall()
        rows = stratum_sql(rows, "getvariable('rumq_stratum')")
    con.execute(f"CREATE VIEW rumq_events AS {rows}").fetchall()
    con.execute(
        f"CREATE VIEW events AS SELECT {', '.join([c.name for c in COLUMNS] + [PARTITION_COLUMN])} FROM rumq_events"
    ).fetchall()
    if views:
        from rumq import views as views_mod

        only = None
        if for_sql is not None:
            from rumq.library_index import shipped_reads

            # A built-in's text: what it reads is shipped (no parse by DuckDB).
            reads = shipped_reads(for_sql)
            only = views_mod.views_for(con, for_sql) if reads is None else views_mod.views_for_relations(reads)
        views_mod.create_views(con, data_dir=data_dir, only=only, statement=for_sql,
                               macros=only is None or views_mod.calls_macros(for_sql or ""))
    if range_if_empty and not files and state.files:
        import duckdb

        try:
            event_range(data_dir, con=con)
        except duckdb.Error:  # a damaged first or last day: the warning's own attempt says nothing either
            pass
    if not allow_writes:
        restrict(con, files)
    return con


#: Statement types that only read. EXPLAIN is checked for what it explains
#: (EXPLAIN ANALYZE runs its statement); PRAGMA and CALL run table functions,
#: which a restricted connection keeps away from files and settings.
READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "CALL"})
#: Why a refused statement type is refused, for the message.
_WHAT = {
    "COPY": "COPY reads or writes files",
    "COPY_DATABASE": "COPY FROM DATABASE writes a database",
    "EXPORT": "EXPORT DATABASE writes files",
    "ATTACH": "ATTACH opens another database",
    "DETACH": "DETACH changes the attached databases",
    "LOAD": "INSTALL and LOAD add extensions",
    "EXTENSION": "INSTALL and LOAD add extensions",
    "SET": "SET, RESET and SET VARIABLE change settings",
    "VARIABLE_SET": "SET VARIABLE changes the query variables",
    "EXPLAIN": "EXPLAIN ANALYZE runs the statement it explains, which could not be checked",
}
#: (A pattern, compiled by ``re`` at first use: only EXPLAIN statements need it.)
_EXPLAIN_RE = r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*EXPLAIN\s+(?:ANALY[SZ]E\s+)?(?:\([^)]*\)\s*)?"
READ_ONLY_HINT = (
    "rumq runs SQL read-only over the dataset's own files; to lift that, pass --allow-writes "
    "(rumq sql, rumq run), allow_writes=True (Python), or set allow_writes = true in the report "
    "definition or under [sql] in rumq.toml"
)


#: Connections made read-only by ``restrict``: nothing of theirs outlives the process.
_READ_ONLY: weakref.WeakSet = weakref.WeakSet()
#: Set by the ``rumq`` script for a command that ends the process with ``os._exit``
#: (``rumq.cli.QUICK_EXIT``): ``release`` leaves read-only connections to the exit.
_PROCESS_ENDS = False


def process_ends_after_command() -> None:
    """Tell ``release`` that the process ends after this command (the ``rumq`` script only)."""
    global _PROCESS_ENDS
    _PROCESS_ENDS = True


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Close ``con``, unless it only read and the process ends right after the command.

    Closing frees what the query allocated: 21-26 ms after one built-in query
    at 5M events on a 2-core VM, which the process's exit frees anyway. An
    unrestricted connection (``allow_writes``) is always closed. What DuckDB
    may have spilled goes with ``remove_spill_directory`` at the exit.
    """
    if _PROCESS_ENDS and con in _READ_ONLY:
        return
    con.close()


def remove_spill_directory() -> None:
    """Remove this process's spill directory, if a query spilled (before an exit without closing)."""
    path = spill_directory()
    if os.path.isdir(path):
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def restrict(con: duckdb.DuckDBPyConnection, files: Sequence[str]) -> None:
    """Make ``con`` read-only: only ``files`` readable, configuration locked.

    DuckDB's external access is switched off, which blocks every other file
    (``read_csv``, ``read_text``, ``COPY``, ``ATTACH``, ``EXPORT DATABASE``)
    and extension installs and loads; ``allowed_paths`` lets the views read
    the window's Parquet files and nothing else. Spilling to DuckDB's temporary
    directory is DuckDB's own and keeps working. Last, ``lock_configuration``
    makes every later ``SET``/``RESET`` fail, so no query can lift this.
    """
    con.execute("SET allowed_paths = ?::VARCHAR[]", [list(files)]).fetchall()
    # One script, one round trip; the lock last.
    con.execute("SET allowed_directories = []; SET autoinstall_known_extensions = false; "
                "SET autoload_known_extensions = false; SET enable_external_access = false; "
                "SET lock_configuration = true").fetchall()
    _READ_ONLY.add(con)


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str, *, what: str = "SQL") -> None:
    """Refuse ``sql`` unless every statement in it only reads.

    ``restrict`` stops DuckDB from touching other files, but the window's own
    files stay reachable, so a ``COPY ... TO`` one of them would overwrite
    the dataset: statements that are not reads are refused here, before any
    of them runs. SQL that does not parse is left to the run to report.

    Raises:
        ReadOnlyError: a statement writes, attaches, loads or changes settings.
    """
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error:
        return
    for st in statements:
        kind = _refused_kind(con, st)
        if kind is None:
            continue
        why = _WHAT.get(kind, f"{kind.replace('_', ' ')} statements change the database")
        text = " ".join(st.query.split())
        shown = text if len(text) <= 60 else text[:59] + "…"
        raise ReadOnlyError(f"{what} is read-only and cannot run `{shown}`: {why}", hint=READ_ONLY_HINT)


def _refused_kind(con: duckdb.DuckDBPyConnection, st: duckdb.Statement) -> str | None:
    """The statement type that makes ``st`` not a read, or None when it reads."""
    import duckdb

    kind = st.type.name
    if kind != "EXPLAIN":
        return None if kind in READ_STATEMENTS else kind
    # EXPLAIN ANALYZE runs what it explains: judge that statement.
    m = re.match(_EXPLAIN_RE, st.query, re.IGNORECASE | re.DOTALL)
    inner = st.query[m.end():] if m else ""
    try:
        explained = con.extract_statements(inner) if inner.strip() else []
    except duckdb.Error:
        explained = []
    if not explained:
        return "EXPLAIN"
    return next((k for k in (_refused_kind(con, e) for e in explained) if k), None)


def read_only_error(e: Exception, *, what: str = "SQL") -> ReadOnlyError | None:
    """The ``ReadOnlyError`` for a DuckDB error that a restricted connection raised, else None."""
    import duckdb

    first = (str(e).strip().splitlines() or [""])[0]
    if isinstance(e, duckdb.PermissionException):
        return ReadOnlyError(
            f"{what} was refused: queries can read only the dataset's own files ({first})",
            hint=READ_ONLY_HINT,
        )
    if "configuration has been locked" in first:
        return ReadOnlyError(f"{what} was refused: settings cannot be changed ({first})", hint=READ_ONLY_HINT)
    return None


def window_files(
    data_dir: str | os.PathLike[str], since: datetime | None = None, until: datetime | None = None
) -> list[str]:
    """The files a connection for this window reads (for explain and tests)."""
    start, end = window_dates(since, until)
    return event_files(Store(data_dir), start, end)


def applications(data_dir: str | os.PathLike[str]) -> list[tuple[str, str | None]]:
    """The dataset's ``(application_id, application_name)`` pairs, as ``rumq info`` lists them."""
    con = connect(data_dir, views=False)
    try:
        return con.execute(
            "SELECT application_id, any_value(application_name) FROM events "
            "WHERE application_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1"
        ).fetchall()
    finally:
        release(con)


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
    from rumq.errors import UsageError

    if app is None:
        return None
    con = connect(data_dir, views=False)
    try:  # the common case, an exact id, stops at its first event
        if con.execute("SELECT 1 FROM events WHERE application_id = ? LIMIT 1", [app]).fetchall():
            return app
    finally:
        release(con)
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
    import difflib  # only for the message

    close = difflib.get_close_matches(app, ids + list(names), n=1, cutoff=0.6)
    listing = ", ".join(f"{a} ({n})" if n else a for a, n in apps[:5]) + (", ..." if len(apps) > 5 else "")
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UsageError(
        f"--app {app!r}: no application with that id, id prefix or name in the dataset",
        hint=f"{hint}applications (`rumq info` lists them): {listing}",
    )


#: The last event range computed, by dataset: (the ``committed_state`` it was computed from, range).
_RANGES: dict[str, tuple[State, tuple[datetime | None, datetime | None]]] = {}

# The first and the last event time, as min() and max() would give them: a top-1 lets DuckDB skip
# the row groups whose statistics cannot hold it (about half the instructions of min()/max()).
_RANGE_SQL = (
    "SELECT (SELECT event_time FROM read_parquet(?::VARCHAR[]) WHERE event_time IS NOT NULL "
    "ORDER BY event_time LIMIT 1), "
    "(SELECT event_time FROM read_parquet(?::VARCHAR[]) WHERE event_time IS NOT NULL "
    "ORDER BY event_time DESC LIMIT 1)"
)


def event_range(
    data_dir: str | os.PathLike[str], *, con: duckdb.DuckDBPyConnection | None = None
) -> tuple[datetime | None, datetime | None]:
    """The first and last event time of the whole dataset (naive UTC), or Nones.

    Files are partitioned by the UTC date of ``event_time``, so the first event
    is in the first day's files and the last in the last day's: reading those
    alone keeps the empty-window warning from scanning the whole history.
    Kept until the next commit (as ``committed_state``). ``con``: an
    unrestricted connection to read with (prepared for the store), instead of
    a new one.
    """
    store = Store(data_dir)
    state = committed_state(store)
    hit = _RANGES.get(str(store.state_path))
    if hit is not None and hit[0] is state:
        return hit[1]
    dates = sorted({f["date"] for f in state.files})
    if not dates:
        return None, None
    first = [store.url(f["path"]) for f in state.files if f["date"] == dates[0]]
    last = [store.url(f["path"]) for f in state.files if f["date"] == dates[-1]]
    own = con is None
    if con is None:
        con = new_connection()
    try:
        if own and store.remote:
            store.prepare(con, store.file_sizes(state))
        found = con.execute(_RANGE_SQL, [first, last]).fetchone()
    finally:
        if own:
            con.close()
    _RANGES[str(store.state_path)] = (state, found)
    return found
