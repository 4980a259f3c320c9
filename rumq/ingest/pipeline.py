"""The ingest, start to end: find files -> stage -> dedup -> commit (under the dataset lock)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rumq.errors import DatasetConflictError, ObjectChangedError, ObjectReadError, UsageError
from rumq.ingest import staging
from rumq.ingest.commit import commit, merge_small_files, record_inputs
from rumq.ingest.dedup import drop_duplicates
from rumq.ingest.formats import FORMATS
from rumq.ingest.readers import EMPTY, SKIP, TRUTH, detect, is_truth_file
from rumq.ingest.rejects import write_rejects
from rumq.ingest.report import FileResult, IngestReport, ToRead
from rumq.ingest.sources import InputFile, StoredObject, expand, sha256_of
from rumq.ingest.staging import StageConfig, StageJob
from rumq.store import State, Store

if TYPE_CHECKING:  # pragma: no cover
    from rumq.objectstore import ClientOptions

#: Tries of an ingest into a dataset on an object store when another writer commits first.
COMMIT_ATTEMPTS = 3
#: Objects detected at once (each detection is one ranged GET).
DETECT_IN_FLIGHT = 8
#: Per-object failures: the object is named in the summary, the others go on.
_OBJECT_FAILURES = (ObjectReadError, ObjectChangedError)


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
    store_options: ClientOptions | None = None,
) -> IngestReport:
    """Ingest export files into the dataset at ``data_dir``.

    Args:
        data_dir: dataset directory (created when missing).
        paths: files, directories (recursive) and glob patterns; ``s3://bucket/prefix/``
            URLs (every object under the prefix) and key globs (``s3://b/exports/*/2026-11-*/**``).
        format: force one export format (see ``FORMATS``) instead of detecting per file.
        strict: raise ``StrictRejectsError`` (after committing) when anything was rejected.
        log_group: CloudWatch Logs group to record for sources that do not name one.
        force: re-read files the manifest says were ingested already.
        wait: wait for another writer's lock instead of failing.
        on_notice: receives human-readable notices (waiting for the lock, skipped files).
        on_progress: receives (bytes done, bytes total) as files are read.
        store_options: endpoint, profile and region for ``s3://`` inputs (None: the AWS defaults).

    Returns:
        The ``IngestReport``.

    Raises:
        InputNotFoundError: a path does not exist or cannot be read; an URL lists no object.
        ObjectStoreError: a bucket is missing, access is denied, credentials are
            missing or expired, the store is unreachable (an object that fails
            after retries is no error here: it is a ``failed`` file of the report).
        UsageError: unknown ``format``.
        DatasetLockedError: the dataset is locked and ``wait`` is False.
        DatasetConflictError: (a dataset on an object store) other writers
            committed first ``COMMIT_ATTEMPTS`` times in a row.
        StrictRejectsError: ``strict`` and some records were rejected.
    """
    if format is not None and format not in FORMATS:
        raise UsageError(f"unknown format {format!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    ingest_workers()  # a bad RUMQ_INGEST_WORKERS stops the ingest before any work
    files = expand(paths, store_options)
    store = Store(data_dir, store_options)
    notice = on_notice or (lambda _m: None)
    pool = _early_pool(files)
    try:
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                report = _ingest(store, files, format, log_group, force, wait, notice, on_progress, pool)
                break
            except DatasetConflictError:
                # Only on an object store: another writer's commit came first. Nothing
                # of this attempt is in the dataset; read the new manifest and start over.
                if attempt == COMMIT_ATTEMPTS:
                    raise
                notice(f"another writer committed to {store.root} first; ingesting again on top of it "
                       f"(attempt {attempt + 1} of {COMMIT_ATTEMPTS})")
    finally:
        if pool is not None:
            pool.close()
    if strict:
        report.raise_if_rejected()
    return report


def _early_pool(files: list[InputFile]) -> staging.WorkerPool | None:
    """Worker processes for an input large enough to be staged in them, started now.

    They import DuckDB and pyarrow while this process hashes the files,
    takes the lock and reads the manifest (measured: docs/ingest.md, *Speed
    and memory*). When fewer files turn out to need reading (already
    ingested), ``_stage`` uses as many as it needs and the others end unused.
    """
    workers = min(ingest_workers(), len(files))
    if workers > 1 and sum(f.size for f in files) >= staging.PARALLEL_MIN_BYTES:
        return staging.WorkerPool(workers)
    return None


def _ingest(store: Store, files: list[InputFile], format: str | None, log_group: str | None,  # noqa: A002
            force: bool, wait: bool, notice: Callable[[str], None],
            on_progress: Callable[[int, int], None] | None, pool: staging.WorkerPool | None) -> IngestReport:
    """One attempt of ``ingest``: under the lock (local), from the committed state to a new commit."""
    ingest_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    report = IngestReport(ingest_id)
    with store.lock(wait=wait, on_wait=notice):
        report.recovered = store.recover()
        if report.recovered:
            notice(f"cleaned up {len(report.recovered)} file(s) left by an interrupted write")
        state = store.load_state()
        todo: list[ToRead] = []
        new: list[tuple[InputFile, str]] = []
        for f in files:
            if f.etag is not None:
                # An object is known by its URL, ETag and size: no byte of it is read to skip it.
                digest = f.name
                seen = state.ingested_object(f.name, f.etag, f.size)
                same = "same ETag and size"
            else:
                digest = sha256_of(f.path)
                seen = state.inputs.get(digest)
                same = "same content"
            if seen and not force:
                report.files.append(FileResult(f.name, seen.get("format", "?"), "already-ingested",
                                               reason=f"already ingested by {seen.get('ingest_id')} ({same})"))
                continue
            new.append((f, digest))
        for (f, digest), fmt in zip(new, _detect_all([f for f, _ in new], format), strict=True):
            if isinstance(fmt, Exception):
                report.files.append(FileResult(f.name, "?", "failed", reason=fmt.message.removeprefix(f"{f.name}: ")))
                continue
            if fmt in _NOT_READ:
                status, reason = _NOT_READ[fmt]
                report.files.append(FileResult(f.name, fmt, status, reason=reason))
                continue
            todo.append(ToRead(f, digest, fmt))
        for line in skipped_notices(report.files):
            notice(line)
        if not todo:
            return report
        _read_and_commit(store, state, todo, report, log_group, on_progress, pool)
        for line in lacking_notices(report.files):
            notice(line)
        merge_small_files(store, report, notice)
    return report


#: Files detect() says are not to be read: their status and the reason.
_NOT_READ = {
    TRUTH: ("skipped", "ground truth written by `rumq generate`, not RUM data"),
    SKIP: ("skipped", "export-task permission check object, not data"),
    EMPTY: ("empty", "empty file"),
}

#: How a group of more than ``NAMED_SKIPS`` skipped files is told, by format (or status).
_SKIPPED_MANY = {
    "already-ingested": "{n} files already ingested (same content), skipped",
    TRUTH: "{n} ground-truth files of `rumq generate` (not RUM data), skipped",
    SKIP: "{n} export-task permission check objects (not data), skipped",
    EMPTY: "{n} empty files, skipped",
}
#: Up to this many skipped files of one kind are named one per line.
NAMED_SKIPS = 3


def _detect_all(files: list[InputFile], format: str | None) -> list[str | Exception]:  # noqa: A002
    """Each file's format (``detect``), objects several at a time; an object that
    cannot be read after retries gets its error instead."""
    def one(f: InputFile) -> str | Exception:
        try:
            # rumq's own ground truth is never data, whatever --format says.
            return detect(f.path) if format is None else (TRUTH if is_truth_file(f.path) else format)
        except _OBJECT_FAILURES as e:
            return e

    if not any(isinstance(f.path, StoredObject) for f in files):
        return [one(f) for f in files]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(DETECT_IN_FLIGHT, thread_name_prefix="rumq-detect") as pool:
        return list(pool.map(one, files))


def skipped_notices(files: list[FileResult]) -> list[str]:
    """One line per kind of skipped file (re-ingesting 173 files is one line), naming small groups file by file.

    Every skipped file, with its reason, is in the report (``IngestReport.to_json``).
    """
    groups: dict[str, list[FileResult]] = {}
    for f in files:
        if f.status not in ("ingested", "failed"):  # failed files are in the summary
            groups.setdefault("already-ingested" if f.status == "already-ingested" else f.format, []).append(f)
    out = []
    for kind, fs in groups.items():
        if len(fs) <= NAMED_SKIPS:
            out += [f"{f.path}: {f.reason}, skipped" for f in fs]
        else:
            many = _SKIPPED_MANY.get(kind, "{n} files not read, skipped")
            out.append(many.format(n=f"{len(fs):,}") + "; the JSON summary names each")
    return out


def lacking_notices(files: list[FileResult]) -> list[str]:
    """Fields the Parquet / ORC files of this ingest lacked, and the analyses that costs (``rumq.ingest.columnar``)."""
    from rumq.ingest.columnar import missing_fields_notices, missing_fields_summary

    lacking: dict[str, int] = {}
    for f in files:
        for field in f.missing_fields:
            lacking[field] = lacking.get(field, 0) + 1
    return missing_fields_notices(missing_fields_summary(lacking), "Parquet/ORC file(s) of this ingest")


def _read_and_commit(store: Store, state: State, todo: list[ToRead], report: IngestReport,
                     log_group: str | None, on_progress: Callable[[int, int], None] | None,
                     pool: staging.WorkerPool | None) -> None:
    """Stage ``todo``, drop duplicates, commit; on any failure leave the committed state untouched."""
    staging_dir = store.new_staging(report.ingest_id)
    try:
        ingested_at = datetime.now(UTC).replace(tzinfo=None)
        results: dict[str, FileResult] = {}
        for t in todo:
            res = FileResult(t.file.name, t.format, "ingested")
            results[t.file.name] = res
            report.files.append(res)
        parts = staging_dir / "parts"
        parts.mkdir()
        cons: list[Any] = []

        def connect() -> None:
            # While the workers parse: load what dedup needs and set up its connection.
            import numpy  # noqa: F401
            import pyarrow  # noqa: F401

            cons.append(staging.connect_stage(report.ingest_id, ingested_at, staging_dir))

        _stage(todo, results, parts, staging_dir, report.ingest_id, ingested_at, log_group, on_progress,
               pool, meanwhile=connect)
        if not any(parts.iterdir()):
            for con in cons:
                con.close()
            for res in results.values():
                if res.status == "ingested":
                    res.status, res.reason = "empty", "no records in it"
            record_inputs(state, todo, report)
            store.commit(state)
            return
        con = cons[0] if cons else staging.connect_stage(report.ingest_id, ingested_at, staging_dir)
        deduped = drop_duplicates(con, store, state, parts, staging_dir / staging.KEYS_DIR, results)
        report.by_type = deduped.by_type
        rejects = staging_dir / "rejects.jsonl"
        n_rejects, report.reject_reasons = write_rejects(con, rejects, parts)
        con.close()
        commit(store, state, todo, report, parts, deduped.rows_by_file, rejects if n_rejects else None, n_rejects)
    finally:
        # Committed or not, the staging folder is done with (a failure leaves the state as it was).
        shutil.rmtree(staging_dir, ignore_errors=True)


#: Parsing processes by default: measured on a 2-core machine (bench/ingest.py --workers).
DEFAULT_WORKERS = 2


def ingest_workers() -> int:
    """Worker processes an ingest parses in: ``RUMQ_INGEST_WORKERS``, else min(cores, ``DEFAULT_WORKERS``).

    Raises:
        UsageError: the variable is not a positive whole number.
    """
    raw = os.environ.get("RUMQ_INGEST_WORKERS", "").strip()
    if not raw:
        return min(os.cpu_count() or 1, DEFAULT_WORKERS)
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"RUMQ_INGEST_WORKERS={raw!r} is not a positive whole number",
                         hint="set it to the number of processes an ingest may parse in, e.g. 4")
    return int(raw)


def _stage(todo: list[ToRead], results: dict[str, FileResult], parts: Path, staging_dir: Path, ingest_id: str,
           ingested_at: datetime, log_group: str | None, on_progress: Callable[[int, int], None] | None,
           pool: staging.WorkerPool | None, meanwhile: Callable[[], None] | None = None) -> None:
    """Stage every record of ``todo`` under ``parts``, in this process or in workers (``pool``,
    when it has enough of them and was not used yet); ``meanwhile`` runs while workers parse."""
    total = sum(t.file.size for t in todo) or 1
    workers = min(ingest_workers(), len(todo))
    objects = [t.file.path for t in todo if isinstance(t.file.path, StoredObject)]
    parallel = workers > 1 and total >= staging.PARALLEL_MIN_BYTES
    # A worker process gets an object as its description (bucket, key, ETag,
    # size) and the store's options, and reads it with its own client.
    options = asdict(objects[0].store.options) if objects else None
    jobs = [_job(t, i, describe=parallel) for i, t in enumerate(todo)]

    def config_of(k: int) -> StageConfig:
        return StageConfig(str(parts), str(staging_dir), ingest_id, ingested_at, log_group,
                           threads=1 if parallel else None, tag=f"w{k}", store_options=options)

    size_of = {t.file.name: t.file.size for t in todo}
    done = 0

    def on_file(out: dict[str, Any]) -> None:
        nonlocal done
        res = results[out["name"]]
        res.read, res.control_messages, res.problems = out["read"], out["control_messages"], out["problems"]
        res.reconstructed, res.missing_fields = out.get("reconstructed", False), out.get("missing_fields", [])
        if out.get("failed"):
            res.status, res.reason = "failed", out["failed"].removeprefix(f"{res.path}: ")
        done += size_of[out["name"]]
        if on_progress:
            on_progress(done, total)

    if not parallel:
        staging.stage_in_process(jobs, config_of(0), on_file)
        return
    if pool is not None and not pool.used and len(pool) >= workers:
        pool.run(jobs, workers, size_of, on_file, config_of, meanwhile=meanwhile)
        return
    with staging.WorkerPool(workers) as fresh:  # none started early, or a retry after a conflict
        fresh.run(jobs, workers, size_of, on_file, config_of, meanwhile=meanwhile)


def _job(t: ToRead, index: int, *, describe: bool) -> StageJob:
    """The staging job of ``t``: a local path, the object itself (this process), or its description (a worker)."""
    path = t.file.path
    if not isinstance(path, StoredObject):
        return StageJob(str(path), t.file.name, t.format, index)
    if describe:
        return StageJob(path.url, t.file.name, t.format, index, object=asdict(path.info))
    return StageJob(path, t.file.name, t.format, index)  # type: ignore[arg-type]
