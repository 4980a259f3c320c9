"""rumq_user_first_seen(): the fast path (the window is the history) gives the rows of the history scan.

When the window has no lower bound, or one at or before midnight of the
dataset's first day, first-seen comes from the window's own sessions, read
once with the statement's (rumq.views._user_first_seen); otherwise from a
second scan of every file up to the window's end. Here both paths run on the
same windows (the history path forced) and must give identical rows, over a
story with what could tell them apart. Days 2026-11-01 (D1), 11-02 (D2), UTC,
application APP unless said:

* A: SA1 D1 10:00 (/home); SA2 runs over midnight, D1 23:59:30 (/blog/a) to D2 00:00:10 (/home);
* B: SB0 D1 11:00 without a page view (session_start only); SB1 D2 11:00 (/home, /cart);
  SB2 D1 12:00 (/home) in the application OTHER;
* C: SC1 D1 13:00 with only a /blog/ page view; SC2 D2 13:00 (/home);
* E: SE D2 09:00 starts cookieless (no user id) and gets E's user id at 09:05 (/cart);
* a page view without a session id (D2 14:00) and a cookieless one (D2 15:00).

Page rules `exclude = ['^/blog/']` make SC1 no session (C is new on D2) and
leave SA2 with its D2 page view (SA2 then starts on D2); `include = ['^/home$']` also drops SE's page
view, so E has no session at all.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from rumdata import APP, event, write_jsonl

from rumq import catalog, views
from rumq.api import Dataset
from rumq.library import Library
from rumq.params import resolve, substitute_identifiers

A, B, C, E = (f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-00000000000a" for n in "abce")
SA1, SA2, SB0, SB1, SB2, SC1, SC2, SE, SX = (f"5e55000{n}-0000-4000-8000-000000000000" for n in "123456789")
OTHER = "b0000000-0000-4000-8000-00000000000b"

CONFIGS = {
    "no rules": None,
    "exclude": "[pages]\nexclude = ['^/blog/']\n",
    "include": "[pages]\ninclude = ['^/home$']\n",
}
#: (since, until, app) and whether the fast path applies.
WINDOWS = {
    "whole dataset": (None, None, None, True),
    "since the first midnight": ("2026-11-01", None, None, True),
    "until only": (None, "2026-11-02T12:00:00", None, True),
    "app": (None, None, OTHER, True),
    "app and until": ("2026-11-01", "2026-11-02", APP, True),
    "since D1 noon": ("2026-11-01T12:00:00", None, None, False),
    "since D2": ("2026-11-02", None, None, False),
}
QUERIES = [("users/summary", {}), ("users/summary", {"period": "hour"}), ("users/retention", {"period": "day"})]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from rumq.ingest import ingest

    tmp = tmp_path_factory.mktemp("first-seen")
    ev = [
        event("page_view", at="2026-11-01T10:00:00", session=SA1, user=A, page="/home", interaction=0),
        event("page_view", at="2026-11-01T23:59:30", session=SA2, user=A, page="/blog/a", interaction=0),
        event("page_view", at="2026-11-02T00:00:10", session=SA2, user=A, page="/home", interaction=1),
        event("session_start", at="2026-11-01T11:00:00", session=SB0, user=B, page="/home", interaction=0),
        event("page_view", at="2026-11-02T11:00:00", session=SB1, user=B, page="/home", interaction=0),
        event("page_view", at="2026-11-02T11:00:30", session=SB1, user=B, page="/cart", interaction=1),
        event("page_view", at="2026-11-01T12:00:00", session=SB2, user=B, page="/home", interaction=0, app=OTHER),
        event("page_view", at="2026-11-01T13:00:00", session=SC1, user=C, page="/blog/b", interaction=0),
        event("page_view", at="2026-11-02T13:00:00", session=SC2, user=C, page="/home", interaction=0),
        event("page_view", at="2026-11-02T09:00:00", session=SE, user=None, page="/home"),
        event("page_view", at="2026-11-02T09:05:00", session=SE, user=E, page="/cart", interaction=1),
        event("page_view", at="2026-11-02T14:00:00", session=None, user=None, page="/home"),
        event("page_view", at="2026-11-02T15:00:00", session=SX, user=None, page="/home"),
    ]
    src = write_jsonl(tmp / "export.jsonl", ev)
    assert ingest(tmp / "data", [str(src)]).written == len(ev)
    return tmp / "data"


def _configure(data, config):
    toml = data / "rumq.toml"
    if config is None:
        toml.unlink(missing_ok=True)
    else:
        toml.write_text(config)


def _statement(name, **params):
    """The query's SQL as ``rumq run`` executes it (identifier parameters substituted)."""
    q = Library().get(name)
    return substitute_identifiers(q.body, q.params, resolve(q.params, params, query=name))


def _rows(data, name, params, since, until, app):
    return Dataset(data, notify=lambda _: None).run(name, since=since, until=until, app=app, **params).to_dicts()


