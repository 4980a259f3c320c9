"""Retries, per-object failures and one-line errors, with faults injected at a proxy in front of the real server."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from rumdata import dumps, event
from s3proxy import Fault, FaultProxy
from s3server import ACCESS_KEY, SECRET_KEY, free_port

from rumq.cli import cli
from rumq.ingest import ingest
from rumq.objectstore import ClientOptions


def _put(client, bucket, key, events):
    client.put_object(Bucket=bucket, Key=key, Body="".join(dumps(e) + "\n" for e in events).encode())


def _three_objects(client, bucket):
    """Objects 1, 2, 3 holding 1, 2 and 3 events."""
    for i in (1, 2, 3):
        _put(client, bucket, f"rum/o{i}.jsonl", [event(at=f"2026-11-25T1{i}:00:0{k}") for k in range(i)])


def _run(*args):
    r = CliRunner().invoke(cli, list(args))
    assert SECRET_KEY not in r.output and ACCESS_KEY not in r.output  # stdout and stderr
    assert "Traceback" not in r.output
    return r


def test_throttling_and_5xx_are_retried(s3, tmp_path):
    server, client, bucket = s3
    _three_objects(client, bucket)
    with FaultProxy(server.url, faults=[
        Fault("internal", listing=True, times=1),
        Fault("slowdown", path=r"/o2\.jsonl$", ranged=False, times=2),
        Fault("slowdown", path=r"/o3\.jsonl$", ranged=True, times=1),
    ]) as proxy:
        r = ingest(tmp_path / "data", [f"s3://{bucket}/rum/"], store_options=ClientOptions(endpoint_url=proxy.url))
        assert [f.hits for f in proxy.faults] == [1, 2, 1]
        o2 = [q.answered for q in proxy.requests(listing=False) if q.path.endswith("/o2.jsonl") and q.range is None]
    assert o2 == ["slowdown", "slowdown", "forwarded"]
    assert (r.read, r.written, [f.status for f in r.files]) == (6, 6, ["ingested"] * 3)


def test_a_broken_connection_resumes_with_a_ranged_get(s3, tmp_path):
    server, client, bucket = s3
    evs = [event(at="2026-11-25T10:00:00", page=f"/p{i}") for i in range(400)]
    _put(client, bucket, "rum/big.jsonl", evs)
    size = client.head_object(Bucket=bucket, Key="rum/big.jsonl")["ContentLength"]
    with FaultProxy(server.url, faults=[Fault("cut", path=r"/big\.jsonl$", ranged=False, times=1)]) as proxy:
        r = ingest(tmp_path / "data", [f"s3://{bucket}/rum/"], store_options=ClientOptions(endpoint_url=proxy.url))
        reads = [(q.range, q.answered) for q in proxy.requests(listing=False)]
    assert (r.read, r.written) == (400, 400)
    # Detection's ranged GET, the full GET cut halfway, then the rest from where it broke.
    assert reads[0] == ("bytes=0-65535", "forwarded")
    assert reads[1] == (None, "cut")
    assert reads[2] == (f"bytes={size // 2}-", "forwarded")


@pytest.mark.parametrize("when", ["detecting", "reading"])
def test_an_object_failing_after_retries_is_named_and_the_others_committed(s3, tmp_path, when):
    server, client, bucket = s3
    _three_objects(client, bucket)
    data = str(tmp_path / "data")
    with FaultProxy(server.url, faults=[Fault("internal", path=r"/o2\.jsonl$", ranged=when == "detecting")]) as proxy:
        r = _run("--data", data, "ingest", f"s3://{bucket}/rum/", "--endpoint-url", proxy.url)
        tries = len([q for q in proxy.requests(listing=False) if q.answered == "internal"])
    assert r.exit_code == 1
    assert tries == 5  # AWS_MAX_ATTEMPTS' default
    url = f"s3://{bucket}/rum/o2.jsonl"
    assert f"failed      {url}: s3:GetObject still failing after 5 attempt(s) (InternalError" in r.stderr
    assert f"error: 1 input(s) could not be read: {url}; the others were committed" in r.stderr
    assert "written     4" in r.stderr  # objects 1 and 3
    # The failed object is not in the manifest: the next run reads it, and only it.
    again = _run("--data", data, "ingest", f"s3://{bucket}/rum/", "--endpoint-url", server.url, "--json")
    assert again.exit_code == 0, again.output
    assert '"written": 2' in again.stdout and '"read": 2' in again.stdout


def test_access_denied_names_the_action_and_resource(s3, tmp_path):
    server, client, bucket = s3
    _three_objects(client, bucket)
    with FaultProxy(server.url, faults=[Fault("denied", listing=True)]) as proxy:
        r = _run("--data", str(tmp_path / "d"), "ingest", f"s3://{bucket}/rum/", "--endpoint-url", proxy.url)
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == f"error: access denied: s3:ListBucket on s3://{bucket}/rum/"
    assert r.stderr.splitlines()[1].startswith("  hint: grant s3:ListBucket on it to the credentials in use")
    # Listing allowed, reading denied: the run stops at the first object (it would fail for all).
    with FaultProxy(server.url, faults=[Fault("denied", listing=False)]) as proxy:
        r = _run("--data", str(tmp_path / "d"), "ingest", f"s3://{bucket}/rum/", "--endpoint-url", proxy.url)
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0].startswith(f"error: access denied: s3:GetObject on s3://{bucket}/rum/o")
    assert not (tmp_path / "d" / "_rumq" / "state.json").exists()


def test_missing_bucket_credentials_and_endpoint(s3, tmp_path, monkeypatch):
    server, _, _ = s3
    data = str(tmp_path / "d")
    r = _run("--data", data, "ingest", "s3://no-such-bucket-here/rum/")
    assert (r.exit_code, r.stderr.splitlines()[0]) == (
        1, f"error: bucket 'no-such-bucket-here' does not exist at {server.url}")
    with FaultProxy(server.url, faults=[Fault("expired")]) as proxy:
        r = _run("--data", data, "ingest", "s3://some-bucket/rum/", "--endpoint-url", proxy.url)
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == (
        "error: the AWS credentials have expired (ExpiredToken) for s3:ListBucket on s3://some-bucket/rum/")
    dead = f"http://127.0.0.1:{free_port()}"
    r = _run("--data", data, "ingest", "s3://some-bucket/rum/", "--endpoint-url", dead)
    assert (r.exit_code, r.stderr.splitlines()[0]) == (
        1, f"error: cannot reach the object store at {dead} (s3:ListBucket on s3://some-bucket/rum/)")
    r = _run("--data", data, "ingest", "s3://some-bucket/rum/", "--profile", "nosuchprofile")
    assert (r.exit_code, r.stderr.splitlines()[0]) == (
        1, "error: the AWS profile 'nosuchprofile' is not in the shared config files")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    r = _run("--data", data, "ingest", "s3://some-bucket/rum/")
    assert (r.exit_code, r.stderr.splitlines()[0]) == (
        1, "error: no AWS credentials found for s3:ListBucket on s3://some-bucket/rum/")
    assert not os.path.exists(data)  # nothing was created by a failed listing


def test_a_profile_from_the_shared_files_is_used(s3, tmp_path, monkeypatch):
    server, client, bucket = s3
    _three_objects(client, bucket)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    (tmp_path / "aws-credentials").write_text(
        f"[reports]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n")
    r = _run("--data", str(tmp_path / "d"), "ingest", f"s3://{bucket}/rum/", "--profile", "reports", "--json")
    assert r.exit_code == 0, r.output
    assert '"written": 6' in r.stdout
