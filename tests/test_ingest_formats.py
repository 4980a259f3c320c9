"""Every export format ingests to the same canonical rows; real samples round-trip exactly."""

from __future__ import annotations

import json

import pytest
from rumdata import (
    REAL_SAMPLES,
    event,
    firehose_doc,
    session_events,
    write_appmonitor_data,
    write_export_task,
    write_firehose,
    write_jsonl,
    write_logs_cli,
    write_putrumevents,
    write_query_results,
)

from rumq import catalog
from rumq.ingest import ingest
from rumq.ingest.readers import detect


def _events():
    return session_events("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
                          ["/", "/product/12", "/cart"]) + [
        event("js_error", at="2026-11-25T10:01:00", session="11111111-1111-4111-8111-111111111111",
              user="22222222-2222-4222-8222-222222222222", page="/cart",
              details={"version": "1.0.0", "type": "TypeError", "message": "x is undefined", "filename": "app.js",
                       "lineno": 10, "colno": 5, "stack": "at f (app.js:10:5)"}),
        event("http", at="2026-11-25T10:01:01", page="/cart",
              details={"version": "1.0.0", "request": {"method": "POST", "url": "https://api.example.com/cart/12"},
                       "response": {"status": 503, "statusText": "Service Unavailable"}}),
    ]


def _rows(data):
    con = catalog.connect(data, views=False)
    rows = con.execute(
        "SELECT event_id, event_name, event_time, session_id, user_id, cookieless, page_id, interaction, "
        "error_type, http_status, http_method, parent_page_interaction_id FROM events ORDER BY event_id"
    ).fetchall()
    con.close()
    return rows


