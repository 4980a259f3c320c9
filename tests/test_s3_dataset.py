"""A dataset kept on S3 (``--data s3://bucket/prefix/``) against a real S3 server on 127.0.0.1.

Every command answers on the bucket exactly as on local disk; the layout is
the local one; commits are conditional writes, so two writers never both
commit and a writer killed between its uploads and its manifest write leaves
the dataset as it was; queries read only the window's files and no listing.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from clirun import invoke
from rumdata import event, session_events, write_jsonl
from s3proxy import Fault, FaultProxy
from s3server import upload_tree

import rumq
from rumq.errors import DatasetConflictError, ExitCode
from rumq.ingest import ingest
from rumq.store import StagedFile, Store

DAY1, DAY2 = "2026-11-25", "2026-11-26"
#: The rumq command, as a separate process (a writer the tests can hold and kill).
RUMQ = [sys.executable, "-c", "from rumq.cli import main; main()"]


def _events(tag: str, day: str) -> list[dict]:
    """Three cookie sessions on ``day`` (one with a JS error and a failed request), a cookieless page view."""
    out = []
    out += session_events(f"{tag}-s1-0000-0000-0000-000000000001", f"{tag}-u1", ["/", "/product/1", "/cart"],
                          start=f"{day}T10:00:00")
    out += session_events(f"{tag}-s2-0000-0000-0000-000000000002", f"{tag}-u1", ["/"], start=f"{day}T11:00:00")
    out += session_events(f"{tag}-s3-0000-0000-0000-000000000003", f"{tag}-u2", ["/product/2", "/"],
                          start=f"{day}T12:00:00")
    s3 = f"{tag}-s3-0000-0000-0000-000000000003"
    out.append(event("js_error", at=f"{day}T12:00:10", session=s3, user=f"{tag}-u2", page="/product/2",
                     details={"version": "1.0.0", "type": "TypeError", "message": "x is undefined"}))
    out.append(event("http", at=f"{day}T12:00:20", session=s3, user=f"{tag}-u2", page="/product/2",
                     details={"version": "1.0.0", "request": {"url": "https://api.example.com/cart", "method": "GET"},
                              "response": {"status": 503, "statusText": "Service Unavailable"}}))
    out.append(event("page_view", at=f"{day}T13:00:00", page="/landing"))
    return out


def _inputs(root: Path) -> Path:
    """Two days of exports, a record that is not RUM (a reject) and a duplicate line."""
    evs = _events("a", DAY1) + _events("b", DAY2)
    write_jsonl(root / "day1.jsonl", evs[: len(evs) // 2])
    write_jsonl(root / "day2.jsonl", evs[len(evs) // 2:] + [evs[0]])
    with open(root / "day2.jsonl", "a", encoding="utf-8") as f:
        f.write('{"not": "a rum event"}\n')
    return root


def _keys(client, bucket: str, prefix: str) -> list[str]:
    out, token = [], None
    while True:
        kw = {"Bucket": bucket, "Prefix": prefix, **({"ContinuationToken": token} if token else {})}
        page = client.list_objects_v2(**kw)
        out += [o["Key"][len(prefix):] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return out
        token = page["NextContinuationToken"]


def _json(args: list[str]) -> object:
    code, out, err = invoke(args)
    assert code == 0, err
    return json.loads(out)


QUERIES = [
    ["run", "sessions/summary"],
    ["run", "pages/drop_off"],
    ["run", "errors/rate_per_session"],
    ["run", "http/errors"],
    ["run", "journeys/transitions"],
    ["run", "sessions/summary", "--since", DAY2, "--until", "2026-11-27"],
    ["sql", "SELECT event_date, count(*) AS n, count(DISTINCT session_id) AS s FROM events GROUP BY 1 ORDER BY 1"],
    ["insights", "stats count(*) as n by event_type | sort n desc, event_type"],
]


def test_every_command_on_a_bucket_answers_as_on_local_disk(s3, tmp_path):
    _, client, bucket = s3
    inputs = _inputs(tmp_path / "in")
    local, remote = str(tmp_path / "data"), f"s3://{bucket}/rumq/"
    for data in (local, remote):
        code, _, err = invoke(["--data", data, "ingest", str(inputs)])
        assert code == 0, err
    for q in QUERIES:
        assert _json(["--data", remote, *q, "-f", "json"]) == _json(["--data", local, *q, "-f", "json"]), q
    for q in (QUERIES[0], QUERIES[-2]):  # the rumq script itself, which ends without closing (rumq.cli.main)
        p = subprocess.run([*RUMQ, "--data", remote, *q, "-f", "json"], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout) == _json(["--data", local, *q, "-f", "json"]), q
    info_l, info_r = (_json(["--data", d, "info", "-f", "json"]) for d in (local, remote))
    assert info_r.pop("dataset") == f"s3://{bucket}/rumq" and info_l.pop("dataset") == local
    assert info_r == info_l
    assert info_r["events"] == len(_events("a", DAY1)) * 2 and info_r["rejects"] == 1
    assert info_r["duplicates_dropped"] == 1
    code, out, _ = invoke(["--data", remote, "rejects"])
    assert code == 0 and "1" in out and "day2.jsonl" in out
    # compact rewrites the files on the bucket; the answers stay the same
    before = _json(["--data", remote, "run", "pages/drop_off", "-f", "json"])
    code, _, err = invoke(["--data", remote, "compact"])
    assert code == 0 and "compacted" in err, err
    assert _json(["--data", remote, "run", "pages/drop_off", "-f", "json"]) == before
    state = json.loads(client.get_object(Bucket=bucket, Key="rumq/_rumq/state.json")["Body"].read())
    listed = {f["path"] for f in state["files"]} | {r["path"] for r in state["rejects"]}
    # the old files are gone: what is on the bucket is exactly what the manifest lists
    assert set(_keys(client, bucket, "rumq/")) == listed | {"_rumq/state.json", state["inputs_file"]}


def test_layout_on_the_bucket_is_the_local_layout(s3, tmp_path):
    _, client, bucket = s3
    inputs = _inputs(tmp_path / "in")
    ingest(tmp_path / "data", [str(inputs)])
    ingest(f"s3://{bucket}/team/rumq", [str(inputs)])
    local = sorted(p.relative_to(tmp_path / "data").as_posix() for p in (tmp_path / "data").rglob("*")
                   if p.is_file() and "lock" not in p.name)
    remote = sorted(_keys(client, bucket, "team/rumq/"))
    def shape(keys):
        return sorted(k.split("/")[0] + "/" + k.split("/")[1].split("=")[0] if k.startswith("events/")
                                    else k.split("/")[0] for k in keys)
    assert shape(remote) == shape(local)
    assert {k.split("/")[1] for k in remote if k.startswith("events/")} == {f"event_date={DAY1}", f"event_date={DAY2}"}
    assert not any("staging" in k or k.endswith("lock") for k in remote)


def test_notebook_api_and_a_report_on_a_bucket(s3, tmp_path):
    _, _, bucket = s3
    inputs = _inputs(tmp_path / "in")
    ingest(tmp_path / "data", [str(inputs)])
    ingest(f"s3://{bucket}/rumq/", [str(inputs)])
    ds_l, ds_r = rumq.open(tmp_path / "data"), rumq.open(f"s3://{bucket}/rumq/")
    assert ds_r.run("pages/drop_off").to_dicts() == ds_l.run("pages/drop_off").to_dicts()
    assert ds_r.sql("SELECT count(*) AS n FROM events").item() == len(_events("a", DAY1)) * 2
    lf_l, lf_r = (d.events(since=DAY2, until="2026-11-27").sort("event_id").collect() for d in (ds_l, ds_r))
    assert lf_r.height == len(_events("b", DAY2))
    assert lf_r.schema == lf_l.schema
    for rr, rl in zip(lf_r.to_dicts(), lf_l.to_dicts(), strict=True):
        # two ingests of the same files: only the ingest's own id and time differ
        assert {k for k, v in rr.items() if rl[k] != v} == {"ingest_id", "ingested_at"}
    # the Polars views and a Polars twin read the bucket too
    for name in ("page_views", "sessions"):
        v_l = ds_l.view(name).collect()
        v_r = ds_r.view(name).collect()
        assert v_r.schema == v_l.schema and v_r.height == v_l.height > 0
    assert _json(["--data", f"s3://{bucket}/rumq/", "run", "pages/drop_off", "--engine", "polars", "-f", "json"]) == \
        _json(["--data", str(tmp_path / "data"), "run", "pages/drop_off", "-f", "json"])
    definition = tmp_path / "daily.toml"
    definition.write_text(f'dataset = "s3://{bucket}/rumq/"\nwindow = "1d"\n'
                          '[[section]]\nid = "summary"\nquery = "sessions/summary"\n')
    code, _, err = invoke(["report", str(definition), "--at", DAY2, "--out", str(tmp_path / "out")])
    assert code == 0, err
    csv = (tmp_path / "out" / DAY2 / "summary.csv").read_text().splitlines()
    # DAY2: three cookie sessions with page views, two users
    assert csv[0].startswith("sessions,users") and csv[1].startswith("3,2,")


def test_an_export_bucket_ingests_incrementally_into_a_dataset_on_the_same_server(s3, tmp_path):
    _, client, bucket = s3
    write_jsonl(tmp_path / "exp" / "2026" / "11" / "25" / "one.jsonl", _events("a", DAY1))
    upload_tree(client, bucket, tmp_path / "exp", prefix="exports/")
    data = f"s3://{bucket}/rumq/"
    r = ingest(data, [f"s3://{bucket}/exports/"])
    assert (r.read, r.written) == (len(_events("a", DAY1)), len(_events("a", DAY1)))
    write_jsonl(tmp_path / "exp2" / "2026" / "11" / "26" / "two.jsonl", _events("b", DAY2))
    upload_tree(client, bucket, tmp_path / "exp2", prefix="exports/")
    r = ingest(data, [f"s3://{bucket}/exports/"])
    statuses = sorted((f.path.rsplit("/", 1)[1], f.status) for f in r.files)
    assert statuses == [("one.jsonl", "already-ingested"), ("two.jsonl", "ingested")]
    assert r.written == len(_events("b", DAY2))
    assert rumq.open(data).sql("SELECT count(*) FROM events").item() == 2 * len(_events("a", DAY1))


def _staged(tmp_path: Path, name: str) -> StagedFile:
    """A real one-row event file (ingested locally, then taken out of its dataset)."""
    d = tmp_path / name
    write_jsonl(d / "in.jsonl", [event("page_view", at=f"{DAY1}T10:00:00", page=f"/{name}")])
    ingest(d / "data", [str(d / "in.jsonl")])
    f = Store(d / "data").load_state().files[0]
    return StagedFile(d / "data" / f["path"], f["date"], f"part-{name}.parquet", 1)


@pytest.mark.parametrize("first_commit", [True, False])
def test_of_two_writers_exactly_one_commits_and_the_loser_leaves_nothing(s3, tmp_path, first_commit):
    _, client, bucket = s3
    url = f"s3://{bucket}/rumq/"
    if not first_commit:
        ingest(url, [str(_inputs(tmp_path / "in"))])
    a, b = Store(url), Store(url)
    sa, sb = a.load_state(), b.load_state()
    sa.files += a.place([_staged(tmp_path, "a")], "writer-a")
    sb.files += b.place([_staged(tmp_path, "b")], "writer-b")
    b.commit(sb)
    with pytest.raises(DatasetConflictError) as e:
        a.commit(sa)
    assert e.value.exit_code == 4 and "another writer committed" in str(e.value)
    keys = _keys(client, bucket, "rumq/")
    assert any(k.endswith("part-b.parquet") for k in keys)
    assert not any(k.endswith("part-a.parquet") for k in keys)  # the loser's upload is deleted
    committed = Store(url).load_state()
    assert [f["path"] for f in committed.files] == [f["path"] for f in sb.files]


def _rumq_process(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([*RUMQ, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _env(endpoint: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, RUMQ_QUERIES="", **extra)
    env.pop("RUMQ_DATA", None)
    return env


def _wait_held(proxy: FaultProxy, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not proxy.held.is_set():
        if proc.poll() is not None:
            raise AssertionError(f"the writer ended before its commit: {proc.communicate()}")
        assert time.monotonic() < deadline, "the writer never reached its commit"
        time.sleep(0.05)


def test_two_concurrent_ingests_both_land_exactly_once(s3, tmp_path):
    server, client, bucket = s3
    a_in, b_in = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    ea, eb = _events("a", DAY1), _events("b", DAY1)
    write_jsonl(a_in, ea)
    write_jsonl(b_in, eb + ea[:2])  # two events A also writes
    data = f"s3://{bucket}/rumq/"
    # Writer A's manifest write is held at the proxy until writer B has committed.
    with FaultProxy(server.url, faults=[Fault("hold", path=r"/_rumq/state\.json$", method="PUT", times=1)]) as proxy:
        a = _rumq_process(["--data", data, "ingest", str(a_in)], _env(proxy.url))
        _wait_held(proxy, a)
        b = subprocess.run([*RUMQ, "--data", data, "ingest", str(b_in)],
                           env=_env(proxy.url), capture_output=True, text=True, timeout=120)
        assert b.returncode == 0, b.stderr
        proxy.release()
        out, err = a.communicate(timeout=120)
    assert a.returncode == 0, err
    assert "another writer committed" in err and "attempt 2 of 3" in err
    ds = rumq.open(data)
    n_a, n_b = len(ea), len(eb)
    assert ds.sql("SELECT count(*) FROM events").item() == n_a + n_b
    assert ds.sql("SELECT count(DISTINCT event_id) FROM events").item() == n_a + n_b
    state = Store(data).load_state()
    ingests = sorted((i["written"], i["duplicates"]) for i in state.ingests)
    # B wrote its own and A's two events; A, on top of B, wrote the rest and counted two duplicates.
    assert ingests == sorted([(n_b + 2, 0), (n_a - 2, 2)])
    listed = {f["path"] for f in state.files} | {r["path"] for r in state.rejects}
    # no orphan of A's lost try
    assert set(_keys(client, bucket, "rumq/")) == listed | {"_rumq/state.json", state.inputs_file}


def test_a_writer_killed_between_upload_and_commit_leaves_the_dataset_as_it_was(s3, tmp_path):
    server, client, bucket = s3
    data = f"s3://{bucket}/rumq/"
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write_jsonl(first, _events("a", DAY1))
    write_jsonl(second, _events("b", DAY2))
    ingest(data, [str(first)])
    before = rumq.open(data).run("sessions/summary").to_dicts()
    manifest = client.get_object(Bucket=bucket, Key="rumq/_rumq/state.json")["Body"].read()
    with FaultProxy(server.url, faults=[Fault("hold", path=r"/_rumq/state\.json$", method="PUT")]) as proxy:
        w = _rumq_process(["--data", data, "ingest", str(second)], _env(proxy.url))
        _wait_held(proxy, w)
        w.send_signal(signal.SIGKILL)  # its files are uploaded; its manifest write never happens
        w.wait(30)
        proxy.release(forward=False)
    assert client.get_object(Bucket=bucket, Key="rumq/_rumq/state.json")["Body"].read() == manifest
    orphans = [k for k in _keys(client, bucket, "rumq/") if f"events/event_date={DAY2}/" in k
               or k.startswith("_rumq/inputs/") and k != json.loads(manifest)["inputs_file"]]
    assert len(orphans) == 2, "the killed writer had uploaded its event file and its input manifest"
    assert rumq.open(data).run("sessions/summary").to_dicts() == before  # orphans are never read
    # A writer cleans up orphans older than the grace period (here: any), then ingests.
    code, _, err = invoke(["--data", data, "ingest", str(second)], env={"RUMQ_ORPHAN_GRACE": "0"})
    assert code == 0 and "cleaned up 2 file(s) left by an interrupted write" in err, err
    state = Store(data).load_state()
    assert not set(orphans) & {f["path"] for f in state.files}
    assert {k for k in _keys(client, bucket, "rumq/") if k.startswith("events/")} == {f["path"] for f in state.files}
    assert rumq.open(data).sql("SELECT count(*) FROM events").item() == 2 * len(_events("a", DAY1))


def test_orphans_younger_than_the_grace_period_are_left_alone(s3, tmp_path):
    _, client, bucket = s3
    data = f"s3://{bucket}/rumq/"
    write_jsonl(tmp_path / "a.jsonl", _events("a", DAY1))
    ingest(data, [str(tmp_path / "a.jsonl")])
    client.put_object(Bucket=bucket, Key=f"rumq/events/event_date={DAY1}/part-running-writer.parquet", Body=b"x")
    write_jsonl(tmp_path / "b.jsonl", _events("b", DAY2))
    r = ingest(data, [str(tmp_path / "b.jsonl")])  # default grace: hours
    assert r.recovered == []
    assert f"events/event_date={DAY1}/part-running-writer.parquet" in _keys(client, bucket, "rumq/")
    assert rumq.open(data).sql("SELECT count(*) FROM events").item() == 2 * len(_events("a", DAY1))


def test_a_commit_refused_every_time_exits_4_and_leaves_no_upload(s3, tmp_path):
    server, client, bucket = s3
    data = f"s3://{bucket}/rumq/"
    write_jsonl(tmp_path / "a.jsonl", _events("a", DAY1))
    with FaultProxy(server.url, faults=[Fault("precondition", path=r"/_rumq/state\.json$", method="PUT")]) as proxy:
        code, _, err = invoke(["--data", data, "ingest", str(tmp_path / "a.jsonl")],
                              env={"AWS_ENDPOINT_URL": proxy.url})
    assert code == 4, err
    assert f"error: another writer committed to s3://{bucket}/rumq while this one was writing" in err
    assert err.count("ingesting again on top of it") == 2
    assert _keys(client, bucket, "rumq/") == []


def test_a_query_reads_only_its_windows_files_and_lists_nothing(s3, tmp_path):
    server, client, bucket = s3
    data = f"s3://{bucket}/rumq/"
    ingest(data, [str(_inputs(tmp_path / "in"))])
    state = Store(data).load_state()
    day2 = {f"/{bucket}/rumq/{f['path']}" for f in state.files if f["date"] == DAY2}
    with FaultProxy(server.url) as proxy:
        code, out, err = invoke(["--data", data, "run", "sessions/summary", "--since", DAY2, "--until", "2026-11-27",
                                 "-f", "json"], env={"AWS_ENDPOINT_URL": proxy.url})
        assert code == 0, err
        assert json.loads(out)[0]["sessions"] == 3
        log = proxy.requests()
    assert not [r for r in log if "list-type=" in r.query]
    assert not [r for r in log if "/_rumq/inputs/" in r.path]  # queries never read the input manifest
    data_gets = {unquote(r.path) for r in log if r.method == "GET" and "/events/" in r.path}
    assert data_gets and data_gets <= day2
    assert all(r.range for r in log if r.method == "GET" and "/events/" in r.path)  # ranged: footer and columns


def test_the_columns_a_query_needs_are_all_it_reads(s3, tmp_path):
    import io

    import pyarrow.parquet as pq

    from rumq import catalog

    _, client, bucket = s3
    data = f"s3://{bucket}/rumq/"
    evs = []
    for i in range(400):
        evs += _events(f"x{i:02d}", DAY1)
    write_jsonl(tmp_path / "many.jsonl", evs)
    ingest(data, [str(write_jsonl(tmp_path / "many.jsonl", evs))])
    store = Store(data)
    files = store.event_files()
    # Where each file's message chunks are, by the files' own Parquet metadata.
    messages: list[tuple[str, int, int]] = []
    for url in files:
        key = url.split(f"{bucket}/", 1)[1]
        md = pq.ParquetFile(io.BytesIO(client.get_object(Bucket=bucket, Key=key)["Body"].read())).metadata
        for g in range(md.num_row_groups):
            for c in range(md.num_columns):
                col = md.row_group(g).column(c)
                if col.path_in_schema in ("message_head", "message_tail"):
                    start = min(o for o in (col.dictionary_page_offset, col.data_page_offset) if o is not None)
                    messages.append((f"{bucket}/{key}", start, start + col.total_compressed_size))

    sizes = {url.removeprefix("s3://"): n for url, n in store.file_sizes().items()}

    def touched(ranges):
        # DuckDB reads a file's last 16 KiB for its footer first, whatever the columns: not counted.
        return [m for m in messages for (p, a, b) in ranges
                if p == m[0] and a < m[2] and m[1] < b and b != sizes[p]]

    con = catalog.new_connection()
    fs = store.prepare(con, store.file_sizes())
    con.execute("SELECT count(DISTINCT session_uuid) FROM read_parquet(?)", [files]).fetchall()
    assert fs.requests > 0 and touched(fs.ranges) == []  # no byte of a message chunk was fetched
    assert fs.bytes_read < sum(f["bytes"] for f in store.load_state().files) / 2
    fs.ranges.clear()
    con.execute("SELECT max(length(message_head || message_tail)) FROM read_parquet(?)", [files]).fetchall()
    assert len(touched(fs.ranges)) == len(messages)  # and a query that needs them fetches them all

def test_queries_on_a_bucket_stay_read_only(s3, tmp_path):
    _, client, bucket = s3
    data = f"s3://{bucket}/rumq/"
    ingest(data, [str(_inputs(tmp_path / "in"))])
    keys = _keys(client, bucket, "rumq/")
    f = next(k for k in keys if k.startswith("events/"))
    code, _, err = invoke(["--data", data, "sql", f"COPY (SELECT 1) TO 's3://{bucket}/rumq/{f}'"])
    assert code == 2 and "read-only" in err
    client.put_object(Bucket=bucket, Key="other/x.csv", Body=b"a\n1\n")
    code, _, err = invoke(["--data", data, "sql", f"SELECT * FROM read_csv('s3://{bucket}/other/x.csv')"])
    assert code == 2 and "refused" in err
    assert _keys(client, bucket, "rumq/") == keys


def test_a_missing_dataset_or_bucket_on_s3_is_a_clear_error(s3):
    _, _, bucket = s3
    code, out, err = invoke(["--data", f"s3://{bucket}/nothing/", "info"])
    assert (code, out) == (1, "")
    assert f"error: no dataset at s3://{bucket}/nothing (no _rumq/state.json)" in err and "Traceback" not in err
    code, _, err = invoke(["--data", "s3://no-such-bucket-rumq/x/", "run", "sessions/summary"])
    assert code == 1 and "bucket 'no-such-bucket-rumq' does not exist" in err
    code, _, err = invoke(["--data", f"s3://{bucket}/a*/", "info"])
    assert code == 1 and "cannot hold wildcards" in err


def test_a_store_that_ignores_conditional_writes_is_refused_before_any_upload(s3, tmp_path):
    server, client, bucket = s3
    write_jsonl(tmp_path / "a.jsonl", _events("a", DAY1))
    with FaultProxy(server.url, drop_headers=("If-None-Match", "If-Match")) as proxy:
        code, _, err = invoke(["--data", f"s3://{bucket}/rumq/", "ingest", str(tmp_path / "a.jsonl")],
                              env={"AWS_ENDPOINT_URL": proxy.url})
    assert code == 1, err
    assert "ignores conditional writes (If-None-Match), so two writers could both commit" in err
    assert _keys(client, bucket, "rumq/") == []


def test_migrate_upgrades_a_dataset_on_a_bucket_in_place(s3, tmp_path):
    from test_migrate import _downgrade, _summary, _v3_dataset

    from rumq.store import STATE_VERSION

    _, client, bucket = s3
    local = _v3_dataset(tmp_path)
    before = _summary(local)
    _downgrade(local, 2)
    upload_tree(client, bucket, local, prefix="rumq/")
    data = f"s3://{bucket}/rumq/"
    code, _, err = invoke(["--data", data, "info"])
    assert code == 1 and "has version 2" in err and "rumq migrate" in err
    old = set(_keys(client, bucket, "rumq/events/"))
    code, _, err = invoke(["--data", data, "migrate"])
    assert code == 0 and "from format version 2" in err, err
    state = json.loads(client.get_object(Bucket=bucket, Key="rumq/_rumq/state.json")["Body"].read())
    assert state["version"] == STATE_VERSION
    assert _summary(data) == before
    assert set(_keys(client, bucket, "rumq/events/")).isdisjoint(old)  # old files deleted after the commit
    assert {"events/" + k for k in _keys(client, bucket, "rumq/events/")} == {f["path"] for f in state["files"]}


def test_no_secret_reaches_an_output_or_the_dataset_on_a_bucket(s3, tmp_path):
    from s3server import ACCESS_KEY, SECRET_KEY

    _, client, bucket = s3
    data = f"s3://{bucket}/rumq/"
    outputs = []
    for args in (["ingest", str(_inputs(tmp_path / "in"))], ["info", "-f", "json"], ["rejects"],
                 ["run", "sessions/summary"], ["--data", "s3://no-such-bucket-rumq/x/", "info"]):
        full = args if args[0] == "--data" else ["--data", data, *args]
        outputs += invoke(full)[1:]
    for key in _keys(client, bucket, "rumq/"):
        body = client.get_object(Bucket=bucket, Key="rumq/" + key)["Body"].read()
        outputs.append(gzip.decompress(body).decode() if key.endswith(".gz") else body.decode("latin-1"))
    assert all(ACCESS_KEY not in o and SECRET_KEY not in o for o in outputs)


def test_an_empty_window_on_a_bucket_names_the_range_as_on_local_disk(s3, tmp_path):
    # The range is read on the window's connection (rumq.catalog.connect, range_if_empty): on a
    # bucket that connection is the one prepared for the dataset's objects.
    _, _, bucket = s3
    inputs = _inputs(tmp_path / "in")
    local, remote = str(tmp_path / "data"), f"s3://{bucket}/rumq/"
    warnings = []
    for data in (local, remote):
        assert invoke(["--data", data, "ingest", str(inputs)])[0] == 0
        code, out, err = invoke(["--data", data, "run", "sessions/summary", "--since", "2000-01-01",
                                 "--until", "2000-01-02", "-f", "json"])
        assert code == 0, err
        warnings.append([line for line in err.splitlines() if line.startswith("warning: no events")])
    assert warnings[0] == warnings[1] and "the dataset holds events from 2026-11-" in warnings[0][0]


def test_a_prefix_that_lost_its_state_file_is_refused_not_emptied(s3, tmp_path):
    # Without a state file every event file looked like an orphan: once older than the grace
    # period, the next writer deleted them all.
    _, client, bucket = s3
    data = f"s3://{bucket}/rumq/"
    write_jsonl(tmp_path / "a.jsonl", _events("a", DAY1))
    ingest(data, [str(tmp_path / "a.jsonl")])
    client.delete_object(Bucket=bucket, Key="rumq/_rumq/state.json")
    before = _keys(client, bucket, "rumq/")
    write_jsonl(tmp_path / "b.jsonl", _events("b", DAY2))
    code, out, err = invoke(["--data", data, "ingest", str(tmp_path / "b.jsonl")], env={"RUMQ_ORPHAN_GRACE": "0"})
    assert code == ExitCode.FAILURE and out == "", err
    assert f"error: {data.rstrip('/')} is not a rumq dataset (no _rumq/state.json) but holds files: events/" in err, err
    assert _keys(client, bucket, "rumq/") == before


def test_a_first_ingest_killed_before_its_commit_is_cleaned_up_by_the_next(s3, tmp_path):
    # The empty state is committed before the first upload, so the orphans of a first write
    # are told from a prefix that lost its state file.
    server, client, bucket = s3
    data = f"s3://{bucket}/rumq/"
    write_jsonl(tmp_path / "a.jsonl", _events("a", DAY1))
    with FaultProxy(server.url, faults=[Fault("hold", path=r"/_rumq/state\.json$", method="PUT", skip=1)]) as proxy:
        w = _rumq_process(["--data", data, "ingest", str(tmp_path / "a.jsonl")], _env(proxy.url))
        _wait_held(proxy, w)
        w.send_signal(signal.SIGKILL)  # its files are uploaded; its first real commit never happens
        w.wait(30)
        proxy.release(forward=False)
    empty = json.loads(client.get_object(Bucket=bucket, Key="rumq/_rumq/state.json")["Body"].read())
    assert empty["files"] == [] and any(k.startswith("events/") for k in _keys(client, bucket, "rumq/"))
    code, _, err = invoke(["--data", data, "ingest", str(tmp_path / "a.jsonl")], env={"RUMQ_ORPHAN_GRACE": "0"})
    assert code == 0 and "cleaned up" in err, err
    assert rumq.open(data).sql("SELECT count(*) FROM events").item() == len(_events("a", DAY1))
    assert {k for k in _keys(client, bucket, "rumq/") if k.startswith("events/")} == \
        {f["path"] for f in Store(data).load_state().files}
