"""Each export format the generator writes: real layout and shape, and it
ingests back with zero rejects and the same event count."""

from __future__ import annotations

import gzip
import json
import re
import zlib

import orjson
import pytest

from rumq.generate import generate

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
FORMATS = ["jsonl", "cwl-export", "firehose", "logs-cli", "putrumevents"]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("formats")
    res = {}
    for fmt in FORMATS:
        truth = generate(base / fmt, sessions=120, days=1, seed=21, fmt=fmt, gzip=(fmt == "jsonl"))
        res[fmt] = (base / fmt, truth)
    return res


def files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_same_events_in_every_format(outputs):
    first = outputs["jsonl"][1].data["apps"]
    for fmt in FORMATS:
        assert outputs[fmt][1].data["apps"] == first, fmt


def test_jsonl_gzip(outputs):
    root, truth = outputs["jsonl"]
    n = 0
    for f in files(root):
        assert re.fullmatch(r"(webshop|helpcenter)/d\d{4}-p\d{4}\.jsonl\.gz", f.relative_to(root).as_posix())
        for line in gzip.decompress(f.read_bytes()).splitlines():
            assert orjson.loads(line)["event_type"]
            n += 1
    assert n == truth.total["events"]


def test_cwl_export_tree(outputs):
    root, truth = outputs["cwl-export"]
    assert (root / "exportedlogs" / "aws-logs-write-test").read_bytes() == b"Permission Check Successful"
    n = 0
    streams = {}
    for f in files(root):
        rel = f.relative_to(root).as_posix()
        if rel.endswith("aws-logs-write-test"):
            continue
        m = re.fullmatch(rf"exportedlogs/({UUID})/(\d{{4}}-\d\d-\d\dT\d\d)/(\d{{6}})\.gz", rel)
        assert m, rel
        streams.setdefault((m[1], m[2]), []).append(int(m[3]))
        for line in gzip.decompress(f.read_bytes()).decode().splitlines():
            stamp, msg = line.split(" ", 1)
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", stamp)
            ev = orjson.loads(msg)
            assert ev["log_stream"] == m[2] and stamp.startswith(m[2])
            from datetime import UTC, datetime
            assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp() * 1000 \
                == ev["event_timestamp"]
            n += 1
    assert n == truth.total["events"]
    assert len({t for t, _ in streams}) == 2  # one export task per app monitor log group
    assert all(sorted(v) == list(range(len(v))) for v in streams.values())


def _members(data: bytes):
    out = []
    while data:
        d = zlib.decompressobj(wbits=31)
        out.append(d.decompress(data))
        data = d.unused_data
    return out


def test_firehose_objects(outputs):
    root, truth = outputs["firehose"]
    n = 0
    control = 0
    groups = set()
    objects = files(root)
    # one day, two app monitors, a 15-minute buffer: about 4 objects per hour each
    assert len(objects) <= 2 * 26 * 4
    for f in objects:
        rel = f.relative_to(root).as_posix()
        m = re.fullmatch(rf"firehose/(\d{{4}})/(\d\d)/(\d\d)/(\d\d)/rum-logs-delivery-1-(\d{{4}})-(\d\d)-(\d\d)-(\d\d)-\d\d-\d\d-{UUID}", rel)
        assert m and m.groups()[:4] == m.groups()[4:], rel
        members = _members(f.read_bytes())
        text = gzip.decompress(f.read_bytes()).decode()
        assert "\n" not in text.replace("\\n", "")  # documents concatenated with no separator
        if len(members) > 1:
            assert "}{" in text
        from datetime import UTC, datetime
        key_ms = datetime.strptime(rel.rsplit("/", 1)[1][20:39], "%Y-%m-%d-%H-%M-%S").replace(tzinfo=UTC).timestamp() * 1000
        for raw in members:
            doc = json.loads(raw)
            if doc["messageType"] == "CONTROL_MESSAGE":
                control += 1
                continue
            assert list(doc) == ["messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents"]
            groups.add(doc["logGroup"])
            for e in doc["logEvents"]:
                assert list(e) == ["id", "timestamp", "message"] and re.fullmatch(r"\d{56}", e["id"])
                ev = orjson.loads(e["message"])
                assert ev["log_stream"] == doc["logStream"] and ev["event_timestamp"] == e["timestamp"]
                assert e["timestamp"] < key_ms  # named by delivery time, after its records
                n += 1
    assert n == truth.total["events"]
    assert control >= 1
    assert all(re.fullmatch(r"/aws/vendedlogs/RUMService_(webshop|helpcenter)[0-9a-f]{8}", g) for g in groups)
    assert len(groups) == 2


def test_logs_cli_pages(outputs):
    root, truth = outputs["logs-cli"]
    n = 0
    for f in files(root):
        doc = orjson.loads(f.read_bytes())
        for e in doc["events"]:
            assert list(e) == ["logStreamName", "timestamp", "message", "ingestionTime", "eventId"]
            assert e["ingestionTime"] > e["timestamp"]
            assert orjson.loads(e["message"])["log_stream"] == e["logStreamName"]
            n += 1
    assert n == truth.total["events"]


def test_putrumevents_bodies(outputs):
    root, truth = outputs["putrumevents"]
    n = 0
    for f in files(root):
        for line in f.read_bytes().splitlines():
            body = orjson.loads(line)
            assert list(body) == ["BatchId", "AppMonitorDetails", "UserDetails", "RumEvents"]
            assert list(body["AppMonitorDetails"]) == ["id", "version"]
            assert list(body["UserDetails"]) == ["userId", "sessionId"]
            assert 1 <= len(body["RumEvents"]) <= 100
            for e in body["RumEvents"]:
                assert list(e) == ["id", "timestamp", "type", "metadata", "details"]
                assert isinstance(e["timestamp"], int) and e["timestamp"] < 10**11  # seconds
                md = json.loads(e["metadata"])
                assert "countryCode" not in md and "pageId" in md  # geo is added by the service
                json.loads(e["details"])
                n += 1
    assert n == truth.total["events"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_ingests_back_without_rejects(outputs, tmp_path, fmt):
    from rumq.ingest import ingest

    root, truth = outputs[fmt]
    report = ingest(tmp_path / "data", [str(root)])
    assert report.rejected == 0
    assert report.written == truth.total["events"]
    assert report.duplicates == 0
