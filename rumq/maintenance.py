"""Dataset-level reports and upkeep: ``info``, ``rejects``, ``compact``."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rumq.schema import FILE_COLUMNS
from rumq.store import StagedFile, Store


def dataset_info(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Summary of a dataset: events, dates, apps, types, sessions, coverage, rejects, size.

    Raises:
        DatasetError: not a dataset.
    """
    from rumq import catalog

    store = Store(data_dir)
    store.check()
    state = store.load_state()
    # Sessions, users and coverage as the session analyses count them
    # (sessions/summary over the whole dataset): only the two views they need.
    counts = "SELECT * FROM session_stats, cookie_coverage"
    con = catalog.connect(data_dir, for_sql=counts)
    row = con.execute(
        # Distinct ids from the stored pairs (one of a pair is set): no text per row.
        "SELECT count(*), min(event_time), max(event_time), "
        "count(DISTINCT session_uuid) + count(DISTINCT session_text), "
        "count(session_uuid) + count(session_text), count(*) FILTER (WHERE NOT cookieless) FROM rumq_events"
    ).fetchone()
    events, first, last, session_ids, with_session, cookie_events = row
    sessions, cookieless_sessions, users = con.execute(
        "SELECT count(*) FILTER (WHERE NOT cookieless), count(*) FILTER (WHERE cookieless), "
        "count(DISTINCT user_id) FILTER (WHERE NOT cookieless) FROM session_stats"
    ).fetchone()
    coverage, page_views = con.execute("SELECT coverage, page_views FROM cookie_coverage").fetchone()
    apps = con.execute(
        "SELECT application_id, any_value(application_name), count(*) FROM events GROUP BY 1 ORDER BY 3 DESC"
    ).fetchall()
    types = con.execute(
        "SELECT event_type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    (reconstructed,) = con.execute("SELECT count(*) FROM rumq_events WHERE message_reconstructed").fetchone()
    con.close()
    return {
        "dataset": str(store.root),
        "events": events,
        "first_event": first.isoformat() + "Z" if first else None,
        "last_event": last.isoformat() + "Z" if last else None,
        "days": len({f["date"] for f in state.files}),
        "applications": [{"application_id": a, "application_name": n, "events": c} for a, n, c in apps],
        "event_types": {t: c for t, c in types},
        # sessions/summary's numbers over the whole dataset: cookie sessions with
        # a page view, their distinct users, and the page views' cookie coverage.
        "sessions": sessions,
        "cookieless_sessions": cookieless_sessions,
        "users": users,
        "page_views": page_views,
        "cookie_coverage": coverage,
        # Raw id counts over every event (sessions without a page view included).
        "session_ids": session_ids,
        "known_session_share": (with_session / events) if events else None,
        "cookie_event_share": (cookie_events / events) if events else None,
        "rejects": sum(int(r.get("rows", 0)) for r in state.rejects),
        "duplicates_dropped": sum(int(i.get("duplicates", 0)) for i in state.ingests),
        "inputs": len(state.inputs),
        "ingests": len(state.ingests),
        "files": len(state.files),
        "bytes_on_disk": store.size_on_disk(),
        "reconstructed_events": reconstructed,
        "source_fields_missing": source_fields_missing(state),
    }


def source_fields_missing(state: Any) -> list[dict[str, Any]]:
    """Fields the dataset's Parquet / ORC inputs lacked (from the manifest), those that cost an analysis first.

    Returns:
        ``[{"field", "inputs", "consequence"}]``: see ``rumq.ingest.columnar.missing_fields_summary``.
    """
    from rumq.ingest.columnar import missing_fields_summary

    lacking: dict[str, int] = {}
    for entry in state.inputs.values():
        for f in entry.get("missing_fields") or ():
            lacking[f] = lacking.get(f, 0) + 1
    return missing_fields_summary(lacking)


def iter_rejects(data_dir: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every rejected record of the dataset, oldest ingest first."""
    store = Store(data_dir)
    store.check()
    for path in store.rejects_files():
        for line in store.read_lines(path):
            if line.strip():
                yield json.loads(line)


def rejects_summary(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Rejects counted by reason (``reason_kind``: the reason without one record's details) and by source file."""
    from rumq.ingest.rejects import reason_kind

    reasons: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    total = 0
    for rec in iter_rejects(data_dir):
        total += 1
        reasons[reason_kind(rec.get("reason"))] += 1
        sources[rec.get("source", "?")] += 1
    return {"rejects": total, "by_reason": dict(reasons.most_common()), "by_source": dict(sources.most_common())}


#: Rows (and bytes) per row group of a merged file. The writer buffers a row
#: group (messages are ~1 KB each) of the one file it writes, so this bounds the
#: memory a merge needs.
COMPACT_ROW_GROUP = 122_880
COMPACT_GROUP_BYTES = 96 << 20
#: Splitting mixed files by event_name keeps one open output per event_name,
#: each buffering a row group: small row groups there (rewritten by the merge
#: that follows), and a cap on open outputs, bound the memory of the split.
SPLIT_ROW_GROUP = 4_096
SPLIT_FLUSH_ROWS = 10_000
SPLIT_MAX_OPEN_FILES = 32
#: Manifest key of a file that ``compact`` kept because rewriting its day would have grown it.
CLUSTERING_GROWS = "clustering_grows"
#: After an ingest, a day holding this many small files gets them merged.
AUTO_COMPACT_FILES = 8
#: Files with fewer rows count as small. A large ingest writes ~50k-row files,
#: which are fine as they are; small ingests write small files.
SMALL_FILE_ROWS = 10_000


def compact(
    data_dir: str | os.PathLike[str],
    *,
    min_files: int = 2,
    small_rows: int | None = None,
    allow_growth: bool = False,
    wait: bool = True,
    on_notice=None,
) -> dict[str, Any]:
    """Rewrite each day's files as one file per event_name.

    A day is rewritten when one of its event_names is spread over at least
    ``min_files`` files, or when it holds a mixed file (several event_names in
    one file, or a file written before files were clustered). Every row group
    of the result holds a single event_name, so a query that filters on
    ``event_name`` (page views are a tenth of the events) skips the other row
    groups by their statistics.

    Compaction never makes a dataset larger: a day whose rewritten files
    would take more bytes than the files they replace keeps its files (it is
    listed under ``kept``, and its files are marked in the manifest
    (``CLUSTERING_GROWS``) so that later compactions leave the day alone until
    new files arrive in it). Clustering by event type costs bytes on RUM data
    (a session's consecutive events share most of their message, events of
    one type from different sessions do not; docs/ingest.md has the figures),
    so on large days the merged files' higher zstd level has to pay for it,
    and on small days (a few thousand events) one file per type mostly adds
    Parquet footers.

    Args:
        data_dir: the dataset.
        min_files: merge an event_name's files of a day when there are at least this many.
        small_rows: only merge files with fewer rows, into one file per day
            ordered by event_name (the merge after small ingests; None: every file).
        allow_growth: rewrite a day even when its new files are larger (the
            clustered layout for its faster single-type queries, paid in bytes).
        wait: wait for another writer instead of failing.
        on_notice: receives "waiting for the lock" notices.

    Returns:
        ``{"partitions": days rewritten, "files_before": n, "files_after": n,
        "kept": [days left as they were because their new files were larger]}``.

    Atomic like an ingest: the merged files are staged, moved into place and
    committed by one state swap; the old files are deleted only after.
    """
    store = Store(data_dir)
    store.check()
    with store.lock(wait=wait, on_wait=on_notice):
        store.recover()
        return compact_locked(store, min_files=min_files, small_rows=small_rows, allow_growth=allow_growth)


def compact_locked(
    store: Store, *, min_files: int, small_rows: int | None = None, days: set[str] | None = None,
    allow_growth: bool = False,
) -> dict[str, Any]:
    """``compact`` for a caller that already holds the dataset lock (``days``: only these dates)."""
    from rumq import catalog

    state = store.load_state()
    before = len(state.files)
    by_day: dict[str, list[dict[str, Any]]] = {}
    for f in state.files:
        if (days is None or f["date"] in days) and (small_rows is None or int(f.get("rows") or 0) < small_rows):
            by_day.setdefault(f["date"], []).append(f)
    if small_rows is None:
        targets = {d: fs for d, fs in by_day.items() if _needs_clustering(fs, min_files, allow_growth)}
    else:
        targets = {d: fs for d, fs in by_day.items() if len(fs) >= min_files}
    if not targets:
        return {"partitions": 0, "files_before": before, "files_after": before, "kept": []}
    cid = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-c" + uuid.uuid4().hex[:7]
    staging = store.new_staging(cid)
    old: set[str] = set()
    try:
        con = catalog.new_connection()
        store.prepare(con, store.file_sizes(state))
        con.execute("SET memory_limit = '1GB'").fetchall()
        con.execute("SET temp_directory = ?", [str(staging / "tmp")]).fetchall()
        # Streaming copies: no need to keep input order, so memory stays flat
        # however large the day is (sorting a whole day of messages ran out of memory).
        con.execute("SET preserve_insertion_order = false").fetchall()
        merged: list[tuple[str, Path, int, str | None]] = []
        kept: list[str] = []
        for day, fs in sorted(targets.items()):
            if small_rows is None:
                written, replaced = _cluster_day(con, store, staging, cid, day, fs)
            else:
                written, replaced = [_merge_ordered(con, store, staging, cid, day, fs)], fs
            grown = sum(out.stat().st_size for _, out, _, _ in written) > sum(_bytes(store, f) for f in replaced)
            if grown and not allow_growth:
                # Never grow a dataset: the day keeps its files (see compact's docstring),
                # marked so that the next compact does not try again until new files come.
                for _, out, _, _ in written:
                    out.unlink()
                kept.append(day)
                if small_rows is None:
                    for f in fs:
                        f[CLUSTERING_GROWS] = True
                continue
            merged += written
            old |= {f["path"] for f in replaced}
        con.close()
        if not merged:
            if kept and small_rows is None:
                store.commit(state)  # the marks only
            return {"partitions": 0, "files_before": before, "files_after": before, "kept": kept}
        keep = [f for f in state.files if f["path"] not in old]
        keep += store.place((StagedFile(out, day, out.name, n, name) for day, out, n, name in merged), cid)
        state.files = sorted(keep, key=lambda f: (f["date"], f["path"]))
        store.commit(state)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Only now, with the new state committed, are the old files garbage.
    store.discard(old)
    return {"partitions": len(targets) - len(kept), "files_before": before, "files_after": len(state.files),
            "kept": kept}


def _bytes(store: Store, f: dict[str, Any]) -> int:
    """Size of a committed file (the manifest's, else the file system's)."""
    if f.get("bytes") is not None or store.remote:
        return int(f.get("bytes") or 0)
    return (store.root / f["path"]).stat().st_size


def _needs_clustering(files: list[dict[str, Any]], min_files: int, allow_growth: bool = False) -> bool:
    """True when a day holds a mixed file or an event_name spread over ``min_files`` files or more.

    A day whose every file is marked ``CLUSTERING_GROWS`` (a compact found that
    rewriting them would grow the day) is not tried again unless ``allow_growth``.
    """
    if not allow_growth and all(f.get(CLUSTERING_GROWS) for f in files):
        return False
    per_name: Counter[str] = Counter()
    for f in files:
        name = f.get("event_name")
        if name is None:
            return True
        per_name[name] += 1
    return any(n >= min_files for n in per_name.values())


def _merge(con: Any, files: list[str], out: Path, query: str = "") -> int:
    """Write the event columns of ``files`` to the event file ``out``; ``query`` appends to the SELECT.

    Written with the event files' settings (``rumq.eventfiles``) at compact's
    zstd level. In a file of one event_name a row group holds thousands of
    sessions; the session and user ids stay dictionary-encoded up to a row
    group of distinct values, which makes session aggregations cheaper
    (docs/analyses.md has the figures).
    """
    from rumq.eventfiles import COMPACT_LEVEL, write_query

    con.execute("SET VARIABLE rumq_compact = ?::VARCHAR[]", [files]).fetchall()
    return write_query(
        con, f"SELECT {', '.join(FILE_COLUMNS)} FROM read_parquet(getvariable('rumq_compact'), "
        f"hive_partitioning = false) {query}",
        out, level=COMPACT_LEVEL, group_rows=COMPACT_ROW_GROUP, group_bytes=COMPACT_GROUP_BYTES)


def _copy(con: Any, files: list[str], out: Path, options: str, query: str = "") -> list[tuple]:
    """COPY the event columns of ``files`` to ``out``; ``query`` appends to the SELECT (e.g. ORDER BY)."""
    cols = ", ".join(FILE_COLUMNS)
    con.execute("SET VARIABLE rumq_compact = ?::VARCHAR[]", [files]).fetchall()
    return con.execute(
        f"COPY (SELECT {cols} FROM read_parquet(getvariable('rumq_compact'), hive_partitioning = false) {query}) "
        f"TO '{str(out).replace(chr(39), chr(39) * 2)}' (FORMAT parquet, {options})"
    ).fetchall()


def _merge_ordered(con: Any, store: Store, staging: Path, cid: str, day: str,
                   fs: list[dict[str, Any]]) -> tuple[str, Path, int, str | None]:
    """Merge a day's small files into one, ordered by event_name (small, so the sort is cheap)."""
    out = staging / f"part-{cid}-{day}.parquet"
    n = _merge(con, [store.url(f["path"]) for f in fs], out, "ORDER BY event_name")
    names = {f.get("event_name") for f in fs}
    return day, out, n, names.pop() if len(names) == 1 else None


def _cluster_day(
    con: Any, store: Store, staging: Path, cid: str, day: str, fs: list[dict[str, Any]]
) -> tuple[list[tuple[str, Path, int, str | None]], list[dict[str, Any]]]:
    """Rewrite a day's files as one file per event_name; return (files written, files replaced).

    Mixed files are first split by event_name (DuckDB's partitioned write,
    small row groups, into the staging folder); then each event_name's
    pieces and single-event_name files are merged into one file with full
    row groups. An event_name that is in one file already, and in no mixed
    file, keeps its file.
    """
    groups: dict[str | None, list[str]] = {}
    for f in fs:
        if f.get("event_name") is not None:
            groups.setdefault(f["event_name"], []).append(store.url(f["path"]))
    mixed = [store.url(f["path"]) for f in fs if f.get("event_name") is None]
    if mixed:
        con.execute("SET partitioned_write_flush_threshold = ?", [SPLIT_FLUSH_ROWS]).fetchall()
        con.execute("SET partitioned_write_max_open_files = ?", [SPLIT_MAX_OPEN_FILES]).fetchall()
        stats = _copy(con, mixed, staging / f"split-{day}",
                      f"COMPRESSION snappy, ROW_GROUP_SIZE {SPLIT_ROW_GROUP}, PARTITION_BY (event_name), "
                      "WRITE_PARTITION_COLUMNS true, RETURN_STATS true")
        for row in stats:
            # (filename, count, file_size_bytes, footer_size_bytes, column_statistics, partition_keys, ...)
            groups.setdefault(row[5]["event_name"], []).append(row[0])
    written: list[tuple[str, Path, int, str | None]] = []
    replaced: set[str] = set(mixed)
    for i, name in enumerate(sorted(groups, key=lambda n: (n is None, n or ""))):
        files = groups[name]
        if len(files) == 1 and not files[0].startswith(str(staging)):
            continue  # already one file of its own
        out = staging / f"part-{cid}-{day}-{i:04d}.parquet"
        n = _merge(con, files, out)
        written.append((day, out, n, name))
        replaced |= set(files)
    return written, [f for f in fs if store.url(f["path"]) in replaced]


def added_columns(have: set[str]) -> dict[str, str]:
    """Columns a newer dataset format added, with their SQL over an older file's columns ``have``.

    Version 3 added ``message_reconstructed``: events ingested before it were
    all read from JSON, whose message is the original. Version 4 stored
    ``message`` as ``message_body`` and ``message_id_at`` (the event id's
    characters left out at that position); version 6 as ``message_head`` and
    ``message_tail``, the texts before and after them.
    """
    from rumq.normalize import message_storage_sql

    if "message_id_at" in have:  # versions 4 and 5: cut the body where the id was
        head = "CASE WHEN message_id_at IS NULL THEN message_body ELSE substr(message_body, 1, message_id_at) END"
        tail = "CASE WHEN message_id_at IS NOT NULL THEN substr(message_body, message_id_at + 1) END"
    else:  # versions 2 and 3: the whole message
        head, tail = message_storage_sql("message", "event_id")
    return {"message_reconstructed": "false", "message_head": head, "message_tail": tail}


def migrate(data_dir: str | os.PathLike[str], *, wait: bool = True, on_notice=None) -> dict[str, Any]:
    """Upgrade a dataset of an older format version in place.

    Every event file is rewritten with the current columns (the ones a later
    version added are computed from the old ones: ``added_columns``),
    the new files are placed under new names and committed by one state swap,
    and only then are the old files deleted: a crash at any moment leaves the
    dataset as it was (still the old version, the next writer removes the
    orphans) or migrated. A dataset already at the current version is left
    alone.

    Returns:
        ``{"from_version": v, "to_version": v, "files": files rewritten}``.

    Raises:
        DatasetError: not a dataset, or a version that cannot be migrated.
        DatasetLockedError: another writer holds the lock and ``wait`` is false.
    """
    from rumq import catalog
    from rumq.errors import DatasetError
    from rumq.eventfiles import COMPACT_LEVEL, write_query
    from rumq.sqltext import quote_identifier, quote_string
    from rumq.store import MIGRATABLE_VERSIONS, STATE_VERSION

    store = Store(data_dir)
    store.check()
    with store.lock(wait=wait, on_wait=on_notice):
        version = store.state_version()
        if version in (None, STATE_VERSION):
            return {"from_version": version, "to_version": version, "files": 0}
        if version not in MIGRATABLE_VERSIONS:
            store.load_state()  # raises the error that says why and what to do
        store.recover(allow_old=True)
        state = store.load_state(allow_old=True)
        mid = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-m" + uuid.uuid4().hex[:7]
        staging = store.new_staging(mid)
        try:
            con = catalog.new_connection()
            store.prepare(con, store.file_sizes(state))
            staged: list[StagedFile] = []
            kept: list[dict[str, Any]] = []
            for i, f in enumerate(state.files):
                src = store.url(f["path"])
                have = {r[0] for r in con.execute(
                    "SELECT name FROM parquet_schema(?)", [str(src)]).fetchall()}
                if set(FILE_COLUMNS) <= have:
                    kept.append(f)  # already has every column (e.g. a migration that died after this file)
                    continue
                cols = []
                added = added_columns(have)
                for c in FILE_COLUMNS:
                    if c in have:
                        cols.append(quote_identifier(c))
                    elif c in added:
                        cols.append(f"{added[c]} AS {quote_identifier(c)}")
                    else:
                        raise DatasetError(f"{src} has no column {c!r}, which no migration adds",
                                           hint="the file is damaged or not rumq's; restore it or re-ingest")
                out = staging / f"m{i:06d}.parquet"
                write_query(con, f"SELECT {', '.join(cols)} FROM read_parquet({quote_string(str(src))}, "
                            "hive_partitioning = false)", out, level=COMPACT_LEVEL,
                            group_rows=COMPACT_ROW_GROUP, group_bytes=COMPACT_GROUP_BYTES)
                name = f"{Path(f['path']).stem}-{mid}.parquet"
                staged.append(StagedFile(out, f["date"], name, int(f["rows"]), f.get("event_name")))
            con.close()
            old = [f["path"] for f in state.files if f not in kept]
            state.files = sorted(kept + store.place(staged, mid), key=lambda e: (e["date"], e["path"]))
            state.inputs_changed = True  # written in the current layout (version 5: in its own file)
            store.commit(state)  # written at the current version
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        store.discard(old)
        return {"from_version": version, "to_version": STATE_VERSION, "files": len(staged)}