# Every window without page rules; with rules, a fast window with and one without bounds, and a slow one.
CASES = [("no rules", w) for w in WINDOWS] + [
    (c, w) for c in ("exclude", "include") for w in ("whole dataset", "app and until", "since D2")]


@pytest.mark.parametrize(("config", "window"), CASES)
def test_fast_path_and_history_scan_give_the_same_rows(data, config, window, monkeypatch):
    _configure(data, CONFIGS[config])
    since, until, app, _ = WINDOWS[window]
    fast = [_rows(data, name, params, since, until, app) for name, params in QUERIES]
    monkeypatch.setattr(views, "_window_is_history", lambda since, state: False)
    history = [_rows(data, name, params, since, until, app) for name, params in QUERIES]
    assert fast == history
    assert fast[0][0]["users"] > 0  # every window holds a user: the comparison is not of empty results


@pytest.mark.parametrize("window", WINDOWS)
def test_the_fast_path_is_taken_only_when_the_window_is_the_history(data, window):
    _configure(data, None)
    since, until, app, expected = WINDOWS[window]
    sql = _statement("users/summary", period="hour")
    con = catalog.connect(data, since=since and datetime.fromisoformat(since),
                          until=until and datetime.fromisoformat(until), app=app, for_sql=sql)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        columns = [r[0] for r in con.execute("DESCRIBE session_stats").fetchall()]
    finally:
        con.close()
    # The fast path materializes the window's sessions once and session_stats reads them.
    assert ("_rumq_session_starts" in tables) == expected
    assert columns == (["user_id", "cookieless", "start_time"] if expected else list(views.SESSION_STATS_COLUMNS))


def test_hand_computed_new_users_on_the_story(data):
    # Whole dataset, no rules. D1: SA1, SA2 (starts D1 23:59:30), SB2 (OTHER; SB0 has no page view),
    # SC1: users A, B, C, all new. D2: SB1, SC2 and SE's cookie part (from 09:05): B and C return,
    # E is new.
    _configure(data, None)
    got = [(r["period"].day, r["users"], r["new_users"], r["sessions"])
           for r in _rows(data, "users/summary", {"period": "day"}, None, None, None)]
    assert got == [(1, 3, 3, 4), (2, 3, 1, 3)]
    # exclude /blog/: SC1 is no session, so C is new on D2; SA2 still counts, but its /blog/a page
    # view (D1 23:59:30) is no event of it, so it starts at D2 00:00:10: D1 has SA1 and SB2 (A, B
    # new), D2 SA2, SB1, SC2 and SE (A and B return, C and E new).
    _configure(data, CONFIGS["exclude"])
    got = [(r["period"].day, r["users"], r["new_users"], r["sessions"])
           for r in _rows(data, "users/summary", {"period": "day"}, None, None, None)]
    assert got == [(1, 2, 2, 2), (2, 4, 2, 4)]


def test_a_statement_reads_only_the_session_starts():
    con = catalog.new_connection()
    try:
        ok = views._reads_only_session_starts
        assert ok(con, _statement("users/summary", period="day")) and ok(con, _statement("users/retention"))
        assert ok(con, "SELECT s.user_id, min(start_time) FROM session_stats AS s WHERE NOT cookieless GROUP BY 1")
        for refused in [
            "SELECT * FROM session_stats",
            "SELECT s.* FROM session_stats AS s",
            "SELECT COLUMNS('.*_id') FROM session_stats",
            "SELECT user_id, page_views FROM session_stats",
            "SELECT s FROM session_stats AS s",
            "SELECT session_stats FROM session_stats",
            "SELECT #1 FROM session_stats",
            "SELECT 1 FROM session_stats NATURAL JOIN x",
            "SELECT 1 FROM session_stats JOIN x USING (session_id)",
            "SELECT count(*) FROM sessions",
            "SELECT * FROM rumq_audience('os_name', false)",
            "DESCRIBE session_stats",
            "SELEC nonsense",
        ]:
            assert not ok(con, refused), refused
    finally:
        con.close()


def test_no_narrowing_for_ad_hoc_sql_or_a_sampling_stratum(data):
    _configure(data, None)
    # Ad-hoc SQL (no statement known in advance): every view, session_stats whole, first-seen from the window.
    con = catalog.connect(data)
    try:
        assert [r[0] for r in con.execute("DESCRIBE session_stats").fetchall()] == list(views.SESSION_STATS_COLUMNS)
        assert con.execute("SELECT count(*) FROM rumq_user_first_seen()").fetchone()[0] == 4  # A, B, C, E
    finally:
        con.close()
    # --estimate's parts keep only some sampling keys: never the history, whatever the window.
    con = catalog.connect(data, for_sql=Library().get("users/retention").body, stratum=[f"{APP} 2026-11-02"])
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "_rumq_session_starts" not in tables
        # The history still has A, B (in OTHER too: no --app) and C from D1.
        assert con.execute("SELECT count(*) FROM rumq_user_first_seen()").fetchone()[0] == 4
    finally:
        con.close()
