"""`rumq session ID`, `rumq user ID` and their library functions, on tests/analyses_data.py's story.

Expected values are read off the story by hand (see analyses_data's docstring).
"""

from __future__ import annotations

import json

import analyses_data as fx
import pytest
from click.testing import CliRunner

from rumq.api import Dataset
from rumq.cli import cli
from rumq.errors import AmbiguousIdError, ExitCode, UnknownIdError


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("session-cmd"))


def invoke(data, *args):
    return CliRunner().invoke(cli, ["--data", str(data), *args])


def test_session_events_in_order_with_their_essentials(data):
    d = Dataset(data).session("5e551")  # a unique prefix of S1
    s = d.summary
    assert (s["session_id"], s["user_id"], s["browser"], s["device"], s["country"]) == (
        fx.S1, fx.U1, "Chrome", "desktop", "US")
    assert (s["duration_s"], s["page_views"], s["js_errors"], s["http_errors"], s["errors"], s["events"]) == (
        120.0, 4, 1, 1, 2, 13)  # 11 web client events and 2 custom ones
    rows = [(r["t_s"], r["event"], r["page"], r["detail"]) for r in d.events.to_dicts()]
    assert rows == [
        (0.0, "session_start", "/home", None),
        (0.0, "page_view", "/home", "interaction 0"),
        (1.0, "navigation", "/home", "navigate 1500.0 ms"),
        (2.0, "lcp", "/home", "LCP 2000.0"),
        (30.0, "page_view", "/products/12", "interaction 1"),
        (40.0, "com.example.shop.add_to_cart", "/products/12", '{"version":"1.0.0","price":10,"sku":"x1"}'),
        (60.0, "page_view", "/products/15?ref=x", "interaction 2"),
        (65.0, "http", "/products/15?ref=x", "GET https://api.shop.com/v1/items/15?x=1 -> 200"),
        (66.0, "http", "/products/15?ref=x", "GET https://api.shop.com/v1/items/16 -> 404"),
        (70.0, "js_error", "/products/15?ref=x", "TypeError: Cannot read properties of undefined (reading 'id')"),
        (80.0, "com.example.shop.add_to_cart", "/products/15?ref=x", '{"version":"1.0.0","price":"12.5","sku":"x2"}'),
        (120.0, "page_view", "/cart/", "interaction 3"),
        (120.0, "cls", "/cart/", "CLS 0.25"),
    ]


def test_session_order_is_interaction_not_file_order(data):
    # S4: the /cart line comes before /home in the file, same second; interaction decides.
    pages = [r["page"] for r in Dataset(data).session(fx.S4).events.to_dicts() if r["event"] == "page_view"]
    assert pages == ["/blog/a", "/home", "/cart"]


def test_network_failure_detail(data):
    [http] = [r for r in Dataset(data).session(fx.S3).events.to_dicts() if r["event"] == "http"]
    assert http["detail"] == "POST https://api.shop.com/v1/cart -> no response TypeError: Failed to fetch"


def test_cli_session_table_and_json(data):
    r = invoke(data, "session", "5E551111")  # case-insensitive
    assert r.exit_code == 0, r.output
    first, *table = r.output.splitlines()
    assert first.startswith(f"session {fx.S1}  user {fx.U1}  2026-11-02 10:00:00Z  Chrome / desktop / US  "
                            "duration 120s  pages 4  errors 2 (js 1, http 1)  events 13  domains shop.example.com")
    assert len(table) == 2 + 13 and "TypeError: Cannot read properties" in r.output
    r = invoke(data, "session", fx.C1, "--format", "json")
    doc = json.loads(r.output)
    assert doc["session"]["user_id"] is None and doc["session"]["http_errors"] == 1
    assert [e["event"] for e in doc["events"]] == ["page_view", "navigation", "lcp", "http", "com.example.shop.search"]
    assert doc["events"][3]["detail"] == "GET https://api.shop.com/v1/items/99 -> 500"
    assert doc["session"]["start"] == "2026-11-02T14:00:00Z"


