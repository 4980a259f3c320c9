"""[pages] exclude / include in rumq.toml: page views left out of every analysis view, the effect reported.

On tests/analyses_data.py's story (15 page views; S1 /home /products/12 /products/15?ref=x /cart/,
S2 /home /cart /home /cart /checkout, S3 /home, S4 /blog/a /home /cart, C1 /home, C2 /products/7).
"""

from __future__ import annotations

import analyses_data as fx
import pytest

from rumq.api import Dataset
from rumq.errors import UnknownIdError, UsageError
from rumq.pages import config_from_dict


@pytest.fixture()
def data(tmp_path):
    return fx.build(tmp_path)


def run(data, name, **params):
    notes: list[str] = []
    rows = Dataset(data, notify=notes.append).run(name, **params).to_dicts()
    return rows, notes


def test_exclude_removes_page_views_everywhere_and_says_how_many(data):
    (data / "rumq.toml").write_text("[pages]\nexclude = ['^/products/', '^/blog/']\n")
    # Left out: S1's two product pages, S4's /blog/a, C2's /products/7 = 4 of 15.
    [row], notes = run(data, "sessions/summary", include_cookieless=True)
    # C2 had only /products/7: no page view left, no session. Page views 15 - 4 = 11 in 5 sessions.
    assert (row["sessions"], row["page_views"]) == (5, 11)
    assert any("left out 4 of the window's 15 page views" in n for n in notes), notes
    rows, _ = run(data, "pages/entry")
    # S4 now enters on /home (its /blog/a is gone): entries /home 4 (S1, S2, S3, S4).
    assert [(r["entry_page"], r["sessions"]) for r in rows] == [("/home", 4)]
    rows, _ = run(data, "pages/drop_off", top=100)
    assert "/products/:id" not in {r["page"] for r in rows}


def test_include_keeps_only_matching_page_views(data):
    (data / "rumq.toml").write_text("[pages]\ninclude = ['^/home$', '^/cart']\n")
    # Kept in cookie sessions: S1 /home /cart/ (2), S2 /home /cart /home /cart (4), S3 /home (1),
    # S4 /home /cart (2) = 9 page views in 4 sessions.
    [row], notes = run(data, "sessions/summary")
    assert (row["sessions"], row["page_views"]) == (4, 9)
    # Left out of 15: S1 2 products, S2 /checkout, S4 /blog/a, C2 /products/7 = 5.
    assert any("left out 5 of the window's 15 page views" in n for n in notes), notes


def test_no_rules_no_notice(data):
    _, notes = run(data, "sessions/summary")
    assert not [n for n in notes if "exclude/include" in n]


@pytest.mark.parametrize("doc", [{"pages": {"exclude": "^/admin"}}, {"pages": {"include": [""]}},
                                 {"pages": {"exclude": ["(unclosed"]}}])
def test_bad_patterns_are_usage_errors(doc):
    with pytest.raises(UsageError, match="pages.(exclude|include)"):
        config_from_dict(doc, source="rumq.toml")


def test_engines_that_do_not_apply_the_rules_refuse_instead_of_answering_differently(data):
    from clirun import invoke

    (data / "rumq.toml").write_text("[pages]\nexclude = ['^/products/']\n")
    with pytest.raises(UsageError, match=r"Polars views do not apply rumq.toml's \[pages\] exclude / include"):
        Dataset(data).view("page_views")
    code, out, err = invoke(["--data", str(data), "run", "pages/drop_off", "--engine", "polars"])
    assert (code, out) == (2, "") and "do not apply" in err


# One cookie session that starts on an excluded page (as the QA report's), and one that never
# leaves excluded pages. exclude = ['^/admin/']:
#   A  session_start /admin/x 08:00:00, pv /admin/x i0 08:00:00, js_error /admin/x 08:00:30,
#      pv /home i1 08:02:00, http GET -> 500 /home 08:02:10
#   B  pv /admin/y i0 09:00:00, js_error /admin/y 09:00:05
# The client records nothing on an excluded page, so the session views see A as
# pv /home 08:02:00 + http 500 08:02:10 (start 08:02:00, 10 s, 2 events, 1 page view, a bounce,
# an HTTP error, no JS error) and B not at all (no kept page view: no session).
_SA, _SB = "5e55a000-0000-4000-8000-000000000000", "5e55b000-0000-4000-8000-000000000000"
_UA, _UB = "aaaa0000-0000-4000-8000-000000000000", "bbbb0000-0000-4000-8000-000000000000"


@pytest.fixture()
def admin(tmp_path):
    from rumdata import event, write_jsonl

    from rumq.ingest import ingest

    day = "2026-11-02T"
    ev = [event("session_start", at=day + "08:00:00", session=_SA, user=_UA, page="/admin/x"),
          event("page_view", at=day + "08:00:00", session=_SA, user=_UA, page="/admin/x", interaction=0),
          event("js_error", at=day + "08:00:30", session=_SA, user=_UA, page="/admin/x", interaction=0,
                details={"type": "Error", "message": "boom"}),
          event("page_view", at=day + "08:02:00", session=_SA, user=_UA, page="/home", interaction=1),
          event("http", at=day + "08:02:10", session=_SA, user=_UA, page="/home", interaction=1,
                details={"request": {"method": "GET", "url": "https://api.example.com/x"},
                         "response": {"status": 500, "statusText": ""}}),
          event("page_view", at=day + "09:00:00", session=_SB, user=_UB, page="/admin/y", interaction=0),
          event("js_error", at=day + "09:00:05", session=_SB, user=_UB, page="/admin/y", interaction=0,
                details={"type": "Error", "message": "boom"})]
    ingest(tmp_path / "data", [str(write_jsonl(tmp_path / "e.jsonl", ev))])
    (tmp_path / "data" / "rumq.toml").write_text("[pages]\nexclude = ['^/admin/']\n")
    return tmp_path / "data"


