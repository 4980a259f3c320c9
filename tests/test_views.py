"""The analysis views (rumq/views.py) and page normalization (rumq/pages.py).

Expected values come from the story in analyses_data.py, computed by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import analyses_data as fx
import pytest

from rumq import catalog
from rumq.errors import UsageError
from rumq.pages import PageConfig, Rule, config_from_dict, load_config, normalize
from rumq.views import VIEW_NAMES, create_views


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("views"))


@pytest.fixture()
def con(data):
    c = fx.connect(data)
    yield c
    c.close()


def one(con, sql):
    (row,) = con.sql(sql).fetchall()
    return row


def rows(con, sql):
    rel = con.sql(sql)
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def test_every_view_exists_and_answers(con):
    for name in VIEW_NAMES:
        con.sql(f"SELECT * FROM {name} LIMIT 0").fetchall()
    assert con.sql("SELECT count(*) FROM events").fetchall()[0][0] == len(fx.messages())


def test_sessions_one_row_per_session(con):
    got = rows(con, """
        SELECT session_id, user_id, cookieless, duration_s, page_views, entry_page, exit_page,
               bounced, js_errors, http_errors, has_error, browser_name, device_type, country_code
        FROM sessions ORDER BY start_time""")
    pseudo = got[5]["session_id"]
    assert pseudo.startswith("page:") and pseudo.endswith(":33")  # C2's page view is line 33
    # (session, user, cookieless, duration, pvs, entry, exit, bounced, js, http, has_error, browser, device, country)
    expected = [
        (fx.S1, fx.U1, False, 120.0, 4, "/home", "/cart", False, 1, 1, True, "Chrome", "desktop", "US"),
        (fx.S2, fx.U1, False, 60.0, 5, "/home", "/checkout", False, 0, 0, False, "Chrome", "desktop", "US"),
        (fx.S3, fx.U2, False, 5.0, 1, "/home", "/home", True, 0, 1, True, "Firefox", "mobile", "DE"),
        # S4: /cart and /home share 13:00:10 and /cart comes first in the file; interaction 1 < 2 wins.
        (fx.S4, fx.U3, False, 11.0, 3, "/blog/a", "/cart", False, 2, 0, True, "Safari", "tablet", "FR"),
        (fx.C1, None, True, 3.0, 1, "/home", "/home", True, 0, 1, True, "Chrome", "desktop", "US"),
        # C2: nil session id -> a one-page session of its own; its JS error has no session.
        (pseudo, None, True, 0.0, 1, "/products/:id", "/products/:id", True, 0, 0, False, "Edge", "mobile", "DE"),
    ]
    assert [tuple(r.values()) for r in got] == expected


def test_sessions_counts_are_zero_not_null(con):
    # S2 has neither HTTP events nor errors: counts must be 0 and has_error false.
    r = rows(con, f"SELECT js_errors, http_requests, http_errors, has_error FROM sessions WHERE session_id = '{fx.S2}'")
    assert r == [{"js_errors": 0, "http_requests": 0, "http_errors": 0, "has_error": False}]


def test_session_pages_order_and_flags(con):
    got = con.sql(f"""SELECT page_raw, page, seq, prev_page, is_last FROM session_pages
                      WHERE session_id = '{fx.S4}' ORDER BY seq""").fetchall()
    assert got == [
        ("/blog/a", "/blog/a", 1, None, False),
        ("/home", "/home", 2, "/blog/a", False),
        ("/cart", "/cart", 3, "/home", True),
    ]


def test_journey_steps_collapse_repeats(con):
    got = con.sql(f"SELECT step, page, next_page FROM journey_steps WHERE session_id = '{fx.S1}' ORDER BY step").fetchall()
    # /products/12 and /products/15?ref=x both normalize to /products/:id: one step.
    assert got == [(1, "/home", "/products/:id"), (2, "/products/:id", "/cart"), (3, "/cart", None)]


def test_transitions_edges_of_a_session(con):
    got = con.sql(f"""SELECT from_step, from_page, to_page FROM transitions
                      WHERE session_id = '{fx.S3}' ORDER BY from_step""").fetchall()
    assert got == [(0, "(entry)", "/home"), (1, "/home", "(exit)")]
    # 16 edges in cookie sessions: sum over sessions of (collapsed steps + 1) = 4 + 6 + 2 + 4.
    assert con.sql("SELECT count(*) FROM transitions WHERE NOT cookieless").fetchall()[0][0] == 16


def test_cookie_coverage(con):
    assert con.sql("SELECT coverage, page_views, cookie_page_views FROM cookie_coverage").fetchall()[0] == (
        pytest.approx(13 / 15), 15, 13)


def test_web_vitals_ratings_at_the_thresholds(con):
    got = con.sql("SELECT metric, value, rating FROM web_vitals ORDER BY metric, value").fetchall()
    assert got == [
        ("CLS", 0.1, "good"),  # = first threshold: good
        ("CLS", 0.25, "needs-improvement"),  # = second threshold: still needs improvement
        ("LCP", 1000.0, "good"),
        ("LCP", 2000.0, "good"),
        ("LCP", 3000.0, "needs-improvement"),
        ("LCP", 5000.0, "poor"),
    ]


def test_navigations_apdex_bands(con):
    got = con.sql("SELECT duration, apdex_band FROM navigations ORDER BY duration").fetchall()
    assert got == [(1500.0, "satisfied"), (2000.0, "satisfied"), (3000.0, "tolerating"), (9000.0, "frustrated")]


def test_http_requests_failure_and_patterns(con):
    got = con.sql("SELECT method, url_pattern, status, status_class, failed FROM http_requests ORDER BY event_time").fetchall()
    assert got == [
        ("GET", "api.shop.com/v1/items/:id", 200, "2xx", False),
        ("GET", "api.shop.com/v1/items/:id", 404, "4xx", True),
        ("POST", "api.shop.com/v1/cart", None, "network", True),
        ("GET", "api.shop.com/v1/items/:id", 500, "5xx", True),
    ]


def test_js_errors_keep_events_without_session(con):
    got = con.sql("SELECT count(*), count(session_id) FROM js_errors").fetchall()[0]
    assert got == (4, 3)


def test_macros_for_ad_hoc_sql(con):
    assert con.sql("SELECT rumq_page('/a/42/?x=1'), rumq_url('HTTPS://H.example/v/1#f')").fetchall()[0] == (
        "/a/:id", "h.example/v/:id")


def test_ingest_totals_from_the_manifest(con):
    assert con.sql("SELECT ingests, read, written, duplicates, rejected FROM ingest_totals").fetchall()[0] == (
        1, 38, 38, 0, 0)


def test_page_views_without_interaction_use_export_order(tmp_path):
    # Cookieless with a session id (SPA navigations in one page load): no interaction, same second.
    a = fx.msg("page_view", "09:00:00", session=fx.C1, user=None, page="/b", ctx=fx.CHROME_US)
    b = fx.msg("page_view", "09:00:00", session=fx.C1, user=None, page="/a", ctx=fx.CHROME_US)
    src = tmp_path / "x.jsonl"
    src.write_text(json.dumps(a) + "\n" + json.dumps(b) + "\n")
    from rumq.ingest import ingest

    ingest(tmp_path / "d", [str(src)])
    c = fx.connect(tmp_path / "d")
    assert c.sql("SELECT page, seq FROM session_pages ORDER BY seq").fetchall() == [("/b", 1), ("/a", 2)]
    assert c.sql("SELECT entry_page, exit_page, cookieless FROM sessions").fetchall() == [("/b", "/a", True)]


def test_views_on_an_empty_window(data):
    from rumq.catalog import connect

    c = connect(data, since=datetime(2030, 1, 1))
    assert c.sql("SELECT count(*) FROM sessions").fetchall()[0] == (0,)
    assert c.sql("SELECT coverage FROM cookie_coverage").fetchall()[0] == (None,)


# --- page normalization -----------------------------------------------------


def test_normalize_defaults():
    got = normalize([
        "/orders/12?x=1", "/a/1/2/3/", "/", "#/r/5", "/u/3f2504e0-4f89-11d3-9a0c-0305e82c3301/p",
        "/h/abcdef0123456789", "/h/abcdef01", "/v2/x", None, "/blog//", "/q#frag",
    ])
    assert got == [
        "/orders/:id", "/a/:id/:id/:id", "/", "#/r/:id", "/u/:id/p",
        "/h/:id", "/h/abcdef01", "/v2/x", None, "/blog", "/q",
    ]


def test_rules_apply_in_order_before_auto_ids():
    cfg = config_from_dict({"pages": {"rules": [
        {"pattern": "^/blog/[^/]+$", "replace": "/blog/:slug"},
        {"pattern": "^/blog/:slug$", "replace": "/blog/*"},  # sees the first rule's output
        {"pattern": "/user/([0-9]+)/(edit|view)", "replace": "/user/:uid/\\2"},
    ]}})
    assert normalize(["/blog/hello-2024", "/user/7/edit/3", "/it's"], cfg) == [
        "/blog/*", "/user/:uid/edit/:id", "/it's"]


def test_normalization_off_keeps_raw():
    cfg = PageConfig(enabled=False, rules=(Rule("x", "y"),))
    assert normalize(["/a/1?q"], cfg) == ["/a/1?q"]
    assert normalize(["https://h/a/1?q"], cfg, kind="url") == ["https://h/a/1?q"]
    assert normalize(["/a/1?q"], PageConfig(auto_ids=False)) == ["/a/1"]


def test_url_patterns():
    cfg = config_from_dict({"http": {"rules": [{"pattern": "/v[0-9]+/", "replace": "/:v/"}]}})
    got = normalize(["https://API.x.com:443/v1/users/12?q=1", "/api/x/", "http://u:p@h.com", None], cfg, kind="url")
    assert got == ["api.x.com:443/:v/users/:id", "/api/x", "h.com", None]


def test_rule_text_cannot_escape_the_literal():
    # A quote in a pattern or replacement stays data.
    cfg = config_from_dict({"pages": {"rules": [{"pattern": "'", "replace": "'); DROP TABLE x; --"}]}})
    assert normalize(["/it's"], cfg) == ["/it'); DROP TABLE x; --s"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"pages": {"rules": [{"pattern": "(?=x)", "replace": ""}]}}, "invalid regular expression"),
        ({"pages": {"rules": [{"pattern": "a", "replace": "b", "extra": 1}]}}, "exactly `pattern` and `replace`"),
        ({"pages": {"rules": {"pattern": "a"}}}, "array of tables"),
        ({"pages": {"normalize": "yes"}}, "must be true or false"),
        ({"pages": {"rules": [{"pattern": "", "replace": "b"}]}}, "non-empty string"),
    ],
)
def test_bad_config_is_a_usage_error(doc, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("`", ".")):
        config_from_dict(doc, source="rumq.toml")


def test_config_discovery(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUMQ_CONFIG", raising=False)
    assert load_config() == PageConfig()
    data = tmp_path / "data"
    data.mkdir()
    (data / "rumq.toml").write_text("[pages]\nauto_ids = false\n")
    assert load_config(data_dir=data).auto_ids is False
    (tmp_path / "rumq.toml").write_text("[[pages.rules]]\npattern = 'a'\nreplace = 'b'\n")
    assert load_config(data_dir=data).rules == (Rule("a", "b"),)  # ./rumq.toml first
    other = tmp_path / "other.toml"
    other.write_text("[pages]\nnormalize = false\n")
    monkeypatch.setenv("RUMQ_CONFIG", str(other))
    assert load_config(data_dir=data).enabled is False
    with pytest.raises(UsageError, match="not found"):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[pages\n")
    with pytest.raises(UsageError, match="cannot read config"):
        load_config(tmp_path / "bad.toml")


def test_create_views_with_a_config(data):
    from rumq.catalog import connect

    c = connect(data, views=False)
    create_views(c, pages=config_from_dict({"pages": {"rules": [{"pattern": "^/(home|cart)$", "replace": "/shop"}]}}))
    got = c.sql("SELECT page, count(*) FROM page_views GROUP BY page ORDER BY page").fetchall()
    assert got == [("/blog/a", 1), ("/checkout", 1), ("/products/:id", 3), ("/shop", 10)]


def test_importing_views_is_cheap():
    code = "import sys, rumq.views, rumq.pages; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_session_stats_is_sessions_without_pages(con):
    cols = ("session_id, user_id, cookieless, start_time, end_time, duration_s, events, page_views, bounced, "
            "js_errors, http_requests, http_errors, has_error, browser_name, os_name, device_type, country_code")
    a = con.sql(f"SELECT {cols} FROM session_stats ORDER BY session_id").fetchall()
    assert len(a) == 6
    assert a == con.sql(f"SELECT {cols} FROM sessions ORDER BY session_id").fetchall()


def test_config_next_to_the_dataset_is_used(tmp_path, monkeypatch):
    # catalog.connect calls create_views(con) without a config: rumq.toml in the dataset
    # directory is found from the files behind `events`.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUMQ_CONFIG", raising=False)
    data = fx.build(tmp_path)
    (data / "rumq.toml").write_text("[[pages.rules]]\npattern = '^/(home|cart)$'\nreplace = '/shop'\n")
    rows = fx.run(data, "pages/entry")
    assert [(r["entry_page"], r["sessions"]) for r in rows] == [("/shop", 3), ("/blog/a", 1)]


def test_audience_macro_is_the_audience_queries_for_any_column(con):
    assert con.sql("SELECT k, sessions, page_views FROM rumq_audience('browser_name', false) "
                   "ORDER BY sessions DESC, k").fetchall() == con.sql(
        "SELECT browser_name, count(*) AS n, sum(page_views)::BIGINT "
        "FROM sessions WHERE NOT cookieless GROUP BY browser_name ORDER BY n DESC, browser_name").fetchall()
    os_rows = con.sql("SELECT k, sessions FROM rumq_audience('os_name', true) ORDER BY k").fetchall()
    assert os_rows == con.sql("SELECT os_name, count(*) FROM sessions GROUP BY 1 ORDER BY 1").fetchall()


def test_views_for_names_what_a_statement_reads():
    import duckdb

    from rumq.views import views_for

    c = duckdb.connect()
    assert views_for(c, "SELECT count(*) FROM transitions WHERE from_step = $n") == {
        "transitions", "journey_steps", "session_pages", "page_views"}
    # comma joins, subqueries, CTEs that shadow nothing, the audience macro
    assert views_for(c, "WITH x AS (SELECT 1) SELECT * FROM sessions s, x WHERE s.a IN (SELECT b FROM web_vitals)") == {
        "sessions", "session_stats", "session_page_stats", "web_vitals"}
    assert views_for(c, "SELECT * FROM rumq_audience('os_name', false)") == {"session_stats", "cookie_coverage",
                                                                           "rumq_audience"}
    assert views_for(c, "SELECT count(*) FROM events") == set()
    assert views_for(c, "SELEC nonsense") is None  # unknown: every view is created


def test_a_connection_for_a_statement_has_its_views(data):
    con = catalog.connect(data, for_sql="SELECT count(*) FROM pages_per_nothing, session_pages")
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert views == {"events", "rumq_events", "session_pages", "page_views"}
    assert con.execute("SELECT count(*) FROM session_pages").fetchone()[0] > 0


def test_declared_view_dependencies_match_the_definitions():
    import duckdb

    from rumq import views

    c = duckdb.connect()
    bodies = dict(views.view_sql())
    bodies["rumq_audience"] = views.AUDIENCE_MACRO.split(" AS TABLE", 1)[1]
    bodies["rumq_user_first_seen"] = views._USER_FIRST_SEEN_SQL
    assert set(bodies) == set(views.DEPENDENCIES)
    for name, body in bodies.items():
        assert views._relations(c, body) & set(VIEW_NAMES) == views.DEPENDENCIES[name], name


def test_session_accepting_cookies_midway_is_a_cookieless_and_a_cookie_part(tmp_path):
    """Every session view splits a session whose events disagree on cookies the same way.

    The visitor loads /landing without cookies (nil user id), accepts them on
    that page (same in-memory session id, a real user id from then on: a JS
    error there) and goes on to /a and /b.
    """
    from rumdata import event, write_jsonl

    from rumq.ingest import ingest

    s, u = "5e55e55e-0000-4000-8000-000000000001", "0a0a0a0a-0000-4000-8000-000000000002"
    events = [
        event("page_view", at="2026-11-25T10:00:00", session=s, page="/landing"),
        event("js_error", at="2026-11-25T10:00:20", session=s, user=u, page="/landing"),
        event("page_view", at="2026-11-25T10:01:00", session=s, user=u, page="/a", interaction=1),
        event("page_view", at="2026-11-25T10:02:00", session=s, user=u, page="/b", interaction=2),
    ]
    write_jsonl(tmp_path / "in.jsonl", events)
    ingest(tmp_path / "data", [str(tmp_path / "in.jsonl")])
    con = catalog.connect(tmp_path / "data")
    got = rows(con, "SELECT cookieless, user_id, page_views, entry_page, exit_page, js_errors, duration_s "
                    "FROM sessions ORDER BY cookieless")
    assert got == [
        {"cookieless": False, "user_id": u, "page_views": 2, "entry_page": "/a", "exit_page": "/b",
         "js_errors": 1, "duration_s": 100.0},
        {"cookieless": True, "user_id": None, "page_views": 1, "entry_page": "/landing",
         "exit_page": "/landing", "js_errors": 0, "duration_s": 0.0},
    ]
    paths = rows(con, "SELECT cookieless, list(page ORDER BY step) AS path FROM journey_steps GROUP BY ALL "
                      "ORDER BY cookieless")
    assert paths == [{"cookieless": False, "path": ["/a", "/b"]}, {"cookieless": True, "path": ["/landing"]}]
    summary = fx.run(tmp_path / "data", "sessions/summary")[0]
    assert (summary["sessions"], summary["page_views"], summary["coverage"]) == (1, 2, 2 / 3)
    both = fx.run(tmp_path / "data", "sessions/summary", include_cookieless=True)[0]
    assert (both["sessions"], both["page_views"], both["bounce_rate"]) == (2, 3, 0.5)
    drop = {r["page"]: (r["page_views"], r["sessions"], r["exits"], r["entries"], r["bounces"])
            for r in fx.run(tmp_path / "data", "pages/drop_off", include_cookieless=True)}
    assert drop == {"/landing": (1, 1, 1, 1, 1), "/a": (1, 1, 0, 1, 0), "/b": (1, 1, 1, 0, 0)}
    # The entry page of each part (looked up by session id and cookie state: by the id alone
    # the lookup found two rows and the query failed): the cookie part entered on /a and has
    # the JS error, the cookieless part entered on /landing.
    by_page = [(r["dimension"], r["sessions"], r["error_sessions"]) for r in
               fx.run(tmp_path / "data", "errors/rate_per_session", dimension="page", include_cookieless=True)]
    assert by_page == [("/a", 1, 1), ("/landing", 1, 0)]


def test_a_session_without_a_page_view_is_no_session(tmp_path):
    """Issue 13: a session needs a page view in the window, in every session view and query.

    A: only a session_start (as in the real samples); B: only resource timings and a
    failed request (HTTP 500); C: /a then /b, no error. Only C is a session: before, A and
    B counted in sessions/summary (3 sessions, error rate 1/3) but had no entry page.
    """
    from rumdata import event, write_jsonl

    from rumq.ingest import ingest

    u = "0a0a0a0a-0000-4000-8000-000000000002"
    a, b, c = (f"5e55e55e-0000-4000-8000-00000000000{n}" for n in "abc")
    events = [
        event("session_start", at="2026-11-25T10:00:00", session=a, user=u, page="/a", interaction=0),
        event("resource", at="2026-11-25T10:05:00", session=b, user=u, page="/a", interaction=0),
        event("http", at="2026-11-25T10:05:01", session=b, user=u, page="/a", interaction=0,
              details={"request": {"method": "GET", "url": "https://api.example.com/x"},
                       "response": {"status": 500}}),
        event("page_view", at="2026-11-25T10:10:00", session=c, user=u, page="/a", interaction=0),
        event("page_view", at="2026-11-25T10:10:30", session=c, user=u, page="/b", interaction=1),
    ]
    write_jsonl(tmp_path / "in.jsonl", events)
    ingest(tmp_path / "data", [str(tmp_path / "in.jsonl")])
    data = tmp_path / "data"
    con = catalog.connect(data)
    assert con.sql("SELECT session_id FROM sessions").fetchall() == [(c,)]
    assert con.sql("SELECT session_id FROM session_stats").fetchall() == [(c,)]
    summary = fx.run(data, "sessions/summary")[0]
    assert (summary["sessions"], summary["page_views"], summary["error_session_rate"]) == (1, 2, 0.0)
    assert [(r["entry_page"], r["sessions"]) for r in fx.run(data, "pages/entry")] == [("/a", 1)]
    [rate] = fx.run(data, "errors/rate_per_session")
    assert (rate["sessions"], rate["error_sessions"]) == (1, 0)
    # The failed request still counts where every event does.
    assert [(r["url_pattern"], r["requests"]) for r in fx.run(data, "http/errors")] == [("api.example.com/x", 1)]


def test_a_page_view_without_page_id_is_a_null_page_not_an_exit(tmp_path):
    """/a, a page view without pageId, /b: the NULL page is a step of the path.

    Before issue 13 transitions took a NULL next page for the end of the path and
    showed /a -> (exit), an exit pages/drop_off does not have.
    """
    from rumdata import event, write_jsonl

    from rumq.ingest import ingest

    s, u = "5e55e55e-0000-4000-8000-000000000001", "0a0a0a0a-0000-4000-8000-000000000002"
    nameless = event("page_view", at="2026-11-25T10:00:30", session=s, user=u, interaction=1)
    del nameless["metadata"]["pageId"]
    events = [
        event("page_view", at="2026-11-25T10:00:00", session=s, user=u, page="/a", interaction=0),
        nameless,
        event("page_view", at="2026-11-25T10:01:00", session=s, user=u, page="/b", interaction=2),
    ]
    write_jsonl(tmp_path / "in.jsonl", events)
    ingest(tmp_path / "data", [str(tmp_path / "in.jsonl")])
    got = {(r["from_page"], r["to_page"]) for r in fx.run(tmp_path / "data", "journeys/transitions")}
    assert got == {("(entry)", "/a"), ("/a", None), (None, "/b"), ("/b", "(exit)")}
    exits = {r["page"]: r["exits"] for r in fx.run(tmp_path / "data", "pages/drop_off")}
    assert exits == {"/a": 0, None: 0, "/b": 1}
