"""Benchmark: each Polars twin against its SQL original, in the same process.

Usage:
    python bench/polars_twins.py [--data DIR | --events 5000000] [--since T] [--until T]
                                 [--repeat 3] [--only NAME,...]

Times the six Polars twins (``rumq.engines.polars_twins``) against the SQL
built-ins they twin, over the same dataset and window: ``rumq run NAME``'s
code path (``rumq.runner.run_query``: DuckDB, the window's views, the named
query) against ``rumq run NAME --engine polars``'s (``run_twin``: one
Parquet scan of the window's files, the Polars views, the twin). Default
parameters; funnels/conversion with the generated shop's three steps.

``--data`` measures an existing dataset (for instance the compacted 20M one
that ``bench/queries.py`` builds); ``--events N`` builds one as
``bench/queries.py`` does (generate, ingest, compact) under ``bench/out``.
``--since``/``--until`` cut a window of it (a two-day window of the 20M
dataset holds about 5.8M events).

For each query the two sides alternate, ``--repeat`` times each; reported:
the best wall time and the best process CPU time (user + system, all
threads), and the peak resident memory the run added above the process's
resident memory just before it (sampled every 5 ms from /proc; the largest
over the repeats). Both engines keep some memory after a run (DuckDB's
buffer pool, Polars' allocator), so the memory figures are what a run adds
to a warm process, not a cold one. The two results are compared (same
columns, same rows in order, floats to 1e-9) before any figure is printed,
so the comparison is of two equal answers. Nothing here is a test: timings
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FUNNEL = {"steps": "/,/product/*,/cart"}
PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class Peak:
    """The peak resident memory above the level at start, sampled in a thread."""

    def __enter__(self) -> Peak:
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def added(self) -> int:
        return self.peak - self.base


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _same(a, b) -> bool:
    """Same columns and rows in order, floats to 1e-9 (relative), NaN equal to NaN."""
    if a.columns != b.columns or a.height != b.height:
        return False
    for ra, rb in zip(a.rows(), b.rows(), strict=True):
        for x, y in zip(ra, rb, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                if not (math.isnan(x) and math.isnan(y)) and not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif x != y:
                return False
    return True


def measure(fn) -> tuple[float, float, int, object]:
    """(wall s, cpu s, added peak RSS bytes, result) of one call."""
    with Peak() as p:
        c0, t0 = _cpu(), time.perf_counter()
        out = fn()
        t1, c1 = time.perf_counter(), _cpu()
    return t1 - t0, c1 - c0, p.added, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, help="an existing dataset directory")
    ap.add_argument("--events", type=int, default=5_000_000, help="build a dataset of about this many events")
    ap.add_argument("--out", type=Path, default=Path("bench/out"))
    ap.add_argument("--since")
    ap.add_argument("--until")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated query names")
    args = ap.parse_args()

    import duckdb
    import polars as pl

    from rumq import runner
    from rumq.engines.polars_twins import TWINS, run_twin

    data = args.data
    if data is None:
        from bench.queries import build
        from rumq.maintenance import compact

        data = build(args.out / f"queries-{args.events}", args.events)
        compact(data)
    window = {"since": args.since, "until": args.until}
    events = runner.run_sql(data, "SELECT count(*) AS n FROM events", **window)["n"][0]
    names = [n for n in TWINS if not args.only or n in args.only.split(",")]
    print(f"dataset: {data} - window {args.since or '(start)'} .. {args.until or '(end)'}: {events:,} events; "
          f"DuckDB {duckdb.__version__}, Polars {pl.__version__}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{'query':<26} {'duckdb s':>9} {'polars s':>9} {'ratio':>6} {'duck cpu':>9} {'pl cpu':>8} "
          f"{'duck MB':>8} {'pl MB':>7} same", flush=True)
    for name in names:
        params = FUNNEL if name == "funnels/conversion" else {}
        best = {"duckdb": [math.inf, math.inf, 0], "polars": [math.inf, math.inf, 0]}
        results = {}
        for _ in range(args.repeat):
            for side, run in (("duckdb", runner.run_query), ("polars", run_twin)):
                wall, cpu, added, out = measure(functools.partial(run, data, name, dict(params), **window))
                b = best[side]
                b[0], b[1], b[2] = min(b[0], wall), min(b[1], cpu), max(b[2], added)
                results[side] = out
        d, p = best["duckdb"], best["polars"]
        same = _same(results["duckdb"], results["polars"])
        print(f"{name:<26} {d[0]:>9.3f} {p[0]:>9.3f} {p[0] / d[0]:>6.2f} {d[1]:>9.2f} {p[1]:>8.2f} "
              f"{d[2] / 2**20:>8.0f} {p[2] / 2**20:>7.0f} {same}", flush=True)


if __name__ == "__main__":
    main()
