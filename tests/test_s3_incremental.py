"""Incremental ingest from a bucket: objects known by URL, ETag and size; only new or changed ones are read."""

from __future__ import annotations

import json

from rumdata import dumps, event
from s3proxy import FaultProxy
from s3server import ACCESS_KEY, SECRET_KEY

from rumq.ingest import ingest
from rumq.objectstore import ClientOptions
from rumq.store import Store


def _put(client, bucket, key, events):
    client.put_object(Bucket=bucket, Key=key, Body="".join(dumps(e) + "\n" for e in events).encode())


def test_only_new_and_changed_objects_are_read(s3, tmp_path):
    server, client, bucket = s3
    a = [event(at=f"2026-11-25T10:00:0{i}") for i in range(3)]
    b = [event(at=f"2026-11-25T11:00:0{i}") for i in range(2)]
    _put(client, bucket, "rum/a.jsonl", a)
    _put(client, bucket, "rum/b.jsonl", b)
    data = tmp_path / "data"
    with FaultProxy(server.url) as proxy:
        opts = ClientOptions(endpoint_url=proxy.url)
        r1 = ingest(data, [f"s3://{bucket}/rum/"], store_options=opts)
        assert (r1.read, r1.written) == (5, 5)
        n_before = len(proxy.log)
        r2 = ingest(data, [f"s3://{bucket}/rum/"], store_options=opts)
        again = proxy.log[n_before:]
        # Nothing new: one listing request, not one byte of an object.
        assert [(q.method, "list-type=2" in q.query) for q in again] == [("GET", True)]
        assert (r2.read, [f.status for f in r2.files]) == (0, ["already-ingested"] * 2)
    # A new object, and b changed: its two events again plus one new one.
    c = [event(at=f"2026-11-26T09:00:0{i}") for i in range(2)]
    _put(client, bucket, "rum/c.jsonl", c)
    b_new = event(at="2026-11-25T11:30:00")
    _put(client, bucket, "rum/b.jsonl", b + [b_new])
    r3 = ingest(data, [f"s3://{bucket}/rum/"], store_options=ClientOptions(endpoint_url=server.url))
    status = {f.path.rsplit("/", 1)[-1]: f.status for f in r3.files}
    assert status == {"a.jsonl": "already-ingested", "b.jsonl": "ingested", "c.jsonl": "ingested"}
    # Read: b's 3 + c's 2; written: c's 2 and b's new one; b's old two are duplicates.
    assert (r3.read, r3.written, r3.duplicates, r3.rejected) == (5, 3, 2, 0)
    entry = Store(data).load_state().inputs[f"s3://{bucket}/rum/b.jsonl"]
    head = client.head_object(Bucket=bucket, Key="rum/b.jsonl")
    assert (entry["etag"], entry["size"], entry["ingest_id"]) == (head["ETag"].strip('"'), head["ContentLength"],
                                                                 r3.ingest_id)
    assert len(Store(data).load_state().inputs) == 3  # one entry per object, not per version
    manifest = (data / "_rumq" / "state.json").read_text() + json.dumps(Store(data).load_state().inputs)
    assert SECRET_KEY not in manifest and ACCESS_KEY not in manifest


def test_many_objects_skipped_by_listing_alone(s3, tmp_path):
    server, client, bucket = s3
    from concurrent.futures import ThreadPoolExecutor

    n = 300
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: _put(client, bucket, f"fh/2026/11/25/10/o{i:04d}",
                                     [event(at="2026-11-25T10:00:00", event_id=f"00000000-0000-4000-8000-{i:012d}")]),
                      range(n)))
    data = tmp_path / "data"
    r1 = ingest(data, [f"s3://{bucket}/fh/"], store_options=ClientOptions(endpoint_url=server.url))
    assert (r1.read, r1.written) == (n, n)
    with FaultProxy(server.url) as proxy:
        r2 = ingest(data, [f"s3://{bucket}/fh/**"], store_options=ClientOptions(endpoint_url=proxy.url))
        assert proxy.requests(listing=False) == []
        assert len(proxy.requests(listing=True)) == 1
    assert (r2.read, sum(f.status == "already-ingested" for f in r2.files)) == (0, n)
    # --force reads them all again: every event a duplicate.
    r3 = ingest(data, [f"s3://{bucket}/fh/"], force=True, store_options=ClientOptions(endpoint_url=server.url))
    assert (r3.read, r3.written, r3.duplicates) == (n, 0, n)
