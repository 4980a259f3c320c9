"""rumq.objectstore against a real S3 server on 127.0.0.1: URLs, listing, streaming reads, conditional writes."""

from __future__ import annotations

import gzip
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from rumq.errors import BucketNotFoundError, InputNotFoundError, ObjectChangedError, UsageError
from rumq.ingest.sources import expand, iter_bytes
from rumq.objectstore import ObjectStore, S3Url


def test_url_parsing_and_globs():
    u = S3Url.parse("s3://exports-bucket/exports/*/2026-11-*/**")
    assert (u.bucket, u.literal_prefix, u.is_glob) == ("exports-bucket", "exports/", True)
    m = u.matcher()
    assert m("exports/task1/2026-11-25/stream/000000.gz")
    assert m("exports/task1/2026-11-25/x")
    assert not m("exports/task1/2026-10-25/x")
    assert not m("exports/a/b/2026-11-25/x")  # * stays within one segment
    assert not S3Url.parse("s3://b12/a/").is_glob
    with pytest.raises(UsageError, match="not a valid bucket name"):
        S3Url.parse("s3://B/x")


def test_listing_pages_and_streaming_reads(s3):
    _, client, bucket = s3
    # 1,100 keys: two listing pages (at most 1,000 keys each).
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.put_object(Bucket=bucket, Key=f"many/{i:05d}", Body=b""), range(1100)))
    odd = ["odd/a b+c.json", "odd/ü/%41&<x>.json"]  # listed URL-encoded, decoded by botocore
    for k in odd:
        client.put_object(Bucket=bucket, Key=k, Body=b"12345")
    big = os.urandom(3 << 20)
    client.put_object(Bucket=bucket, Key="one/big.bin", Body=big)
    store = ObjectStore()
    listed = list(store.list(bucket, "many/"))
    assert [o.key for o in listed] == [f"many/{i:05d}" for i in range(1100)]
    assert [(o.key, o.size) for o in store.list(bucket, "odd/")] == [(k, 5) for k in odd]
    assert list(store.list(bucket, "nothing-here/")) == []
    (info,) = store.list(bucket, "one/")
    assert info.size == len(big)
    with store.open(info) as r:
        got = b"".join(iter(lambda: r.read(100_000), b""))
    assert got == big
    assert store.read_head(info, 10) == big[:10]


def test_expand_prefix_glob_and_single_object(s3):
    _, client, bucket = s3
    keys = ["exports/t1/2026-11-25/s/000000.gz", "exports/t1/2026-10-01/s/000000.gz", "exports/aws-logs-write-test",
            "exports/.hidden", "exports/folder/", "firehose/2026/11/25/10/rum-1",
            # A rumq dataset kept under the exports: never read as input.
            "exports/ds/_rumq/state.json", "exports/ds/events/event_date=2026-11-25/part-1.parquet"]
    for k in keys:
        client.put_object(Bucket=bucket, Key=k, Body=b"x")
    names = lambda fs: [f.name for f in fs]  # noqa: E731
    assert names(expand([f"s3://{bucket}/exports/"])) == [
        f"s3://{bucket}/exports/aws-logs-write-test", f"s3://{bucket}/exports/t1/2026-10-01/s/000000.gz",
        f"s3://{bucket}/exports/t1/2026-11-25/s/000000.gz"]
    assert names(expand([f"s3://{bucket}/exports/*/2026-11-*/**"])) == [f"s3://{bucket}/exports/t1/2026-11-25/s/000000.gz"]
    # A glob matching a "folder" reads everything under it, like a local directory.
    assert names(expand([f"s3://{bucket}/exports/*/2026-11-*"])) == [f"s3://{bucket}/exports/t1/2026-11-25/s/000000.gz"]
    assert names(expand([f"s3://{bucket}/firehose"])) == [f"s3://{bucket}/firehose/2026/11/25/10/rum-1"]
    with pytest.raises(InputNotFoundError, match="matches no object"):
        expand([f"s3://{bucket}/exports/*/2027-*/**"])
    with pytest.raises(InputNotFoundError, match="no object at or under"):
        expand([f"s3://{bucket}/fire"])  # a prefix of a key is no "folder"
    # Only a dataset, a hidden key or a folder marker: nothing to ingest, an error as for an empty prefix.
    for url in (f"s3://{bucket}/exports/ds/", f"s3://{bucket}/exports/.hidden", f"s3://{bucket}/exports/folder/",
                f"s3://{bucket}/exports/d*"):
        with pytest.raises(InputNotFoundError, match="no object to ingest at or under this URL"):
            expand([url])
    with pytest.raises(BucketNotFoundError, match="bucket 'no-such-bucket' does not exist"):
        expand(["s3://no-such-bucket/x/"])


def test_multi_member_gzip_streams_from_the_store(s3):
    _, client, bucket = s3
    members = [gzip.compress(f'{{"n": {i}}}\n'.encode() * 1000) for i in range(5)]
    client.put_object(Bucket=bucket, Key="fh/obj", Body=b"".join(members))
    (f,) = expand([f"s3://{bucket}/fh/obj"])
    text = b"".join(iter_bytes(f.path)).decode()
    assert text == "".join(f'{{"n": {i}}}\n' * 1000 for i in range(5))


def test_conditional_writes(s3):
    _, client, bucket = s3
    store = ObjectStore()
    e1 = store.put(bucket, "m/state.json", b"v1", if_none_match=True)
    with pytest.raises(ObjectChangedError):
        store.put(bucket, "m/state.json", b"v1 again", if_none_match=True)
    e2 = store.put(bucket, "m/state.json", b"v2", if_match=e1)
    with pytest.raises(ObjectChangedError):
        store.put(bucket, "m/state.json", b"v3 on a stale etag", if_match=e1)
    assert store.read_all(bucket, "m/state.json") == (b"v2", e2)
    k1, k2 = store.put_new(bucket, "u/", ".parquet", b"a"), store.put_new(bucket, "u/", ".parquet", b"b")
    assert k1 != k2 and sorted(o.key for o in store.list(bucket, "u/")) == sorted([k1, k2])
    store.delete(bucket, [k1, k2, "u/never-existed"])
    assert list(store.list(bucket, "u/")) == []
    assert store.head(bucket, "m/state.json").etag == e2
    assert store.head(bucket, "m/nothing") is None
