"""errors/rate_per_session, errors/top_js and http/errors against the hand-built fixture."""

from __future__ import annotations

from datetime import datetime

import analyses_data as fx
import pytest
from pytest import approx

COV = approx(13 / 15)
RATE_COLS = ("bucket", "dimension", "sessions", "js_error_sessions", "http_error_sessions", "error_sessions",
             "error_session_rate", "errors_per_session_mean", "errors_per_session_p95")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-errors"))


def rate_rows(rows):
    assert rows and all(r["coverage"] == COV for r in rows)
    return [tuple(r[c] for c in RATE_COLS) for r in rows]


def test_rate_per_session(data):
    # Errors per cookie session: S1 1 js + 1 http (404) = 2; S2 0; S3 1 http (network); S4 2 js.
    # js sessions S1 S4 = 2; http sessions S1 S3 = 2; either S1 S3 S4 = 3 -> 0.75.
    # mean (2+0+1+2)/4 = 1.25; p95 of sorted [0, 1, 2, 2]: pos 2.85 -> 2 + 0.85*0 = 2.
    assert rate_rows(fx.run(data, "errors/rate_per_session")) == [
        (None, "(all)", 4, 2, 2, 3, 0.75, 1.25, 2.0),
    ]


def test_rate_per_session_by_browser(data):
    # Chrome S1 (2 errors) + S2 (0): rate 1/2, mean 1, p95 of [0, 2]: pos 0.95 -> 0 + 0.95*2 = 1.9.
    assert rate_rows(fx.run(data, "errors/rate_per_session", dimension="browser")) == [
        (None, "Chrome", 2, 1, 1, 1, 0.5, 1.0, approx(1.9)),
        (None, "Firefox", 1, 0, 1, 1, 1.0, 1.0, 1.0),
        (None, "Safari", 1, 1, 0, 1, 1.0, 2.0, 2.0),
    ]


def test_rate_per_session_by_hour_and_entry_page(data):
    rows = rate_rows(fx.run(data, "errors/rate_per_session", bucket="hour", dimension="page"))
    h = lambda n: datetime(2026, 11, 2, n)  # noqa: E731
    assert rows == [
        (h(10), "/home", 1, 1, 1, 1, 1.0, 2.0, 2.0),
        (h(11), "/home", 1, 0, 0, 0, 0.0, 0.0, 0.0),
        (h(12), "/home", 1, 0, 1, 1, 1.0, 1.0, 1.0),
        (h(13), "/blog/a", 1, 1, 0, 1, 1.0, 2.0, 2.0),
    ]


def test_rate_per_session_rejects_unknown_dimension(data):
    from rumq.errors import ParameterError

    with pytest.raises(ParameterError, match="dimension"):
        fx.run(data, "errors/rate_per_session", dimension="browser_name; DROP TABLE events")


def test_top_js(data):
    # "Timeout after 3000/5000/1 ms" share type Error, pattern "Timeout after <n> ms" and the top
    # frame fetchJson in api.js: 3 errors; sessions: S4 only (C2's error has no session id);
    # first 13:00:11 (S4), last 14:05:03 (C2); smallest message "Timeout after 1 ms".
    rows = fx.run(data, "errors/top_js")
    got = [(r["error_type"], r["message_pattern"], r["top_file"], r["top_function"], r["errors"],
            r["sessions"], r["first_seen"], r["last_seen"], r["sample_message"]) for r in rows]
    assert got == [
        ("Error", "Timeout after <n> ms", "https://cdn.shop.com/api.js", "fetchJson", 3, 1,
         datetime(2026, 11, 2, 13, 0, 11), datetime(2026, 11, 2, 14, 5, 3), "Timeout after 1 ms"),
        ("TypeError", "Cannot read properties of undefined (reading <str>)", "https://cdn.shop.com/app.js",
         "renderItem", 1, 1, datetime(2026, 11, 2, 10, 1, 10), datetime(2026, 11, 2, 10, 1, 10),
         "Cannot read properties of undefined (reading 'id')"),
    ]
    assert len({r["fingerprint"] for r in rows}) == 2
    assert all(len(r["fingerprint"]) == 12 for r in rows)


def test_top_js_message_and_frame_parsing(tmp_path):
    # Firefox frames, anonymous Chrome frames, a cut stack (falls back to filename), and the
    # placeholders: URL, quoted string, UUID, hex, number.
    ctx = fx.CHROME_US

    def err(at, message, stack, filename=None):
        d = {"type": "Error", "message": message, "stack": stack}
        if filename:
            d["filename"] = filename
        return fx.msg("js_error", at, session=fx.S1, user=fx.U1, page="/", ctx=ctx, details=d)

    msgs = [
        err("10:00:00", "Bad 'x' at https://a.b/c?d=1 id 3f2504e0-4f89-11d3-9a0c-0305e82c3301 0xff 42",
            "render@https://cdn.x/app.js?v=1:1:2\nmain@https://cdn.x/app.js:3:4"),
        err("10:00:01", "Bad \"y\" at http://e.f/g id 3f2504e0-4f89-11d3-9a0c-0305e82c3302 0x1 7",
            "render@https://cdn.x/app.js:9:9"),
        err("10:00:02", "boom", "Error: boom\n    at https://cdn.x/vendor.js:1:1"),
        err("10:00:03", "cut", "Error: cut\n    at veryLongFunctionName (https://cdn.x/ven", "https://cdn.x/v.js"),
    ]
    import json

    from rumq.ingest import ingest

    src = tmp_path / "e.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in msgs))
    ingest(tmp_path / "d", [str(src)])
    rows = fx.run(tmp_path / "d", "errors/top_js")
    got = sorted((r["message_pattern"], r["top_file"], r["top_function"], r["errors"]) for r in rows)
    assert got == [
        ("Bad <str> at <url> id <uuid> <hex> <n>", "https://cdn.x/app.js", "render", 2),
        ("boom", "https://cdn.x/vendor.js", "<anonymous>", 1),
        ("cut", "https://cdn.x/v.js", "veryLongFunctionName", 1),  # file cut: filename used
    ]


def test_http_errors(data):
    # GET api.shop.com/v1/items/:id: 3 requests (200 S1, 404 S1, 500 C1 - event-level, cookieless
    # counted); the 404 and the 500 are each 1/3 of the pattern's requests.
    # POST api.shop.com/v1/cart: 1 request, a network failure (no status) -> share 1.
    rows = fx.run(data, "http/errors")
    assert [(r["method"], r["url_pattern"], r["status_class"], r["requests"], r["sessions"], r["share"])
            for r in rows] == [
        ("GET", "api.shop.com/v1/items/:id", "4xx", 1, 1, approx(1 / 3)),
        ("GET", "api.shop.com/v1/items/:id", "5xx", 1, 1, approx(1 / 3)),
        ("POST", "api.shop.com/v1/cart", "network", 1, 1, 1.0),
    ]
    assert len(fx.run(data, "http/errors", top=1)) == 1
