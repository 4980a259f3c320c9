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
    rows = [(r["check"], r["item"], r["count"], r["share"]) for r in fx.run(data, "data/quality")]
    # 38 events (S1 13, S2 7, S3 4, S4 7, C1 5, C2 2: 34 of the web client, 4 custom);
    # cookieless: C1's 5 + C2's 2 = 7/38; without a session id: C2's 2. Page views 15, 13 of
    # them in cookie sessions. Sessions: S1-S4 cookie; C1 + C2's pseudo session cookieless.
    # S1 has the most events (13). Manifest: 38 + 2 read, 1 duplicate, 1 rejected.
    assert rows == [
        ("events", None, 38, None),
        ("page_views", None, 15, None),
        ("cookie_coverage", None, 13, approx(13 / 15)),
        ("cookieless_event_share", None, 7, approx(7 / 38)),
        ("events_without_session", None, 2, approx(2 / 38)),
        ("sessions", "cookie", 4, None),
        ("sessions", "cookieless", 2, None),
        ("sessions_near_event_cap", None, 0, None),
        ("max_events_per_session", None, 13, None),
        ("records_read", None, 40, None),
        ("duplicates_dropped", None, 1, None),
        ("rejected_records", None, 1, None),
        ("event_type", "page_view", 15, approx(15 / 38)),
        ("event_type", "http", 4, approx(4 / 38)),
        ("event_type", "js_error", 4, approx(4 / 38)),
        ("event_type", "lcp", 4, approx(4 / 38)),
        ("event_type", "navigation", 4, approx(4 / 38)),
        ("event_type", "com.example.shop.add_to_cart", 3, approx(3 / 38)),
        ("event_type", "cls", 2, approx(2 / 38)),
        ("event_type", "com.example.shop.search", 1, approx(1 / 38)),
        ("event_type", "session_start", 1, approx(1 / 38)),
        ("web_client_version", "arw-module 1.16.1", 38, approx(1.0)),
    ]
    assert all(type(r[2]) is int for r in rows)  # 38, not 38.0


def test_quality_counts_print_as_integers(data):
    """Issue 13: counts are whole numbers in every output (not 34.0)."""
    from click.testing import CliRunner

    from rumq.cli import cli

    res = CliRunner().invoke(cli, ["--data", str(data), "run", "data/quality", "-f", "csv"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0] == "check,item,count,share"
    assert lines[1:4] == ["events,,38,", "page_views,,15,", f"cookie_coverage,,13,{13 / 15}"]
    res = CliRunner().invoke(cli, ["--data", str(data), "run", "data/quality", "-f", "json"])
    assert res.stdout.startswith('[{"check":"events","item":null,"count":38,"share":null},')
    res = CliRunner().invoke(cli, ["--data", str(data), "run", "data/quality"])
    assert res.stdout.splitlines()[2].split() == ["events", "null", "38", "null"]


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
    rows = {(r["check"], r["item"]): r for r in fx.run(tmp_path / "d", "data/quality")}
    assert rows[("sessions_near_event_cap", None)]["count"] == 1
    assert rows[("max_events_per_session", None)]["count"] == 190
    # Both page views are in cookie sessions.
    assert rows[("cookie_coverage", None)]["count"] == 2
    assert rows[("cookie_coverage", None)]["share"] == 1.0


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
    rows = {(r["check"], r["item"]): r for r in fx.run(tmp_path / "d", "data/quality")}
    assert rows[("events", None)]["count"] == 3
    assert rows[("sessions", "cookie")]["count"] == 0
    assert rows[("cookie_coverage", None)]["count"] == 0
    assert rows[("cookie_coverage", None)]["share"] is None
