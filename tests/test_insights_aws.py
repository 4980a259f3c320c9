"""The AWS-authored RUM Logs Insights queries run unchanged and agree with hand-written SQL.

The queries are quoted verbatim from AWS sources (the AWS observability
guide, the AWS prototyping blog, and the awslabs/mcp RUM query templates,
whose ``{extra_filter}``/``{gb}`` placeholders are left empty,
``{bucket}`` is 1h and ``{limit}`` 20). The dataset comes from the traffic
generator (``rumq.generate``), ingested with ``rumq.ingest``.

Sorting with ties makes row order partly arbitrary, so each check compares the
sequence of sort keys exactly and requires every returned row to be a row of
the hand-written result.
"""

from __future__ import annotations

import math

import pytest

from rumq import insights

NAV = "com.amazon.rum.performance_navigation_event"
TS = "'%Y-%m-%d %H:%M:%S.%g'"
# Logs Insights sees the nil UUID that rumq stores as NULL.
SID = "coalesce(session_id, '00000000-0000-0000-0000-000000000000')"
ERR = "event_type IN ('com.amazon.rum.js_error_event', 'com.amazon.rum.http_event')"


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    from rumq import catalog
    from rumq.generate import generate
    from rumq.ingest import ingest

    tmp = tmp_path_factory.mktemp("aws")
    generate(tmp / "gen", sessions=150, days=2, seed=11)
    report = ingest(tmp / "data", [str(tmp / "gen")])
    assert report.written > 1000
    c = catalog.connect(tmp / "data")
    yield c
    c.close()


def _text(col: str) -> str:
    """A typed DOUBLE column as the text of a JSON value: whole numbers without '.0'.

    Without an event-type filter, a typed field such as event_details.duration is the JSON
    value of any type (text), since a custom event may hold anything there.
    """
    return f"CASE WHEN {col} = floor({col}) THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END"


def _norm(v):
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 6)
    return v


def check(con, query: str, sql: str, keys: list[int], limit: int | None = None, *, nonempty: bool = True) -> list[tuple]:
    """Run both; compare sort-key sequences and require got ⊆ hand-written rows."""
    got = [tuple(_norm(v) for v in r) for r in insights.run(con, query).iter_rows()]
    full = [tuple(_norm(v) for v in r) for r in con.sql(sql).fetchall()]
    want = full[:limit] if limit is not None else full
    assert len(got) == len(want)
    assert got or not nonempty, "the generated data should exercise this query"
    assert [tuple(r[k] for k in keys) for r in got] == [tuple(r[k] for k in keys) for r in want]
    assert set(got) <= set(full)
    return got


def test_q1_navigation_durations(con):
    got = check(
        con,
        """fields @timestamp, event_details.duration
| filter event_type = "com.amazon.rum.performance_navigation_event"
| sort @timestamp desc""",
        f"SELECT strftime(event_time, {TS}), duration FROM events WHERE event_type = '{NAV}' ORDER BY event_time DESC",
        [0],
    )
    assert len(got) > 50


def test_q2_page_count_by_title(con):
    check(
        con,
        """filter event_type = "com.amazon.rum.page_view_event"
| stats count(*) as pageCount by metadata.title as pageTitle
| sort pageCount desc""",
        "SELECT title, count(*) AS n FROM events WHERE event_type = 'com.amazon.rum.page_view_event' "
        "GROUP BY 1 ORDER BY n DESC",
        [1],
    )


def test_errors_by_country_and_browser(con):
    check(
        con,
        """fields event_type
| filter event_type in ["com.amazon.rum.js_error_event", "com.amazon.rum.http_event"]
| stats count(*) as error_count by metadata.countryCode, metadata.browserName
| sort error_count desc
| limit 10""",
        f"SELECT country_code, browser_name, count(*) AS n FROM events WHERE {ERR} GROUP BY 1, 2 ORDER BY n DESC",
        [2],
        10,
    )


