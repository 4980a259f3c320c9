"""Golden tests: Logs Insights query -> exact rows over a small hand-built dataset.

The dataset is 12 RUM messages ingested with the real ``rumq.ingest.ingest``
and read through ``rumq.catalog.connect``; every expected row below was
computed by hand from the table in ``MESSAGES``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rumdata import NIL, event, ts

from rumq import insights

S1 = "11111111-1111-4111-8111-111111111111"
S2 = "22222222-2222-4222-8222-222222222222"
U1 = "aaaaaaaa-1111-4111-8111-111111111111"
U2 = "bbbbbbbb-2222-4222-8222-222222222222"
NAV = "com.amazon.rum.performance_navigation_event"
PV = "com.amazon.rum.page_view_event"


def messages() -> list[dict]:
    """The fixture: two cookie sessions (S1 Chrome, S2 Firefox) and a cookieless Safari visitor.

    | id  | type        | time (2026-11-25) | session | page   | details                       |
    | e01 | page_view   | 10:00:00          | S1      | /      |                               |
    | e02 | navigation  | 10:00:01          | S1      | /      | duration 1200                 |
    | e03 | page_view   | 10:05:00          | S1      | /cart  |                               |
    | e04 | navigation  | 10:05:01          | S1      | /cart  | duration 800                  |
    | e05 | js_error    | 10:06:00          | S1      | /cart  | TypeError "x is undefined"    |
    | e06 | http        | 10:07:00          | S1      | /cart  | GET .../cart -> 503           |
    | e07 | page_view   | 11:30:00          | S2      | /      |                               |
    | e08 | navigation  | 11:30:02          | S2      | /      | duration 2500                 |
    | e09 | http        | 11:31:00          | S2      | /      | GET .../items -> 200          |
    | e10 | lcp         | 11:31:30          | S2      | /      | value 2100                    |
    | e11 | custom      | 12:00:00          | nil     | /      | duration 42, items[2], label  |
    | e12 | page_view   | 12:00:05          | nil     | /about |                               |
    """
    d = "2026-11-25T"

    def s1(kind, at, eid, page="/", **kw):
        return event(kind, at=d + at, session=S1, user=U1, page=page, event_id=eid, browser="Chrome", **kw)

    def s2(kind, at, eid, page="/", **kw):
        return event(kind, at=d + at, session=S2, user=U2, page=page, event_id=eid, browser="Firefox", **kw)

    nav = lambda ms: {"version": "1.0.0", "initiatorType": "navigation", "navigationType": "navigate", "duration": ms}  # noqa: E731
    return [
        s1("page_view", "10:00:00", "e01"),
        s1("navigation", "10:00:01", "e02", details=nav(1200)),
        s1("page_view", "10:05:00", "e03", page="/cart", interaction=1),
        s1("navigation", "10:05:01", "e04", page="/cart", details=nav(800)),
        s1("js_error", "10:06:00", "e05", page="/cart", details={
            "version": "1.0.0", "type": "TypeError", "message": "x is undefined",
            "filename": "app.js", "lineno": 10, "colno": 5}),
        s1("http", "10:07:00", "e06", page="/cart", details={
            "version": "1.0.0", "request": {"method": "GET", "url": "https://api.example.com/cart"},
            "response": {"status": 503, "statusText": "Service Unavailable"}}),
        s2("page_view", "11:30:00", "e07"),
        s2("navigation", "11:30:02", "e08", details=nav(2500)),
        s2("http", "11:31:00", "e09", details={
            "version": "1.0.0", "request": {"method": "GET", "url": "https://api.example.com/items"},
            "response": {"status": 200, "statusText": "OK"}}),
        s2("largest_contentful_paint", "11:31:30", "e10", details={"version": "1.0.0", "value": 2100}),
        event("my_custom_event", at=d + "12:00:00", event_id="e11", browser="Safari",
              extra_metadata={"plan": "pro"},
              details={"duration": 42, "items": [{"sku": "A-1"}, {"sku": "B-2"}], "label": "Promo 10%"}),
        event("page_view", at=d + "12:00:05", event_id="e12", page="/about", browser="Safari"),
    ]


def build(tmp: Path) -> Path:
    from rumq.ingest import ingest

    src = tmp / "export.jsonl"
    src.write_text("".join(json.dumps(m, separators=(",", ":")) + "\n" for m in messages()))
    data = tmp / "data"
    report = ingest(data, [str(src)])
    assert report.rejected == 0 and report.written == 12
    return data


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    from rumq import catalog

    data = build(tmp_path_factory.mktemp("insights"))
    c = catalog.connect(data)
    yield c
    c.close()


def rows(con, query: str) -> tuple[list[str], list[tuple]]:
    df = insights.run(con, query)
    return df.columns, [tuple(r) for r in df.iter_rows()]


GOLDEN = [
    (
        "filter + fields, default newest-first order",
        f'fields @timestamp, event_type | filter event_type = "{NAV}"',
        ["@timestamp", "event_type"],
        [("2026-11-25 11:30:02.000", NAV), ("2026-11-25 10:05:01.000", NAV), ("2026-11-25 10:00:01.000", NAV)],
    ),
    (
        "stats count by a typed metadata field, sort by alias",
        "stats count(*) as n by metadata.browserName | sort n desc",
        ["metadata.browserName", "n"],
        [("Chrome", 6), ("Firefox", 4), ("Safari", 2)],
    ),
    (
        "bin(1h) names its column by the expression text",
        "stats count(*) by bin(1h)",
        ["bin(1h)", "count(*)"],
        [("2026-11-25 10:00:00.000", 6), ("2026-11-25 11:00:00.000", 4), ("2026-11-25 12:00:00.000", 2)],
    ),
    (
        "bin caps: 90m means 60m",
        "stats count(*) by bin(90m)",
        ["bin(90m)", "count(*)"],
        [("2026-11-25 10:00:00.000", 6), ("2026-11-25 11:00:00.000", 4), ("2026-11-25 12:00:00.000", 2)],
    ),
    (
        "bin(1d) and upper-case keywords",
        "STATS COUNT(*) AS n BY BIN(1d)",
        ["BIN(1d)", "n"],
        [("2026-11-25 00:00:00.000", 12)],
    ),
    (
        "several aggregates",
        f'filter event_type = "{NAV}" | stats avg(event_details.duration) as a, max(event_details.duration) as mx, '
        "min(event_details.duration) as mn, sum(event_details.duration) as s, count(*) as c",
        ["a", "mx", "mn", "s", "c"],
        [(1500.0, 2500.0, 800.0, 4500.0, 3)],
    ),
    (
        "a custom event's event_details.duration is found (typed column falls back to JSON)",
        "filter ispresent(event_details.duration) | stats count(event_details.duration) as n, pct(event_details.duration, 50) as p50",
        ["n", "p50"],
        [(4, 800.0)],
    ),
    (
        "arithmetic over aggregates",
        "stats sum(event_details.duration) / count(*) as r",
        ["r"],
        [(378.5,)],
    ),
    (
        "sum of a comparison counts matches",
        f'stats sum(event_type = "{PV}") as pv, sum(event_details.response.status >= 500) as e5',
        ["pv", "e5"],
        [(4, 1)],
    ),
    (
        "filter after stats, then a second stats",
        "stats count(*) as c by user_details.sessionId | filter c > 2 | stats count(*) as sessions, sum(c) as events",
        ["sessions", "events"],
        [(2, 10)],
    ),
    (
        "nil session id shows as Logs Insights shows it",
        "stats count(*) as n by user_details.sessionId | sort n desc",
        ["user_details.sessionId", "n"],
        [(S1, 6), (S2, 4), (NIL, 2)],
    ),
    (
        "in list",
        'filter event_type in ["com.amazon.rum.js_error_event", "com.amazon.rum.http_event"] '
        "| stats count(*) as errors by event_type",
        ["event_type", "errors"],
        [("com.amazon.rum.http_event", 2), ("com.amazon.rum.js_error_event", 1)],
    ),
    (
        "not in list",
        f'filter event_type not in ["{PV}", "{NAV}"] and metadata.browserName = "Firefox" | fields event_id',
        ["event_id"],
        [("e10",), ("e09",)],
    ),
    (
        "regex like with (?i)",
        "filter @message like /(?i)TYPEERROR/ | fields event_id",
        ["event_id"],
        [("e05",)],
    ),
    (
        "=~ regex",
        'filter event_details.request.url =~ /items$/ | fields event_id',
        ["event_id"],
        [("e09",)],
    ),
    (
        "substring like is case-sensitive",
        'filter event_details.message like "Undefined" | fields event_id',
        ["event_id"],
        [],
    ),
    (
        "not like excludes events without the field",
        'filter event_details.message not like "undefined" | fields event_id',
        ["event_id"],
        [],
    ),
    (
        "glob parse on @message",
        'filter event_type = "com.amazon.rum.js_error_event" | parse @message \'"message":"*"\' as msg | display msg',
        ["msg"],
        [("x is undefined",)],
    ),
    (
        "regex parse with a named group, then stats on it",
        'parse @message /"pageId":"(?<pg>[^"]*)"/ | stats count(*) as n by pg',
        ["pg", "n"],
        [("/", 7), ("/about", 1), ("/cart", 4)],
    ),
    (
        "rows that do not match a parse keep going with null fields",
        "parse @message '\"sku\":\"*\"' as sku | stats count(*) as n by sku",
        ["sku", "n"],
        [("A-1", 1), (None, 11)],
    ),
    (
        "chained parse on an extracted field",
        "parse @message '\"label\":\"*\"' as label | parse label '* *' as word, pct "
        "| filter ispresent(word) | display word, pct",
        ["word", "pct"],
        [("Promo", "10%")],
    ),
    (
        "array element paths",
        "filter ispresent(event_details.items.1.sku) | fields event_details.items.1.sku as s, event_details.items.0.sku",
        ["s", "event_details.items.0.sku"],
        [("B-2", "A-1")],
    ),
    (
        "backticked name with a colon",
        "stats count(*) by `metadata.aws:client`",
        ["metadata.aws:client", "count(*)"],
        [("arw-module", 12)],
    ),
    (
        "custom metadata attribute",
        'filter metadata.plan = "pro" | fields event_id',
        ["event_id"],
        [("e11",)],
    ),
    (
        "dedup keeps the first row of the current order",
        "fields metadata.pageId, @timestamp | sort @timestamp asc | dedup metadata.pageId",
        ["metadata.pageId", "@timestamp"],
        [("/", "2026-11-25 10:00:00.000"), ("/cart", "2026-11-25 10:05:00.000"), ("/about", "2026-11-25 12:00:05.000")],
    ),
    (
        "dedup keeps rows whose key is missing, then limit",
        "fields event_id | dedup event_details.response.status | limit 3",
        ["event_id"],
        [("e12",), ("e11",), ("e10",)],
    ),
    (
        "string functions",
        'filter event_id = "e05" | fields toupper(event_details.type) as t, strlen(event_details.message) as l, '
        'substr(event_details.message, 2, 2) as s, concat(metadata.pageId, "-", event_details.lineno) as c, '
        'replace(event_details.message, " ", "_") as r, trim("xyZxyfooxyxyZ", "xyZ") as tr',
        ["t", "l", "s", "c", "r", "tr"],
        [("TYPEERROR", 14, "is", "/cart-10", "x_is_undefined", "foo")],
    ),
    (
        "datetime functions",
        'filter event_id = "e02" | fields toMillis(@timestamp) as ms, datefloor(@timestamp, 1h) as f, '
        "dateceil(@timestamp, 1h) as c, fromMillis(0) as z",
        ["ms", "f", "c", "z"],
        [(ts("2026-11-25T10:00:01"), "2026-11-25 10:00:00.000", "2026-11-25 11:00:00.000", "1970-01-01 00:00:00.000")],
    ),
    (
        "general functions on absent and present fields",
        'filter event_id = "e11" | fields isempty(event_details.nothing) as a, isblank(event_details.label) as b, '
        "coalesce(event_details.nothing, event_details.label) as c, ispresent(event_details.nothing) as d",
        ["a", "b", "c", "d"],
        [(1, 0, "Promo 10%", 0)],
    ),
    (
        "operators ^ % and unary minus on an absent field",
        'filter event_id = "e01" | fields 2 ^ 3 as p, 10 % 3 as m, -event_details.nothing as n',
        ["p", "m", "n"],
        [(8.0, 1, None)],
    ),
    (
        "not binds tighter than and",
        f'filter not event_type = "{PV}" and metadata.browserName = "Safari" | fields event_id',
        ["event_id"],
        [("e11",)],
    ),
    (
        "or, and a typed number compared with a number",
        'filter metadata.browserName = "Safari" or event_details.response.status >= 500 | fields event_id',
        ["event_id"],
        [("e12",), ("e11",), ("e06",)],
    ),
    (
        "a number field equals a numeric string literal",
        'filter event_details.response.status = "503" | fields event_id',
        ["event_id"],
        [("e06",)],
    ),
    (
        "count_distinct, earliest, latest",
        "stats count_distinct(user_details.sessionId) as s, earliest(event_id) as first, latest(event_id) as last",
        ["s", "first", "last"],
        [(3, "e01", "e12")],
    ),
    (
        "natural sort ascending",
        "stats count(*) by metadata.pageId | sort metadata.pageId asc",
        ["metadata.pageId", "count(*)"],
        [("/", 7), ("/about", 1), ("/cart", 4)],
    ),
    (
        "sort without asc/desc is descending",
        "stats count(*) as n by metadata.pageId | sort n",
        ["metadata.pageId", "n"],
        [("/", 7), ("/cart", 4), ("/about", 1)],
    ),
    (
        "group by two keys, filter after stats",
        "stats count(*) as n by event_type, metadata.pageId | filter n >= 2",
        ["event_type", "metadata.pageId", "n"],
        [(PV, "/", 2), (NAV, "/", 2)],
    ),
    (
        "limit and default order; system fields",
        "fields event_id, @logStream | limit 2",
        ["event_id", "@logStream"],
        [("e12", "2026-11-25T12"), ("e11", "2026-11-25T12")],
    ),
    (
        "no fields: @timestamp and @message",
        'filter event_id = "e12"',
        ["@timestamp", "@message"],
        [("2026-11-25 12:00:05.000", json.dumps(messages()[11], separators=(",", ":")))],
    ),
    (
        "display wins over fields; aliases flow to later commands",
        'fields event_id, strlen(event_id) as l | filter l = 3 and event_id like "e1" | display event_id',
        ["event_id"],
        [("e12",), ("e11",), ("e10",)],
    ),
    (
        "comments and where",
        "# count pages\nwhere event_type = \"" + PV + "\" # only views\n| stats count(*) as n",
        ["n"],
        [(4,)],
    ),
    (
        "sortsFirst / sortsLast use natural order",
        "stats sortsFirst(metadata.pageId) as a, sortsLast(metadata.pageId) as b",
        ["a", "b"],
        [("/", "/cart")],
    ),
    (
        "min/max of @timestamp render as timestamps",
        "stats min(@timestamp) as s, max(@timestamp) as e by user_details.sessionId | sort s asc",
        ["user_details.sessionId", "s", "e"],
        [(S1, "2026-11-25 10:00:00.000", "2026-11-25 10:07:00.000"),
         (S2, "2026-11-25 11:30:00.000", "2026-11-25 11:31:30.000"),
         (NIL, "2026-11-25 12:00:00.000", "2026-11-25 12:00:05.000")],
    ),
    (
        "second stats over a time kept by the first",
        "stats max(@timestamp) as @t by user_details.sessionId | stats count(*) as n by datefloor(@t, 1d)",
        ["datefloor(@t, 1d)", "n"],
        [("2026-11-25 00:00:00.000", 3)],
    ),
    (
        "case() and if()",
        'filter event_type = "com.amazon.rum.http_event" | fields case(event_details.response.status >= 500, "5xx", '
        'event_details.response.status >= 400, "4xx", "ok") as c, if(event_details.response.status = 200, 1, 0) as ok',
        ["c", "ok"],
        [("ok", 1), ("5xx", 0)],
    ),
    (
        "IP functions",
        'filter event_id = "e01" | fields isValidIp("10.1.2.3") as a, isIpInSubnet("10.1.2.3", "10.0.0.0/8") as b, '
        'isPrivateIP("8.8.8.8") as c, isValidIpV6("2001:db8::1") as d, isValidIpV4("256.1.1.1") as e',
        ["a", "b", "c", "d", "e"],
        [(1, 1, 0, 1, 0)],
    ),
    (
        "IPv6 subnet tests: '::' expansion, upper case, an IPv4 tail, prefix boundaries",
        'filter event_id = "e01" | fields isIpv6InSubnet("2001:db8::1", "2001:db8::/32") as a, '
        'isIpInSubnet("2001:db9::1", "2001:db8::/32") as b, '
        'isIpv6InSubnet("2001:DB8:0:0:0:0:0:ffff", "2001:db8::/112") as c, '
        'isIpv6InSubnet("2001:db8::1:0", "2001:db8::/112") as d, '
        'isIpv6InSubnet("::ffff:192.0.2.1", "::ffff:0:0/96") as e',
        ["a", "b", "c", "d", "e"],
        [(1, 0, 1, 0, 1)],
    ),
    (
        "IPv6 subnet tests: an IPv4 address, invalid text and an absent field are not in the subnet",
        'filter event_id = "e01" | fields isIpv6InSubnet("10.1.2.3", "::/0") as a, '
        'isIpInSubnet("2001:db8:::1", "::/0") as b, isIpv6InSubnet(event_details.nothing, "::/0") as c, '
        'isIpInSubnet("2001:db8::1", "10.0.0.0/8") as d, isValidIpV6("2001:db8:::1") as e, '
        'isValidIpV6("1:2:3:4:5:6:7:8::") as f, isValidIp("::ffff:192.0.2.1") as g',
        ["a", "b", "c", "d", "e", "f", "g"],
        [(0, 0, 0, 0, 0, 0, 1)],
    ),
    (
        "jsonParse: dot access into an alias (0-based array index), nested arrays, absent members",
        'filter event_id = "e11" | fields jsonParse(@message) as j '
        '| fields j.event_details.items.1.sku as s, j.event_details.duration as d, j.metadata.plan as p, '
        "jsonArraySize(j.event_details.items) as n, j.event_details.nothing as x, j.event_details.duration * 2 as d2 "
        "| display s, d, p, n, x, d2",
        ["s", "d", "p", "n", "x", "d2"],
        [("B-2", "42", "pro", 2, None, 84.0)],
    ),
    (
        "jsonParse: a list literal, then invalid JSON, a JSON scalar and an absent field give null",
        'filter event_id = "e11" | fields jsonParse("[10, 20]") as a, jsonParse("not json") as b, '
        'jsonParse("42") as c, jsonParse(event_details.nothing) as z | fields a.1 as a1, b.x as bx '
        "| display a, a1, b, bx, c, z",
        ["a", "a1", "b", "bx", "c", "z"],
        [("[10,20]", "20", None, None, None, None)],
    ),
    (
        "jsonParse output is the compact JSON text of the value",
        'filter event_id = "e12" | fields jsonParse(@message) as j | display j',
        ["j"],
        [(json.dumps(messages()[11], separators=(",", ":")),)],
    ),
    (
        "hexToAscii: text, then invalid hex, non-UTF-8 bytes and an absent field give null",
        'filter event_id = "e01" | fields hexToAscii("48656c6c6f") as a, hexToAscii("zz") as b, '
        'hexToAscii("ff") as c, hexToAscii(event_details.nothing) as d',
        ["a", "b", "c", "d"],
        [("Hello", None, None, None)],
    ),
    (
        # 2026-11-25T10:00:01Z = 1795600801000 ms; 09:00:01Z = 1795597201000; 15:00Z = 1795618800000.
        "parseDate: Java patterns, offsets, a time zone, milliseconds",
        'filter event_id = "e02" | fields parseDate("2026-11-25 10:00:01", "yyyy-MM-dd HH:mm:ss") as a, '
        'parseDate("25/Nov/2026:10:00:01 +0100", "dd/MMM/yyyy:HH:mm:ss Z") as b, '
        'parseDate("2026-11-25 10:00", "yyyy-MM-dd HH:mm", "America/New_York") as c, '
        """parseDate("2026-11-25T10:00:01.250Z", "yyyy-MM-dd'T'HH:mm:ss.SSSX") as d, """
        'parseDate("2026-11-25 10:00:01", "yyyy-MM-dd HH:mm:ss") = toMillis(@timestamp) as same',
        ["a", "b", "c", "d", "same"],
        [(1795600801000, 1795597201000, 1795618800000, 1795600801250, 1)],
    ),
    (
        "formatDate with a time zone: UTC 10:00:01 is 05:00:01 in New York (EST) and 11:00:01 in Paris",
        'filter event_id = "e02" | fields formatDate(@timestamp, "%H:%M:%S", "America/New_York") as ny, '
        'formatDate(@timestamp, "%Y-%m-%d %H:%M", "Europe/Paris") as paris, formatDate(@timestamp, "%H:%M:%S") as utc, '
        'formatDate(event_details.nothing, "%H", "Europe/Paris") as absent',
        ["ny", "paris", "utc", "absent"],
        [("05:00:01", "2026-11-25 11:00", "10:00:01", None)],
    ),
    (
        "parseDate: text that does not match and an absent field give null",
        'filter event_id = "e02" | fields parseDate("25.11.2026", "yyyy-MM-dd") as a, '
        'parseDate(event_details.nothing, "yyyy-MM-dd") as b',
        ["a", "b"],
        [(None, None)],
    ),
]


@pytest.mark.parametrize(("title", "query", "columns", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden(con, title, query, columns, expected):
    cols, got = rows(con, query)
    assert cols == columns
    assert got == expected


def test_time_range_arguments(con):
    from datetime import datetime

    df = insights.run(con, "stats count(*) as n", since=datetime(2026, 11, 25, 11), until=datetime(2026, 11, 25, 12))
    assert df["n"].to_list() == [4]
    df = insights.run(con, "fields queryStartTime() as s, queryTimeRange() as r | limit 1",
                      since=datetime(2026, 11, 25, 11), until=datetime(2026, 11, 25, 12))
    assert df.row(0) == (ts("2026-11-25T11:00:00"), 3_600_000)


def test_named_query_params_are_literals(con):
    # A value that tries to break out of its string stays one literal.
    q = "filter event_id = {{eid}} | fields event_id"
    assert insights.run(con, q, params={"eid": "e05"})["event_id"].to_list() == ["e05"]
    assert insights.run(con, q, params={"eid": 'e05" or event_id like "e'}).height == 0
    assert insights.substitute_params("filter x in {{xs}}", {"xs": ["a\\", 'b"', 3]}) == 'filter x in ["a\\\\", "b\\"", 3]'
