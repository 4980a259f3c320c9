"""The hand-built fixture of the analyses tests (views and built-in queries).

Every expected value in tests/test_views.py and tests/test_queries_*.py was
computed by hand from the story below; keep the two in sync. Times are UTC on
2026-11-02. ``build(tmp)`` writes the messages as JSON lines and ingests them
with the real ``rumq.ingest.ingest``.

Cookie sessions (user ids U1, U2, U3), pages as sent -> normalized:

S1 U1 Chrome desktop US, 10:00:00-10:02:00 (120 s)
    session_start 10:00:00
    pv i0 /home 10:00:00, pv i1 /products/12 10:00:30,
    pv i2 /products/15?ref=x 10:01:00, pv i3 /cart/ 10:02:00
    -> /home, /products/:id, /products/:id, /cart      (4 page views)
    navigation /home 1500 ms 10:00:01, lcp /home 2000 10:00:02, cls /cart 0.25 10:02:00
    http GET https://api.shop.com/v1/items/15?x=1 -> 200 10:01:05
    http GET https://api.shop.com/v1/items/16     -> 404 10:01:06
    js_error TypeError "Cannot read properties of undefined (reading 'id')" 10:01:10
S2 U1 Chrome desktop US, 11:00:00-11:01:00 (60 s)
    pv i0 /home 11:00:00, i1 /cart 11:00:15, i2 /home 11:00:30, i3 /cart 11:00:45,
    i4 /checkout 11:01:00                                (5 page views)
    navigation /home 3000 ms 11:00:01, lcp /home 3000 11:00:02
S3 U2 Firefox mobile DE, 12:00:00-12:00:05 (5 s), a bounce
    pv i0 /home 12:00:00, navigation /home 9000 ms 12:00:01, lcp /home 5000 12:00:02
    http POST https://api.shop.com/v1/cart network failure (no status) 12:00:05
S4 U3 Safari tablet FR, 13:00:00-13:00:11 (11 s)
    pv i0 /blog/a 13:00:00, pv i1 /home 13:00:10, pv i2 /cart 13:00:10
    (the i2 line comes BEFORE the i1 line in the file: interaction decides)
    cls /cart 0.1 13:00:10
    js_error Error "Timeout after 3000 ms" 13:00:11, Error "Timeout after 5000 ms" 13:00:11

Cookieless (nil user id, no interaction):
C1 session id present (client >= 1.13), Chrome desktop US:
    pv /home 14:00:00, navigation /home 2000 ms 14:00:01, lcp /home 1000 14:00:02,
    http GET https://api.shop.com/v1/items/99 -> 500 14:00:03
C2 nil session id (old client), Edge mobile DE:
    pv /products/7 14:05:00, js_error Error "Timeout after 1 ms" 14:05:03

Custom events (last in the file, after every line above):
    S1 com.example.shop.add_to_cart {price 10, sku x1} 10:00:40 (/products/12, i1),
       com.example.shop.add_to_cart {price "12.5", sku x2} 10:01:20 (/products/15?ref=x, i2)
    S4 com.example.shop.add_to_cart {price 4, sku x1} 13:00:05 (/blog/a, i0)
    C1 com.example.shop.search {q shoes} 14:00:03 (/home)

Page views: 13 in cookie sessions + 2 cookieless = 15; coverage = 13/15.

Domains (metadata.domain): every event is on shop.example.com except S1's
/products/15?ref=x page view and its http and js_error events
(www.example.com) and S2's /checkout page view (secure.example.com): with
by_domain, S1's two /products/:id page views are two steps, S2 crosses to
secure.example.com at checkout.

Page tags (metadata.pageTags, on every event of the page, ``PAGE_TAGS``):
/home ['landing'], /cart ['shop', 'funnel'] (S4's /cart repeats 'shop':
['shop', 'funnel', 'shop']), /checkout ['funnel']; /products/*, /blog/a none.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NIL = "00000000-0000-0000-0000-000000000000"
APP = "a0000000-0000-0000-0000-00000000000a"
DAY = "2026-11-02"
U1, U2, U3 = (f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-000000000000" for n in "123")
S1, S2, S3, S4, C1 = (f"5e55{n}{n}{n}{n}-0000-4000-8000-000000000000" for n in "1234c")

SHOP, WWW, SECURE = "shop.example.com", "www.example.com", "secure.example.com"
#: The pageTags of the story's pages (as sent), on every event of the page.
PAGE_TAGS = {"/home": ["landing"], "/cart/": ["shop", "funnel"], "/cart": ["shop", "funnel"],
             "/checkout": ["funnel"]}

COOKIE_PAGE_VIEWS = 13
ALL_PAGE_VIEWS = 15
COVERAGE = 13 / 15

CHROME_US = {"browserName": "Chrome", "deviceType": "desktop", "countryCode": "US"}
FIREFOX_DE = {"browserName": "Firefox", "deviceType": "mobile", "countryCode": "DE"}
SAFARI_FR = {"browserName": "Safari", "deviceType": "tablet", "countryCode": "FR"}
EDGE_DE = {"browserName": "Edge", "deviceType": "mobile", "countryCode": "DE"}

_TYPES = {
    "page_view": "com.amazon.rum.page_view_event",
    "session_start": "com.amazon.rum.session_start_event",
    "navigation": "com.amazon.rum.performance_navigation_event",
    "lcp": "com.amazon.rum.largest_contentful_paint_event",
    "cls": "com.amazon.rum.cumulative_layout_shift_event",
    "http": "com.amazon.rum.http_event",
    "js_error": "com.amazon.rum.js_error_event",
}
_counter = 0
CART = "com.example.shop.add_to_cart"
SEARCH = "com.example.shop.search"


def msg(
    kind: str,
    at: str,
    *,
    session: str | None,
    user: str | None,
    page: str,
    interaction: int | None = None,
    ctx: dict[str, str],
    details: dict[str, Any] | None = None,
    app: str = APP,
    domain: str = SHOP,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """One RUM message as the web client sends it (``at`` = ``HH:MM:SS`` on ``DAY``).

    ``tags`` default to the page's ``PAGE_TAGS`` (none: no ``pageTags`` key).
    """
    global _counter
    _counter += 1
    when = datetime.fromisoformat(f"{DAY}T{at}").replace(tzinfo=UTC)
    md: dict[str, Any] = {
        "version": "1.0.0", "browserLanguage": "en-US", "browserVersion": "1.0", "osName": "Linux",
        "osVersion": "6", "platformType": "web", "domain": domain, "title": "Shop",
        "pageId": page, "aws:client": "arw-module", "aws:clientVersion": "1.16.1", **ctx,
    }
    tags = PAGE_TAGS.get(page) if tags is None else tags
    if tags:
        md["pageTags"] = tags
    ed: dict[str, Any] = {"version": "1.0.0"}
    if kind == "page_view":
        ed["pageId"] = page
    if interaction is not None:
        md["interaction"] = interaction
        if kind == "page_view":
            ed["interaction"] = interaction
            ed["pageInteractionId"] = f"{page}-{interaction}"
    ed.update(details or {})
    return {
        "event_timestamp": int(when.timestamp() * 1000),
        "event_type": _TYPES.get(kind, kind),  # a custom event: its own type
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"rumq-analyses/{_counter}")),
        "event_version": "1.0.0",
        "log_stream": when.strftime("%Y-%m-%dT%H"),
        "application_id": app,
        "application_version": "2.0.0",
        "metadata": md,
        "user_details": {"sessionId": session or NIL, "userId": user or NIL},
        "event_details": ed,
    }


def nav(ms: float, dns: float, ttfb: float, response: float, dom: float, load: float) -> dict[str, Any]:
    return {
        "initiatorType": "navigation", "navigationType": "navigate", "startTime": 0, "duration": ms,
        "dns": dns, "connect": 5, "timeToFirstByte": ttfb, "responseTime": response,
        "domProcessingTime": dom, "loadEventTime": load,
    }


def http(method: str, url: str, status: int | None) -> dict[str, Any]:
    d: dict[str, Any] = {"request": {"method": method, "url": url}}
    if status is None:
        d["error"] = {"type": "TypeError", "message": "Failed to fetch"}
    else:
        d["response"] = {"status": status, "statusText": ""}
    return d


def js(kind: str, message: str, stack: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "stack": stack}


APP_STACK = "TypeError: Cannot read properties of undefined (reading 'id')\n    at renderItem (https://cdn.shop.com/app.js:10:5)\n    at main (https://cdn.shop.com/app.js:20:1)"


def timeout_stack(ms: int) -> str:
    return f"Error: Timeout after {ms} ms\n    at fetchJson (https://cdn.shop.com/api.js:5:9)\n    at load (https://cdn.shop.com/app.js:3:3)"


def messages() -> list[dict[str, Any]]:
    """The fixture's messages, in file order (the same event ids on every call)."""
    global _counter
    _counter = 0
    out: list[dict[str, Any]] = []

    def s1(kind: str, at: str, page: str, i: int | None = None, dom: str = SHOP, **d: Any) -> None:
        out.append(msg(kind, at, session=S1, user=U1, page=page, interaction=i, ctx=CHROME_US, details=d,
                       domain=dom))

    s1("session_start", "10:00:00", "/home", 0)
    s1("page_view", "10:00:00", "/home", 0)
    s1("navigation", "10:00:01", "/home", 0, **nav(1500, 10, 100, 10, 300, 1))
    s1("lcp", "10:00:02", "/home", 0, value=2000)
    s1("page_view", "10:00:30", "/products/12", 1)
    s1("page_view", "10:01:00", "/products/15?ref=x", 2, WWW)
    s1("http", "10:01:05", "/products/15?ref=x", 2, WWW, **http("GET", "https://api.shop.com/v1/items/15?x=1", 200))
    s1("http", "10:01:06", "/products/15?ref=x", 2, WWW, **http("GET", "https://api.shop.com/v1/items/16", 404))
    s1("js_error", "10:01:10", "/products/15?ref=x", 2, WWW,
       **js("TypeError", "Cannot read properties of undefined (reading 'id')", APP_STACK))
    s1("page_view", "10:02:00", "/cart/", 3)
    s1("cls", "10:02:00", "/cart/", 3, value=0.25)

    def s2(kind: str, at: str, page: str, i: int, dom: str = SHOP, **d: Any) -> None:
        out.append(msg(kind, at, session=S2, user=U1, page=page, interaction=i, ctx=CHROME_US, details=d,
                       domain=dom))

    s2("page_view", "11:00:00", "/home", 0)
    s2("navigation", "11:00:01", "/home", 0, **nav(3000, 20, 200, 10, 500, 2))
    s2("lcp", "11:00:02", "/home", 0, value=3000)
    s2("page_view", "11:00:15", "/cart", 1)
    s2("page_view", "11:00:30", "/home", 2)
    s2("page_view", "11:00:45", "/cart", 3)
    s2("page_view", "11:01:00", "/checkout", 4, SECURE)

    def s3(kind: str, at: str, **d: Any) -> None:
        out.append(msg(kind, at, session=S3, user=U2, page="/home", interaction=0, ctx=FIREFOX_DE, details=d))

    s3("page_view", "12:00:00")
    s3("navigation", "12:00:01", **nav(9000, 30, 300, 20, 700, 3))
    s3("lcp", "12:00:02", value=5000)
    s3("http", "12:00:05", **http("POST", "https://api.shop.com/v1/cart", None))

    def s4(kind: str, at: str, page: str, i: int, **d: Any) -> None:
        tags = ["shop", "funnel", "shop"] if page == "/cart" else None  # a tag repeated on one page view
        out.append(msg(kind, at, session=S4, user=U3, page=page, interaction=i, ctx=SAFARI_FR, details=d,
                       tags=tags))

    s4("page_view", "13:00:00", "/blog/a", 0)
    s4("page_view", "13:00:10", "/cart", 2)  # before /home in the file, same second
    s4("page_view", "13:00:10", "/home", 1)
    s4("cls", "13:00:10", "/cart", 2, value=0.1)
    s4("js_error", "13:00:11", "/cart", 2, **js("Error", "Timeout after 3000 ms", timeout_stack(3000)))
    s4("js_error", "13:00:11", "/cart", 2, **js("Error", "Timeout after 5000 ms", timeout_stack(5000)))

    def c1(kind: str, at: str, **d: Any) -> None:
        out.append(msg(kind, at, session=C1, user=None, page="/home", ctx=CHROME_US, details=d))

    c1("page_view", "14:00:00")
    c1("navigation", "14:00:01", **nav(2000, 40, 400, 20, 900, 4))
    c1("lcp", "14:00:02", value=1000)
    c1("http", "14:00:03", **http("GET", "https://api.shop.com/v1/items/99", 500))

    out.append(msg("page_view", "14:05:00", session=None, user=None, page="/products/7", ctx=EDGE_DE))
    out.append(msg("js_error", "14:05:03", session=None, user=None, page="/products/7", ctx=EDGE_DE,
                   details=js("Error", "Timeout after 1 ms", timeout_stack(1))))

    # Custom events, last in the file so that every line above keeps its number.
    out.append(msg(CART, "10:00:40", session=S1, user=U1, page="/products/12", interaction=1, ctx=CHROME_US,
                   details={"price": 10, "sku": "x1"}))
    out.append(msg(CART, "10:01:20", session=S1, user=U1, page="/products/15?ref=x", interaction=2,
                   ctx=CHROME_US, details={"price": "12.5", "sku": "x2"}))
    out.append(msg(CART, "13:00:05", session=S4, user=U3, page="/blog/a", interaction=0, ctx=SAFARI_FR,
                   details={"price": 4, "sku": "x1"}))
    out.append(msg(SEARCH, "14:00:03", session=C1, user=None, page="/home", ctx=CHROME_US,
                   details={"q": "shoes"}))
    return out


def build(tmp: Path) -> Path:
    """Write and ingest the fixture under ``tmp``; return the dataset directory."""
    from rumq.ingest import ingest

    src = tmp / "fixture.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in messages()), encoding="utf-8")
    data = tmp / "data"
    report = ingest(data, [str(src)])
    assert report.rejected == 0 and report.written == len(messages()), report
    return data


def run(data: Path, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run a built-in query through the public API; rows as dicts."""
    from rumq.api import Dataset

    notes: list[str] = []  # the low-coverage warning is the runner's business
    return Dataset(data, notify=notes.append).run(name, **params).to_dicts()


def connect(data: Path) -> Any:
    """A catalog connection (events + analysis views) over the fixture."""
    from rumq.catalog import connect as catalog_connect

    return catalog_connect(data)
