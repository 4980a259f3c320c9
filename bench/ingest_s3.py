"""Ingest from a local S3 server vs from local disk, and listing 100,000 objects to skip them.

Usage:
    python bench/ingest_s3.py [--events 200000] [--keys 100000] [--out bench/out]

Generates Firehose objects (gzip, multi-member) with ``rumq.generate``
(cached under --out), starts moto's S3 server on 127.0.0.1 in its own
process, uploads the objects to a bucket, then times, each as a ``rumq
ingest`` subprocess into a fresh dataset:

* the ingest from local disk (the folder) and from the bucket (``s3://``),
  and their ratio; the S3 ingest's peak memory (objects stream, several in
  flight: memory does not grow with the input);
* the same S3 ingest run again: every object skipped by listing alone;
* ``--keys`` objects under one prefix, all already in the manifest: the
  time to list them and skip every one (what a scheduled ingest of a large
  bucket costs when nothing is new), and how much of it is moto's own time
  answering the listing requests (timed again with plain HTTP requests). The manifest is built from the
  listing (``State.record_object`` with each object's real ETag and size)
  instead of by ingesting 100,000 objects first; the ingest that is timed
  is the real one.

The server is moto (Python): its requests are much slower than S3's, so
the ratio is an upper bound of the overhead over a real network to a
nearby S3. Prints a table; the figures in README.md come from it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ACCESS_KEY, SECRET_KEY = "AKIABENCHRUMQ0000000", "bench-secret"

#: The server process: moto's threaded server, plus a direct fill of its
#: in-memory backend with many tiny objects (100,000 PUTs over HTTP would
#: take minutes on moto; the listing that is timed goes over HTTP).
SERVER = r"""
import sys
from moto.server import ThreadedMotoServer
from moto.s3.models import s3_backends
port, bucket, prefix, keys = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
if keys:
    backend = s3_backends["123456789012"]["global"]
    backend.create_bucket(bucket, "us-east-1")
    for i in range(keys):
        backend.put_object(bucket, f"{prefix}{i // 1000:03d}/{i:06d}.json", b'{"n": %d}\n' % i)
print("ready", flush=True)
sys.stdin.read()
server.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_input(out: Path, events: int) -> Path:
    from rumq.generate import estimate_sessions, generate

    d = out / f"s3-input-{events}"
    marker = d.with_name(d.name + ".complete")
    if not marker.exists():
        shutil.rmtree(d, ignore_errors=True)
        generate(d, sessions=estimate_sessions(events), days=3, seed=11, fmt="firehose", gzip=True,
                 compresslevel=1, truth_path=d.with_name(d.name + ".truth.json"))
        marker.write_text("ok")
    return d


def rumq(env: dict[str, str], *args: str) -> tuple[float, float, float]:
    """Run ``rumq ARGS``; return (seconds, peak RSS in MiB, CPU seconds).

    ``os.wait4`` reports the process and the children it waited for (the
    ingest's worker processes): the largest RSS among them, and their CPU
    time (user + system), which is rumq's own work whatever the server's
    speed: time spent waiting for answers is not in it.
    """
    exe = Path(sys.executable).with_name("rumq")
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen([str(exe), *args], env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code:
            err.seek(0)
            raise SystemExit(f"rumq {' '.join(args)} exited {code}:\n{err.read().decode()}")
    return seconds, ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime


def raw_listing(url: str, bucket: str, prefix: str) -> tuple[int, float]:
    """The server's own time to answer every listing page (plain HTTP, no parsing); (pages, seconds).

    moto scans every key of the bucket for each page, so at 100,000 keys its
    answers, not rumq, take most of the listing time.
    """
    import re
    import urllib.request

    token, pages = None, 0
    t = time.perf_counter()
    while True:
        q = f"{url}/{bucket}?list-type=2&prefix={prefix}" + (f"&continuation-token={token}" if token else "")
        with urllib.request.urlopen(q) as r:
            body = r.read().decode()
        pages += 1
        m = re.search(r"<NextContinuationToken>([^<]+)</NextContinuationToken>", body)
        if not m:
            return pages, time.perf_counter() - t
        token = m.group(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=Path("bench/out"))
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)

    import boto3
    from botocore.config import Config

    src = make_input(a.out, a.events)
    files = sorted(p for p in src.rglob("*") if p.is_file() and not p.name.endswith(".json"))
    size = sum(p.stat().st_size for p in files)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), "listing", "many/", str(a.keys)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert server.stdout is not None
    server.stdout.readline()
    print(f"server up with {a.keys:,} keys in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="rumq-s3-bench-"))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": str(work / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(work / "none")}
    try:
        client = boto3.client("s3", endpoint_url=url, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                              region_name="us-east-1", config=Config(max_pool_connections=16))
        client.create_bucket(Bucket="exports")
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda p: client.put_object(Bucket="exports", Key="rum/" + p.relative_to(src).as_posix(),
                                                      Body=p.read_bytes()), files))

        s3_s, s3_rss, s3_cpu = rumq(env, "--data", str(work / "from-s3"), "ingest", "s3://exports/rum/")
        local_s, local_rss, local_cpu = rumq(env, "--data", str(work / "from-disk"), "ingest", str(src))
        again_s, _, again_cpu = rumq(env, "--data", str(work / "from-s3"), "ingest", "s3://exports/rum/")

        # A manifest listing every one of --keys objects, then the timed ingest that skips them all.
        os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL",
                                               "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")})
        from rumq.objectstore import ObjectStore
        from rumq.store import Store

        store = Store(work / "listing")
        state = store.load_state()
        for o in ObjectStore().list("listing", "many/"):
            state.record_object(o.url, o.etag, o.size, {"format": "jsonl", "ingest_id": "bench", "read": 1,
                                                        "written": 1, "duplicates": 0, "rejected": 0})
        store.commit(state)
        skip_s, skip_rss, skip_cpu = rumq(env, "--data", str(work / "listing"), "ingest", "s3://listing/many/")
        pages, server_s = raw_listing(url, "listing", "many/")
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(30)
        shutil.rmtree(work, ignore_errors=True)

    print(f"input: {len(files):,} Firehose objects, {size / 2**20:.1f} MiB gzip, about {a.events:,} events")
    print(f"{'case':<44} {'seconds':>8} {'CPU s':>7} {'peak MiB':>9}")
    print(f"{'ingest from local disk':<44} {local_s:>8.2f} {local_cpu:>7.2f} {local_rss:>9.0f}")
    print(f"{'ingest from the S3 server (moto)':<44} {s3_s:>8.2f} {s3_cpu:>7.2f} {s3_rss:>9.0f}")
    print(f"{'  ratio S3 / disk':<44} {s3_s / local_s:>8.2f}")
    print(f"{'S3 re-run, every object skipped':<44} {again_s:>8.2f} {again_cpu:>7.2f}")
    print(f"{f'list {a.keys:,} keys, skip them all':<44} {skip_s:>8.2f} {skip_cpu:>7.2f} {skip_rss:>9.0f}")
    print(f"{f'  moto alone answering the {pages} pages':<44} {server_s:>8.2f}")
    print("(CPU s: user + system time of the rumq process and its worker processes; peak MiB: the largest one)")

if __name__ == "__main__":
    main()
