"""Tiny datasets and query libraries for the query machinery tests.

``page_view`` builds a RUM message shaped like the web client's (see
tests/fixtures/real-samples.jsonl); ``build_dataset`` writes messages as
JSON lines and ingests them with the real ``rumq.ingest.ingest``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

APP = "aaaaaaaa-0000-0000-0000-000000000001"
OTHER_APP = "bbbbbbbb-0000-0000-0000-000000000002"

#: A user query file that runs on DuckDB only (an ordered list): the portability tests' example.
ORDERED_PAGES = """\
-- ---
-- name: mine/ordered_pages
-- description: Pages of each session in order, as one list (DuckDB only, an ordered list)
-- ---
SELECT session_id, list(page ORDER BY seq) AS pages FROM session_pages GROUP BY session_id ORDER BY session_id
"""


def page_view(
    when: dt.datetime,
    page: str,
    *,
    session: str,
    browser: str = "Chrome",
    app: str = APP,
    user: str = "11111111-1111-1111-1111-111111111111",
) -> dict[str, Any]:
    """One page_view_event message at ``when`` (naive UTC)."""
    ms = int(when.replace(tzinfo=dt.UTC).timestamp() * 1000)
    return {
        "event_timestamp": ms,
        "event_type": "com.amazon.rum.page_view_event",
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ms}/{page}/{session}/{app}")),
        "event_version": "1.0.0",
        "log_stream": when.strftime("%Y-%m-%dT%H"),
        "application_id": app,
        "application_version": "1.0.0",
        "metadata": {
            "version": "1.0.0",
            "browserLanguage": "en",
            "browserName": browser,
            "browserVersion": "120.0",
            "osName": "Linux",
            "osVersion": "x86_64",
            "deviceType": "desktop",
            "platformType": "web",
            "domain": "shop.example.com",
            "title": page,
            "pageId": page,
            "countryCode": "NO",
        },
        "user_details": {"sessionId": session, "userId": user},
        "event_details": {"version": "1.0.0", "pageId": page},
    }


def sample_messages() -> list[dict[str, Any]]:
    """Page views over three UTC days (2026-11-01..03) with hand-countable totals.

    Day 1: /home x3 (Chrome), /cart x1 (Firefox)       -> 4 views
    Day 2: /home x1 (Firefox), /cart x2 (Chrome)       -> 3 views
    Day 3: /help x1 (Safari, app OTHER_APP)            -> 1 view
    Day 1 also has one view at 23:59:59 and day 2 one at 00:00:00 (window edges).
    """
    d1, d2, d3 = (dt.datetime(2026, 11, d) for d in (1, 2, 3))
    s = "22222222-2222-2222-2222-22222222222"
    return [
        page_view(d1 + dt.timedelta(hours=1), "/home", session=s + "1"),
        page_view(d1 + dt.timedelta(hours=2), "/home", session=s + "2"),
        page_view(d1 + dt.timedelta(hours=23, minutes=59, seconds=59), "/home", session=s + "3"),
        page_view(d1 + dt.timedelta(hours=6), "/cart", session=s + "1", browser="Firefox"),
        page_view(d2, "/home", session=s + "4", browser="Firefox"),
        page_view(d2 + dt.timedelta(hours=5), "/cart", session=s + "4"),
        page_view(d2 + dt.timedelta(hours=7), "/cart", session=s + "5"),
        page_view(d3 + dt.timedelta(hours=9), "/help", session=s + "6", browser="Safari", app=OTHER_APP),
    ]


def build_dataset(tmp: Path, messages: list[dict[str, Any]] | None = None) -> Path:
    """Ingest ``messages`` (default ``sample_messages()``) into ``tmp/data``."""
    from rumq.ingest import ingest

    src = tmp / "export.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in messages or sample_messages()))
    data = tmp / "data"
    report = ingest(data, [str(src)])
    assert report.rejected == 0, report
    return data


PAGE_COUNTS = """\
-- ---
-- name: test/page_counts
-- description: Page views per page (test query)
-- definition: |
--   Counts page_view events per page id; the dimension splits the counts.
-- params:
--   - name: top
--     type: int
--     default: 10
--     min: 1
--     help: Number of pages
--   - name: dimension
--     type: str
--     default: none
--     sql:
--       none: "'all'"
--       browser: browser_name
--   - name: pages
--     type: list
--     default: ""
--     help: Only these pages (all when empty)
-- columns:
--   - {name: page, type: VARCHAR, meaning: page id}
--   - {name: dim, type: VARCHAR, meaning: the dimension value}
--   - {name: views, type: BIGINT, meaning: page views}
-- ---
SELECT page_id AS page, {{dimension}} AS dim, count(*) AS views
FROM events
WHERE event_name = 'page_view'
  AND (len($pages::VARCHAR[]) = 0 OR list_contains($pages::VARCHAR[], page_id))
GROUP BY ALL
ORDER BY views DESC, page, dim
LIMIT $top
"""

COVERAGE_QUERY = """\
-- ---
-- name: test/coverage
-- description: A session-based test query with a fixed coverage
-- session_based: true
-- params:
--   - {name: coverage, type: float, default: 0.5, min: 0, max: 1}
--   - {name: include_cookieless, type: bool, default: false}
-- ---
SELECT count(*) AS page_views, $coverage AS coverage, $include_cookieless AS inc
FROM events
"""


def write_library(root: Path, files: dict[str, str]) -> Path:
    """Write query files (relative path -> text) under ``root``; return ``root``."""
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def user_library(tmp: Path) -> Path:
    """A user library with the two test queries above."""
    return write_library(
        tmp / "lib",
        {"test/page_counts.sql": PAGE_COUNTS, "test/coverage.sql": COVERAGE_QUERY},
    )
