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
