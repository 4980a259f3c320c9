"""`rumq ingest s3://...` against a real S3 server on 127.0.0.1: every export format, the AWS
layouts, the same counting and rejects as local files, objects in flight."""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner
from rumdata import event, firehose_doc, write_export_task, write_firehose, write_jsonl
from s3proxy import FaultProxy
from s3server import upload_tree
from test_ingest_formats import WRITERS, _events, _rows

from rumq.cli import cli
from rumq.ingest import ingest
from rumq.ingest.sources import expand
from rumq.objectstore import ClientOptions, ObjectStore, Prefetcher


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    evs = _events()
    write_jsonl(d / "in" / "ref.jsonl", evs)
    ingest(d / "data", [str(d / "in")])
    return evs, _rows(d / "data")


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_every_format_from_a_bucket(kind, s3, tmp_path, reference):
    _, client, bucket = s3
    evs, expected = reference
    (tmp_path / "in").mkdir()
    WRITERS[kind](tmp_path / "in", evs)
    upload_tree(client, bucket, tmp_path / "in", prefix=f"{kind}/")
    r = ingest(tmp_path / "data", [f"s3://{bucket}/{kind}/"])
    assert (r.read, r.written, r.duplicates, r.rejected) == (len(evs), len(evs), 0, 0)
    assert _rows(tmp_path / "data") == expected
    ingested = [f for f in r.files if f.status == "ingested"]
    assert ingested and all(f.path.startswith(f"s3://{bucket}/{kind}/") for f in ingested)


def _export_bucket(root):
    """An export-task prefix, a Firehose prefix (YYYY/MM/DD/HH, multi-member gzip) and a damaged file."""
    a = [event("page_view", at=f"2026-11-25T10:0{i}:00", page=f"/a{i}") for i in range(4)]
    b = [event("js_error", at=f"2026-11-26T11:0{i}:00", page=f"/b{i}") for i in range(3)]
    c = [event("page_view", at="2026-11-26T12:00:00", page="/c")]
    write_export_task(root / "exports", a)  # + aws-logs-write-test
    write_firehose(root / "firehose" / "2026" / "11" / "26" / "11" / "rum-stream-1-2026-11-26-11-00-00-a1b2",
                   [firehose_doc(b[:2], stream="2026-11-26T11"), firehose_doc(b[2:], stream="2026-11-26T11")])
    bad = root / "firehose" / "2026" / "11" / "26" / "12" / "rum-stream-1-2026-11-26-12-00-00-c3d4"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(gzip.compress((json.dumps(c[0]) + "\n{broken json\n").encode()))
    (bad.parent / "empty-object").write_bytes(b"")
    return len(a), len(b), len(c)


def test_layouts_count_and_reject_like_local_files(s3, tmp_path):
    server, client, bucket = s3
    na, nb, nc = _export_bucket(tmp_path / "in")
    upload_tree(client, bucket, tmp_path / "in", prefix="rum/")
    runner = CliRunner()
    local = runner.invoke(cli, ["--data", str(tmp_path / "local"), "ingest", str(tmp_path / "in"), "--json"])
    remote = runner.invoke(cli, ["--data", str(tmp_path / "remote"), "ingest", f"s3://{bucket}/rum/", "--json",
                                 "--endpoint-url", server.url])
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    lj, rj = json.loads(local.stdout), json.loads(remote.stdout)
    # By hand: every event read once; the damaged object's second line is the one reject.
    assert (rj["read"], rj["written"], rj["duplicates"], rj["rejected"]) == (na + nb + nc + 1, na + nb + nc, 0, 1)
    for k in ("read", "written", "duplicates", "rejected", "by_type", "reject_reasons"):
        assert rj[k] == lj[k], k
    status = {f["path"].removeprefix(f"s3://{bucket}/rum/"): (f["status"], f["format"]) for f in rj["files"]}
    assert status["exports/aws-logs-write-test"] == ("skipped", "skip")
    assert status["exports/c0ffee00-task/2026-11-25T10/000000.gz"] == ("ingested", "cwl-export")
    assert status["firehose/2026/11/26/11/rum-stream-1-2026-11-26-11-00-00-a1b2"] == ("ingested", "firehose")
    assert status["firehose/2026/11/26/12/empty-object"] == ("empty", "empty")
    local_status = sorted((f["status"], f["format"]) for f in lj["files"])
    assert sorted(status.values()) == local_status
    # The rejects name the object they came from.
    rejects = runner.invoke(cli, ["--data", str(tmp_path / "remote"), "rejects", "--list"])
    (rec,) = [json.loads(line) for line in rejects.stdout.splitlines()]
    assert (rec["source"], rec["line"]) == (f"s3://{bucket}/rum/firehose/2026/11/26/12/rum-stream-1-2026-11-26-12-00-00-c3d4", 2)


