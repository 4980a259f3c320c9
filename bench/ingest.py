"""Ingest benchmark: rumq ingest vs a plain DuckDB read_json -> Parquet conversion.

Usage:
    python bench/ingest.py [--events 2000000] [--files 8] [--out bench/out]

Generates realistic RUM events as gzip JSON lines (with ``rumq.generate``
when it is installed, else a bench-local generator), then times, in the same
run and on the same files:

* ``rumq ingest`` (detect, parse, validate, normalize, dedup, partitioned
  zstd Parquet, atomic commit), in a subprocess;
* plain DuckDB: ``read_json(files, columns=<explicit envelope schema>)`` ->
  ``COPY ... TO parquet`` (zstd), in a subprocess: no validation, no dedup,
  no typed columns beyond the envelope.

Prints events/s for both, the ratio, and each side's peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson

PAGES = ["/", "/search", "/category/shoes", "/product/{id}", "/cart", "/checkout", "/confirmation", "/account", "/help"]
BROWSERS = [("Chrome", "131.0"), ("Safari", "18.1"), ("Firefox", "133.0"), ("Edge", "131.0")]
DEVICES = ["desktop", "mobile", "tablet"]
COUNTRIES = ["US", "DE", "GB", "FR", "JP", "IN", "BR"]


def _bench_events(n: int, seed: int = 7):
    """A simple stream of realistic RUM messages (sessions of page loads)."""
    rnd = random.Random(seed)
    app = "9c420d0e-23f2-4257-acff-ef95de04be4b"
    t = 1764028800  # 2026-11-25T00:00:00Z
    made = 0
    while made < n:
        sid, uid = str(uuid.UUID(int=rnd.getrandbits(128), version=4)), str(uuid.UUID(int=rnd.getrandbits(128), version=4))
        b, bv = rnd.choice(BROWSERS)
        dev, cc = rnd.choice(DEVICES), rnd.choice(COUNTRIES)
        t += rnd.randint(0, 3)
        st = t
        prev = None
        for depth in range(rnd.randint(1, 8)):
            page = rnd.choice(PAGES).replace("{id}", str(rnd.randint(1, 5000)))
            md = {"version": "1.0.0", "browserLanguage": "en-US", "browserName": b, "browserVersion": bv,
                  "osName": "Linux", "osVersion": "x86_64", "deviceType": dev, "platformType": "web",
                  "domain": "shop.example.com", "title": "Shop", "pageId": page, "interaction": depth,
                  "aws:client": "arw-module", "aws:clientVersion": "1.16.1", "countryCode": cc, "subdivisionCode": "X"}
            if prev:
                md["parentPageId"] = prev
            kinds = [("com.amazon.rum.page_view_event", {"version": "1.0.0", "pageId": page, "interaction": depth,
                                                          "pageInteractionId": f"{page}-{depth}"}),
                     ("com.amazon.rum.performance_navigation_event",
                      {"version": "1.0.0", "initiatorType": "navigation", "navigationType": "navigate", "startTime": 0,
                       "duration": round(rnd.lognormvariate(7.3, 0.5), 1), "dns": 12.0, "connect": 30.5,
                       "timeToFirstByte": round(rnd.uniform(80, 900), 1), "domProcessingTime": 400.2, "loadEventTime": 3.1}),
                     ("com.amazon.rum.largest_contentful_paint_event", {"version": "1.0.0", "value": round(rnd.lognormvariate(7.6, 0.4), 1)}),
                     ("com.amazon.rum.cumulative_layout_shift_event", {"version": "1.0.0", "value": round(rnd.random() / 5, 3)})]
            for _ in range(rnd.randint(1, 4)):
                kinds.append(("com.amazon.rum.performance_resource_event",
                              {"version": "1.0.0", "initiatorType": "script", "startTime": 100.0,
                               "duration": round(rnd.uniform(5, 300), 1), "fileType": "script", "transferSize": 4096,
                               "targetUrl": f"https://cdn.example.com/app.{rnd.randint(1, 50)}.js"}))
            if rnd.random() < 0.1:
                kinds.append(("com.amazon.rum.js_error_event", {"version": "1.0.0", "type": "TypeError",
                                                                 "message": f"Cannot read properties of undefined (reading 'id{rnd.randint(1, 9)}')",
                                                                 "stack": "TypeError: ...\n at app.js:1:2"}))
            if rnd.random() < 0.2:
                kinds.append(("com.amazon.rum.http_event", {"version": "1.0.0", "request": {"method": "GET", "url": f"https://api.example.com/items/{rnd.randint(1, 999)}"},
                                                             "response": {"status": rnd.choice([200, 404, 500]), "statusText": "x"}}))
            for etype, details in kinds:
                yield orjson.dumps({
                    "event_timestamp": t * 1000, "event_type": etype, "event_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                    "event_version": "1.0.0", "log_stream": time.strftime("%Y-%m-%dT%H", time.gmtime(t)),
                    "application_id": app, "application_version": "1.2.3", "metadata": md,
                    "user_details": {"sessionId": sid, "userId": uid}, "event_details": details,
                })
                made += 1
                if made >= n:
                    return
            prev = page
            t += rnd.randint(1, 40)
        t = st + 1


def make_input(out: Path, events: int, files: int) -> list[Path]:
    """Write ``events`` messages into ``files`` gzip JSON-lines files (cached by size)."""
    d = out / f"ingest-input-{events}"
    marker = d / ".complete"
    if marker.exists():
        return sorted(d.glob("*.jsonl.gz"))
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    per = -(-events // files)
    paths = []
    try:
        from rumq.generate import generate_jsonl_files  # type: ignore[attr-defined]
    except ImportError:
        generate_jsonl_files = None
    if generate_jsonl_files is not None:
        paths = generate_jsonl_files(d, events=events, files=files, seed=7)
    else:
        stream = _bench_events(events)
        for i in range(files):
            p = d / f"part-{i:03d}.jsonl.gz"
            with gzip.open(p, "wb", compresslevel=6) as f:
                buf = []
                for j, msg in enumerate(stream):
                    buf.append(msg)
                    if j + 1 >= per:
                        break
                f.write(b"\n".join(buf) + b"\n")
            paths.append(p)
    marker.write_text("ok")
    return sorted(paths)


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

RUMQ = """
import sys
from rumq.ingest import ingest
r = ingest(sys.argv[2], sys.argv[1].split(','))
print(r.read, r.written, r.duplicates, r.rejected)
"""


def run_timed(code: str, *args: str) -> tuple[float, int, str]:
    """Run python code in a subprocess; return (seconds, peak RSS bytes, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark subprocess failed ({status})")
    return secs, usage.ru_maxrss * 1024, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    out = Path(args.out)
    t0 = time.perf_counter()
    files = make_input(out, args.events, args.files)
    size = sum(p.stat().st_size for p in files)
    print(f"input: {args.events:,} events in {len(files)} gzip JSON-lines files, {size / 1e6:.0f} MB "
          f"(made in {time.perf_counter() - t0:.1f} s)")
    joined = ",".join(str(p) for p in files)
    best = {}
    for _ in range(args.repeat):
        base_out = out / "baseline.parquet"
        base_out.unlink(missing_ok=True)
        b = run_timed(BASELINE, joined, str(base_out))
        data = out / "rumq-data"
        shutil.rmtree(data, ignore_errors=True)
        r = run_timed(RUMQ, joined, str(data))
        counts = r[2].split()
        assert int(counts[0]) == args.events, counts
        for k, v in (("baseline", b), ("rumq", r)):
            if k not in best or v[0] < best[k][0]:
                best[k] = v
    bs, bm, _ = best["baseline"]
    rs, rm, _ = best["rumq"]
    print(f"{'':10} {'seconds':>8} {'events/s':>10} {'peak RSS':>9}")
    print(f"{'duckdb':10} {bs:8.2f} {args.events / bs:10,.0f} {bm / 2**20:7.0f} MB")
    print(f"{'rumq':10} {rs:8.2f} {args.events / rs:10,.0f} {rm / 2**20:7.0f} MB")
    print(f"rumq / duckdb throughput ratio: {bs / rs:.2f}x (target >= 0.8x); rumq peak memory {rm / 2**30:.2f} GB (target < 1.5 GB)")


if __name__ == "__main__":
    main()