WRITERS = {
    "jsonl": lambda d, evs: write_jsonl(d / "x.jsonl", evs),
    "jsonl-gz": lambda d, evs: write_jsonl(d / "x.log", evs, gz=True),
    "cwl-export": lambda d, evs: write_export_task(d / "exportedlogs", evs),
    "cwl-export-epoch": lambda d, evs: write_export_task(d / "exportedlogs", evs, epoch_prefix=True),
    "firehose": lambda d, evs: write_firehose(d / "fh" / "rum-1-2026-11-25-10-00-00-abc", [firehose_doc(evs[:3]), firehose_doc(evs[3:])]),
    "logs-cli": lambda d, evs: write_logs_cli(d / "filter-log-events.json", evs),
    "query-results": lambda d, evs: write_query_results(d / "results.json", evs),
    "appmonitor-data": lambda d, evs: write_appmonitor_data(d / "appmon.json", evs),
    "putrumevents": lambda d, evs: write_putrumevents(d / "bodies.jsonl", evs),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    evs = _events()
    write_jsonl(d / "in" / "ref.jsonl", evs)
    ingest(d / "data", [str(d / "in")])
    return evs, _rows(d / "data")


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_every_format_gives_the_same_rows(kind, tmp_path, reference):
    evs, expected = reference
    (tmp_path / "in").mkdir()
    WRITERS[kind](tmp_path / "in", evs)
    r = ingest(tmp_path / "data", [str(tmp_path / "in")])
    assert (r.read, r.written, r.duplicates, r.rejected) == (len(evs), len(evs), 0, 0)
    assert _rows(tmp_path / "data") == expected


def test_detection_by_content_not_name(tmp_path):
    evs = _events()
    assert detect(write_jsonl(tmp_path / "a.csv", evs)) == "jsonl"
    assert detect(write_jsonl(tmp_path / "b.txt", evs, gz=True)) == "jsonl"
    root = write_export_task(tmp_path / "exp", evs)
    assert detect(next(root.rglob("000000.gz"))) == "cwl-export"
    assert detect(root / "aws-logs-write-test") == "skip"
    assert detect(write_firehose(tmp_path / "fh", [firehose_doc(evs)])) == "firehose"
    assert detect(write_logs_cli(tmp_path / "l.json", evs)) == "logs-cli"
    assert detect(write_query_results(tmp_path / "q.json", evs)) == "logs-cli"
    assert detect(write_appmonitor_data(tmp_path / "m.json", evs)) == "appmonitor-data"
    assert detect(write_putrumevents(tmp_path / "p.json", evs)) == "putrumevents"
    (tmp_path / "empty").write_bytes(b"")
    assert detect(tmp_path / "empty") == "empty"


def test_firehose_keeps_log_group_stream_and_log_time(tmp_path):
    evs = _events()
    write_firehose(tmp_path / "in" / "obj", [firehose_doc(evs, stream="2026-11-25T03")])
    r = ingest(tmp_path / "data", [str(tmp_path / "in")])
    assert r.files[0].control_messages == 1
    con = catalog.connect(tmp_path / "data", views=False)
    got = con.execute("SELECT DISTINCT log_group, log_event_id IS NOT NULL, "
                      "epoch_ms(log_time) - event_timestamp FROM events").fetchall()
    assert got == [("/aws/vendedlogs/RUMService_shop9c420d0e", True, 1500)]
    # log_stream comes from the message itself when it has one
    assert con.execute("SELECT DISTINCT log_stream FROM events").fetchall() == [("2026-11-25T10",)]


def test_real_samples_ingest_cleanly_and_round_trip_exactly(tmp_path):
    lines = REAL_SAMPLES.read_text(encoding="utf-8").splitlines()
    r = ingest(tmp_path / "data", [str(REAL_SAMPLES)])
    assert (r.read, r.written, r.rejected) == (len(lines), len(lines), 0)
    con = catalog.connect(tmp_path / "data", views=False)
    by_id = dict(con.execute("SELECT event_id, message FROM events").fetchall())
    for line in lines:
        original = json.loads(line)
        assert by_id[original["event_id"]] == line  # byte for byte
    # the typed columns agree with the samples
    row = con.execute(
        "SELECT session_id, user_id, cookieless, page_id, browser_name, country_code, application_version, "
        "web_client_version FROM events WHERE event_id = 'a125ac43-652c-4799-9363-18bf7a5786f5'").fetchone()
    assert row == ("fc26f85c-f6e7-4751-91f4-ee9dfb8b4828", "284f2d11-bb75-4ba4-bab5-e83c06b01547", False, "/",
                   "Firefox", "NO", "", "1.14.0")
    nil = con.execute("SELECT session_id, user_id, cookieless FROM events "
                      "WHERE event_type = 'com.amazon.rum.page_view_event'").fetchone()
    assert nil == (None, None, True)
    gam = con.execute("SELECT log_stream, application_name, duration, file_type, interaction FROM events "
                      "WHERE event_id = 'w878e342-5e99-4b66-d7fv-567e49001vf6'").fetchone()
    assert gam == ("2024-04-07T12", "MyWebApp", 257.7999999821186, "image", 0)
    # custom metadata stays queryable through the JSON column
    assert con.execute("SELECT metadata->>'$.commitHash' FROM events WHERE metadata->>'$.commitHash' IS NOT NULL"
                       ).fetchall() == [("24b3b22",)]


def test_putrumevents_metadata_merges_session_metadata(tmp_path):
    body = {
        "BatchId": "b", "AppMonitorDetails": {"id": "app-1", "version": "2.0"},
        "UserDetails": {"userId": "u-1", "sessionId": "s-1"},
        "SessionMetadata": json.dumps({"browserName": "Firefox", "osName": "Linux", "domain": "d"}),
        "RumEvents": [{"id": "e-1", "timestamp": 1764064800, "type": "com.amazon.rum.page_view_event",
                       "metadata": json.dumps({"pageId": "/a", "osName": "Android"}),
                       "details": json.dumps({"version": "1.0.0", "pageId": "/a", "interaction": 0})}],
    }
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "body.json").write_text(json.dumps(body, indent=2))
    ingest(tmp_path / "data", [str(tmp_path / "in")])
    con = catalog.connect(tmp_path / "data", views=False)
    assert con.execute("SELECT event_id, application_id, browser_name, os_name, page_id, event_timestamp, "
                       "session_id, user_id FROM events").fetchall() == [
        ("e-1", "app-1", "Firefox", "Android", "/a", 1764064800000, "s-1", "u-1")]