def test_unknown_and_ambiguous_ids_are_usage_errors(data):
    r = invoke(data, "session", "5e55")
    assert r.exit_code == ExitCode.USAGE
    assert "matches more than one session" in r.output and fx.S1 in r.output and "hint:" in r.output
    r = invoke(data, "session", "zz")
    assert r.exit_code == ExitCode.USAGE and "no session with the id or id prefix 'zz'" in r.output
    r = invoke(data, "user", "9")
    assert r.exit_code == ExitCode.USAGE and "no user" in r.output
    with pytest.raises(AmbiguousIdError):
        Dataset(data).session("5e55")
    with pytest.raises(UnknownIdError):
        Dataset(data).user("")


def test_user_sessions(data):
    df = Dataset(data).user("1111")
    got = [(r["session_id"], r["page_views"], r["entry_page"], r["exit_page"], r["js_errors"], r["http_errors"],
            r["duration_s"]) for r in df.to_dicts()]
    assert got == [(fx.S1, 4, "/home", "/cart/", 1, 1, 120.0), (fx.S2, 5, "/home", "/checkout", 0, 0, 60.0)]
    r = invoke(data, "user", "1111", "--json")
    doc = json.loads(r.output)
    assert doc["user_id"] == fx.U1 and [s["session_id"] for s in doc["sessions"]] == [fx.S1, fx.S2]
    r = invoke(data, "user", fx.U2)
    assert r.exit_code == 0 and r.output.startswith(f"user {fx.U2}  sessions 1\n")


def test_sessions_frame_is_sessions_list(data):
    df = Dataset(data, notify=lambda _: None).sessions(js_error=True)
    assert df.get_column("session_id").to_list() == [fx.S4, fx.S1]


def test_a_session_across_subdomains_shows_each_domain(tmp_path):
    """A session whose cookie follows the visitor from www. to shop.: both domains, and the domain filter."""
    from rumdata import event, write_jsonl

    from rumq.ingest import ingest

    s, u = "5e55aaaa-0000-4000-8000-000000000000", "aaaaaaaa-0000-4000-8000-000000000000"
    ev = [event("page_view", at="2026-11-02T10:00:00", session=s, user=u, page="/", interaction=0,
                extra_metadata={"domain": "www.example.com"}),
          event("page_view", at="2026-11-02T10:00:30", session=s, user=u, page="/cart", interaction=1,
                extra_metadata={"domain": "shop.example.com"}),
          event("page_view", at="2026-11-02T11:00:00", session=fx.S2, user=u, page="/", interaction=0,
                extra_metadata={"domain": "www.example.com"})]
    ingest(tmp_path / "data", [str(write_jsonl(tmp_path / "e.jsonl", ev))])
    ds = Dataset(tmp_path / "data", notify=lambda _: None)
    assert ds.session("5e55a").summary["domains"] == "shop.example.com,www.example.com"
    rows = ds.sessions(domain="shop.example.com").to_dicts()
    assert [(r["session_id"], r["domains"]) for r in rows] == [(s, "shop.example.com,www.example.com")]
    assert [r["domains"] for r in ds.sessions().to_dicts()] == ["www.example.com", "shop.example.com,www.example.com"]


# A visitor who accepts cookies mid-session (the QA report's case): a page view and a
# JS error with the nil user id, then two page views with the user id, one session id.
CS, CU, NIL = "cccccccc-0000-4000-8000-000000000002", "eeeeeeee-0000-4000-8000-000000000002", fx.NIL
_CONSENT = [  # (second after 09:00:00, user, kind, page, interaction, details)
    (0, NIL, "page_view", "/landing", None, {"pageId": "/landing"}),
    (10, NIL, "js_error", "/landing", None, {"type": "Error", "message": "pre-consent"}),
    (20, CU, "page_view", "/landing", 0, {"pageId": "/landing", "interaction": 0}),
    (60, CU, "page_view", "/next", 1, {"pageId": "/next", "interaction": 1}),
]


