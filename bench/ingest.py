"""Ingest benchmark: rumq ingest vs a plain DuckDB read_json -> Parquet conversion.

Usage:
    python bench/ingest.py [--events 2000000] [--out bench/out] [--repeat N] [--workers 1,2] [--files 4]

Generates realistic RUM events as gzip JSON lines with ``rumq.generate``
(cached under --out), then times, in the same run and on the same files:

* ``rumq ingest`` (detect, parse, validate, normalize, dedup, partitioned
  zstd Parquet, atomic commit), in a subprocess;
* plain DuckDB: ``read_json(files, columns=<explicit envelope schema>)`` ->
  ``COPY ... TO parquet`` (zstd), in a subprocess: no validation, no dedup,
  no typed columns beyond the envelope. The issue's target (rumq >= 0.8x of
  this) is stated against it;
* DuckDB writing the same content as rumq, for reference: each line's
  original text (``read_json_objects``, verbatim) plus the fields rumq types
  (``json_transform`` with rumq's own structure) -> zstd Parquet. Still no
  validation, rejects accounting, dedup, partitioning or atomic commit.
  This is issue 17's lossless reference (target: rumq >= 1.0x of it);
* the same, with DuckDB under rumq's own constraints: no insertion order to
  keep and a 1.5 GB memory limit (rumq's peak-memory bar). Faster than the
  default settings, and it stays under the bar, which the default does not;
* DuckDB running rumq's own normalize statement over ``read_json_objects``
  of the same files, under the same constraints, into one zstd Parquet file:
  the same checks and columns as rumq, but no line numbers, dedup, rejects
  file, partitions or atomic commit. How rumq's pipeline (ISA-L, worker
  processes, pyarrow's writer) compares with DuckDB's own for the same work.

Prints events/s for each side, rumq's ratio to each of them, and each
side's peak memory (the largest total RSS of its process tree, workers
included, sampled every 0.1 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path


def make_input(out: Path, events: int) -> list[Path]:
    """Generate about ``events`` RUM messages as gzip JSON lines with rumq's generator (cached)."""
    from rumq.generate import estimate_sessions, generate

    d = out / f"ingest-input-{events}"
    marker = d.with_name(d.name + ".complete")
    if not marker.exists():
        shutil.rmtree(d, ignore_errors=True)
        generate(d, sessions=estimate_sessions(events), days=7, seed=7, fmt="jsonl", gzip=True,
                 compresslevel=1, truth_path=d.with_name(d.name + ".truth.json"))
        marker.write_text("ok")
    return sorted(d.rglob("*.jsonl.gz"))


def regroup(out: Path, events: int, files: list[Path], n: int) -> list[Path]:
    """The same lines, in order, in ``n`` gzip files of about equal size (cached).

    The generator writes a file per application and day (14 for a week of two
    apps); issue 17's independent measurement read 1M events in 4 files. The
    lines are cut where the running size passes the next n-th of the total, so
    each file holds about as many events; each is one gzip member at the
    generator's level 1.
    """
    import gzip

    d = out / f"ingest-input-{events}-in-{n}"
    marker = d.with_name(d.name + ".complete")
    if not marker.exists():
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        total = 0
        for f in files:
            with gzip.open(f, "rb") as r:
                while block := r.read(1 << 22):
                    total += len(block)
        done, k = 0, 0
        w = gzip.open(d / "part-0.jsonl.gz", "wb", compresslevel=1)
        for f in files:
            with gzip.open(f, "rb") as r:
                for line in r:
                    if done >= total * (k + 1) / n and k < n - 1:
                        w.close()
                        k += 1
                        w = gzip.open(d / f"part-{k}.jsonl.gz", "wb", compresslevel=1)
                    w.write(line)
                    done += len(line)
        w.close()
        marker.write_text("ok")
    return sorted(d.glob("*.jsonl.gz"))


BASELINE = """
import sys, duckdb
files, out = sys.argv[1].split(','), sys.argv[2]
con = duckdb.connect()
cols = {'event_timestamp': 'BIGINT', 'event_type': 'VARCHAR', 'event_id': 'VARCHAR', 'event_version': 'VARCHAR',
        'log_stream': 'VARCHAR', 'application_id': 'VARCHAR', 'application_version': 'VARCHAR',
        'metadata': 'JSON', 'user_details': 'STRUCT(sessionId VARCHAR, userId VARCHAR)', 'event_details': 'JSON'}
con.execute("SET VARIABLE files = ?", [files]).fetchall()
con.execute("SET VARIABLE cols = ?::MAP(VARCHAR, VARCHAR)", [cols]).fetchall()
struct = '{' + ', '.join(f"'{k}': '{v}'" for k, v in cols.items()) + '}'
con.execute(f"COPY (SELECT * FROM read_json(getvariable('files'), format='newline_delimited', columns={struct})) "
            f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)").fetchall()
"""