def test_p90_load_by_page(con):
    check(
        con,
        """fields metadata.pageId, event_details.duration
| filter event_type = "com.amazon.rum.performance_navigation_event"
| stats pct(event_details.duration, 90) as p90_load_ms, count(*) as loads by metadata.pageId
| sort p90_load_ms desc
| limit 10""",
        f"SELECT page_id, quantile_disc(duration, 0.9) AS p90, count(*) FROM events WHERE event_type = '{NAV}' "
        "GROUP BY 1 ORDER BY p90 DESC NULLS LAST",
        [1],
        10,
    )


def test_errors_by_session(con):
    check(
        con,
        """fields user_details.sessionId
| filter event_type in ["com.amazon.rum.js_error_event", "com.amazon.rum.http_event"]
| stats count(*) as errors by user_details.sessionId
| sort errors desc
| limit 10""",
        f"SELECT {SID}, count(*) AS n FROM events WHERE {ERR} GROUP BY 1 ORDER BY n DESC",
        [1],
        10,
    )


def test_error_keys(con):
    check(
        con,
        """fields @timestamp, event_type, metadata.pageId, metadata.browserName, metadata.countryCode,
  event_details.type, event_details.message, event_details.filename,
  event_details.request.url, event_details.response.status
| filter event_type in ["com.amazon.rum.js_error_event", "com.amazon.rum.http_event"]
| stats count(*) as error_count by coalesce(event_details.message, event_details.request.url) as error_key, event_type, metadata.pageId
| sort error_count desc
| limit 50""",
        f"SELECT coalesce(error_message, http_url), event_type, page_id, count(*) AS n FROM events WHERE {ERR} "
        "GROUP BY 1, 2, 3 ORDER BY n DESC",
        [3],
        50,
    )


def test_load_percentiles_by_page(con):
    check(
        con,
        """fields metadata.pageId, event_details.duration
| filter event_type = "com.amazon.rum.performance_navigation_event"
| stats
  pct(event_details.duration, 50) as p50_load_ms,
  pct(event_details.duration, 90) as p90_load_ms,
  pct(event_details.duration, 99) as p99_load_ms,
  count(*) as page_loads
  by metadata.pageId
| sort p90_load_ms desc
| limit 25""",
        "SELECT page_id, quantile_disc(duration, 0.5), quantile_disc(duration, 0.9) AS p90, "
        f"quantile_disc(duration, 0.99), count(*) FROM events WHERE event_type = '{NAV}' "
        "GROUP BY 1 ORDER BY p90 DESC NULLS LAST",
        [2],
        25,
    )


def test_vitals_percentiles(con):
    got = check(
        con,
        """fields event_type, event_details.value, metadata.pageId
| filter event_type in [
    "com.amazon.rum.largest_contentful_paint_event",
    "com.amazon.rum.first_input_delay_event",
    "com.amazon.rum.cumulative_layout_shift_event",
    "com.amazon.rum.interaction_to_next_paint_event"
  ]
| stats
  pct(event_details.value, 50) as p50,
  pct(event_details.value, 90) as p90,
  pct(event_details.value, 99) as p99,
  count(*) as samples
  by event_type, metadata.pageId
| sort event_type, p90 desc""",
        # `sort event_type` has no direction: rumq sorts descending (docs/insights.md, "Results").
        "SELECT event_type, page_id, quantile_disc(vital_value, 0.5), quantile_disc(vital_value, 0.9) AS p90, "
        "quantile_disc(vital_value, 0.99), count(*) FROM events WHERE event_type IN ("
        "'com.amazon.rum.largest_contentful_paint_event', 'com.amazon.rum.first_input_delay_event', "
        "'com.amazon.rum.cumulative_layout_shift_event', 'com.amazon.rum.interaction_to_next_paint_event') "
        "GROUP BY 1, 2 ORDER BY event_type DESC, p90 DESC NULLS LAST",
        [0, 3],
    )
    assert got


def test_sessions(con):
    check(
        con,
        """fields user_details.sessionId, metadata.browserName, metadata.osName,
  metadata.deviceType, metadata.countryCode
| stats
  min(@timestamp) as session_start,
  max(@timestamp) as session_end,
  count(*) as event_count
  by user_details.sessionId, metadata.browserName, metadata.osName, metadata.deviceType
| sort session_start desc
| limit 50""",
        f"SELECT {SID}, browser_name, os_name, device_type, strftime(min(event_time), {TS}) AS s, "
        f"strftime(max(event_time), {TS}), count(*) FROM events GROUP BY 1, 2, 3, 4 ORDER BY s DESC",
        [4],
        50,
    )


