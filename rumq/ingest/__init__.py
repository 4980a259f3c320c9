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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rumq.errors import StrictRejectsError, UsageError
from rumq.ingest.readers import (
    FORMATS,
    MAX_REJECT_RAW,
    ReadStats,
    detect,
    raw_schema,
    read,
)
from rumq.ingest.sources import InputFile, expand, sha256_of
from rumq.normalize import REJECTED_PARTITION, normalize_sql
from rumq.schema import FILE_COLUMNS, PARTITION_COLUMN
from rumq.store import Store

__all__ = ["FORMATS", "FileResult", "IngestReport", "ingest"]

#: DuckDB memory cap for an ingest (split between worker processes); larger
#: work spills to the staging dir, so peak memory does not grow with the input.
MEMORY_LIMIT_MB = 1024


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
    days: list[str] = field(default_factory=list)  # partitions this ingest wrote to

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

    def raise_if_rejected(self) -> None:
        """``--strict``: raise ``StrictRejectsError`` when any record was rejected."""
        if self.rejected:
            raise StrictRejectsError(
                f"{self.rejected} record(s) rejected (see {self.rejects_file})",
                hint="inspect them with `rumq rejects`; the good records were ingested",
            )

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
    ingest_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
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
        _merge_small_files(store, report, notice)
    if strict:
        report.raise_if_rejected()
    return report


#: Files larger than this (in total) are staged by a pool of worker processes.
PARALLEL_MIN_BYTES = 4 << 20
#: Record ordinals (``_seq``) are file_index * SEQ_STRIDE + ordinal in the file.
SEQ_STRIDE = 1 << 36


def _connect_stage(ingest_id: str, ingested_at: datetime, staging: Path, threads: int | None = None,
                   memory_mb: int = MEMORY_LIMIT_MB):
    from rumq.catalog import new_connection

    con = new_connection()
    con.execute("SET memory_limit = ?", [f"{memory_mb}MB"]).fetchall()
    con.execute("SET temp_directory = ?", [str(staging / "tmp")]).fetchall()
    con.execute("SET preserve_insertion_order = false").fetchall()
    # UUID columns reach pyarrow as 16-byte arrow.uuid values, not as text.
    # (That setting also makes BOOLEAN an arrow.bool8; Stager._route casts it back.)
    con.execute("SET arrow_lossless_conversion = true").fetchall()
    if threads:
        con.execute("SET threads = ?", [threads]).fetchall()
    con.execute("SET VARIABLE rumq_ingest_id = ?", [ingest_id]).fetchall()
    con.execute("SET VARIABLE rumq_ingested_at = ?::TIMESTAMP", [ingested_at]).fetchall()
    return con


#: A row group is written once this many rows (or bytes) of a day are
#: buffered: rows stay few enough in memory, row groups large enough to scan fast.
GROUP_ROWS = 30_000
GROUP_BYTES = 96 << 20
#: ... and the largest buffer is written early when all days together hold more.
BUFFER_BYTES = 160 << 20


