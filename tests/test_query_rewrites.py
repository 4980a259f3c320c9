"""The rewrites that make sessions/list and pages/groups cheap (issue 17) give the plain definitions' answers.

* sessions/list picks its top sessions before it computes their entry/exit pages and domains; a
  smaller ``top`` is a prefix of a larger one, ties included (start time, then session id, then a
  session's cookie part before its cookieless part); the domain filter tests each event's domain
  split on commas, which keeps the same sessions as splitting the joined list.
* pages/groups reads the error sessions from the error events instead of session_stats.

The story (2026-11-02, one app):

* S1 U1 10:00:00 /a, 10:00:05 /b (domain "x.com,y.com"), a network failure (no status) at 10:00:06.
* S2 U1 10:00:00 /c: the same start as S1 (ordered by session id); a failed request 404.
* S3 cookie part U2 11:00:00 /d; cookieless part 11:00:00 /e with a JS error 11:00:01: two
  sessions with the same start and id.
* S4 U3 12:00:00 /f, a request answered 399 (not failed).
* A page view without a session id 13:00:00 /g on z.com, and a JS error without one 13:00:01.
* S5 U3: a JS error only (no page view: no session).
"""

from __future__ import annotations

import pytest
from rumdata import event, write_jsonl

from rumq.api import Dataset

U1, U2, U3 = (f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-000000000000" for n in "123")
S1, S2, S3, S4, S5 = (f"5e55000{n}-0000-4000-8000-000000000000" for n in "12345")
ALL = 100_000


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    from rumq.ingest import ingest

    def ev(kind, at, s, u, page, i=None, domain="shop.example.com", **kw):
        return event(kind, at=f"2026-11-02T{at}", session=s, user=u, page=page, interaction=i,
                     extra_metadata={"domain": domain}, **kw)

    def http(status):
        d = {"request": {"method": "GET", "url": "https://api.example.com/x"}}
        d.update({"response": {"status": status, "statusText": ""}} if status else
                 {"error": {"type": "TypeError", "message": "Failed to fetch"}})
        return d

    js = {"type": "Error", "message": "x"}
    evs = [
        ev("page_view", "10:00:00", S1, U1, "/a", 0),
        ev("page_view", "10:00:05", S1, U1, "/b", 1, domain="x.com,y.com"),
        ev("http", "10:00:06", S1, U1, "/b", 1, details=http(None)),
        ev("page_view", "10:00:00", S2, U1, "/c", 0),
        ev("http", "10:00:01", S2, U1, "/c", 0, details=http(404)),
        ev("page_view", "11:00:00", S3, U2, "/d", 0),
        ev("page_view", "11:00:00", S3, None, "/e"),
        ev("js_error", "11:00:01", S3, None, "/e", details=js),
        ev("page_view", "12:00:00", S4, U3, "/f", 0),
        ev("http", "12:00:01", S4, U3, "/f", 0, details=http(399)),
        ev("page_view", "13:00:00", None, None, "/g", domain="z.com"),
        ev("js_error", "13:00:01", None, None, "/g", details=js),
        ev("js_error", "14:00:00", S5, U3, "/h", 0, details=js),
    ]
    tmp = tmp_path_factory.mktemp("rewrites")
    assert ingest(tmp / "data", [str(write_jsonl(tmp / "e.jsonl", evs))]).written == len(evs)
    return Dataset(tmp / "data", notify=lambda _: None)


COLS = ["session_id", "start_time", "page_views", "entry_page", "exit_page", "js_errors", "http_errors", "domains"]


def _list(ds, **params):
    return [tuple(r[c] for c in COLS[1:]) + (r["session_id"][:8],)
            for r in ds.run("sessions/list", **params).to_dicts()]


def test_sessions_list_by_hand(ds):
    got = _list(ds, top=ALL, include_cookieless=True)
    pseudo, s4, s3_cookie, s3_cookieless, s1, s2 = got
    assert pseudo[1:-1] == (1, "/g", "/g", 0, 0, "z.com") and pseudo[-1].startswith("page:")
    assert s4[1:] == (1, "/f", "/f", 0, 0, "shop.example.com", "5e550004")
    # Same start and id: the cookie part first.
    assert s3_cookie[1:] == (1, "/d", "/d", 0, 0, "shop.example.com", "5e550003")
    assert s3_cookieless[1:] == (1, "/e", "/e", 1, 0, "shop.example.com", "5e550003")
    # Same start: by session id. S1's domains: the distinct values sorted and comma-joined.
    assert s1[1:] == (2, "/a", "/b", 0, 1, "shop.example.com,x.com,y.com", "5e550001")
    assert s2[1:] == (1, "/c", "/c", 0, 1, "shop.example.com", "5e550002")


@pytest.mark.parametrize("include_cookieless", [False, True])
def test_sessions_list_top_is_a_prefix(ds, include_cookieless):
    full = _list(ds, top=ALL, include_cookieless=include_cookieless)
    assert len(full) == (6 if include_cookieless else 4)
    for top in range(1, len(full) + 1):
        assert _list(ds, top=top, include_cookieless=include_cookieless) == full[:top]


def test_sessions_list_domain_filter_splits_each_domain(ds):
    # "x.com,y.com" is one event's domain; the joined list "shop.example.com,x.com,y.com" holds y.com.
    assert [r[-1] for r in _list(ds, domain="Y.com")] == ["5e550001"]
    assert [r[-1] for r in _list(ds, domain="x.com,y.com")] == []  # an element of the list, not a substring
    assert [r[-1][:5] for r in _list(ds, domain="z.com", include_cookieless=True)] == ["page:"]
    assert [r[-1] for r in _list(ds, domain="shop.example.com", include_cookieless=True)] == [
        "5e550004", "5e550003", "5e550003", "5e550001", "5e550002"]


@pytest.mark.parametrize("include_cookieless", [False, True])
def test_pages_groups_error_sessions_are_session_stats(ds, include_cookieless):
    (row,) = ds.run("pages/groups", include_cookieless=include_cookieless).to_dicts()
    # Cookie sessions S1 (network failure), S2 (404), S3's cookie part, S4 (399: no failure): 2 of 4.
    # With cookieless ones: + S3's cookieless part (its JS error) and the page view without a session
    # id (the JS error without one is nobody's): 3 of 6.
    sessions, errors = (6, 3) if include_cookieless else (4, 2)
    assert (row["sessions"], row["error_session_rate"]) == (sessions, pytest.approx(errors / sessions))
    flags = ds.sql("SELECT count(*) AS n, count(*) FILTER (WHERE has_error) AS e FROM session_stats "
                   "WHERE NOT cookieless OR $c", c=include_cookieless).to_dicts()[0]
    assert (flags["n"], flags["e"]) == (sessions, errors)
