"""Engine benchmark: the five core queries on DuckDB and on Spark local, over the same dataset.

Usage:
    python bench/engines.py [--events 5000000] [--out bench/out] [--repeat 3] [--master local[2]]

Builds (once; reused when present) a dataset of about ``--events`` events with
``bench/queries.py``'s builder (``rumq.generate``: 7 days, 2 apps, 10%
cookieless visits, ingested by ``rumq.ingest``), then times each core query

* on DuckDB: ``rumq.runner.run_query`` (the code path of ``rumq run``);
* on Spark: ``rumq.engines.spark.run_query`` (``rumq run --engine spark``), on
  one SparkSession built once (``--master``, default ``local[2]``: this machine
  has two cores); the first run of each query warms the JVM and is not counted.

Each side runs ``--repeat`` times and the best wall time is reported, with
the events read per second and per core (events in the dataset / best time /
cores). The two results are compared (columns, rows, floats to 1e-9) so both
engines really answered the same question. Also printed: the dataset's bytes
per event (Parquet files / events written), the figure docs/scaling.md scales
from. Nothing here is a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: The five core queries (docs/scaling.md): a session aggregate, a per-page window query,
#: ordered paths, exact percentiles, a recursive funnel.
CORE: dict[str, dict[str, str]] = {
    "sessions/summary": {},
    "pages/drop_off": {},
    "journeys/top_paths": {},
    "performance/web_vitals": {},
    "funnels/conversion": {"steps": "/,/product/*,/cart"},
}


def _same(a, b) -> str | None:
    """None when the frames agree (names, rows in order, floats to 1e-9), else the first difference."""
    if a.columns != b.columns or a.height != b.height:
        return f"shape {a.columns} x {a.height} != {b.columns} x {b.height}"
    for i, (x, y) in enumerate(zip(a.rows(), b.rows(), strict=True)):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) and isinstance(v, float):
                if not (math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(u) and math.isnan(v))):
                    return f"row {i}: {x} != {y}"
            elif u != v and not (isinstance(u, (int, float)) and isinstance(v, (int, float)) and u == v):
                return f"row {i}: {x} != {y}"
    return None


def scanned(files: list[str], events: int, names_: list[str]) -> dict[str, tuple[list[str], float]]:
    """Per query: the stored columns its Athena statement reads, and their compressed bytes per event.

    The columns are the stored columns named in the query or in a view it reads
    (transitively), a derived column standing for the stored ones it is made of
    (``rumq.schema.DERIVED``): Athena reads those columns and no other, so this
    is an upper bound (a column a view names but the query drops is counted).
    Bytes are the Parquet column chunks' compressed sizes in ``files``: what
    Athena bills for a scan of every partition; a window scans its days' share.
    """
    import duckdb
    import sqlglot
    from sqlglot import exp

    from rumq.library import Library
    from rumq.params import resolve, substitute_identifiers
    from rumq.schema import DERIVED, STORED_COLUMNS
    from rumq.views import view_sql

    con = duckdb.connect()
    sizes = dict(con.execute("SELECT path_in_schema, sum(total_compressed_size) FROM parquet_metadata(?) "
                             "GROUP BY 1", [files]).fetchall())
    stored = {c.name for c in STORED_COLUMNS}
    views = view_sql()

    def names(sql: str) -> tuple[set[str], set[str]]:
        tree = sqlglot.parse_one(sql, read="duckdb")
        return {c.name for c in tree.find_all(exp.Column)}, {t.name for t in tree.find_all(exp.Table)}

    lib = Library(env={})
    out = {}
    for name in names_:
        q = lib.get(name)
        todo = [substitute_identifiers(q.body, q.params, resolve(q.params, CORE.get(name, {}), query=name))]
        cols: set[str] = set()
        seen: set[str] = set()
        while todo:
            c, t = names(todo.pop())
            cols |= c
            for v in t & set(views) - seen:
                seen.add(v)
                todo.append(views[v])
        for d, sql in DERIVED.items():
            if d in cols:
                cols |= names(f"SELECT {sql}")[0]
        read = sorted(cols & stored)
        out[name] = (read, sum(sizes.get(c, 0) for c in read) / events)
    return out


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--only", default="", help="comma-separated query names (default: the five core queries)")
    args = ap.parse_args()

    from queries import build
    from rumq.engines.spark import run_query as on_spark
    from rumq.engines.spark import session
    from rumq.runner import run_query as on_duckdb
    from rumq.store import Store

    out = Path(args.out) / f"queries-{args.events}"
    data = build(out, args.events)
    written = json.loads((out / "built.json").read_text())["written"]
    files = Store(data).event_files(None, None)
    size = sum(os.path.getsize(f) for f in files)
    cores = os.cpu_count() or 1
    print(f"dataset: {written:,} events, {len(files)} files, {size / 1e6:.1f} MB, "
          f"{size / written:.1f} bytes/event; {cores} cores; Spark master {args.master}", flush=True)

    scan = scanned(files, written, names_=[n for n in args.only.split(",") if n] or list(CORE))
    print("| query | columns read | bytes/event read | share of the files | TB at 10 billion events | "
          "Athena $ at $5/TB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (cols, per_event) in scan.items():
        tb = per_event * 1e10 / 1e12
        print(f"| {name} | {len(cols)} | {per_event:.1f} | {per_event / (size / written):.0%} | {tb:.2f} | "
              f"{tb * 5:.2f} |", flush=True)

    spark = session(data, args.master)
    names = [n for n in args.only.split(",") if n] or list(CORE)
    print("| query | DuckDB s | Spark s | Spark / DuckDB | DuckDB events/s/core | Spark events/s/core |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        params = CORE.get(name, {})
        duck_s, duck = _best(lambda name=name, params=params: on_duckdb(data, name, params, notify=lambda _m: None), args.repeat)
        on_spark(data, name, params)  # warm-up: the JVM compiles the plan's code on first use
        spark_s, sp = _best(lambda name=name, params=params: on_spark(data, name, params), args.repeat)
        diff = _same(duck, sp)
        if diff:
            print(f"{name}: the engines disagree: {diff}", file=sys.stderr)
        print(f"| {name} | {duck_s:.2f} | {spark_s:.2f} | {spark_s / duck_s:.1f} | "
              f"{written / duck_s / cores:,.0f} | {written / spark_s / cores:,.0f} |", flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
