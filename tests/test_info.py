"""`rumq info` and `rumq rejects`: numbers a person can check by hand."""

from __future__ import annotations

import json

from click.testing import CliRunner
from rumdata import NIL, dumps, event, session_events, write_jsonl

from rumq.cli import cli


def _dataset(tmp_path):
    s1 = session_events("s-1", "u-1", ["/", "/a"])             # 3 events, cookie session
    s2 = session_events("s-2", "u-1", ["/b"], start="2026-11-26T09:00:00")  # 2 events, same user
    cookieless = [event(at="2026-11-26T10:00:00", session="s-3", user=NIL)]  # 1 event
    # A session without a page view (its user u-2 has no other session): no session to the analyses.
    no_page_view = [event("session_start", at="2026-11-26T11:00:00", session="s-4", user="u-2", interaction=0)]
    p = write_jsonl(tmp_path / "in.jsonl", s1 + s2 + cookieless + no_page_view)
    with open(p, "a") as f:
        f.write("garbage\n")
        f.write(dumps(s1[0]) + "\n")  # a duplicate
    data = tmp_path / "data"
    res = CliRunner().invoke(cli, ["--data", str(data), "ingest", str(p)])
    assert res.exit_code == 0, res.output
    return data


def test_info_json_counts(tmp_path):
    data = _dataset(tmp_path)
    res = CliRunner().invoke(cli, ["--data", str(data), "info", "--json"])
    assert res.exit_code == 0
    d = json.loads(res.stdout)
    assert d["events"] == 7
    # As sessions/summary counts them: s-1 and s-2 (s-4 has no page view), one user (u-1);
    # s-3 is cookieless. Page views: 2 + 1 + 1 cookieless, 3 of 4 in cookie sessions.
    assert d["sessions"] == 2 and d["cookieless_sessions"] == 1 and d["users"] == 1
    assert d["page_views"] == 4 and d["cookie_coverage"] == 3 / 4
    # Raw ids over every event: 4 session ids; every event has one; 6 of 7 sent with cookies.
    assert d["session_ids"] == 4
    assert d["known_session_share"] == 1.0
    assert d["cookie_event_share"] == 6 / 7
    assert d["rejects"] == 1 and d["duplicates_dropped"] == 1
    assert d["first_event"] == "2026-11-25T10:00:00Z" and d["last_event"] == "2026-11-26T11:00:00Z"
    assert d["days"] == 2
    assert d["event_types"] == {"com.amazon.rum.page_view_event": 4, "com.amazon.rum.session_start_event": 3}
    assert d["bytes_on_disk"] > 0


def test_info_text_and_rejects(tmp_path):
    data = _dataset(tmp_path)
    res = CliRunner().invoke(cli, ["--data", str(data), "info"])
    assert res.exit_code == 0
    assert "events           7" in res.stdout
    assert "sessions         2 with cookies (as sessions/summary counts them), 1 cookieless" in res.stdout
    assert "cookie coverage  75.0% of 4 page views are in cookie sessions" in res.stdout
    res = CliRunner().invoke(cli, ["--data", str(data), "rejects", "--json"])
    s = json.loads(res.stdout)
    assert s["rejects"] == 1 and list(s["by_reason"]) == ["invalid JSON"]
    res = CliRunner().invoke(cli, ["--data", str(data), "rejects", "--list"])
    (rec,) = [json.loads(x) for x in res.stdout.splitlines()]
    assert rec["raw"] == "garbage" and rec["line"] == 8


def test_info_on_a_missing_dataset_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(cli, ["--data", str(tmp_path / "nope"), "info"])
    assert res.exit_code == 1
    assert "no dataset at" in res.stderr and "Traceback" not in res.stderr


def test_info_agrees_with_sessions_summary(tmp_path):
    # Issue 13: `rumq info` must not count sessions one way and the analyses another.
    data = _dataset(tmp_path)
    info = json.loads(CliRunner().invoke(cli, ["--data", str(data), "info", "--format", "json"]).stdout)
    res = CliRunner().invoke(cli, ["--data", str(data), "run", "sessions/summary", "--format", "json"])
    (summary,) = json.loads(res.stdout)
    assert (info["sessions"], info["users"], info["cookie_coverage"]) == (
        summary["sessions"], summary["users"], summary["coverage"])
    res = CliRunner().invoke(cli, ["--data", str(data), "run", "sessions/summary", "-p", "include_cookieless=true",
                                   "--format", "json"])
    (with_cookieless,) = json.loads(res.stdout)
    assert info["sessions"] + info["cookieless_sessions"] == with_cookieless["sessions"]
