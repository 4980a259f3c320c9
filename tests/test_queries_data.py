"""data/quality against the hand-built fixture, plus a duplicate and a rejected record."""

from __future__ import annotations

import json

import analyses_data as fx
import pytest
from pytest import approx


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("q-data")
    d = fx.build(tmp)
    # A second export: one message already ingested (a duplicate) and one broken line.
    extra = tmp / "extra.jsonl"
    extra.write_text(json.dumps(fx.messages()[0]) + "\n" + "{not json\n")
    from rumq.ingest import ingest

    ingest(d, [str(extra)])
    return d


def test_quality(data):
    rows = [(r["check"], r["item"], r["value"]) for r in fx.run(data, "data/quality")]
    # 34 events (S1 11, S2 7, S3 4, S4 6, C1 4, C2 2); cookieless: C1's 4 + C2's 2 = 6/34;
    # without a session id: C2's 2. Sessions: S1-S4 cookie; C1 + C2's pseudo session cookieless.
    # S1 has the most events (11). Manifest: 34 + 2 read, 1 duplicate, 1 rejected.
    assert rows == [
        ("events", None, 34.0),
        ("page_views", None, 15.0),
        ("cookie_coverage", None, approx(13 / 15)),
        ("cookieless_event_share", None, approx(6 / 34)),
        ("events_without_session", None, 2.0),
        ("sessions", "cookie", 4.0),
        ("sessions", "cookieless", 2.0),
        ("sessions_near_event_cap", None, 0.0),
        ("max_events_per_session", None, 11.0),
        ("records_read", None, 36.0),
        ("duplicates_dropped", None, 1.0),
        ("rejected_records", None, 1.0),
        ("event_type", "page_view", 15.0),
        ("event_type", "http", 4.0),
        ("event_type", "js_error", 4.0),
        ("event_type", "lcp", 4.0),
        ("event_type", "navigation", 4.0),
        ("event_type", "cls", 2.0),
        ("event_type", "session_start", 1.0),
        ("web_client_version", "arw-module 1.16.1", 34.0),
    ]


def test_sessions_near_the_event_cap(tmp_path):
    # One session with 190 events (at the 95% mark of the 200-event cap), one with 189: a page
    # view, then HTTP events. (Each starts with a page view since issue 13: a session without
    # one is no session in session_stats, which data/quality reads.)
    msgs = []
    for sid, n in ((fx.S1, 190), (fx.S2, 189)):
        msgs.append(fx.msg("page_view", "10:00:00", session=sid, user=fx.U1, page="/", interaction=0,
                           ctx=fx.CHROME_US))
        for i in range(1, n):
            msgs.append(fx.msg("http", f"10:{i // 60:02d}:{i % 60:02d}", session=sid, user=fx.U1, page="/",
                               interaction=0, ctx=fx.CHROME_US,
                               details={"request": {"method": "GET", "url": "/x"}, "response": {"status": 200}}))
    src = tmp_path / "cap.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in msgs))
    from rumq.ingest import ingest

    ingest(tmp_path / "d", [str(src)])
    got = {(r["check"], r["item"]): r["value"] for r in fx.run(tmp_path / "d", "data/quality")}
    assert got[("sessions_near_event_cap", None)] == 1.0
    assert got[("max_events_per_session", None)] == 190.0
    assert got[("cookie_coverage", None)] == 1.0  # both page views in cookie sessions


def test_events_without_page_views(tmp_path):
    # Three HTTP events of one session and no page view: no session (issue 13: a session needs
    # a page view), no coverage (no page views at all), but the events count.
    msgs = [fx.msg("http", f"10:00:0{i}", session=fx.S1, user=fx.U1, page="/", interaction=0, ctx=fx.CHROME_US,
                   details={"request": {"method": "GET", "url": "/x"}, "response": {"status": 200}})
            for i in range(3)]
    src = tmp_path / "http.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in msgs))
    from rumq.ingest import ingest

    ingest(tmp_path / "d", [str(src)])
    got = {(r["check"], r["item"]): r["value"] for r in fx.run(tmp_path / "d", "data/quality")}
    assert got[("events", None)] == 3.0
    assert got[("sessions", "cookie")] == 0.0
    assert got[("cookie_coverage", None)] is None