class Stager:
    """Reads input files and writes their records as staged Parquet files.

    All the files given to one ``stage`` call stream through one DuckDB
    query (normalize), so thousands of small Firehose objects cost no more
    than one large file. One file per UTC day (``rumq compact`` later
    clusters a day's files by event type). Every record read is staged:
    good events under ``_part=<date>``, rejected ones under
    ``_part=rejected``. Runs in the ingesting process or in a worker process.
    """

    def __init__(self, parts: str, staging: str, ingest_id: str, ingested_at: datetime,
                 log_group: str | None, threads: int | None, tag: str = "w0") -> None:
        self.parts = Path(parts)
        self.log_group = log_group
        self.tag = tag
        # A worker (threads=1) gets its share of the ingest's memory budget.
        memory = MEMORY_LIMIT_MB // 3 if threads else MEMORY_LIMIT_MB
        self.con = _connect_stage(ingest_id, ingested_at, Path(staging), threads, memory)
        self.sql = normalize_sql("batch")
        self.buffers: dict[str, list[Any]] = {}
        self.buffered: dict[str, list[int]] = {}  # day -> [rows, bytes]
        self.writers: dict[str, Any] = {}

    def stage(self, jobs: list[tuple[str, str, str, int]], on_file: Callable[[dict[str, Any]], None]) -> None:
        """Stage every record of ``jobs`` (path, name, format, index).

        ``on_file`` receives each file's result (name, read, control
        messages, problems) once the file has been read.
        """
        import pyarrow as pa

        failure: list[BaseException] = []

        def batches():
            try:
                for path, name, fmt, index in jobs:
                    stats = ReadStats()
                    f = InputFile(Path(path), 0)
                    source = iter([_unknown_batch(f)]) if fmt == "unknown" else read(f.path, fmt, stats)
                    n = 0
                    for b in source:
                        if self.log_group is not None:
                            b.default_log_group(self.log_group)
                        yield from b.to_arrow(index * SEQ_STRIDE + n, name, fmt).to_batches()
                        n += len(b)
                    on_file({"name": name, "read": n, "control_messages": stats.control_messages,
                             "problems": stats.problems})
            except GeneratorExit:  # DuckDB stopped reading (its own error is on its way)
                raise
            except BaseException as e:  # re-raised below: DuckDB would only see "stream error"
                failure.append(e)

        self.con.register("batch", pa.RecordBatchReader.from_batches(raw_schema(), batches()))
        try:
            # One DuckDB vector per batch: with 1 MiB records a batch is still bounded.
            for rb in self.con.sql(self.sql).to_arrow_reader(batch_size=2048):
                self._route(rb)
        finally:
            self.con.unregister("batch")
        if failure:
            raise failure[0]

    def _route(self, rb: Any) -> None:
        """Buffer DuckDB's output by day; write a row group when a day has enough."""
        import pyarrow as pa
        import pyarrow.compute as pc

        for i, f in enumerate(rb.schema):
            if f.type == pa.bool8():  # see _connect_stage: Parquet should hold plain BOOLEAN
                rb = rb.set_column(i, f.name, rb.column(i).cast(pa.bool_()))
        parts = rb.column("_part")
        uniq = pc.unique(parts).to_pylist()
        for part in uniq:
            # A batch nearly always holds one day; a copy only around midnight.
            rows = rb if len(uniq) == 1 else rb.filter(pc.equal(parts, part))
            rows = rows.drop_columns(["_part"])
            self.buffers.setdefault(part, []).append(rows)
            held = self.buffered.setdefault(part, [0, 0])
            held[0] += rows.num_rows
            held[1] += rows.nbytes
            if held[0] >= GROUP_ROWS or held[1] >= GROUP_BYTES:
                self._write(part)
        while sum(b for _, b in self.buffered.values()) > BUFFER_BYTES:
            self._write(max(self.buffered, key=lambda k: self.buffered[k][1]))

    def _write(self, part: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_batches(self.buffers.pop(part))
        del self.buffered[part]
        w = self.writers.get(part)
        if w is None:
            dest = self.parts / self.tag / f"_part={part}"
            dest.mkdir(parents=True, exist_ok=True)
            w = self.writers[part] = pq.ParquetWriter(
                dest / "data.parquet", table.schema, compression="zstd",
                # Dictionary-encoding unique text only costs time.
                use_dictionary=[c for c in table.column_names if c not in _NO_DICTIONARY],
                write_statistics=[f.name for f in table.schema
                                  if not pa.types.is_string(f.type) or f.name in _TEXT_STATISTICS])
        # Row groups of at most GROUP_ROWS rows and about GROUP_BYTES (records can be 1 MiB).
        per_group = max(1, min(GROUP_ROWS, table.num_rows * GROUP_BYTES // max(table.nbytes, 1)))
        w.write_table(table, row_group_size=per_group)

    def close(self) -> None:
        """Write what is buffered and close every file (a file is readable only once closed)."""
        for part in list(self.buffers):
            self._write(part)
        for w in self.writers.values():
            w.close()
        self.writers.clear()
        self.con.close()


#: The only text columns given min/max statistics. Row groups mix pages, ids
#: and URLs, so their min/max never lets a scan skip one, and comparing
#: every value (URLs, ids and messages share long prefixes) cost about 2% of
#: an ingest. Numbers and timestamps keep theirs (time windows skip on them).
_TEXT_STATISTICS = frozenset({"event_name", "event_type", "application_id", "application_name", "log_group"})

#: Unique (or nearly unique) columns, written without dictionary encoding.
#: The session and user ids keep it: sessions group by them, and compact does the same.
_NO_DICTIONARY = frozenset({"message", "event_id", "log_event_id", "page_interaction_id",
                            "parent_page_interaction_id", "source_line", "_seq", "event_timestamp",
                            "event_time", "error_stack", "trace_id", "_reject"})


def _die_with_parent() -> None:
    """In a worker, before exec: be killed when the ingesting process dies (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: an orphaned worker only writes into a staging dir nobody reads


def _stage_in_workers(jobs: list[tuple], workers: int, size_of: dict[str, int], account, stager_args) -> None:
    """Stage files in ``workers`` processes (``rumq.ingest.worker``), largest files first.

    gzip, line splitting and JSON parsing are CPU-bound and scale with
    processes, not threads.
    """
    import subprocess
    import sys
    import threading

    shares: list[list[tuple]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for j in sorted(jobs, key=lambda j: -size_of[j[1]]):  # largest first
        i = loads.index(min(loads))
        shares[i].append(j)
        loads[i] += size_of[j[1]]
    lock = threading.Lock()
    procs = []
    # The workers import this very rumq, even when it is not installed.
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    for share in shares:
        if not share:
            continue
        p = subprocess.Popen(
            [sys.executable, "-m", "rumq.ingest.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
            preexec_fn=_die_with_parent,
        )
        assert p.stdin is not None
        p.stdin.write(json.dumps(stager_args(len(procs))) + "\n")
        p.stdin.write("".join(json.dumps(list(j)) + "\n" for j in share))
        p.stdin.close()
        procs.append(p)

    def drain(p) -> None:
        for line in p.stdout:
            with lock:
                account(json.loads(line))

    readers = [threading.Thread(target=drain, args=(p,), daemon=True) for p in procs]
    for t in readers:
        t.start()
    try:
        for p, t in zip(procs, readers, strict=True):
            t.join()
            if p.wait() != 0:
                raise RuntimeError(f"ingest worker failed with exit code {p.returncode} (see its error above)")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _run(store, state, todo, report: IngestReport, log_group, on_progress) -> None:
    staging = store.new_staging(report.ingest_id)
    try:
        ingested_at = datetime.now(UTC).replace(tzinfo=None)
        results: dict[str, FileResult] = {}
        for f, _digest, fmt in todo:
            res = FileResult(f.name, fmt, "ingested")
            results[f.name] = res
            report.files.append(res)
        parts = staging / "parts"
        parts.mkdir()
        total = sum(f.size for f, _, _ in todo) or 1
        workers = min(os.cpu_count() or 1, 2, len(todo))
        parallel = workers > 1 and total >= PARALLEL_MIN_BYTES
        jobs = [(str(f.path), f.name, fmt, i) for i, (f, _digest, fmt) in enumerate(todo)]

        def stager_args(k: int) -> list[Any]:
            return [str(parts), str(staging), report.ingest_id, ingested_at.isoformat(), log_group,
                    1 if parallel else None, f"w{k}"]

        size_of = {f.name: f.size for f, _, _ in todo}
        done = 0

        def account(out: dict[str, Any]) -> None:
            nonlocal done
            res = results[out["name"]]
            res.read, res.control_messages, res.problems = out["read"], out["control_messages"], out["problems"]
            done += size_of[out["name"]]
            if on_progress:
                on_progress(done, total)

        if parallel:
            _stage_in_workers(jobs, workers, size_of, account, stager_args)
        else:
            args = stager_args(0)
            stager = Stager(*args[:3], ingested_at, *args[4:])
            stager.stage(jobs, account)
            stager.close()
        if not any(parts.iterdir()):
            for res in results.values():
                res.status = "empty"
            shutil.rmtree(staging, ignore_errors=True)
            _record_inputs(state, todo, report)
            store.commit(state)
            return
        con = _connect_stage(report.ingest_id, ingested_at, staging)
        _finish(con, store, state, todo, report, results, staging, parts)
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


def _finish(con, store: Store, state, todo, report: IngestReport, results, staging: Path, parts: Path) -> None:
    """Dedup, write rejects, move the staged files into place, commit the state."""
    con.execute("SET VARIABLE rumq_parts = ?", [str(parts / "*" / "*" / "*.parquet")]).fetchall()
    # Each question below is its own scan of the staged files (only the columns
    # it needs): materializing every key first spilled to disk at 20M events.
    staged = ("read_parquet(getvariable('rumq_parts'), hive_partitioning = true, "
              "hive_types = {'_part': 'VARCHAR'}, filename = true)")
    good = f"(SELECT _seq AS seq, event_id, event_name, source_file, filename, _part AS part FROM {staged} " \
           "WHERE _reject IS NULL)"
    # Duplicates: all but the first occurrence of an event_id in this ingest, and
    # every id already committed. Ids that occur more than once are found on
    # their 64-bit hash (8-byte keys, not 36-byte text), then checked exactly.
    con.execute(f"CREATE TABLE twice AS SELECT hash(event_id) AS h FROM {good} GROUP BY h HAVING count(*) > 1").fetchall()
    con.execute(
        "CREATE TABLE dropped AS SELECT seq, filename, source_file, event_name FROM ("
        "  SELECT seq, filename, source_file, event_name, "
        "    row_number() OVER (PARTITION BY event_id ORDER BY seq) AS rn "
        f"  FROM {good} WHERE hash(event_id) IN (SELECT h FROM twice)"
        ") WHERE rn > 1"
    ).fetchall()
    # The same event always carries the same client timestamp, so only the
    # partitions of the incoming dates can hold it.
    days = [r[0] for r in con.execute(f"SELECT DISTINCT part FROM {good}").fetchall()]
    existing = [str(store.root / f["path"]) for f in state.files if f["date"] in set(days)]
    if existing:
        con.execute("SET VARIABLE rumq_existing = ?::VARCHAR[]", [existing]).fetchall()
        con.execute(
            f"INSERT INTO dropped SELECT seq, filename, source_file, event_name FROM {good} "
            "WHERE seq NOT IN (SELECT seq FROM dropped) "
            "AND event_id IN (SELECT event_id FROM read_parquet(getvariable('rumq_existing')))"
        ).fetchall()
    dup_by_file = dict(con.execute("SELECT source_file, count(*) FROM dropped GROUP BY 1").fetchall())
    for name, read_n, rej in con.execute(
        f"SELECT source_file, count(*), count(*) FILTER (WHERE _reject IS NOT NULL) FROM {staged} GROUP BY 1"
    ).fetchall():
        res = results[name]
        if read_n != res.read:  # every record read was staged; anything else is a bug
            raise RuntimeError(f"internal error: {name}: read {res.read} records, staged {read_n}")
        dup = dup_by_file.get(name, 0)
        res.rejected, res.duplicates = rej, dup
        res.written = read_n - rej - dup
    kept = f"(SELECT * FROM {good} WHERE seq NOT IN (SELECT seq FROM dropped))"
    report.by_type = dict(con.execute(
        f"SELECT event_name, count(*) FROM {kept} GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    # Rewrite only the staged files that hold duplicates.
    for (fname,) in con.execute("SELECT DISTINCT filename FROM dropped").fetchall():
        tmp = fname + ".dedup"
        con.execute("SET VARIABLE rumq_file = ?", [fname]).fetchall()
        con.execute(
            f"COPY (SELECT {', '.join(FILE_COLUMNS)} FROM read_parquet(getvariable('rumq_file'), "
            f"hive_partitioning = false) WHERE _seq NOT IN "
            f"(SELECT seq FROM dropped WHERE filename = getvariable('rumq_file'))) "
            f"TO '{_sql_path(Path(tmp))}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 30000)"
        ).fetchall()
        os.replace(tmp, fname)
    rows_by_file = dict(con.execute(f"SELECT filename, count(*) FROM {kept} GROUP BY 1").fetchall())
    n_rej = _write_rejects(con, staging / "rejects.jsonl", report, parts)
    con.close()
    # Commit: move files into place, then swap the state in one rename.
    new_files: list[dict[str, Any]] = []
    for batch_dir in sorted(parts.iterdir()):
        for part_dir in sorted(batch_dir.iterdir()):
            day = part_dir.name.split("=", 1)[1]
            if day == REJECTED_PARTITION:
                continue
            for i, pf in enumerate(sorted(part_dir.glob("*.parquet"))):
                rows = rows_by_file.get(str(pf), 0)
                if rows == 0:
                    continue
                rel = Path("events") / f"{PARTITION_COLUMN}={day}" / f"part-{report.ingest_id}-{batch_dir.name}-{i}.parquet"
                dest = store.root / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(pf, dest)
                # event_name: the one type a file holds; an ingest's files mix them.
                new_files.append({"path": str(rel), "date": day, "rows": rows, "bytes": dest.stat().st_size,
                                  "ingest_id": report.ingest_id, "event_name": None})
    if n_rej:
        store.rejects_dir.mkdir(parents=True, exist_ok=True)
        rel = str(Path("rejects") / f"{report.ingest_id}.jsonl")
        os.replace(staging / "rejects.jsonl", store.root / rel)
        report.rejects_file = str(store.root / rel)
        state.rejects.append({"path": rel, "rows": n_rej, "bytes": (store.root / rel).stat().st_size,
                              "ingest_id": report.ingest_id})
    state.files.extend(new_files)
    _record_inputs(state, todo, report)
    store.commit(state)
    shutil.rmtree(staging, ignore_errors=True)
    report.days = sorted({f["date"] for f in new_files})


def _merge_small_files(store: Store, report: IngestReport, notice: Callable[[str], None]) -> None:
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
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": len(todo), "read": report.read, "written": report.written,
        "duplicates": report.duplicates, "rejected": report.rejected, "by_type": report.by_type,
    })


def _write_rejects(con, path: Path, report: IngestReport, parts: Path) -> int:
    """Write rejected records as JSON lines; return how many."""
    files = sorted(str(p) for p in parts.glob(f"*/_part={REJECTED_PARTITION}/*.parquet"))
    n = 0
    reasons: dict[str, int] = {}
    if not files:
        report.reject_reasons = reasons
        return 0
    con.execute("SET VARIABLE rumq_rejected = ?::VARCHAR[]", [files]).fetchall()
    # Fetch in chunks on this connection (its variables are not seen by cursors).
    cur = con.execute(
        "SELECT source_file, source_line, source_format, _reject, message "
        "FROM read_parquet(getvariable('rumq_rejected')) ORDER BY _seq"
    )
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
    report.reject_reasons = reasons
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

