"""Datasets and comparison helpers of the Polars engine tests (views, twins, query files).

``build_edges(tmp)``: tests/analyses_data.py's story plus the cases that
break engines (the same kinds tests/test_engine_spark.py uses, and a few
more): a non-UUID session id, cookieless sessions with and without a session
id, NULL dimensions, page ids like /1/2/3, a hash route, a trailing slash, a
query string, a relative HTTP URL, a page rule with a back-reference and a
literal ``$`` in its replacement, a session across midnight, two page views
tied on interaction and time (the export line decides), page views without a
page id (first, in the middle and last of a session), a session without a
page view, a visitor accepting cookies midway, a resource with a URL, an
HTTP event and a web vital without a value.

``build_generated(tmp)``: tests/test_consistency.py's generated day with its
edge cases.

``assert_frames_agree``: same columns, same types, same rows (as multisets,
or in order), floats to 1e-9 and NaN equal to NaN.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import analyses_data as A
import polars as pl

from rumq.schema import EVENT_NAMES

#: event_name -> the web client's event_type
TYPES = {name: t for t, name in EVENT_NAMES.items() if t.startswith("com.amazon.rum.")}
LEGACY = "legacy-session-1"
E2, E3, E4, E5, E6 = (f"e0000000-0000-4000-8000-00000000000{n}" for n in "23456")
U9 = "99999999-0000-4000-8000-000000000000"
RULES = """\
[[pages.rules]]
pattern = '^/blog/([^/]+)/comments$'
replace = '/blog/\\1/$c'
[[http.rules]]
pattern = '/v[0-9]+/'
replace = '/:version/'
"""


def edge_messages() -> list[dict[str, Any]]:
    """The story of tests/analyses_data.py plus the engine-breaking cases, in file order."""
    out = A.messages()  # resets the event-id counter: the extra events come after it

    def add(kind, at, session, page, i=None, user=U9, ctx=None, next_day=False, drop_page=False, **d):
        m = A.msg(kind if kind in A._TYPES else "lcp", at, session=session, user=user, page=page,
                  interaction=i, ctx=A.CHROME_US if ctx is None else ctx, details=d)
        m["event_type"] = TYPES[kind]
        if next_day:
            m["event_timestamp"] += 86_400_000
        if drop_page:
            m["metadata"].pop("pageId")
            m["event_details"].pop("pageId", None)
        if session and not session.startswith("e0"):
            m["user_details"] = {"sessionId": session, "userId": "legacy-user"}
        out.append(m)

    add("page_view", "23:59:40", LEGACY, "/1/2/3", 0)
    add("page_view", "23:59:50", LEGACY, "#/orders/12", 1)
    add("js_error", "23:59:55", LEGACY, "#/orders/12", 1, **A.js("Error", "Timeout after 7 ms", A.timeout_stack(7)))
    add("page_view", "00:00:05", LEGACY, "/blog/hello/comments", 2, next_day=True)
    add("page_view", "15:00:00", E2, "/products/12/", 0, ctx={})
    add("page_view", "15:00:20", E2, "/search?q=a", 1, ctx={})
    add("http", "15:00:21", E2, "/search?q=a", 1, ctx={}, **A.http("GET", "/api/items/5?x=1", 503))
    add("lcp", "15:00:22", E2, "/search?q=a", 1, ctx={}, value=2500)
    add("page_view", "16:00:00", E3, "/a", 0)
    add("page_view", "16:00:00", E3, "/b", 0)
    add("lcp", "16:00:01", E3, "/b", 0, value=2500)
    add("fid", "16:00:02", E3, "/b", 0)  # a vital without a value
    add("resource", "16:00:03", E3, "/b", 0, targetUrl="HTTPS://User@CDN.Example.com:8443/v2/a/0123456789abcdef/x.js?x#y",
        fileType="script", duration=12, transferSize=100)
    # A page view without a page id first, one in the middle, one last.
    add("page_view", "17:00:00", E4, "", 0, drop_page=True)
    add("page_view", "17:00:10", E4, "/home", 1)
    add("page_view", "17:00:20", E4, "", 2, drop_page=True)
    add("page_view", "17:00:30", E4, "/home", 3)
    add("page_view", "17:00:40", E4, "", 4, drop_page=True)
    add("http", "17:00:41", E4, "/home", 4, **A.http("PUT", "https://API.shop.com/v3/items/123/", 302))
    # Only a session_start: not a session for any view.
    add("session_start", "18:00:00", E5, "/home", 0)
    # Cookies accepted on the second page view: a cookieless part and a cookie part.
    add("page_view", "19:00:00", E6, "/home", None, user=None)
    add("navigation", "19:00:01", E6, "/home", None, user=None, **A.nav(9500, 1, 2, 3, 4, 5))
    add("page_view", "19:00:30", E6, "/cart", 1)
    add("page_view", "19:01:00", E6, "/checkout", 2)
    add("ttfb", "19:01:01", E6, "/checkout", 2, value=900)
    add("inp", "19:01:02", E6, "/checkout", 2, value=200)
    return out


def ingest_messages(tmp: Path, messages: list[dict[str, Any]], rules: str | None = None) -> Path:
    """A dataset at ``tmp/data`` from ``messages`` (one JSON-lines export), with ``rules`` as its rumq.toml."""
    from rumq.ingest import ingest

    src = tmp / "export.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in messages), encoding="utf-8")
    out = tmp / "data"
    assert ingest(out, [str(src)]).written == len(messages)
    if rules:
        (out / "rumq.toml").write_text(rules, encoding="utf-8")
    return out


def build_edges(tmp: Path) -> Path:
    """Ingest ``edge_messages()`` (with the page and HTTP rules of ``RULES``) under ``tmp``."""
    return ingest_messages(tmp, edge_messages(), RULES)


def build_generated(tmp: Path) -> Path:
    """tests/test_consistency.py's generated day with its edge cases."""
    from test_consistency import build

    return build(tmp)


# -- comparing frames --------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b and type(a) is type(b)


def _key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # A total order over rows with NULLs, floats and lists: compare their text.
    return tuple((v is None, repr(round(v, 9)) if isinstance(v, float) else repr(v)) for v in row)


def assert_frames_agree(duck: pl.DataFrame, polars: pl.DataFrame, *, ordered: bool = False) -> None:
    """Same column names and types, same rows (in order when ``ordered``), floats equal to 1e-9."""
    assert polars.columns == duck.columns, (duck.columns, polars.columns)
    assert polars.dtypes == duck.dtypes, [
        (c, d, p) for c, d, p in zip(duck.columns, duck.dtypes, polars.dtypes, strict=True) if d != p]
    assert polars.height == duck.height, (duck, polars)
    drows, prows = duck.rows(), polars.rows()
    if not ordered:
        drows, prows = sorted(drows, key=_key), sorted(prows, key=_key)
    for i, (d, p) in enumerate(zip(drows, prows, strict=True)):
        bad = [c for c, x, y in zip(duck.columns, d, p, strict=True) if not _same(x, y)]
        assert not bad, f"row {i}, columns {bad}: DuckDB {d} != Polars {p}"


def uuid_as_text(df: pl.DataFrame) -> pl.DataFrame:
    """The Polars views' 16-byte id columns as the canonical text DuckDB's ``.pl()`` gives."""
    from rumq.engines.polars_views import uuid_text

    binary = [c for c, t in df.schema.items() if t == pl.Binary]
    return df.with_columns(uuid_text(pl.col(c)).alias(c) for c in binary)