def test_globs_select_objects(s3, tmp_path):
    server, client, bucket = s3
    for day, n in (("2026-11-24", 2), ("2026-11-25", 3), ("2026-10-31", 5)):
        write_jsonl(tmp_path / "in" / "exports" / "task1" / day / "part.jsonl",
                    [event(at=f"{day}T10:00:0{i}") for i in range(n)])
    upload_tree(client, bucket, tmp_path / "in")
    r = ingest(tmp_path / "data", [f"s3://{bucket}/exports/*/2026-11-*/**"],
               store_options=ClientOptions(endpoint_url=server.url))
    assert (r.read, r.written) == (2 + 3, 2 + 3)


def test_several_objects_in_flight_and_bounded(s3):
    server, client, bucket = s3
    for i in range(12):
        client.put_object(Bucket=bucket, Key=f"p/{i:02d}", Body=b"x" * 1000)
    with FaultProxy(server.url) as proxy:
        store = ObjectStore(ClientOptions(endpoint_url=proxy.url))
        objs = [f.path.info for f in expand([f"s3://{bucket}/p/"], ClientOptions(endpoint_url=proxy.url))]
        fetcher = Prefetcher(store, objs, in_flight=3)
        try:
            with fetcher.open(objs[0]) as r:
                assert r.read(5000) == b"x" * 1000
            fetcher.pool.shutdown(wait=True)  # let the fetches ahead finish
            gets = sorted(q.path for q in proxy.requests(listing=False, method="GET"))
            # Object 0 and the three after it: several in flight, never the whole list.
            assert gets == [f"/{bucket}/p/{i:02d}" for i in range(4)]
        finally:
            fetcher.close()


def test_a_large_ingest_from_a_bucket_parses_in_worker_processes(s3, tmp_path):
    import os

    from rumq.ingest import staging
    from rumq.store import Store

    _, client, bucket = s3
    evs = [event("page_view", at=f"2026-11-25T1{i % 10}:{i % 60:02d}:{i % 59:02d}", page=f"/p{i}",
                 session=f"s-{i % 300}", user=f"u-{i % 300}") for i in range(9000)]
    for k in range(4):
        write_jsonl(tmp_path / "in" / f"part-{k}.jsonl", evs[k::4])
    assert sum(p.stat().st_size for p in (tmp_path / "in").iterdir()) >= staging.PARALLEL_MIN_BYTES
    upload_tree(client, bucket, tmp_path / "in", prefix="big/")
    ingest(tmp_path / "local", [str(tmp_path / "in")])
    r = ingest(tmp_path / "data", [f"s3://{bucket}/big/"])
    assert (r.read, r.written, r.duplicates, r.rejected) == (9000, 9000, 0, 0)
    assert _rows(tmp_path / "data") == _rows(tmp_path / "local")
    tags = {f["path"].rsplit("-", 2)[1] for f in Store(tmp_path / "data").load_state().files}
    # each worker process stages into its own tagged files
    assert tags == ({"w0", "w1"} if (os.cpu_count() or 1) >= 2 else {"w0"})