SAME_OUTPUT = """
import sys, duckdb
files, out, structure = sys.argv[1].split(','), sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute("SET VARIABLE files = ?", [files]).fetchall()
con.execute("SET VARIABLE structure = ?", [structure]).fetchall()
con.execute("COPY (SELECT json::VARCHAR AS message, unnest(json_transform(json, getvariable('structure'))) "
            "FROM read_json_objects(getvariable('files'), format='newline_delimited')) "
            f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)").fetchall()
"""


#: The same conversion with DuckDB held to what rumq is held to: no order to keep
#: (rumq keeps none across files either; it records each line's number instead)
#: and a memory limit that keeps its peak under the issue's 1.5 GB bar. Without a
#: limit it peaks at 1.5-1.9 GB on the 1M input; with only the limit (order kept)
#: it runs about 1.5x as long (docs/ingest.md, *The lossless reference*).
SAME_OUTPUT_TUNED = SAME_OUTPUT.replace(
    "con = duckdb.connect()\n",
    "con = duckdb.connect()\ncon.execute(\"SET preserve_insertion_order = false\")\n"
    "con.execute(\"SET memory_limit = '1500MB'\")\n")


#: DuckDB doing rumq's own normalize step (the same SELECT: parse, checks, typed
#: columns, the message stored without its id) over the same files, with its own
#: reader, its two threads and its own Parquet writer, held to rumq's constraints
#: as above. Less than rumq does: a constant line number and ordinal, no dedup,
#: one output file instead of one per day and a rejects file, no atomic commit.
#: Its ratio says how rumq's pipeline compares for the same work (docs/ingest.md).
SAME_WORK = """
import sys, duckdb
files, out, sql = sys.argv[1].split(','), sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute("SET preserve_insertion_order = false")
con.execute("SET memory_limit = '1500MB'")
con.execute("SET VARIABLE rumq_ingest_id = 'bench'")
con.execute("SET VARIABLE rumq_ingested_at = TIMESTAMP '2026-01-01 00:00:00'")
con.execute("SET VARIABLE files = ?", [files]).fetchall()
con.execute(f"COPY (SELECT * EXCLUDE (_day) FROM ({sql})) TO '{out}' (FORMAT parquet, COMPRESSION zstd)").fetchall()
"""


def _same_work_sql() -> str:
    """rumq's normalize SELECT over ``read_json_objects`` of the files (variable ``files``)."""
    from rumq.normalize import RAW_COLUMNS, normalize_sql

    given = {"raw": "json::VARCHAR", "line": "0", "source_file": "'bench'", "source_format": "'jsonl'",
             "reconstructed": "false"}
    cols = ", ".join(f"{given.get(name, 'NULL')}::{typ} AS {name}" for name, typ in RAW_COLUMNS)
    return normalize_sql(f"(SELECT {cols}, 0::BIGINT AS seq "
                         "FROM read_json_objects(getvariable('files'), format='newline_delimited'))")


def _same_output_structure() -> str:
    """rumq's json_transform structure, with the envelope typed as a plain conversion would."""
    import json

    from rumq.normalize import MESSAGE_STRUCTURE

    typed = {"event_timestamp": "BIGINT", "event_id": "VARCHAR", "event_type": "VARCHAR", "log_stream": "VARCHAR"}
    s = {k: typed.get(k, v) for k, v in MESSAGE_STRUCTURE.items() if k not in ("resource", "scope")}
    return json.dumps(s)


RUMQ = """
import sys
from rumq.ingest import ingest
r = ingest(sys.argv[2], sys.argv[1].split(','))
print(r.read, r.written, r.duplicates, r.rejected)
"""