def test_views_by_page_and_title(con):
    check(
        con,
        """fields metadata.pageId, metadata.title
| filter event_type = "com.amazon.rum.page_view_event"
| stats count(*) as view_count by metadata.pageId, metadata.title
| sort view_count desc
| limit 25""",
        "SELECT page_id, title, count(*) AS n FROM events WHERE event_type = 'com.amazon.rum.page_view_event' "
        "GROUP BY 1, 2 ORDER BY n DESC",
        [2],
        25,
    )


def test_errors_over_time(con):
    check(
        con,
        """fields event_type
| filter event_type in ["com.amazon.rum.js_error_event", "com.amazon.rum.http_event"]
| stats count(*) as error_count by bin(1h) as time_bucket, event_type
| sort time_bucket asc""",
        f"SELECT strftime(date_trunc('hour', event_time), {TS}) AS t, event_type, count(*) FROM events "
        f"WHERE {ERR} GROUP BY 1, 2 ORDER BY t ASC",
        [0],
    )


def test_load_time_series(con):
    check(
        con,
        """fields event_details.duration
| filter event_type = "com.amazon.rum.performance_navigation_event"
| stats pct(event_details.duration, 50) as p50_ms, pct(event_details.duration, 90) as p90_ms, count(*) as loads by bin(1h) as time_bucket
| sort time_bucket asc""",
        f"SELECT strftime(date_trunc('hour', event_time), {TS}) AS t, quantile_disc(duration, 0.5), "
        f"quantile_disc(duration, 0.9), count(*) FROM events WHERE event_type = '{NAV}' GROUP BY 1 ORDER BY t",
        [0],
    )


def test_sessions_over_time(con):
    check(
        con,
        """fields user_details.sessionId
| filter event_type = "com.amazon.rum.session_start_event"
| stats count(*) as session_count by bin(1h) as time_bucket
| sort time_bucket asc""",
        f"SELECT strftime(date_trunc('hour', event_time), {TS}) AS t, count(*) FROM events "
        "WHERE event_type = 'com.amazon.rum.session_start_event' GROUP BY 1 ORDER BY t",
        [0],
    )


def test_geography(con):
    check(
        con,
        """fields metadata.countryCode, metadata.subdivisionCode, event_type
| filter metadata.countryCode != ""
| stats count(*) as event_count,
  count_distinct(user_details.sessionId) as sessions,
  sum(event_type = "com.amazon.rum.js_error_event") as js_errors,
  sum(event_type = "com.amazon.rum.http_event") as http_events
  by metadata.countryCode
| sort sessions desc
| limit 50""",
        f"SELECT country_code, count(*), count(DISTINCT {SID}) AS s, "
        "sum(CAST(event_type = 'com.amazon.rum.js_error_event' AS INTEGER)), "
        "sum(CAST(event_type = 'com.amazon.rum.http_event' AS INTEGER)) FROM events "
        "WHERE country_code <> '' GROUP BY 1 ORDER BY s DESC",
        [2],
        50,
    )


def test_load_by_country(con):
    check(
        con,
        """fields metadata.countryCode, event_details.duration
| filter event_type = "com.amazon.rum.performance_navigation_event" and metadata.countryCode != ""
| stats pct(event_details.duration, 50) as p50_ms, pct(event_details.duration, 90) as p90_ms, count(*) as loads by metadata.countryCode
| sort p90_ms desc
| limit 50""",
        "SELECT country_code, quantile_disc(duration, 0.5), quantile_disc(duration, 0.9) AS p90, count(*) "
        f"FROM events WHERE event_type = '{NAV}' AND country_code <> '' GROUP BY 1 ORDER BY p90 DESC NULLS LAST",
        [2],
        50,
    )