def test_events_on_an_excluded_page_leave_the_session_views(admin):
    from datetime import datetime

    from rumq import catalog

    con = catalog.connect(admin)
    rows = con.sql("SELECT session_id, start_time, end_time, duration_s, events, page_views, bounced, js_errors, "
                   "http_errors, has_error, entry_page, exit_page FROM sessions").fetchall()
    assert rows == [(_SA, datetime(2026, 11, 2, 8, 2), datetime(2026, 11, 2, 8, 2, 10), 10.0, 2, 1, True, 0, 1,
                     True, "/home", "/home")]
    assert con.sql("SELECT user_id, first_seen, sessions_ever FROM rumq_user_first_seen()").fetchall() == [
        (_UA, datetime(2026, 11, 2, 8, 2), 1)]
    [row], _ = run(admin, "sessions/summary")
    assert (row["sessions"], row["page_views"], row["duration_median_s"], row["bounce_rate"],
            row["error_session_rate"]) == (1, 1, 10.0, 1.0, 1.0)
    [row], _ = run(admin, "sessions/list")
    assert (f"{row['start_time']:%H:%M:%S}", row["duration_s"], row["js_errors"], row["http_errors"]) == (
        "08:02:00", 10.0, 0, 1)
    # rumq user and rumq session count the same events.
    ds = Dataset(admin, notify=lambda _: None)
    [u] = ds.user(_UA).to_dicts()
    assert (f"{u['start']:%H:%M:%S}", u["duration_s"], u["events"], u["page_views"], u["entry_page"],
            u["js_errors"], u["http_errors"]) == ("08:02:00", 10.0, 2, 1, "/home", 0, 1)
    s = ds.session(_SA)
    assert (s.summary["duration_s"], s.summary["events"], s.summary["page_views"], s.summary["errors"]) == (
        10.0, 2, 1, 1)
    assert [r["event"] for r in s.events.to_dicts()] == ["page_view", "http"]
    # B has no event on a kept page: no session for the views, none for rumq session.
    with pytest.raises(UnknownIdError, match="only events on pages"):
        ds.session(_SB)
    assert ds.user(_UB).height == 0
    # The event-level views still see every event (errors/top_js counts both JS errors).
    assert con.sql("SELECT count(*) FROM js_errors").fetchall() == [(2,)]


def test_sessions_list_domains_leave_out_events_on_an_excluded_page(tmp_path):
    # One session: pv /admin/x and a JS error on admin.example.com (excluded), pv /home on
    # shop.example.com, then pv /admin/y on admin.example.com again (excluded, after the kept
    # start). Without rules the session has both domains.
    from rumdata import event, write_jsonl

    from rumq.ingest import ingest

    day = "2026-11-02T"
    admin_host = {"domain": "admin.example.com"}
    ev = [event("page_view", at=day + "08:00:00", session=_SA, user=_UA, page="/admin/x", interaction=0,
                extra_metadata=admin_host),
          event("js_error", at=day + "08:00:05", session=_SA, user=_UA, page="/admin/x", interaction=0,
                extra_metadata=admin_host, details={"type": "Error", "message": "boom"}),
          event("page_view", at=day + "08:02:00", session=_SA, user=_UA, page="/home", interaction=1),
          event("page_view", at=day + "08:05:00", session=_SA, user=_UA, page="/admin/y", interaction=2,
                extra_metadata=admin_host)]
    data = tmp_path / "data"
    ingest(data, [str(write_jsonl(tmp_path / "e.jsonl", ev))])
    [row], _ = run(data, "sessions/list")
    assert row["domains"] == "admin.example.com,shop.example.com"
    [row], _ = run(data, "sessions/list", domain="admin.example.com")
    assert row["session_id"] == _SA

    (data / "rumq.toml").write_text("[pages]\nexclude = ['^/admin/']\n")
    [row], _ = run(data, "sessions/list")
    # The session is its one kept page view, /home at 08:02: its domains are those of its kept events only.
    assert (f"{row['start_time']:%H:%M}", row["duration_s"], row["domains"], row["js_errors"]) == (
        "08:02", 0.0, "shop.example.com", 0)
    assert run(data, "sessions/list", domain="admin.example.com")[0] == []
    assert [r["session_id"] for r in run(data, "sessions/list", domain="shop.example.com")[0]] == [_SA]


@pytest.mark.parametrize("name, params", [("sessions/summary", {}), ("sessions/list", {}),
                                          ("users/summary", {"period": "hour"})])
def test_spark_leaves_out_the_same_events(spark, admin, name, params):
    from test_engine_spark import assert_engines_agree

    from rumq.engines.spark import run_query

    duck = Dataset(admin, notify=lambda _: None).run(name, **params)
    assert duck.height > 0
    assert_engines_agree(duck, run_query(admin, name, params))