def _tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (Linux /proc)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parent[int(d)] = int(fields[1])
            rss[int(d)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        for c, pp in parent.items():
            if pp == p and c not in tree:
                tree.add(c)
                frontier.append(c)
    return sum(rss.get(p, 0) for p in tree)


def measure(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``argv``: wall seconds, CPU seconds (the process and its waited-for children), peak memory.

    Peak memory is the larger of the process tree's summed RSS (sampled every
    0.1 s: workers run side by side) and the kernel's peak for the process.
    """
    import tempfile

    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=fo, stderr=fe, env={**os.environ, **(env or {})})
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.1):
                peak = max(peak, _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        secs = time.perf_counter() - t0
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read().decode(errors="replace"), fe.read().decode(errors="replace")
    return {"seconds": secs, "rc": proc.returncode, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_mb": max(peak, usage.ru_maxrss * 1024) / 2**20, "stdout": out, "stderr": err}


def run_timed(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run python code in a subprocess; return (seconds, peak RSS of its process tree, stdout)."""
    r = measure([sys.executable, "-c", code, *args], env)
    if r["rc"] != 0:
        raise SystemExit(f"benchmark subprocess failed ({r['rc']}): {r['stderr'][-2000:]}")
    return r["seconds"], int(r["peak_mb"] * 2**20), r["stdout"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--files", type=int, default=None,
                    help="regroup the generated input into this many files (e.g. 4); default: as generated")
    ap.add_argument("--workers", default="2",
                    help="comma-separated worker process counts for rumq (RUMQ_INGEST_WORKERS), e.g. 1,2")
    args = ap.parse_args()
    counts_w = [int(w) for w in args.workers.split(",")]
    out = Path(args.out)
    t0 = time.perf_counter()
    files = make_input(out, args.events)
    if args.files is not None:
        if args.files < 1:
            raise SystemExit("--files must be at least 1")
        files = regroup(out, args.events, files, args.files)
    size = sum(p.stat().st_size for p in files)
    n_events = None
    made = time.perf_counter() - t0
    joined = ",".join(str(p) for p in files)
    best = {}
    for _ in range(args.repeat):
        base_out = out / "baseline.parquet"
        base_out.unlink(missing_ok=True)
        b = run_timed(BASELINE, joined, str(base_out))
        base_out.unlink()
        same = run_timed(SAME_OUTPUT, joined, str(base_out), _same_output_structure())
        base_out.unlink()
        tuned = run_timed(SAME_OUTPUT_TUNED, joined, str(base_out), _same_output_structure())
        base_out.unlink()
        work = run_timed(SAME_WORK, joined, str(base_out), _same_work_sql())
        base_out.unlink()
        runs = [("baseline", b), ("same", same), ("tuned", tuned), ("work", work)]
        for w in counts_w:
            data = out / "rumq-data"
            shutil.rmtree(data, ignore_errors=True)
            r = run_timed(RUMQ, joined, str(data), env={"RUMQ_INGEST_WORKERS": str(w)})
            counts = [int(x) for x in r[2].split()]
            assert counts[3] == 0 and counts[0] == counts[1], counts  # no rejects, no duplicates
            n_events = counts[0]
            runs.append((f"rumq w{w}", r))
        for k, v in runs:
            if k not in best or v[0] < best[k][0]:
                best[k] = v
    bs, bm, _ = best["baseline"]
    ss, sm, _ = best["same"]
    print(f"input: {n_events:,} events in {len(files)} gzip JSON-lines files, {size / 1e6:.0f} MB "
          f"(ready in {made:.1f} s)")
    print(f"{'':22} {'seconds':>8} {'events/s':>10} {'peak RSS (process tree)':>9}")
    print(f"{'duckdb (envelope)':22} {bs:8.2f} {n_events / bs:10,.0f} {bm / 2**20:7.0f} MB")
    print(f"{'duckdb (same output)':22} {ss:8.2f} {n_events / ss:10,.0f} {sm / 2**20:7.0f} MB")
    ts, tm, _ = best["tuned"]
    print(f"{'  unordered, 1.5 GB':22} {ts:8.2f} {n_events / ts:10,.0f} {tm / 2**20:7.0f} MB")
    ws, wm, _ = best["work"]
    label = "duckdb (rumq's work)"
    print(f"{label:22} {ws:8.2f} {n_events / ws:10,.0f} {wm / 2**20:7.0f} MB")
    for w in counts_w:
        rs, rm, _ = best[f"rumq w{w}"]
        name = f"rumq ({w} worker{'s' if w > 1 else ''})"
        print(f"{name:22} {rs:8.2f} {n_events / rs:10,.0f} {rm / 2**20:7.0f} MB")
    for w in counts_w:
        rs, rm, _ = best[f"rumq w{w}"]
        print(f"{w} worker(s): rumq / duckdb (same output, the lossless reference) {ss / rs:.2f}x (target >= 1.0x), "
              f"/ the same unordered within 1.5 GB {ts / rs:.2f}x; "
              f"/ duckdb (envelope) {bs / rs:.2f}x; / duckdb running rumq's own normalize {ws / rs:.2f}x; "
              f"rumq peak memory {rm / 2**30:.2f} GB (target < 1.5 GB)")


if __name__ == "__main__":
    main()
