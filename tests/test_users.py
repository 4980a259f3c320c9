"""users/summary and users/retention over several days, on a hand-built story.

Days 2026-11-01 (D1), 11-02 (D2), 11-03 (D3), UTC:

* user A: SA1 on D1 10:00 (/home), SA2 on D3 10:00 (/home);
* user B: SB0 on D1 11:00 is a session WITHOUT a page view (session_start and an HTTP call
  only), so it is no session and not B's first; SB1 on D2 11:00 (/home, /cart);
* user C: SC1 on D2 12:00, SC2 on D3 12:00;
* a cookieless page view on D2 13:00 (no user).

Every expected value below is worked out from this story by hand.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from rumdata import event, write_jsonl

from rumq.api import Dataset

A, B, C = (f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-00000000000a" for n in "abc")
SA1, SA2, SB0, SB1, SC1, SC2, SX = (f"5e55000{n}-0000-4000-8000-000000000000" for n in "1234567")
D1, D2, D3 = datetime(2026, 11, 1), datetime(2026, 11, 2), datetime(2026, 11, 3)


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    from rumq.ingest import ingest

    tmp = tmp_path_factory.mktemp("users")
    ev = [
        event("page_view", at="2026-11-01T10:00:00", session=SA1, user=A, page="/home", interaction=0),
        event("session_start", at="2026-11-01T11:00:00", session=SB0, user=B, page="/home", interaction=0),
        event("http", at="2026-11-01T11:00:01", session=SB0, user=B, page="/home", interaction=0,
              details={"request": {"method": "GET", "url": "https://api.example.com/x"},
                       "response": {"status": 200}}),
        event("page_view", at="2026-11-02T11:00:00", session=SB1, user=B, page="/home", interaction=0),
        event("page_view", at="2026-11-02T11:00:30", session=SB1, user=B, page="/cart", interaction=1),
        event("page_view", at="2026-11-02T12:00:00", session=SC1, user=C, page="/home", interaction=0),
        event("page_view", at="2026-11-02T13:00:00", session=SX, user=None, page="/home"),
        event("page_view", at="2026-11-03T10:00:00", session=SA2, user=A, page="/home", interaction=0),
        event("page_view", at="2026-11-03T12:00:00", session=SC2, user=C, page="/home", interaction=0),
    ]
    src = write_jsonl(tmp / "export.jsonl", ev)
    assert ingest(tmp / "data", [str(src)]).written == len(ev)
    return Dataset(tmp / "data", notify=lambda _: None)


def rows(ds, name, **params):
    return ds.run(name, **params).to_dicts()


def test_summary_per_day(ds):
    got = [{k: r[k] for k in ("period", "users", "new_users", "returning_users", "sessions", "user_id_coverage")}
           for r in rows(ds, "users/summary", period="day")]
    assert got == [
        # D1: SA1 only (SB0 has no page view): A is new.
        {"period": D1, "users": 1, "new_users": 1, "returning_users": 0, "sessions": 1, "user_id_coverage": 1.0},
        # D2: SB1 and SC1; B's first session is SB1, not SB0: both new. 2 of 3 sessions have a user.
        {"period": D2, "users": 2, "new_users": 2, "returning_users": 0, "sessions": 2,
         "user_id_coverage": 2 / 3},
        # D3: A and C come back.
        {"period": D3, "users": 2, "new_users": 0, "returning_users": 2, "sessions": 2, "user_id_coverage": 1.0},
    ]


def test_summary_window_after_the_first_day_still_knows_returning_users(ds):
    # From D2: A (first session SA1 on D1, outside the window) is returning; B and C are new.
    [r] = rows(ds, "users/summary", since="2026-11-02")
    assert (r["users"], r["new_users"], r["returning_users"], r["sessions"]) == (3, 2, 1, 4)
    assert r["sessions_per_user"] == 4 / 3 and r["user_id_coverage"] == 4 / 5
    # Only D3: A and C were both seen before.
    [r] = rows(ds, "users/summary", since="2026-11-03")
    assert (r["users"], r["new_users"], r["returning_users"]) == (2, 0, 2)
    # Up to D2 only (the history stops at the window's end; A's SA2 is not seen): A, B, C... A is
    # not in the window D2-D3 at all: users B and C, both new.
    [r] = rows(ds, "users/summary", since="2026-11-02", until="2026-11-03")
    assert (r["users"], r["new_users"], r["returning_users"]) == (2, 2, 0)


def test_retention_per_day(ds):
    got = [(r["cohort"], r["cohort_users"], r["period"], r["users"], r["retention"])
           for r in rows(ds, "users/retention", period="day")]
    assert got == [
        (D1, 1, 0, 1, 1.0), (D1, 1, 1, 0, 0.0), (D1, 1, 2, 1, 1.0),  # A: D1, not D2, D3
        (D2, 2, 0, 2, 1.0), (D2, 2, 1, 1, 0.5),  # B and C on D2; only C on D3
    ]  # nobody is new on D3: no cohort


def test_retention_window_leaves_earlier_users_out_of_every_cohort(ds):
    got = [(r["cohort"], r["cohort_users"], r["period"], r["users"])
           for r in rows(ds, "users/retention", period="day", since="2026-11-02")]
    assert got == [(D2, 2, 0, 2), (D2, 2, 1, 1)]  # A (first seen D1) is in no cohort


def test_retention_triangle(ds):
    tri = ds.retention_triangle(period="day")
    assert tri.columns == ["cohort", "cohort_users", "p0", "p1", "p2"]
    assert tri.rows() == [(D1, 1, 1.0, 0.0, 1.0), (D2, 2, 1.0, 0.5, None)]
    assert ds.retention_triangle(period="day", value="users").rows() == [(D1, 1, 1, 0, 1), (D2, 2, 2, 1, None)]
    empty = ds.retention_triangle(period="day", since="2026-11-03")
    assert empty.height == 0 and empty.columns[:2] == ["cohort", "cohort_users"]


def test_app_filter_applies_to_the_history(tmp_path):
    # User id A in two applications: first seen on D1 in `other`, on D2 in the default one.
    from rumdata import APP

    from rumq.ingest import ingest

    other = "b0000000-0000-4000-8000-00000000000b"
    ev = [event("page_view", at="2026-11-01T09:00:00", session=SA1, user=A, page="/x", interaction=0, app=other),
          event("page_view", at="2026-11-02T09:00:00", session=SB1, user=A, page="/x", interaction=0, app=other),
          event("page_view", at="2026-11-02T10:00:00", session=SC1, user=A, page="/y", interaction=0)]
    ingest(tmp_path / "data", [str(write_jsonl(tmp_path / "e.jsonl", ev))])
    two = Dataset(tmp_path / "data", notify=lambda _: None)
    [r] = two.run("users/summary", app=other, since="2026-11-02").to_dicts()
    assert (r["users"], r["new_users"], r["returning_users"]) == (1, 0, 1)
    [r] = two.run("users/summary", app=APP, since="2026-11-02").to_dicts()
    assert (r["users"], r["new_users"], r["returning_users"]) == (1, 1, 0)
    [r] = two.run("users/summary", since="2026-11-02").to_dicts()  # both apps: one id, first seen D1
    assert (r["users"], r["new_users"], r["returning_users"]) == (1, 0, 1)


def test_user_lists_a_session_without_a_page_view(ds):
    # `rumq user` lists every session of the user, SB0 (no page view) too; the queries do not count it.
    df = ds.user(B[:6])
    assert [(r["session_id"], r["page_views"], r["entry_page"], r["events"]) for r in df.to_dicts()] == [
        (SB0, 0, None, 2), (SB1, 2, "/home", 2)]
    detail = ds.session(SB0)
    assert detail.summary["page_views"] == 0 and list(detail.events.get_column("event")) == ["session_start", "http"]
    assert detail.events.get_column("detail").to_list()[1] == "GET https://api.example.com/x -> 200"
