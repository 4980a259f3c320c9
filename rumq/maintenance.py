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

from rumq.schema import FILE_COLUMNS, PARTITION_COLUMN
from rumq.store import Store


def dataset_info(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Summary of a dataset: events, dates, apps, types, sessions, coverage, rejects, size.

    Raises:
        DatasetError: not a dataset.
    """
    from rumq import catalog

    store = Store(data_dir)
    store.check()
    state = store.load_state()
    con = catalog.connect(data_dir, views=False)
    row = con.execute(
        "SELECT count(*), min(event_time), max(event_time), count(DISTINCT session_id), "
        "count(DISTINCT user_id), count(session_id), count(*) FILTER (WHERE NOT cookieless) FROM events"
    ).fetchone()
    events, first, last, sessions, users, with_session, cookie_events = row
    apps = con.execute(
        "SELECT application_id, any_value(application_name), count(*) FROM events GROUP BY 1 ORDER BY 3 DESC"
    ).fetchall()
    types = con.execute(
        "SELECT event_type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    con.close()
    return {
        "dataset": str(store.root),
        "events": events,
        "first_event": first.isoformat() + "Z" if first else None,
        "last_event": last.isoformat() + "Z" if last else None,
        "days": len({f["date"] for f in state.files}),
        "applications": [{"application_id": a, "application_name": n, "events": c} for a, n, c in apps],
        "event_types": {t: c for t, c in types},
        "sessions": sessions,
        "users": users,
        "known_session_share": (with_session / events) if events else None,
        "cookie_event_share": (cookie_events / events) if events else None,
        "rejects": sum(int(r.get("rows", 0)) for r in state.rejects),
        "duplicates_dropped": sum(int(i.get("duplicates", 0)) for i in state.ingests),
        "inputs": len(state.inputs),
        "ingests": len(state.ingests),
        "files": len(state.files),
        "bytes_on_disk": store.size_on_disk(),
    }


def iter_rejects(data_dir: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every rejected record of the dataset, oldest ingest first."""
    store = Store(data_dir)
    store.check()
    for path in store.rejects_files():
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def rejects_summary(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Rejects counted by reason and by source file."""
    reasons: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    total = 0
    for rec in iter_rejects(data_dir):
        total += 1
        reasons[_reason_key(rec.get("reason", ""))] += 1
        sources[rec.get("source", "?")] += 1
    return {"rejects": total, "by_reason": dict(reasons.most_common()), "by_source": dict(sources.most_common())}


def _reason_key(reason: str) -> str:
    # Group "invalid JSON: Expecting value at column 3" with its kind.
    return reason.split(":", 1)[0] if reason else "?"


#: Rows per row group when merging: each writer thread buffers a row group of
#: messages (~1 KB each), so this bounds the memory a merge needs.
COMPACT_ROW_GROUP = 30_000
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
    wait: bool = True,
    on_notice=None,
) -> dict[str, Any]:
    """Merge the files of each partition holding at least ``min_files`` of them into one.

    Args:
        data_dir: the dataset.
        min_files: merge a day's candidate files when there are at least this many.
        small_rows: only files with fewer rows are candidates (None: every file).
        wait: wait for another writer instead of failing.
        on_notice: receives "waiting for the lock" notices.

    Atomic like an ingest: the merged files are staged, moved into place and
    committed by one state swap; the old files are deleted only after.
    """
    store = Store(data_dir)
    store.check()
    with store.lock(wait=wait, on_wait=on_notice):
        store.recover()
        return compact_locked(store, min_files=min_files, small_rows=small_rows)


def compact_locked(
    store: Store, *, min_files: int, small_rows: int | None = None, days: set[str] | None = None
) -> dict[str, Any]:
    """``compact`` for a caller that already holds the dataset lock."""
    from rumq import catalog

    state = store.load_state()
    before = len(state.files)
    by_day: dict[str, list[dict[str, Any]]] = {}
    for f in state.files:
        if (days is None or f["date"] in days) and (small_rows is None or int(f.get("rows") or 0) < small_rows):
            by_day.setdefault(f["date"], []).append(f)
    targets = {d: fs for d, fs in by_day.items() if len(fs) >= min_files}
    if not targets:
        return {"partitions": 0, "files_before": before, "files_after": before}
    cid = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-c" + uuid.uuid4().hex[:7]
    staging = store.new_staging(cid)
    try:
        con = catalog.new_connection()
        con.execute("SET memory_limit = '1GB'").fetchall()
        con.execute("SET temp_directory = ?", [str(staging / "tmp")]).fetchall()
        # Streaming copy: no sort, no need to keep input order, so memory stays
        # flat however large the day is (sorting a day of messages ran out of memory).
        con.execute("SET preserve_insertion_order = false").fetchall()
        cols = ", ".join(FILE_COLUMNS)
        merged = []
        for day, fs in sorted(targets.items()):
            out = staging / f"part-{cid}-{day}.parquet"
            con.execute("SET VARIABLE rumq_compact = ?::VARCHAR[]", [[str(store.root / f["path"]) for f in fs]]).fetchall()
            n = con.execute(
                f"COPY (SELECT {cols} FROM read_parquet(getvariable('rumq_compact'), hive_partitioning = false)) "
                f"TO '{str(out).replace(chr(39), chr(39) * 2)}' "
                f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {COMPACT_ROW_GROUP})"
            ).fetchall()[0][0]
            merged.append((day, out, n))
        con.close()
        old = {f["path"] for fs in targets.values() for f in fs}
        keep = [f for f in state.files if f["path"] not in old]
        for day, out, n in merged:
            rel = Path("events") / f"{PARTITION_COLUMN}={day}" / out.name
            os.replace(out, store.root / rel)
            keep.append({"path": str(rel), "date": day, "rows": n,
                         "bytes": (store.root / rel).stat().st_size, "ingest_id": cid})
        state.files = sorted(keep, key=lambda f: (f["date"], f["path"]))
        store.commit(state)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Only now, with the new state committed, are the old files garbage.
    for path in old:
        (store.root / path).unlink(missing_ok=True)
    return {"partitions": len(merged), "files_before": before, "files_after": len(state.files)}
