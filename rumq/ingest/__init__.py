"""Ingest RUM exports into a dataset: read -> normalize -> dedup -> commit.

``ingest`` is the one entry point (the CLI and notebooks call it). Every
input record ends up written, counted as a duplicate, or rejected with a
reason in ``rejects/<ingest_id>.jsonl``; ``read = written + duplicates +
rejected`` holds per file and in total, and is recorded in the manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rumq.errors import InputFormatError, StrictRejectsError, UsageError
from rumq.ingest.readers import DOCUMENT_FORMATS, FORMATS, MAX_REJECT_RAW, ReadStats, detect, read
from rumq.ingest.sources import InputFile, expand, sha256_of
from rumq.normalize import RAW_COLUMNS, normalize_sql
from rumq.schema import COLUMN_NAMES, PARTITION_COLUMN
from rumq.store import Store

__all__ = ["FORMATS", "FileResult", "IngestReport", "ingest"]

#: DuckDB memory cap for an ingest; larger work spills to the staging dir.
MEMORY_LIMIT = "1GB"


@dataclass
class FileResult:
    """What happened to one input file."""

    path: str
    format: str
    status: str  # ingested | already-ingested | skipped | empty
    read: int = 0
    written: int = 0
    duplicates: int = 0
    rejected: int = 0
    control_messages: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    """The outcome of one ``ingest`` call (also recorded in the manifest)."""

    ingest_id: str
    files: list[FileResult] = field(default_factory=list)
    by_type: dict[str, int] = field(default_factory=dict)
    rejects_file: str | None = None
    reject_reasons: dict[str, int] = field(default_factory=dict)
    recovered: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def written(self) -> int:
        return sum(f.written for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "ingest_id": self.ingest_id,
            "read": self.read,
            "written": self.written,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "by_type": self.by_type,
            "reject_reasons": self.reject_reasons,
            "rejects_file": self.rejects_file,
            "files": [f.__dict__ for f in self.files],
        }


def ingest(
    data_dir: str | os.PathLike[str],
    paths: list[str],
    *,
    format: str | None = None,  # noqa: A002 (mirrors the --format option)
    strict: bool = False,
    log_group: str | None = None,
    force: bool = False,
    wait: bool = True,
    on_notice: Callable[[str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Ingest export files into the dataset at ``data_dir``.

    Args:
        data_dir: dataset directory (created when missing).
        paths: files, directories (recursive) and glob patterns.
        format: force one export format (see ``FORMATS``) instead of detecting per file.
        strict: raise ``StrictRejectsError`` (after committing) when anything was rejected.
        log_group: CloudWatch Logs group to record for sources that do not name one.
        force: re-read files the manifest says were ingested already.
        wait: wait for another writer's lock instead of failing.
        on_notice: receives human-readable notices (waiting for the lock, skipped files).
        on_progress: receives (bytes done, bytes total) as files are read.

    Returns:
        The ``IngestReport``.

    Raises:
        InputNotFoundError: a path does not exist or cannot be read.
        UsageError: unknown ``format``.
        DatasetLockedError: the dataset is locked and ``wait`` is False.
        StrictRejectsError: ``strict`` and some records were rejected.
    """
    if format is not None and format not in FORMATS:
        raise UsageError(f"unknown format {format!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    files = expand(paths)
    store = Store(data_dir)
    ingest_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    report = IngestReport(ingest_id)
    notice = on_notice or (lambda _m: None)
    with store.lock(wait=wait, on_wait=notice):
        report.recovered = store.recover()
        if report.recovered:
            notice(f"cleaned up {len(report.recovered)} file(s) left by an interrupted write")
        state = store.load_state()
        todo: list[tuple[InputFile, str, str]] = []
        for f in files:
            digest = sha256_of(f.path)
            seen = state.inputs.get(digest)
            if seen and not force:
                report.files.append(FileResult(f.name, seen.get("format", "?"), "already-ingested"))
                notice(f"{f.name}: already ingested by {seen.get('ingest_id')} (same content); skipped")
                continue
            fmt = format or detect(f.path)
            if fmt in ("skip", "empty"):
                report.files.append(FileResult(f.name, fmt, "skipped" if fmt == "skip" else "empty"))
                continue
            todo.append((f, digest, fmt))
        if not todo:
            return report
        _run(store, state, todo, report, log_group, on_progress)
    if strict and report.rejected:
        raise StrictRejectsError(
            f"{report.rejected} record(s) rejected (see {report.rejects_file})",
            hint="inspect them with `rumq rejects`; the good records were ingested",
        )
    return report


def _run(store, state, todo, report: IngestReport, log_group, on_progress) -> None:
    import duckdb
    import pyarrow as pa

    staging = store.new_staging(report.ingest_id)
    try:
        con = duckdb.connect(str(staging / "stage.duckdb"))
        # DuckDB's progress bar writes to stdout, which carries data only.
        con.execute("SET enable_progress_bar = false").fetchall()
        con.execute("SET memory_limit = ?", [MEMORY_LIMIT]).fetchall()
        con.execute("SET temp_directory = ?", [str(staging / "tmp")]).fetchall()
        con.execute("SET preserve_insertion_order = false").fetchall()
        con.execute("SET TimeZone = 'UTC'").fetchall()
        ingested_at = datetime.now(timezone.utc).replace(tzinfo=None)
        con.execute("SET VARIABLE rumq_ingest_id = ?", [report.ingest_id]).fetchall()
        con.execute("SET VARIABLE rumq_ingested_at = ?::TIMESTAMP", [ingested_at]).fetchall()
        raw_schema = pa.schema(
            [(n, pa.string() if t == "VARCHAR" else pa.int64()) for n, t in RAW_COLUMNS] + [("seq", pa.int64())]
        )
        seq = 0
        created = False
        total = sum(f.size for f, _, _ in todo) or 1
        done = 0
        results: dict[str, FileResult] = {}
        for f, _digest, fmt in todo:
            res = FileResult(f.name, fmt, "ingested")
            results[f.name] = res
            report.files.append(res)
            stats = ReadStats()
            con.execute("SET VARIABLE rumq_source_file = ?", [f.name]).fetchall()
            con.execute("SET VARIABLE rumq_source_format = ?", [fmt]).fetchall()
            if fmt == "unknown":
                batches = iter([_unknown_batch(f)])
            else:
                batches = read(f.path, fmt, stats)
            for b in batches:
                n = len(b)
                cols = {name: getattr(b, name) for name, _ in RAW_COLUMNS}
                if log_group is not None:
                    cols["log_group"] = [g if g is not None else log_group for g in cols["log_group"]]
                cols["seq"] = list(range(seq, seq + n))
                seq += n
                batch = pa.Table.from_pydict(cols, schema=raw_schema)
                con.register("batch", batch)
                verb = "INSERT INTO staged" if created else "CREATE TABLE staged AS"
                con.execute(f"{verb} {normalize_sql('batch')}").fetchall()
                con.unregister("batch")
                created = True
                res.read += n
            res.control_messages = stats.control_messages
            res.problems = stats.problems
            done += f.size
            if on_progress:
                on_progress(done, total)
        if not created:
            for res in results.values():
                res.status = "empty"
            shutil.rmtree(staging, ignore_errors=True)
            _commit_inputs_only(store, state, todo, report)
            return
        _finish(con, store, state, todo, report, results, staging)
    except BaseException:
        # Leave nothing half-done behind: the committed state is untouched.
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _unknown_batch(f: InputFile):
    from rumq.ingest.readers import RawBatch
    from rumq.ingest.sources import head_and_problem

    b = RawBatch()
    head, problem = head_and_problem(f.path, 64)
    if problem is not None and not head:
        reason = f"cannot decode the file: {problem}"
    else:
        reason = (f"not a recognized RUM export format (starts with {head[:16]!r}); "
                  "use --format to force one if it is a RUM export")
    b.add(head.decode("utf-8", "replace"), 1, reject=reason)
    return b


def _finish(con, store: Store, state, todo, report: IngestReport, results, staging: Path) -> None:
    # Rejects: written first, so a reject is never lost even if nothing else is kept.
    rejects_path = staging / "rejects.jsonl"
    n_rej = _write_rejects(con, rejects_path, report)
    # Dedup: first occurrence of each event_id in this ingest, minus ids already
    # committed. The same event always carries the same client timestamp, so
    # only the partitions of the incoming dates can hold a duplicate.
    dates = [r[0] for r in con.execute(
        f"SELECT DISTINCT CAST(event_time AS DATE) FROM staged WHERE reject_reason IS NULL"
    ).fetchall()]
    existing = [str(store.root / f["path"]) for f in state.files if f["date"] in {d.isoformat() for d in dates}]
    con.execute(
        "CREATE TEMP TABLE keep AS SELECT min(seq) AS seq FROM staged "
        "WHERE reject_reason IS NULL GROUP BY event_id"
    ).fetchall()
    if existing:
        con.execute("SET VARIABLE rumq_existing = ?::VARCHAR[]", [existing]).fetchall()
        con.execute(
            "DELETE FROM keep USING staged s WHERE keep.seq = s.seq AND s.event_id IN "
            "(SELECT event_id FROM read_parquet(getvariable('rumq_existing')))"
        ).fetchall()
    # Per-file and per-type counts.
    for name, read_n, rej, kept in con.execute(
        "SELECT source_file, count(*), count(reject_reason), count(k.seq) "
        "FROM staged s LEFT JOIN keep k USING (seq) GROUP BY source_file"
    ).fetchall():
        res = results[name]
        res.rejected, res.written = rej, kept
        res.duplicates = read_n - rej - kept
        assert read_n == res.read, (name, read_n, res.read)
    report.by_type = dict(con.execute(
        "SELECT event_name, count(*) FROM staged JOIN keep USING (seq) GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall())
    # Write the partitioned Parquet, sorted by time so row groups prune well.
    out_dir = staging / "events"
    cols = ", ".join(COLUMN_NAMES)
    written = report.written
    new_files: list[dict[str, Any]] = []
    if written:
        con.execute(
            f"COPY (SELECT {cols}, CAST(event_time AS DATE) AS {PARTITION_COLUMN} "
            f"FROM staged JOIN keep USING (seq) ORDER BY event_time) "
            f"TO '{_sql_path(out_dir)}' (FORMAT parquet, COMPRESSION zstd, "
            f"PARTITION_BY ({PARTITION_COLUMN}), FILENAME_PATTERN 'part-{report.ingest_id}-{{i}}', "
            f"ROW_GROUP_SIZE 122880)"
        ).fetchall()
        counts = dict(con.execute(
            f"SELECT CAST(event_time AS DATE)::VARCHAR, count(*) FROM staged JOIN keep USING (seq) GROUP BY 1"
        ).fetchall())
        for part in sorted(out_dir.iterdir()):
            day = part.name.split("=", 1)[1]
            files = sorted(part.glob("*.parquet"))
            for i, pf in enumerate(files):
                new_files.append({
                    "path": str(Path("events") / part.name / pf.name),
                    "date": day,
                    # rows are exact per partition; per file only when one file
                    "rows": counts.get(day, 0) if len(files) == 1 else None,
                    "bytes": pf.stat().st_size,
                    "ingest_id": report.ingest_id,
                    "_staged": str(pf),
                })
    con.close()
    # Commit: move files into place, then swap the state in one rename.
    for nf in new_files:
        dest = store.root / nf["path"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(nf.pop("_staged"), dest)
    if n_rej:
        store.rejects_dir.mkdir(parents=True, exist_ok=True)
        rel = str(Path("rejects") / f"{report.ingest_id}.jsonl")
        os.replace(rejects_path, store.root / rel)
        report.rejects_file = str(store.root / rel)
        state.rejects.append({"path": rel, "rows": n_rej, "bytes": (store.root / rel).stat().st_size,
                              "ingest_id": report.ingest_id})
    state.files.extend(new_files)
    _record_inputs(state, todo, report)
    store.commit(state)
    shutil.rmtree(staging, ignore_errors=True)


def _record_inputs(state, todo, report: IngestReport) -> None:
    by_name = {r.path: r for r in report.files}
    for f, digest, fmt in todo:
        r = by_name[f.name]
        state.inputs[digest] = {
            "path": f.name, "size": f.size, "sha256": digest, "format": fmt,
            "ingest_id": report.ingest_id, "read": r.read, "written": r.written,
            "duplicates": r.duplicates, "rejected": r.rejected,
        }
    state.ingests.append({
        "ingest_id": report.ingest_id,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": len(todo), "read": report.read, "written": report.written,
        "duplicates": report.duplicates, "rejected": report.rejected, "by_type": report.by_type,
    })


def _commit_inputs_only(store: Store, state, todo, report: IngestReport) -> None:
    _record_inputs(state, todo, report)
    store.commit(state)


def _write_rejects(con, path: Path, report: IngestReport) -> int:
    """Write rejected records as JSON lines; return how many."""
    cur = con.cursor()
    cur.execute(
        "SELECT source_file, source_line, source_format, reject_reason, message FROM staged "
        "WHERE reject_reason IS NOT NULL ORDER BY seq"
    )
    n = 0
    reasons: dict[str, int] = {}
    with open(path, "w", encoding="utf-8") as out:
        while rows := cur.fetchmany(10_000):
            for src, line, fmt, reason, raw in rows:
                if reason == "invalid JSON" and raw is not None:
                    reason = _json_error_detail(raw)
                rec = {"source": src, "line": line, "format": fmt, "reason": reason,
                       "raw": raw[:MAX_REJECT_RAW] if raw else raw}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                key = reason.split(":", 1)[0] if reason else "?"
                reasons[key] = reasons.get(key, 0) + 1
                n += 1
    cur.close()
    report.reject_reasons = reasons
    if n == 0:
        path.unlink(missing_ok=True)
    return n


def _json_error_detail(raw: str) -> str:
    """Python's decoder says where a message stops being JSON (column)."""
    try:
        json.loads(raw)
    except json.JSONDecodeError as e:
        return f"invalid JSON: {e.msg} at column {e.colno}"
    except RecursionError:
        return "invalid JSON: nested too deeply"
    return "invalid JSON"


def _sql_path(p: Path) -> str:
    # COPY TO needs a literal path; it is our own staging path, quoted safely.
    return str(p).replace("'", "''")


def format_detected(path: str) -> str:
    """The format rumq would read ``path`` as (for `rumq ingest --dry-run`)."""
    return detect(Path(path))


_ = (DOCUMENT_FORMATS, InputFormatError)
