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
    p = write_jsonl(tmp_path / "in.jsonl", s1 + s2 + cookieless)
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
    assert d["events"] == 6
    assert d["sessions"] == 3 and d["users"] == 1
    assert d["known_session_share"] == 1.0
    assert d["cookie_event_share"] == 5 / 6
    assert d["rejects"] == 1 and d["duplicates_dropped"] == 1
    assert d["first_event"] == "2026-11-25T10:00:00Z" and d["last_event"] == "2026-11-26T10:00:00Z"
    assert d["days"] == 2
    assert d["event_types"] == {"com.amazon.rum.page_view_event": 4, "com.amazon.rum.session_start_event": 2}
    assert d["bytes_on_disk"] > 0


def test_info_text_and_rejects(tmp_path):
    data = _dataset(tmp_path)
    res = CliRunner().invoke(cli, ["--data", str(data), "info"])
    assert res.exit_code == 0
    assert "events           6" in res.stdout
    assert "cookie coverage  83.3% of events" in res.stdout
    res = CliRunner().invoke(cli, ["--data", str(data), "rejects", "--json"])
    s = json.loads(res.stdout)
    assert s["rejects"] == 1 and list(s["by_reason"]) == ["invalid JSON"]
    res = CliRunner().invoke(cli, ["--data", str(data), "rejects", "--list"])
    (rec,) = [json.loads(x) for x in res.stdout.splitlines()]
    assert rec["raw"] == "garbage" and rec["line"] == 7


def test_info_on_a_missing_dataset_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(cli, ["--data", str(tmp_path / "nope"), "info"])
    assert res.exit_code == 1
    assert "no dataset at" in res.stderr and "Traceback" not in res.stderr
