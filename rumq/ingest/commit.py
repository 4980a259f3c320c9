"""Commit: hand the staged, deduplicated files to the store and record the ingest in the manifest.

The store (``rumq.store.Store``) places the files and swaps the state in one
rename; this module decides what goes in: the event files that kept rows,
the rejects file, and one manifest entry per input file and per ingest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rumq.ingest.report import IngestReport, ToRead
from rumq.normalize import REJECTED_PARTITION
from rumq.store import StagedFile, State, Store


def commit(store: Store, state: State, todo: list[ToRead], report: IngestReport, parts: Path,
           rows_by_file: dict[str, int], rejects: Path | None, n_rejects: int) -> None:
    """Place the staged files (``parts``) and the rejects file, then commit the new state.

    Args:
        store: the dataset (lock held).
        state: the state the ingest started from (extended here).
        todo: the input files read.
        report: the ingest's report (its file results are recorded; ``days``
            and ``rejects_file`` are set here).
        parts: the staged files (``<worker>/_part=<date>/*.parquet``).
        rows_by_file: events kept per staged file (files that kept none are left out).
        rejects: the staged rejects file, if any record was rejected.
        n_rejects: how many records it holds.
    """
    staged: list[StagedFile] = []
    for batch_dir in sorted(parts.iterdir()) if parts.exists() else []:
        for part_dir in sorted(batch_dir.iterdir()):
            day = part_dir.name.split("=", 1)[1]
            if day == REJECTED_PARTITION:
                continue
            for i, pf in enumerate(sorted(part_dir.glob("*.parquet"))):
                rows = rows_by_file.get(str(pf), 0)
                if rows == 0:
                    continue
                # event_name None: an ingest's files mix the event types (compact clusters them).
                staged.append(StagedFile(pf, day, f"part-{report.ingest_id}-{batch_dir.name}-{i}.parquet", rows))
    new_files = store.place(staged, report.ingest_id)
    if rejects is not None and n_rejects:
        entry = store.place_rejects(rejects, report.ingest_id, n_rejects)
        report.rejects_file = store.url(entry["path"])
        state.rejects.append(entry)
    state.files.extend(new_files)
    record_inputs(state, todo, report)
    store.commit(state)
    report.days = sorted({f["date"] for f in new_files})


def record_inputs(state: State, todo: list[ToRead], report: IngestReport) -> None:
    """Add the manifest entries of the input files read and of the ingest itself."""
    by_name = {r.path: r for r in report.files}
    for t in todo:
        r = by_name[t.file.name]
        if r.status == "failed":
            continue  # not ingested: the next run reads it again
        counts = {"format": t.format, "ingest_id": report.ingest_id, "read": r.read, "written": r.written,
                  "duplicates": r.duplicates, "rejected": r.rejected}
        if r.reconstructed:  # Parquet / ORC: what `rumq info` reports about the dataset's sources
            counts.update(reconstructed=True, missing_fields=r.missing_fields)
        if t.file.etag is not None:
            state.record_object(t.file.name, t.file.etag, t.file.size, counts)
        else:
            state.record_input(t.digest, {"path": t.file.name, "size": t.file.size, "sha256": t.digest, **counts})
    state.ingests.append({
        "ingest_id": report.ingest_id,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": len(todo), "read": report.read, "written": report.written,
        "duplicates": report.duplicates, "rejected": report.rejected, "by_type": report.by_type,
    })


def merge_small_files(store: Store, report: IngestReport, notice: Callable[[str], None]) -> None:
    """Repeated small ingests would pile up small files in a day: merge them.

    The ingest is committed already; a failure here only leaves the small
    files as they are, so it is a notice, not an error.
    """
    import duckdb

    from rumq.errors import RumqError
    from rumq.maintenance import AUTO_COMPACT_FILES, SMALL_FILE_ROWS, compact_locked

    # Count small files per (day, event type): one large ingest writes a few
    # files per type and day (one per worker), which is no pile-up.
    small: dict[tuple[str, str | None], int] = {}
    for f in store.load_state().files:
        if f["date"] in report.days and int(f.get("rows") or 0) < SMALL_FILE_ROWS:
            key = (f["date"], f.get("event_name"))
            small[key] = small.get(key, 0) + 1
    days = {day for (day, _), n in small.items() if n >= AUTO_COMPACT_FILES}
    if not days:
        return
    try:
        compact_locked(store, min_files=AUTO_COMPACT_FILES, small_rows=SMALL_FILE_ROWS, days=days)
    except (RumqError, duckdb.Error, OSError) as e:
        notice(f"the ingest is committed, but merging small files failed ({e}); run `rumq compact` later")
