"""Ingest throughput: Firehose-converted Parquet against the same events as gzip JSON lines.

Usage:
    python bench/ingest_parquet.py [--events 300000] [--out bench/out] [--repeat 2]

Generates the same events (one seed) with ``rumq generate`` as gzip JSON
lines and as ``firehose-parquet`` under both Glue schemas (cached under
--out), then ingests each into a fresh dataset with ``rumq.ingest.ingest``
(in this process; large inputs stage in worker processes either way), and
prints events/s per route and each Parquet route's ratio to JSON lines.

With ``--readers`` it also times the two ways of reading the Parquet rows
before normalize (the choice made in ``rumq.ingest.columnar``): pyarrow's
``ParquetFile.iter_batches`` and DuckDB's ``read_parquet``, both handing the
rows to the same Python conversion.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROUTES = ("jsonl.gz", "parquet structs", "parquet json-strings")


def make_inputs(out: Path, events: int) -> dict[str, Path]:
    """The same ~``events`` RUM events per route (cached)."""
    from rumq.generate import estimate_sessions, generate

    sessions = estimate_sessions(events)
    dirs = {}
    for route in ROUTES:
        d = out / f"ingest-parquet-{events}-{route.replace(' ', '-')}"
        marker = d.with_name(d.name + ".complete")
        if not marker.exists():
            shutil.rmtree(d, ignore_errors=True)
            kw = ({"fmt": "jsonl", "gzip": True, "compresslevel": 1} if route == "jsonl.gz"
                  else {"fmt": "firehose-parquet", "glue_schema": route.split()[1]})
            generate(d, sessions=sessions, days=7, seed=7, truth_path=d.with_name(d.name + ".truth.json"), **kw)
            marker.write_text("ok")
        dirs[route] = d
    return dirs


def time_ingest(src: Path, repeat: int) -> tuple[float, int]:
    """Best wall time of ``repeat`` ingests of ``src`` into a fresh dataset, and the events written."""
    from rumq.ingest import ingest

    best, written = float("inf"), 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="rumq-bench-") as tmp:
            t0 = time.perf_counter()
            r = ingest(Path(tmp) / "data", [str(src)])
            best = min(best, time.perf_counter() - t0)
            written = r.written
            assert r.rejected == 0, r.reject_reasons
    return best, written


def time_readers(src: Path, repeat: int) -> dict[str, float]:
    """Best seconds (of ``repeat``, interleaved) to turn every Parquet row of ``src`` into a reconstructed
    message, by reader: the same conversion (``batch_messages``) after each."""
    import duckdb
    import pyarrow.parquet as pq

    from rumq.ingest.columnar import PARQUET, Plan, batch_messages, open_batches

    files = sorted(p for p in src.rglob("*") if p.is_file())
    plan = Plan(pq.ParquetFile(files[0]).schema_arrow)
    con = duckdb.connect()
    con.execute("SET threads = 1")  # as in an ingest worker

    def pyarrow_reader(f: Path):
        return open_batches(f, PARQUET)[1]  # what rumq.ingest.columnar reads with

    def duckdb_reader(f: Path):
        return con.sql("SELECT * FROM read_parquet($f)", params={"f": str(f)}).to_arrow_reader(8192)

    best = {"pyarrow (ParquetFile.iter_batches)": float("inf"), "duckdb (read_parquet)": float("inf")}
    for _ in range(repeat):
        for (name, reader) in zip(best, (pyarrow_reader, duckdb_reader), strict=True):
            t0 = time.perf_counter()
            for f in files:
                for rb in reader(f):
                    batch_messages(rb, plan)
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--readers", action="store_true", help="also time pyarrow against DuckDB as the Parquet reader")
    a = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    dirs = make_inputs(Path(a.out), a.events)
    rates = {}
    for route, d in dirs.items():
        secs, n = time_ingest(d, a.repeat)
        size = sum(p.stat().st_size for p in d.rglob("*") if p.is_file())
        rates[route] = n / secs
        print(f"{route:<22} {n:>10,} events  {secs:7.2f} s  {n / secs:>10,.0f} events/s  input {size / 2**20:7.1f} MiB")
    for route in ROUTES[1:]:
        print(f"{route} / jsonl.gz: {rates[route] / rates['jsonl.gz']:.2f}x")
    if a.readers:
        for route in ROUTES[1:]:
            for reader, secs in time_readers(dirs[route], a.repeat).items():
                print(f"reader {reader:<35} ({route}): {secs:6.2f} s")


if __name__ == "__main__":
    main()
