"""Queries over a dataset kept on a local S3 server vs on local disk: time, and bytes read from the store.

Usage:
    python bench/query_s3.py [--events 600000] [--days 30] [--out bench/out]

Generates ``--days`` days of traffic with ``rumq generate`` (cached under
--out), ingests and compacts it into a local dataset, uploads that dataset
as it is to a bucket on moto's S3 server (127.0.0.1; the same layout, so it
is the same dataset), then measures:

* whole ``rumq run`` processes over the local dataset and over
  ``s3://bench/rumq/`` (best of three each), for one day of the month and
  for the whole month, and their ratio;
* the bytes each of those queries read from the store (counted on the wire
  by a proxy in front of the server), against the size of the files of its
  window and of the whole dataset: partition pruning (only the window's
  files, from the manifest: no listing) and column and row-group pruning
  (only the chunks the query needs, each a ranged GET);
* the I/O layer, in one process: the same scan of one day's files read by
  DuckDB from local disk, through rumq's fsspec file system over boto3
  (``rumq.objectfs``, what rumq uses), and through pyarrow's S3 file system
  handed to DuckDB as an Arrow dataset (the alternative).

moto answers far slower than S3 and the machine is small and shared: the
ratios are upper bounds of the overhead. Prints Markdown tables; the
figures in README.md and docs/storage.md come from it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

BUCKET, PREFIX = "bench-rumq", "rumq/"


def make_dataset(out: Path, events: int, days: int) -> tuple[Path, date]:
    """A compacted local dataset of ``days`` days (cached)."""
    from rumq.generate import estimate_sessions, generate
    from rumq.ingest import ingest
    from rumq.maintenance import compact

    data = out / f"q-data-{events}-{days}"
    start = date(2026, 10, 1)
    if not (data / "_rumq" / "state.json").exists():
        src = out / f"q-input-{events}-{days}"
        if not src.exists():
            generate(src, sessions=estimate_sessions(events), days=days, seed=5, fmt="jsonl", gzip=True,
                     start=start)
        ingest(data, [str(src)])
        compact(data)
    return data, start


def upload(client, data: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    files = [p for p in data.rglob("*") if p.is_file() and "lock" not in p.name and "staging" not in p.parts]

    def put(p: Path) -> None:
        client.put_object(Bucket=BUCKET, Key=PREFIX + p.relative_to(data).as_posix(), Body=p.read_bytes())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, files))


def run_cli(env: dict[str, str], data: str, args: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", "from rumq.cli import main; main()", "--data", data, *args,
                        "-f", "csv"], env=env, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"rumq {' '.join(args)} failed: {r.stderr}")
    return time.perf_counter() - t


def best(fn, n: int = 3) -> float:
    return min(fn() for _ in range(n))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=600_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)

    from s3proxy import FaultProxy
    from s3server import S3Server, aws_env

    from rumq.store import Store

    data, start = make_dataset(a.out, a.events, a.days)
    store = Store(data)
    state = store.load_state()
    day = start + timedelta(days=a.days // 2)
    total = sum(f["bytes"] for f in state.files)
    day_bytes = sum(f["bytes"] for f in state.files if f["date"] == day.isoformat())
    n_events = sum(f["rows"] for f in state.files)
    print(f"dataset: {n_events:,} events over {len({f['date'] for f in state.files})} days, "
          f"{len(state.files)} files, {total / 1e6:.1f} MB; one day ({day}): {day_bytes / 1e6:.2f} MB\n")

    server = S3Server().start()
    try:
        env = dict(os.environ, **aws_env(server.url, Path(tempfile.mkdtemp())), RUMQ_QUERIES="")
        env.pop("RUMQ_DATA", None)
        os.environ.update(aws_env(server.url, Path(tempfile.mkdtemp())))
        client = server.client()
        client.create_bucket(Bucket=BUCKET)
        upload(client, data)
        url = f"s3://{BUCKET}/{PREFIX}"
        one_day = ["--since", day.isoformat(), "--until", (day + timedelta(days=1)).isoformat()]
        cases = [
            ("sessions/summary, one day", ["run", "sessions/summary", *one_day], day_bytes),
            ("sessions/summary, the month", ["run", "sessions/summary"], total),
            ("pages/drop_off, the month", ["run", "pages/drop_off"], total),
            ("errors/rate_per_session, the month", ["run", "errors/rate_per_session"], total),
        ]
        print("| query | local disk (s) | S3 server (s) | ratio | bytes read from S3 | files of the window | share |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, args, window_bytes in cases:
            t_local = best(lambda args=args: run_cli(env, str(data), args))
            t_s3 = best(lambda args=args: run_cli(env, url, args))
            with FaultProxy(server.url, lifetime=600) as proxy:
                run_cli(dict(env, AWS_ENDPOINT_URL=proxy.url), url, args)
                log = proxy.requests()
            read = sum(r.bytes for r in log if r.method == "GET" and "/events/" in r.path)
            gets = sum(1 for r in log if r.method == "GET" and "/events/" in r.path)
            lists = sum(1 for r in log if "list-type=" in r.query)
            print(f"| {label} | {t_local:.2f} | {t_s3:.2f} | {t_s3 / t_local:.2f} | "
                  f"{read / 1e6:.2f} MB in {gets} GETs, {lists} LIST | {window_bytes / 1e6:.2f} MB | "
                  f"{read / window_bytes:.0%} |")
        io_layers(store, url, day, server.url)
    finally:
        server.stop()


def io_layers(local: object, url: str, day: date, endpoint: str) -> None:
    """One day's scan read three ways, in this process (best of three, after one warm-up)."""
    import pyarrow.dataset as pads
    import pyarrow.fs as pafs

    from rumq import catalog
    from rumq.objectstore import ClientOptions, ObjectStore
    from rumq.store import Store

    remote = Store(url)
    files_local = local.event_files(day, day)
    files_s3 = remote.event_files(day, day)
    sizes = remote.file_sizes()
    sql = ("SELECT count(*), count(DISTINCT session_uuid), count(*) FILTER (WHERE event_name = 'page_view') "
           "FROM {src}")

    def duck_local() -> tuple:
        con = catalog.new_connection()
        return con.execute(sql.format(src="read_parquet(?)"), [files_local]).fetchall()

    def duck_fsspec() -> tuple:
        con = catalog.new_connection()
        Store(url, ClientOptions(endpoint_url=endpoint)).prepare(con, sizes)
        return con.execute(sql.format(src="read_parquet(?)"), [files_s3]).fetchall()

    s3fs = pafs.S3FileSystem(endpoint_override=endpoint, access_key=os.environ["AWS_ACCESS_KEY_ID"],
                             secret_key=os.environ["AWS_SECRET_ACCESS_KEY"], region="us-east-1", scheme="http")

    def duck_pyarrow() -> tuple:
        dataset = pads.dataset([f.removeprefix("s3://") for f in files_s3], format="parquet", filesystem=s3fs)
        con = catalog.new_connection()
        con.register("day", dataset)
        return con.execute(sql.format(src="day")).fetchall()

    assert duck_local() == duck_fsspec() == duck_pyarrow()
    del ObjectStore
    print(f"\nOne day's scan ({len(files_s3)} files), in one process, best of three:\n")
    print("| reader | seconds | median |")
    print("|---|---:|---:|")
    for label, fn in (("DuckDB, local disk", duck_local), ("DuckDB through rumq.objectfs (fsspec over boto3)", duck_fsspec),
                      ("DuckDB scanning a pyarrow dataset on pyarrow's S3FileSystem", duck_pyarrow)):
        times = []
        for _ in range(3):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        print(f"| {label} | {min(times):.3f} | {statistics.median(times):.3f} |")


if __name__ == "__main__":
    main()
