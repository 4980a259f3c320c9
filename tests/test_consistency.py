"""Every built-in query on one generated dataset, and the identities between them (issue 13).

The dataset is a small generated one (``rumq.generate.iter_messages``: two
applications, one day, a quarter of the visits without cookies, some visits
longer than ten pages) with the edge cases that made built-in analyses
disagree added by ``_edge_cases``: sessions without a page view, page views
without a session id (old clients without cookies), a page view without a
page id, a visitor who accepts cookies in the middle of a session, and
sessions without browser, device or country. ``test_the_edge_cases_are_there``
checks that each one really is in the data, so no identity holds vacuously.

The identities (each for the whole day and for a window that cuts sessions,
with and without cookieless sessions):

* sessions: ``sessions/summary`` = the sum over ``audience/*`` = the sum over
  ``errors/rate_per_session`` by every dimension and bucket = entries of
  ``pages/entry`` = entries and exits of ``pages/drop_off`` = ``(entry)`` and
  ``(exit)`` edges of ``journeys/transitions`` = sessions of
  ``journeys/top_paths``;
* per page: entries of ``pages/entry`` = entries of ``pages/drop_off`` =
  ``(entry)`` edges into the page; exits of ``pages/drop_off`` = ``(exit)``
  edges out of it; bounces of ``pages/entry`` = bounces of ``pages/drop_off``;
  sessions that saw the page (``pages/drop_off``) = sessions reaching a
  one-step ``funnels/conversion`` on it;
* page views: ``sessions/summary`` = the sum over ``pages/drop_off`` = the sum
  over ``audience/*``;
* error sessions: ``sessions/summary`` = ``errors/rate_per_session`` (summed
  over any dimension) = the sum over ``audience/*``; bounces likewise between
  ``sessions/summary`` and ``pages/entry``.

Before issue 13 these failed: transitions cut paths at ten pages (its exits
were lower than drop_off's), audience counted cookieless page views, sessions
without a page view counted in the summary but had no entry page, and the
page dimension of errors/rate_per_session failed on a session that accepted
cookies midway.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from rumq.generate import iter_messages
from rumq.generate import session as session_model
from rumq.library import Library

NIL = "00000000-0000-0000-0000-000000000000"
ALL = 100_000  # a `top` larger than any result here
# Generated traffic runs from 00:00 UTC of this day; the cut window starts in
# the middle of the busy hours, so some sessions begin before it.
DAY = "2024-03-04"
WINDOWS = {"day": {}, "cut": {"since": f"{DAY}T12:00:00", "until": f"{DAY}T20:00:00"}}
DIMENSIONS = ("browser", "os", "device", "country", "page", "app_version")
# A value for each required parameter of a built-in query (a new one with a
# required parameter needs an entry here, or test_every_builtin_query_runs fails).
REQUIRED = {("funnels/conversion", "steps"): ["/", "/product/*", "/cart"]}
AUDIENCE = ("audience/browsers", "audience/devices", "audience/countries")


def _sessions(messages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in messages:
        by[m["user_details"]["sessionId"]].append(m)
    return by


def _edge_cases(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Change the generated messages in place, deterministically, and add two sessions."""
    by = _sessions(messages)
    cookie = [s for s, ms in by.items() if ms[0]["user_details"]["userId"] != NIL]
    cookieless = [s for s, ms in by.items() if ms[0]["user_details"]["userId"] == NIL]
    for i, sid in enumerate(cookie):
        events = by[sid]
        if i % 13 == 1:
            # No page view: only the session_start, resources, vitals, errors remain.
            for m in events:
                if m["event_type"].endswith("page_view_event"):
                    m["event_type"] = "com.amazon.rum.dom_event"
        elif i % 7 == 2:
            for m in events:  # no browser, device or country at all
                for key in ("browserName", "deviceType", "countryCode"):
                    m["metadata"].pop(key, None)
        elif i % 11 == 3:
            for m in events[: len(events) // 2]:  # the browser only on the later events
                m["metadata"].pop("browserName", None)
        elif i % 17 == 4:
            # Cookies accepted on the second page: the events before it have no user id.
            views = [n for n, m in enumerate(events) if m["event_type"].endswith("page_view_event")]
            if len(views) >= 3:
                for m in events[: views[1]]:
                    m["user_details"]["userId"] = NIL
        elif i % 19 == 5:
            # The middle page view has no page id (metadata nor details).
            views = [m for m in events if m["event_type"].endswith("page_view_event")]
            if len(views) >= 3:
                views[len(views) // 2]["metadata"].pop("pageId", None)
                views[len(views) // 2]["event_details"].pop("pageId", None)
    for i, sid in enumerate(cookieless):
        if i % 5 == 0:  # an old client: the nil session id
            for m in by[sid]:
                m["user_details"]["sessionId"] = NIL
    # The two shapes of the real samples: a session_start alone, resource timings alone
    # (copies of a generated event with another type, session and event id).
    model = by[cookie[0]][0]
    user = model["user_details"]["userId"]
    start = {**model, "event_type": "com.amazon.rum.session_start_event",
             "event_id": "5e55a000-0000-4000-8000-000000000001",
             "user_details": {"sessionId": "5e55a000-0000-4000-8000-0000000000aa", "userId": user},
             "event_details": {"version": "1.0.0"}}
    resource = {**model, "event_type": "com.amazon.rum.performance_resource_event",
                "event_id": "5e55a000-0000-4000-8000-000000000002",
                "user_details": {"sessionId": "5e55a000-0000-4000-8000-0000000000bb", "userId": user},
                "event_details": {"version": "1.0.0", "targetUrl": "https://cdn.example.com/a.js",
                                  "fileType": "script", "duration": 12}}
    return [*messages, start, resource]


def build(tmp: Path) -> Path:
    from rumq.ingest import ingest

    # Fifteen times the usual share of heavy visits (long paths, often at the 200-event cap).
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(session_model, "POWER_SHARE", 0.15)
        messages = [json.loads(m.message) for m in iter_messages(sessions=320, days=1, seed=13, apps=2,
                                                                 cookieless_share=0.25)]
    messages = _edge_cases(messages)
    src = tmp / "export.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in messages), encoding="utf-8")
    data = tmp / "data"
    report = ingest(data, [str(src)])
    assert report.rejected == 0 and report.written == len(messages), report
    return data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build(tmp_path_factory.mktemp("consistency"))


def run(data: Path, name: str, **params: Any) -> list[dict[str, Any]]:
    from rumq.api import Dataset

    return Dataset(data, notify=lambda _: None).run(name, **params).to_dicts()


def test_the_edge_cases_are_there(data):
    from rumq.catalog import connect

    con = connect(data)

    def one(sql: str) -> Any:
        return con.sql(sql).fetchall()[0][0]

    assert one("SELECT count(*) FROM page_views WHERE cookieless") >= 30
    assert one("SELECT count(*) FROM page_views WHERE session_id LIKE 'page:%'") >= 5
    assert one("SELECT count(DISTINCT session_id) FROM journey_steps WHERE step > 10 AND NOT cookieless") >= 5
    assert one("SELECT count(*) FROM page_views WHERE page IS NULL") >= 3
    # Sessions with events but no page view: in rumq_events, not in sessions.
    assert one("""SELECT count(*) FROM (SELECT session_id FROM events WHERE session_id IS NOT NULL
                  GROUP BY ALL HAVING count(*) FILTER (WHERE event_name = 'page_view') = 0)""") >= 10
    assert one("SELECT count(*) FROM sessions WHERE browser_name IS NULL AND NOT cookieless") >= 10
    assert one("SELECT count(*) FROM sessions WHERE country_code IS NULL AND NOT cookieless") >= 10
    assert one("SELECT count(*) FROM sessions WHERE device_type IS NULL AND NOT cookieless") >= 10
    # Sessions that accepted cookies midway: a cookieless and a cookie part.
    assert one("SELECT count(*) FROM (SELECT session_id FROM sessions GROUP BY 1 HAVING count(*) = 2)") >= 2


def test_every_builtin_query_runs_with_its_defaults(data):
    """Walks the built-in library, so a new built-in query is covered without editing this test."""
    builtins = [q for q in Library(env={}).load().queries.values() if q.builtin]
    assert len(builtins) >= 15
    for q in builtins:
        params = {}
        for p in q.params:
            if p.required:
                assert (q.name, p.name) in REQUIRED, f"{q.name}: give a value for its required parameter {p.name}"
                params[p.name] = REQUIRED[(q.name, p.name)]
        rows = run(data, q.name, **params)
        assert rows, f"{q.name} returned no rows on the generated dataset"
        assert list(rows[0]) == [c.name for c in q.columns], q.name


def _by(rows: list[dict[str, Any]], key: str, value: str) -> dict[Any, Any]:
    """{row[key]: row[value]} over rows with a non-zero value (key must be unique)."""
    out = {r[key]: r[value] for r in rows}
    assert len(out) == len(rows), f"{key} is not unique"
    return {k: v for k, v in out.items() if v}


class Results:
    """The built-in queries of one window and cookie setting, each run once."""

    def __init__(self, data: Path, window: str, include_cookieless: bool) -> None:
        self.data = data
        self.common = {"include_cookieless": include_cookieless, **WINDOWS[window]}
        self._cache: dict[str, list[dict[str, Any]]] = {}

    def __call__(self, name: str, **params: Any) -> list[dict[str, Any]]:
        key = json.dumps([name, params], sort_keys=True)
        if key not in self._cache:
            self._cache[key] = run(self.data, name, **self.common, **params)
        return self._cache[key]

    @property
    def summary(self) -> dict[str, Any]:
        [row] = self("sessions/summary")
        assert row["sessions"] > 50
        return row

    def count(self, rate: str) -> int:
        """A rate of sessions/summary as a number of sessions."""
        return round(self.summary[rate] * self.summary["sessions"])


@pytest.fixture(scope="module")
def results(data) -> dict[tuple[str, bool], Results]:
    return {(w, c): Results(data, w, c) for w in WINDOWS for c in (False, True)}


@pytest.fixture(params=[(w, c) for w in sorted(WINDOWS) for c in (False, True)],
                ids=lambda p: f"{p[0]}-{'with' if p[1] else 'without'}-cookieless")
def res(request, results) -> Results:
    """The results of one window and cookie setting (shared by the tests of this module)."""
    return results[request.param]


def test_sessions_per_dimension_add_up_to_the_summary(res):
    sessions = res.summary["sessions"]
    for q in AUDIENCE:
        assert sum(r["sessions"] for r in res(q, top=ALL)) == sessions, q
    [rate] = res("errors/rate_per_session")
    assert rate["sessions"] == sessions
    for dimension in DIMENSIONS:
        rows = res("errors/rate_per_session", dimension=dimension)
        assert sum(r["sessions"] for r in rows) == sessions, dimension
    assert sum(r["sessions"] for r in res("errors/rate_per_session", bucket="hour")) == sessions


def test_error_sessions_agree(res):
    error_sessions = res.count("error_session_rate")
    [rate] = res("errors/rate_per_session")
    assert rate["error_sessions"] == error_sessions
    for dimension in DIMENSIONS:
        rows = res("errors/rate_per_session", dimension=dimension)
        assert sum(r["error_sessions"] for r in rows) == error_sessions, dimension
    for q in AUDIENCE:
        rows = res(q, top=ALL)
        assert sum(round((r["error_session_rate"] or 0) * r["sessions"]) for r in rows) == error_sessions, q


# The page-level identities hold with pages qualified by their domain too (by_domain).
BY_DOMAIN = pytest.mark.parametrize("by_domain", [False, True], ids=["pages", "domain-pages"])


@BY_DOMAIN
def test_page_views_agree(res, by_domain):
    page_views = res.summary["page_views"]
    assert sum(r["page_views"] for r in res("pages/drop_off", top=ALL, by_domain=by_domain)) == page_views
    for q in AUDIENCE:
        assert sum(r["page_views"] for r in res(q, top=ALL)) == page_views, q


@BY_DOMAIN
def test_entries_agree(res, by_domain):
    entries = _by(res("pages/entry", top=ALL, by_domain=by_domain), "entry_page", "sessions")
    assert sum(entries.values()) == res.summary["sessions"]
    assert _by(res("pages/drop_off", top=ALL, by_domain=by_domain), "page", "entries") == entries
    edges = [r for r in res("journeys/transitions", top=ALL, by_domain=by_domain) if r["from_page"] == "(entry)"]
    assert _by(edges, "to_page", "transitions") == entries
    assert _by(edges, "to_page", "sessions") == entries


@BY_DOMAIN
def test_exits_agree(res, by_domain):
    exits = _by(res("pages/drop_off", top=ALL, by_domain=by_domain), "page", "exits")
    assert sum(exits.values()) == res.summary["sessions"]
    edges = [r for r in res("journeys/transitions", top=ALL, by_domain=by_domain) if r["to_page"] == "(exit)"]
    assert _by(edges, "from_page", "transitions") == exits
    assert _by(edges, "from_page", "sessions") == exits


@BY_DOMAIN
def test_bounces_agree(res, by_domain):
    bounces = _by(res("pages/entry", top=ALL, by_domain=by_domain), "entry_page", "bounces")
    assert sum(bounces.values()) == res.count("bounce_rate")
    assert _by(res("pages/drop_off", top=ALL, by_domain=by_domain), "page", "bounces") == bounces


@BY_DOMAIN
def test_paths_and_funnels_agree(res, by_domain):
    # Every session has exactly one path; the sessions that saw a page are the
    # sessions reaching a one-step funnel on it (funnel steps match unqualified pages).
    paths = res("journeys/top_paths", top=ALL, by_domain=by_domain)
    assert sum(r["sessions"] for r in paths) == res.summary["sessions"]
    if by_domain:
        return
    seen = _by(res("pages/drop_off", top=ALL), "page", "sessions")
    for page in [p for p in seen if p is not None][:3]:
        [step] = res("funnels/conversion", steps=[page])
        assert step["sessions"] == seen[page], page


def _unqualified(page: str | None) -> str | None:
    """The page of a domain-qualified page (host names hold no '/', '#' or ' ')."""
    if page is None or page.startswith("("):
        return page
    cut = min((i for i in (page.find(c) for c in "/# ") if i >= 0), default=len(page))
    return page[cut + 1:] if page[cut:cut + 1] == " " else page[cut:]


def test_domain_pages_add_up_to_the_pages(res):
    """Page views, entries, exits and bounces are additive over domains: summed per unqualified page they
    are the unqualified counts; transitions likewise per unqualified edge (when no edge joins two domains
    of one page, which the generated apps do not have)."""
    plain = res("pages/drop_off", top=ALL)
    qualified = res("pages/drop_off", top=ALL, by_domain=True)
    assert any(r["page"] and r["page"][0] not in "/#" for r in qualified)  # qualified indeed
    for col in ("page_views", "exits", "entries", "bounces"):
        summed: dict[Any, int] = defaultdict(int)
        for r in qualified:
            summed[_unqualified(r["page"])] += r[col]
        assert {k: v for k, v in summed.items() if v} == _by(plain, "page", col), col
    summed = defaultdict(int)
    for r in res("journeys/transitions", top=ALL, by_domain=True):
        summed[(_unqualified(r["from_page"]), _unqualified(r["to_page"]))] += r["transitions"]
    assert summed == {(r["from_page"], r["to_page"]): r["transitions"] for r in res("journeys/transitions", top=ALL)}