@pytest.fixture(scope="module")
def consent(tmp_path_factory):
    from polars_data import ingest_messages

    types = {"page_view": "com.amazon.rum.page_view_event", "js_error": "com.amazon.rum.js_error_event"}
    msgs = [{"event_timestamp": 1709629200000 + 1000 * s, "event_type": types[kind],
             "event_id": f"00000000-0000-4000-8000-000000000b0{n}",
             "application_id": "11111111-1111-4111-8111-111111111111",
             "metadata": {"pageId": page} | ({"interaction": i} if i is not None else {}),
             "user_details": {"sessionId": CS, "userId": user}, "event_details": details}
            for n, (s, user, kind, page, i, details) in enumerate(_CONSENT, 1)]
    return ingest_messages(tmp_path_factory.mktemp("consent"), msgs)


def test_user_lists_only_the_cookie_part_of_a_session(consent):
    # The cookie session: page views at 09:00:20 (/landing, i0) and 09:01:00 (/next, i1):
    # 40 s, 2 events, 2 page views, exit /next, no error. The pre-consent page view and
    # JS error are the cookieless session of the same id, not the user's.
    ds = Dataset(consent, notify=lambda _: None)
    [row] = ds.user("eeeeeeee").to_dicts()
    assert (row["session_id"], f"{row['start']:%H:%M:%S}", row["duration_s"], row["events"], row["page_views"],
            row["entry_page"], row["exit_page"], row["js_errors"]) == (CS, "09:00:20", 40.0, 2, 2, "/landing", "/next", 0)
    [listed] = ds.sessions().to_dicts()
    assert (listed["user_id"], listed["start_time"], listed["duration_s"], listed["page_views"], listed["exit_page"],
            listed["js_errors"]) == (CU, row["start"], 40.0, 2, "/next", 0)


def test_session_shows_each_part_as_sessions_list_does(consent):
    ds = Dataset(consent, notify=lambda _: None)
    d = ds.session("cccc")
    s, c = d.summary, d.cookieless_part.summary
    assert (s["user_id"], s["cookieless"], f"{s['start']:%H:%M:%S}", s["duration_s"], s["events"], s["page_views"],
            s["errors"]) == (CU, False, "09:00:20", 40.0, 2, 2, 0)
    assert (c["user_id"], c["cookieless"], f"{c['start']:%H:%M:%S}", c["duration_s"], c["events"], c["page_views"],
            c["js_errors"]) == (None, True, "09:00:00", 10.0, 2, 1, 1)
    assert [(r["t_s"], r["event"], r["page"]) for r in d.events.to_dicts()] == [
        (0.0, "page_view", "/landing"), (40.0, "page_view", "/next")]
    assert [(r["t_s"], r["event"]) for r in d.cookieless_part.events.to_dicts()] == [
        (0.0, "page_view"), (10.0, "js_error")]
    listed = {r["user_id"]: r for r in ds.sessions(include_cookieless=True).to_dicts()}
    for part in (s, c):
        row = listed[part["user_id"]]
        assert (row["start_time"], row["duration_s"], row["page_views"], row["js_errors"]) == (
            part["start"], part["duration_s"], part["page_views"], part["js_errors"])
    # Text: one block per part, oldest first; JSON: the cookie part and the cookieless part.
    r = invoke(consent, "session", "cccc")
    assert r.exit_code == 0, r.output
    heads = [line for line in r.output.splitlines() if line.startswith("session ")]
    assert [h.split("  ")[1:3] for h in heads] == [["user (cookieless)", "2024-03-05 09:00:00Z"],
                                                  [f"user {CU}", "2024-03-05 09:00:20Z"]]
    assert "pages 1  errors 1 (js 1, http 0)  events 2" in heads[0]
    assert "pages 2  errors 0 (js 0, http 0)  events 2" in heads[1]
    doc = json.loads(invoke(consent, "session", "cccc", "--json").output)
    assert doc["session"]["page_views"] == 2 and doc["cookieless_part"]["session"]["page_views"] == 1
    assert [e["event"] for e in doc["cookieless_part"]["events"]] == ["page_view", "js_error"]