def test_http_requests(con):
    got = check(
        con,
        """fields event_details.request.url, event_details.request.method,
  event_details.response.status, event_details.duration
| filter event_type = "com.amazon.rum.http_event"
| stats count(*) as request_count,
  pct(event_details.duration, 50) as p50_ms,
  pct(event_details.duration, 90) as p90_ms,
  sum(event_details.response.status >= 400 and event_details.response.status < 500) as http_4xx,
  sum(event_details.response.status >= 500) as http_5xx
  by event_details.request.url
| sort request_count desc
| limit 50""",
        "SELECT http_url, count(*) AS n, quantile_disc(CAST(json_extract_string(event_details, '$.duration') AS DOUBLE), 0.5), "
        "quantile_disc(CAST(json_extract_string(event_details, '$.duration') AS DOUBLE), 0.9), "
        "sum(CAST(http_status >= 400 AND http_status < 500 AS INTEGER)), sum(CAST(http_status >= 500 AS INTEGER)) "
        "FROM events WHERE event_type = 'com.amazon.rum.http_event' GROUP BY 1 ORDER BY n DESC",
        [1],
        50,
    )
    assert got


def test_one_session_timeline(con):
    sid = con.sql("SELECT session_id FROM events WHERE session_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchall()[0][0]
    check(
        con,
        f"""fields @timestamp, event_type, metadata.pageId,
  event_details.type, event_details.message, event_details.duration,
  event_details.request.url, event_details.response.status, event_details.value
| filter user_details.sessionId = "{sid}"
| sort @timestamp asc
| limit 20""",
        f"SELECT strftime(event_time, {TS}), event_type, page_id, coalesce(error_type, json_extract_string(event_details, '$.type')), "
        "coalesce(error_message, json_extract_string(event_details, '$.message')), "
        f"coalesce({_text('duration')}, json_extract_string(event_details, '$.duration')), http_url, "
        f"CAST(http_status AS VARCHAR), {_text('vital_value')} FROM events WHERE session_id = '{sid}' "
        "ORDER BY event_time ASC",
        [0],
        20,
    )


def test_resources(con):
    check(
        con,
        """fields event_details.targetUrl, event_details.fileType,
  event_details.duration, event_details.transferSize
| filter event_type = "com.amazon.rum.performance_resource_event"
| stats count(*) as request_count,
  pct(event_details.duration, 50) as p50_ms,
  pct(event_details.duration, 90) as p90_ms,
  avg(event_details.transferSize) as avg_bytes
  by event_details.targetUrl, event_details.fileType
| sort p90_ms desc
| limit 50""",
        "SELECT target_url, file_type, count(*), quantile_disc(duration, 0.5), quantile_disc(duration, 0.9) AS p90, "
        "avg(transfer_size) FROM events WHERE event_type = 'com.amazon.rum.performance_resource_event' "
        "GROUP BY 1, 2 ORDER BY p90 DESC NULLS LAST",
        [4],
        50,
    )


def test_navigation_edges(con):
    got = check(
        con,
        """fields metadata.pageId, metadata.parentPageId
| filter event_type = "com.amazon.rum.page_view_event" and metadata.parentPageId != ""
| stats count(*) as navigation_count by metadata.parentPageId, metadata.pageId
| sort navigation_count desc
| limit 50""",
        "SELECT parent_page_id, page_id, count(*) AS n FROM events WHERE event_type = 'com.amazon.rum.page_view_event' "
        "AND parent_page_id <> '' GROUP BY 1, 2 ORDER BY n DESC",
        [2],
        50,
    )
    assert got


def test_xray_by_page(con):
    page = con.sql("SELECT page_id FROM events GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchall()[0][0]
    check(
        con,
        f"""fields event_details.trace_id, metadata.pageId, event_details.duration
| filter event_type = "com.amazon.rum.xray_trace_event" and metadata.pageId = "{page}"
| sort event_details.duration desc
| limit 20""",
        "SELECT json_extract_string(event_details, '$.trace_id'), page_id, "
        "TRY_CAST(json_extract_string(event_details, '$.duration') AS DOUBLE) AS d FROM events "
        f"WHERE event_type = 'com.amazon.rum.xray_trace_event' AND page_id = '{page}' ORDER BY d DESC NULLS LAST",
        [2],
        20,
        nonempty=False,  # the generator writes no X-Ray events; the query must still run
    )
