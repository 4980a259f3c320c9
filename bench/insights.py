"""Benchmark: Logs Insights queries vs hand-written DuckDB SQL over the same dataset.

Usage:
    .venv/bin/python bench/insights.py [--sessions N] [--data DIR] [--repeat R]

Generates traffic with ``rumq.generate`` (about 25 events per session), ingests
it with ``rumq.ingest`` into DIR (reused when it already holds a dataset), then
times each pair (best of R runs after one warm-up) and the compile time of each
Logs Insights query (mean over 200 compilations). Prints a Markdown table.
The issue's target scale is 20M events (about 800k sessions); the default
(4000 sessions, ~100k events) runs in well under a minute.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NAV = "com.amazon.rum.performance_navigation_event"

CASES = [
    (
        "filter + stats by",
        f'filter event_type = "{NAV}" | stats avg(event_details.duration) as avg_ms, count(*) as n by metadata.browserName',
        f"SELECT browser_name, avg(duration), count(*) FROM events WHERE event_type = '{NAV}' GROUP BY 1",
    ),
    (
        "bin time series",
        "stats count(*) as n by bin(1h)",
        "SELECT strftime(date_trunc('hour', event_time), '%Y-%m-%d %H:%M:%S.%g') AS t, count(*) FROM events GROUP BY 1 ORDER BY 1",
    ),
    (
        "pct by page, sort, limit",
        f'filter event_type = "{NAV}" | stats pct(event_details.duration, 90) as p90 by metadata.pageId | sort p90 desc | limit 10',
        f"SELECT page_id, quantile_disc(duration, 0.9) AS p90 FROM events WHERE event_type = '{NAV}' GROUP BY 1 ORDER BY p90 DESC NULLS LAST LIMIT 10",
    ),
    (
        "parse + stats",
        "parse @message '\"browserName\":\"*\"' as b | stats count(*) as n by b",
        "SELECT CASE WHEN regexp_matches(message, '\"browserName\":\"(.*?)\"') THEN regexp_extract(message, '\"browserName\":\"(.*?)\"', 1) END AS b, count(*) FROM events GROUP BY 1",
    ),
    (
        "JSON field (no typed column)",
        'filter event_type = "com.amazon.rum.http_event" | stats count(*) as n by event_details.request.method, event_details.version',
        "SELECT http_method, json_extract_string(event_details, '$.version'), count(*) FROM events WHERE event_type = 'com.amazon.rum.http_event' GROUP BY 1, 2",
    ),
    (
        "dedup",
        "fields @timestamp, metadata.pageId | sort @timestamp desc | dedup metadata.pageId",
        "SELECT strftime(event_time, '%Y-%m-%d %H:%M:%S.%g'), page_id FROM events QUALIFY row_number() OVER (PARTITION BY page_id ORDER BY event_time DESC) = 1 OR page_id IS NULL ORDER BY event_time DESC",
    ),
    (
        "filter + rows, newest first",
        'filter event_type = "com.amazon.rum.js_error_event" | fields @timestamp, event_details.message | limit 100',
        "SELECT strftime(event_time, '%Y-%m-%d %H:%M:%S.%g'), error_message FROM events WHERE event_type = 'com.amazon.rum.js_error_event' ORDER BY event_time DESC LIMIT 100",
    ),
]


def best(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=4000)
    ap.add_argument("--data", default=None, help="dataset directory (default: a temporary one)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from rumq import catalog, insights
    from rumq.generate import generate
    from rumq.ingest import ingest

    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="rumq-bench-insights-"))
    if not (data / "events").exists():
        gen = data.parent / (data.name + "-gen")
        t = time.perf_counter()
        generate(gen, sessions=args.sessions, days=7, seed=1)
        ingest(data, [str(gen)])
        print(f"built dataset in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    con = catalog.connect(data, views=False)
    n = con.sql("SELECT count(*) FROM events").fetchall()[0][0]
    print(f"dataset: {n:,} events ({data})\n")
    print("| query | Logs Insights (ms) | hand-written SQL (ms) | ratio | compile (ms) |")
    print("|---|---:|---:|---:|---:|")
    ratios = []
    for title, q, sql in CASES:
        c = insights.compile(q)
        t_ins = best(lambda c=c: con.execute(c.sql, c.parameters).fetchall(), args.repeat)
        t_sql = best(lambda sql=sql: con.execute(sql).fetchall(), args.repeat)
        k = 200
        t0 = time.perf_counter()
        for _ in range(k):
            insights.compile(q)
        t_comp = (time.perf_counter() - t0) / k
        ratios.append(t_ins / t_sql)
        print(f"| {title} | {t_ins * 1000:.1f} | {t_sql * 1000:.1f} | {t_ins / t_sql:.2f}x | {t_comp * 1000:.2f} |")
    print(f"\ngeometric mean ratio: {statistics.geometric_mean(ratios):.2f}x")
    con.close()


if __name__ == "__main__":
    main()
