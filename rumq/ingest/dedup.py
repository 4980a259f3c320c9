"""Dedup: drop staged events whose event_id is already in the dataset or earlier in this ingest.

Works on the staged files of one ingest (``rumq.ingest.staging``), before
anything is committed: it counts what happened to each input file and
rewrites only the staged files that hold duplicates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rumq.eventfiles import INGEST_LEVEL, write_query
from rumq.ingest.report import FileResult
from rumq.ingest.staging import GROUP_BYTES, GROUP_ROWS, StagedCounts
from rumq.schema import FILE_COLUMNS
from rumq.store import State, Store

#: The staged files of an ingest (``rumq_parts`` names them), with their partition and path.
STAGED = ("read_parquet(getvariable('rumq_parts'), hive_partitioning = true, "
          "hive_types = {'_part': 'VARCHAR'}, filename = true)")


@dataclass
class Deduped:
    """What dedup left to commit.

    Attributes:
        by_type: events kept, by event_name (most first).
        rows_by_file: events kept per staged file (path -> rows).
    """

    by_type: dict[str, int]
    rows_by_file: dict[str, int]


def drop_duplicates(con: Any, store: Store, state: State, parts: Path, keys: Path,
                    results: dict[str, FileResult]) -> Deduped:
    """Drop duplicate events from the staged files; fill in each file's counts in ``results``.

    Duplicates are all but the first occurrence (in input order) of an
    event_id in this ingest, and every event_id already committed.

    Args:
        keys: the stagers' keys files (``staging.KEYS_DIR``): each good event's
            ``_seq`` and the hash of its ``event_id``, and what each stager
            wrote (``staging.StagedCounts``).

    Raises:
        RuntimeError: the staged records of a file do not match what was read,
            or the keys do not match the staged events (a bug).
    """
    con.execute("SET VARIABLE rumq_parts = ?", [str(parts / "*" / "*" / "*.parquet")]).fetchall()
    # Each question below is its own scan of the staged files (only the columns
    # it needs), and only asked when some id may repeat or days already hold events.
    good = f"(SELECT _seq AS seq, event_id, event_name, source_file, filename, _part AS part FROM {STAGED} " \
           "WHERE _reject IS NULL)"
    # Ids that occur more than once are found on their 64-bit hash, computed by
    # the stagers (8-byte keys, no staged id read again), then checked exactly.
    n_keys, n_candidates = _candidates(con, keys)
    if n_candidates:
        con.execute(
            "CREATE TABLE dropped AS SELECT seq, filename, source_file, event_name FROM ("
            "  SELECT seq, filename, source_file, event_name, "
            "    row_number() OVER (PARTITION BY event_id ORDER BY seq) AS rn "
            f"  FROM {good} WHERE seq IN (SELECT seq FROM candidates)"
            ") WHERE rn > 1"
        ).fetchall()
    else:  # the usual case: no id twice, nothing to read
        con.execute("CREATE TABLE dropped (seq BIGINT, filename VARCHAR, source_file VARCHAR, event_name VARCHAR)"
                    ).fetchall()
    # What the stagers wrote, counted as they wrote it (no scan of the staged files).
    counts = StagedCounts()
    for f in sorted(keys.glob("*.json")):
        counts.merge(StagedCounts.load(f))
    # The same event always carries the same client timestamp, so only the
    # partitions of the incoming dates can hold it.
    existing = [store.url(f["path"]) for f in state.files if f["date"] in counts.days]
    if existing:
        store.prepare(con, store.file_sizes(state))
        con.execute("SET VARIABLE rumq_existing = ?::VARCHAR[]", [existing]).fetchall()
        con.execute(
            f"INSERT INTO dropped SELECT seq, filename, source_file, event_name FROM {good} "
            "WHERE seq NOT IN (SELECT seq FROM dropped) "
            "AND event_id IN (SELECT event_id FROM read_parquet(getvariable('rumq_existing')))"
        ).fetchall()
    dup_by_file = dict(con.execute("SELECT source_file, count(*) FROM dropped GROUP BY 1").fetchall())
    n_good = 0
    for name, res in results.items():
        read_n, rej = counts.staged.get(name, 0), counts.rejected.get(name, 0)
        if read_n != res.read:  # every record read was staged; anything else is a bug
            raise RuntimeError(f"internal error: {name}: read {res.read} records, staged {read_n}")
        if not read_n:
            continue
        dup = dup_by_file.get(name, 0)
        res.rejected, res.duplicates = rej, dup
        res.written = read_n - rej - dup
        n_good += read_n - rej
    if sum(counts.files.values()) != n_good or n_keys != n_good:  # missing keys would let duplicates through
        raise RuntimeError(f"internal error: {n_good} events staged, {sum(counts.files.values())} in the staged "
                           f"files, {n_keys} dedup keys")
    by_type = dict(counts.by_type)
    rows_by_file = dict(counts.files)
    for name, fname, n in con.execute("SELECT event_name, filename, count(*) FROM dropped GROUP BY ALL").fetchall():
        by_type[name] -= n
        rows_by_file[fname] -= n
    by_type = dict(sorted(((k, n) for k, n in by_type.items() if n > 0),
                          key=lambda kv: (-kv[1], kv[0] is None, kv[0] or "")))
    # Rewrite only the staged files that hold duplicates.
    for (fname,) in con.execute("SELECT DISTINCT filename FROM dropped").fetchall():
        tmp = fname + ".dedup"
        con.execute("SET VARIABLE rumq_file = ?", [fname]).fetchall()
        # Written like the stager's files (rumq.eventfiles), at the ingest's level.
        write_query(
            con, f"SELECT {', '.join(FILE_COLUMNS)} FROM read_parquet(getvariable('rumq_file'), "
            f"hive_partitioning = false) WHERE _seq NOT IN "
            f"(SELECT seq FROM dropped WHERE filename = getvariable('rumq_file'))",
            tmp, level=INGEST_LEVEL, group_rows=GROUP_ROWS, group_bytes=GROUP_BYTES, all_statistics=False)
        os.replace(tmp, fname)
    return Deduped(by_type, {f: n for f, n in rows_by_file.items() if n > 0})



def _candidates(con: Any, keys: Path) -> tuple[int, int]:
    """Table ``candidates(seq)``: the events whose id hash occurs more than once in ``keys``.

    The hashes are sorted with numpy (a third of the CPU of a DuckDB GROUP BY
    over as many random keys: docs/ingest.md, *Speed and memory*); the files
    are memory-mapped, so only the pages read are loaded.

    Returns:
        (keys read, candidates).
    """
    import numpy as np
    import pyarrow as pa

    batches = [b for f in sorted(keys.glob("*.arrow")) for b in pa.ipc.open_stream(pa.memory_map(str(f)))]
    hashes = np.concatenate([b.column("key").to_numpy() for b in batches] or [np.empty(0, np.uint64)])
    hashes.sort()
    twice = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    seqs = np.concatenate([b.column("seq").to_numpy()[np.isin(b.column("key").to_numpy(), twice)]
                           for b in batches] or [np.empty(0, np.int64)]) if len(twice) else np.empty(0, np.int64)
    con.register("rumq_candidates", pa.table({"seq": pa.array(seqs, pa.int64())}))
    try:
        con.execute("CREATE TABLE candidates AS SELECT seq FROM rumq_candidates").fetchall()
    finally:
        con.unregister("rumq_candidates")
    return len(hashes), len(seqs)
