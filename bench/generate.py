"""Benchmark the traffic generator: events per second in the fast mode
(gzip JSON lines, compression level 1) and per export format.

Usage: python bench/generate.py [--events N] [--workers W] [--formats jsonl,cwl-export,...]
Prints one line per run: format, events, seconds, events/s, output MB, peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rumq.generate import estimate_sessions, generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--formats", default="jsonl")
    ap.add_argument("--level", type=int, default=1)
    args = ap.parse_args()
    sessions = estimate_sessions(args.events)
    print(f"{args.events:,} events -> {sessions:,} sessions; workers={args.workers}", flush=True)
    for fmt in args.formats.split(","):
        out = Path(tempfile.mkdtemp(prefix="rumq-bench-gen-")) / "out"
        try:
            t0 = time.perf_counter()
            truth = generate(out, sessions=sessions, days=7, fmt=fmt, gzip=True, compresslevel=args.level,
                             workers=args.workers)
            dt = time.perf_counter() - t0
            n = truth.total["events"]
            size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
            rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
            print(f"{fmt:13s} {n:>11,} events {dt:7.1f} s {n / dt:>9,.0f} events/s {size:8.1f} MB "
                  f"peak RSS {rss:.0f} MB", flush=True)
        finally:
            shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
