"""Staging: read input files and write their records as staged Parquet files.

Every record read is staged (good events under ``_part=<date>``, rejected
ones under ``_part=rejected``) in the ingest's staging folder; nothing there
is visible to readers. Small ingests stage in the ingesting process, large
ones in worker processes (``rumq.ingest.worker``), each a ``Stager`` set up
from a ``StageConfig``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rumq.errors import ObjectChangedError, ObjectReadError
from rumq.eventfiles import INGEST_LEVEL, open_writer, plain_batch
from rumq.ingest.readers import RawBatch, ReadStats, raw_schema, read
from rumq.ingest.sources import as_source, head_and_problem
from rumq.normalize import REJECTED_PARTITION, normalize_sql, partition_of

#: DuckDB memory cap for an ingest (split between worker processes); larger
#: work spills to the staging dir, so peak memory does not grow with the input.
MEMORY_LIMIT_MB = 1024
#: Files larger than this (in total) are staged by a pool of worker processes.
PARALLEL_MIN_BYTES = 4 << 20
#: Record ordinals (``_seq``) are file_index * SEQ_STRIDE + ordinal in the file.
SEQ_STRIDE = 1 << 36
#: A row group is written once this many rows (or bytes) of a day are
#: buffered: rows stay few enough in memory, row groups large enough to scan fast.
GROUP_ROWS = 30_000
GROUP_BYTES = 96 << 20
#: ... and the largest buffer is written early when all days together hold more.
BUFFER_BYTES = 160 << 20
#: Folder of the ingest's staging folder with each stager's dedup keys (``Stager``).
KEYS_DIR = "keys"

@dataclass(frozen=True)
class StageConfig:
    """How a ``Stager`` works (sent as JSON to a worker process).

    Attributes:
        parts: folder receiving the staged files (``<tag>/_part=<date>/data.parquet``).
        staging: the ingest's staging folder (DuckDB spills under ``tmp/``).
        ingest_id: the ingest's id (stored with every event).
        ingested_at: when the ingest started (naive UTC, stored with every event).
        log_group: ``--log-group``: the group of records whose export names none.
        threads: DuckDB threads (a worker uses 1 and a third of the memory); None: DuckDB's default.
        tag: the stager's subfolder of ``parts`` (one per worker).
        store_options: endpoint, profile and region (``ClientOptions`` as a dict) of the
            objects a worker reads (its jobs' ``object``).
    """

    parts: str
    staging: str
    ingest_id: str
    ingested_at: datetime
    log_group: str | None = None
    threads: int | None = None
    tag: str = "w0"
    store_options: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ingested_at": self.ingested_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StageConfig:
        return cls(**{**data, "ingested_at": datetime.fromisoformat(data["ingested_at"])})


@dataclass(frozen=True)
class StageJob:
    """One input file to stage.

    Attributes:
        path: the file.
        name: its name in the dataset (``source_file``, the key of its results).
        format: an export format of ``rumq.ingest.formats.FORMATS``, or ``"unknown"`` /
            ``"document"`` (see ``readers.detect``).
        index: its ordinal in the ingest (makes ``_seq`` unique across files).
        object: for an object sent to a worker: its bucket, key, ETag and size as
            listed (``ObjectInfo`` as a dict; ``path`` is then its URL).
    """

    path: str  # or, in the ingesting process only, a ``sources.StoredObject``
    name: str
    format: str
    index: int
    object: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def connect_stage(ingest_id: str, ingested_at: datetime, staging: Path, threads: int | None = None,
                  memory_mb: int = MEMORY_LIMIT_MB):
    """A DuckDB connection for staging and finishing an ingest (memory cap, spill folder, variables)."""
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


class Stager:
    """Reads input files and writes their records as staged Parquet files.

    All the files given to one ``stage`` call stream through one DuckDB
    query (normalize), so thousands of small Firehose objects cost no more
    than one large file. One file per UTC day (``rumq compact`` later
    clusters a day's files by event type). Every record read is staged:
    good events under ``_part=<date>``, rejected ones under
    ``_part=rejected``. Runs in the ingesting process or in a worker process.

    For deduplication, each good event's ``_seq`` and the 64-bit hash of its
    ``event_id`` also go to ``<staging>/keys/<tag>.arrow`` (Arrow IPC), computed
    here while the id is at hand, and what was staged is counted as it is
    written (``<staging>/keys/<tag>.json``: rows per staged file, per input file,
    rejected per input file, per event type): ``rumq.ingest.dedup`` then needs no
    scan of the staged files after the workers end unless an id may occur twice.
    """

    def __init__(self, config: StageConfig) -> None:
        self.parts = Path(config.parts)
        self.log_group = config.log_group
        self.tag = config.tag
        # A worker (threads=1) gets its share of the ingest's memory budget.
        memory = MEMORY_LIMIT_MB // 3 if config.threads else MEMORY_LIMIT_MB
        self.con = connect_stage(config.ingest_id, config.ingested_at, Path(config.staging), config.threads, memory)
        self.sql = f"SELECT *, hash(event_id) AS _key FROM ({normalize_sql('batch')})"
        self.keys_path = Path(config.staging) / KEYS_DIR / f"{self.tag}.arrow"
        self.keys: Any = None  # the keys file's writer, opened with the first good event
        self.names: dict[int, str] = {}  # job index -> input file name
        self.counts = StagedCounts()
        self.buffers: dict[str, list[Any]] = {}
        self.buffered: dict[str, list[int]] = {}  # day -> [rows, bytes]
        self.writers: dict[str, Any] = {}

    def stage(self, jobs: Iterable[StageJob], on_file: Callable[[dict[str, Any]], None]) -> None:
        """Stage every record of ``jobs``.

        ``on_file`` receives each file's result (name, read, control
        messages, problems) once the file has been read.
        """
        import pyarrow as pa

        failure: list[BaseException] = []

        def batches():
            try:
                for job in jobs:
                    self.names[job.index] = job.name
                    stats = ReadStats()
                    n = 0
                    failed = None
                    try:
                        for b in _records(job, stats):
                            if self.log_group is not None:
                                b.default_log_group(self.log_group)
                            yield from b.to_arrow(job.index * SEQ_STRIDE + n, job.name, job.format).to_batches()
                            n += len(b)
                    except (ObjectReadError, ObjectChangedError) as e:
                        # An object unreadable after retries: named in the summary, the others go on.
                        failed = e.message
                    on_file({"name": job.name, "read": n, "control_messages": stats.control_messages,
                             "problems": stats.problems, "reconstructed": stats.reconstructed,
                             "missing_fields": stats.missing_fields, **({"failed": failed} if failed else {})})
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

        rb = plain_batch(rb)  # see connect_stage: Parquet should hold plain BOOLEAN
        reason, days = rb.column("_reject"), rb.column("_day")
        any_rejected = reason.null_count < rb.num_rows
        if any_rejected:  # a good event's day (days since 1970); -1 for a rejected record
            days = pc.if_else(reason.is_valid(), -1, days)
        uniq = pc.unique(days).to_pylist()
        keys = pa.RecordBatch.from_arrays([rb.column("_key"), rb.column("_seq")], ["key", "seq"])
        if any_rejected:
            keys = keys.filter(reason.is_null())
        if keys.num_rows:
            if self.keys is None:
                self.keys_path.parent.mkdir(parents=True, exist_ok=True)
                self.keys = pa.ipc.new_stream(str(self.keys_path), keys.schema)
            self.keys.write_batch(keys)
        rb = rb.drop_columns(["_key", "_day"])
        for day in uniq:
            part = REJECTED_PARTITION if day == -1 else partition_of(day)
            # A batch nearly always holds one day; a copy only around midnight.
            rows = rb if len(uniq) == 1 else rb.filter(pc.equal(days, day))
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

        table = pa.Table.from_batches(self.buffers.pop(part))
        del self.buffered[part]
        dest = self.parts / self.tag / f"_part={part}" / "data.parquet"
        w = self.writers.get(part)
        if w is None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            # Settings shared with compact and migrate (rumq.eventfiles), at the ingest's zstd level.
            w = self.writers[part] = open_writer(dest, table.schema, level=INGEST_LEVEL)
        # Row groups of at most GROUP_ROWS rows and about GROUP_BYTES (records can be 1 MiB).
        per_group = max(1, min(GROUP_ROWS, table.num_rows * GROUP_BYTES // max(table.nbytes, 1)))
        w.write_table(table, row_group_size=per_group)
        self.counts.add(table, part, str(dest), self.names)

    def close(self) -> None:
        """Write what is buffered and close every file (a file is readable only once closed)."""
        for part in list(self.buffers):
            self._write(part)
        for w in self.writers.values():
            w.close()
        self.writers.clear()
        if self.keys is not None:
            self.keys.close()
            self.keys = None
        if self.counts.files or self.counts.staged:
            self.counts.save(self.keys_path.with_suffix(".json"))
        self.con.close()


@dataclass
class StagedCounts:
    """What a stager wrote, counted as it is written (so dedup need not scan the staged files).

    Attributes:
        files: good events per staged file (path -> rows).
        days: the partitions of those files.
        staged: records staged per input file (good or rejected).
        rejected: rejected records per input file.
        by_type: good events per ``event_name`` (None for none).
    """

    files: dict[str, int] = field(default_factory=dict)
    days: set[str] = field(default_factory=set)
    staged: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    by_type: dict[str | None, int] = field(default_factory=dict)

    def add(self, table: Any, part: str, path: str, names: dict[int, str]) -> None:
        """Count ``table``, written to ``path`` (partition ``part``); ``names``: job index -> input file."""
        import pyarrow.compute as pc

        # _seq is job index * SEQ_STRIDE + ordinal: the input file of every row, without reading its name.
        for v in pc.value_counts(pc.shift_right(table.column("_seq"), SEQ_STRIDE.bit_length() - 1)).to_pylist():
            name = names[v["values"]]
            self.staged[name] = self.staged.get(name, 0) + v["counts"]
            if part == REJECTED_PARTITION:
                self.rejected[name] = self.rejected.get(name, 0) + v["counts"]
        if part == REJECTED_PARTITION:
            return
        self.files[path] = self.files.get(path, 0) + table.num_rows
        self.days.add(part)
        for v in pc.value_counts(table.column("event_name")).to_pylist():
            self.by_type[v["values"]] = self.by_type.get(v["values"], 0) + v["counts"]

    def merge(self, other: StagedCounts) -> None:
        for mine, theirs in ((self.files, other.files), (self.staged, other.staged),
                             (self.rejected, other.rejected), (self.by_type, other.by_type)):
            for k, n in theirs.items():
                mine[k] = mine.get(k, 0) + n  # type: ignore[index]
        self.days |= other.days

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"files": self.files, "days": sorted(self.days), "staged": self.staged,
                                    "rejected": self.rejected, "by_type": list(self.by_type.items())}))

    @classmethod
    def load(cls, path: Path) -> StagedCounts:
        data = json.loads(path.read_text())
        return cls(data["files"], set(data["days"]), data["staged"], data["rejected"],
                   {k: n for k, n in data["by_type"]})


def _records(job: StageJob, stats: ReadStats) -> Iterator[Any]:
    """The record batches of one job's file."""
    path = as_source(job.path)
    if job.format == "unknown":
        return iter([_unknown_batch(path)])
    return read(path, job.format, stats)


def _unknown_batch(path: Path) -> RawBatch:
    """A file in no known format: one reject for the whole file."""
    b = RawBatch()
    head, problem = head_and_problem(path, 64)
    if problem is not None and not head:
        reason = f"cannot decode the file: {problem}"
    else:
        reason = (f"not a recognized RUM export format (starts with {head[:16]!r}); "
                  "use --input-format to force one if it is a RUM export")
    b.add(head.decode("utf-8", "replace"), 1, reject=reason)
    return b


def stage_in_process(jobs: list[StageJob] | Iterator[StageJob], config: StageConfig,
                     on_file: Callable[[dict[str, Any]], None]) -> None:
    """Stage ``jobs`` in this process, several of their objects in flight (``Prefetcher``).

    Jobs that describe an object (``StageJob.object``, as a worker receives
    them) are read from the store of ``config.store_options``. An iterator of
    jobs (a worker's local files, handed out one by one) is read as it goes
    and must hold no object.
    """
    from rumq.ingest.sources import StoredObject

    if not isinstance(jobs, list):
        stager = Stager(config)
        stager.stage(jobs, on_file)
        stager.close()
        return
    described = [j for j in jobs if j.object is not None]
    if described:
        from dataclasses import replace

        from rumq.objectstore import ClientOptions, ObjectInfo, shared_store

        store = shared_store(ClientOptions(**(config.store_options or {})))
        jobs = [replace(j, path=StoredObject(ObjectInfo(**j.object), store)) if j.object is not None else j
                for j in jobs]
    objects = [j.path for j in jobs if isinstance(j.path, StoredObject)]
    fetcher = None
    if objects:
        from rumq.objectstore import Prefetcher

        fetcher = Prefetcher(objects[0].store, [o.info for o in objects])
        for o in objects:
            o.fetcher = fetcher
    try:
        stager = Stager(config)
        stager.stage(jobs, on_file)
        stager.close()
    finally:
        if fetcher is not None:
            fetcher.close()
            for o in objects:
                o.fetcher = None


def _die_with_parent() -> None:
    """In a worker, before exec: be killed when the ingesting process dies (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: an orphaned worker only writes into a staging dir nobody reads


#: A worker is handed files as it reports the previous ones, while less than
#: this many bytes of its files are unfinished: big files go one at a time, so
#: both workers end together; thousands of small ones go in bunches, so a
#: round trip per file costs nothing.
QUEUED_BYTES = 1 << 20


class WorkerPool:
    """Staging worker processes (``python -m rumq.ingest.worker``), started before their work is known.

    A worker imports DuckDB and pyarrow as soon as it starts, so starting the
    pool early (``rumq.ingest.pipeline`` does, once it knows the input is large)
    overlaps that with the ingesting process's own work: hashing the input,
    taking the lock, reading the manifest. A pool runs once (``run``);
    ``close`` ends the workers it did not need.

    gzip, line splitting and JSON parsing are CPU-bound and scale with
    processes, not threads.
    """

    def __init__(self, workers: int) -> None:
        import subprocess
        import sys

        # The workers import this very rumq, even when it is not installed.
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.procs = [subprocess.Popen([sys.executable, "-m", "rumq.ingest.worker"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, env=env, preexec_fn=_die_with_parent)
                      for _ in range(workers)]
        self.used = False

    def __len__(self) -> int:
        return len(self.procs)

    def run(self, jobs: list[StageJob], workers: int, size_of: dict[str, int],
            on_file: Callable[[dict[str, Any]], None], config_of: Callable[[int], StageConfig], *,
            meanwhile: Callable[[], None] | None = None) -> None:
        """Stage ``jobs`` in ``workers`` of the pool's processes, largest files first.

        Local files are handed out as the workers finish the previous ones
        (``QUEUED_BYTES``), so the last files do not leave one worker idle
        while the other works. Objects are shared out up front: a worker keeps
        several of its objects in flight (``rumq.objectstore.Prefetcher``).

        Args:
            jobs: the files.
            workers: how many processes (at most ``len(self)``; the others are ended).
            size_of: file size by job name (for balancing the shares).
            on_file: receives each file's result (called from reader threads, one at a time).
            config_of: the ``StageConfig`` of worker k.
            meanwhile: run in this thread once the workers have their first files.

        Raises:
            RuntimeError: a worker failed (its own error is on stderr).
        """
        import queue
        import threading
        from collections import deque

        if self.used or workers > len(self.procs):
            raise RuntimeError("internal error: a worker pool runs once, with at most its own workers")
        self.used = True
        for p in self.procs[workers:]:  # not needed: nothing was given to them
            p.kill()
        procs = self.procs[:workers]
        for k, p in enumerate(procs):
            _send(p, json.dumps(config_of(k).to_json()) + "\n")
        todo = deque(sorted(jobs, key=lambda j: -size_of[j.name]))  # largest first
        streamed = all(j.object is None for j in jobs)
        lock = threading.Lock()
        unfinished = [0] * workers  # bytes handed to worker k and not reported yet
        # What goes to a worker's input is written by a thread of its own: a write
        # may wait until the worker reads, and the worker may be waiting for its
        # reports to be read (by ``drain``), so neither may wait on the other.
        outbox: list[queue.SimpleQueue[tuple[str, bool] | None]] = [queue.SimpleQueue() for _ in range(workers)]

        def write(k: int) -> None:
            while (item := outbox[k].get()) is not None:
                _send(procs[k], item[0], close=item[1])
                if item[1]:
                    return

        def give(k: int) -> str:
            j = todo.popleft()
            unfinished[k] += size_of[j.name]
            return json.dumps(j.to_json()) + "\n"

        def hand_out(k: int) -> None:
            """Give worker k files until it has ``QUEUED_BYTES`` unfinished; end its input when none are left."""
            lines = []
            while todo and (not lines or unfinished[k] < QUEUED_BYTES):
                lines.append(give(k))
            outbox[k].put(("".join(lines), not todo))

        writers = [threading.Thread(target=write, args=(k,), daemon=True) for k in range(workers)]
        for t in writers:
            t.start()

        if streamed:
            # First shares in turn, one file at a time, so that a small input still reaches every worker.
            first: list[list[str]] = [[] for _ in range(workers)]
            while todo and any(not first[k] or unfinished[k] < QUEUED_BYTES for k in range(workers)):
                for k in range(workers):
                    if todo and (not first[k] or unfinished[k] < QUEUED_BYTES):
                        first[k].append(give(k))
            for k in range(workers):
                outbox[k].put(("".join(first[k]), not todo))
        else:
            shares: list[list[str]] = [[] for _ in range(workers)]
            loads = [0] * workers
            for j in todo:
                k = loads.index(min(loads))
                shares[k].append(json.dumps(j.to_json()) + "\n")
                loads[k] += size_of[j.name]
            for k, share in enumerate(shares):
                outbox[k].put(("".join(share), True))

        def drain(k: int) -> None:
            p = procs[k]
            assert p.stdout is not None
            for line in p.stdout:
                out = json.loads(line)
                with lock:
                    on_file(out)
                    unfinished[k] -= size_of[out["name"]]
                    if streamed and unfinished[k] < QUEUED_BYTES:
                        hand_out(k)

        readers = [threading.Thread(target=drain, args=(k,), daemon=True) for k in range(workers)]
        for t in readers:
            t.start()
        try:
            if meanwhile is not None:
                meanwhile()
            for p, t in zip(procs, readers, strict=True):
                t.join()
                if p.wait() != 0:
                    raise RuntimeError(f"ingest worker failed with exit code {p.returncode} (see its error above)")
        finally:
            for box in outbox:  # a writer still waiting (a worker failed): let it end
                box.put(None)

    def close(self) -> None:
        """End every worker still running (all of them, when the pool was not run or a worker failed)."""
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for f in (p.stdin, p.stdout):
                if f is not None and not f.closed:
                    f.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _send(p: Any, text: str, *, close: bool = False) -> None:
    """Write to a worker's input (and end it); a worker that is gone says why by its exit code."""
    try:
        if p.stdin.closed:
            return
        if text:
            p.stdin.write(text)
        if close:
            p.stdin.close()
        else:
            p.stdin.flush()
    except (BrokenPipeError, ValueError):
        pass
