"""Malformed and unsupported Logs Insights queries: every kind of error rumq reports
(docs/insights.md, "Rules enforced").

Each case checks the error class, the line and column of the offending
token, and that the excerpt puts the caret under it.
"""

from __future__ import annotations

import duckdb
import pytest

from rumq import insights
from rumq.errors import (
    ExitCode,
    ParameterError,
    QueryExecutionError,
    QuerySyntaxError,
    QueryUnsupportedError,
)
from rumq.schema import COLUMNS

# (query, line, column, words the message must contain)
SYNTAX = [
    ("select * from events", 1, 1, "unknown command"),
    ("fields @timestamp | sorts @timestamp", 1, 21, "did you mean 'sort'"),
    ("fields ago(30m)", 1, 8, "unknown function 'ago'"),
    ('filter event_type = "abc', 1, 21, "unterminated string"),
    ("filter @message like /abc", 1, 22, "unterminated regular expression"),
    ("fields `metadata.aws:client", 1, 8, "unterminated backtick"),
    ("fields abs((1 + 2)", 1, 11, "unbalanced parentheses"),
    ("fields (1 + 2", 1, 14, "expected ')'"),
    ("stats count(*) by", 1, 16, "'by' needs"),
    ("fields", 1, 7, "needs at least one"),
    ("fields a |", 1, 11, "expected a command"),
    ("limit ten", 1, 7, "positive whole number"),
    ("limit 1.5", 1, 7, "positive whole number"),
    ("fields a | dedup a | sort a", 1, 22, "only 'limit' may follow 'dedup'"),
    ("stats count(*) as c by a | sort c | stats sum(c)", 1, 28, "after the second stats"),
    ("limit 5 | stats count(*) as c by a | stats sum(c)", 1, 1, "after the second stats"),
    ("stats count(*) as c by a | stats sum(b)", 1, 38, "not a field of the stats output"),
    ("stats count(*) as c by a | stats count(*) by bin(5m)", 1, 46, "bin() uses @timestamp"),
    ("stats count(*) as c by a | stats sum(c) as d | stats sum(d)", 1, 48, "at most 2 stats"),
    ('parse @message "* - *" as a', 1, 16, "2 '*' but 1 name"),
    ("stats event_type", 1, 7, "must be inside an aggregate"),
    ("stats 1", 1, 7, "not an aggregate"),
    ("filter count(*) > 1", 1, 8, "outside stats"),
    ("stats sum(count(*))", 1, 11, "inside another aggregate"),
    ("stats pct(x, 120)", 1, 14, "between 0 and 100"),
    ("stats count(*) by bin(event_type)", 1, 23, "time period"),
    ("fields substr(x)", 1, 8, "takes 2 to 3"),
    ("filter x like 5", 1, 15, "quoted string or a /regex/"),
    ("filter x in 5", 1, 13, "'[' starting a list"),
    ("filter x in []", 1, 13, "at least one value"),
    ("fields 5zz", 1, 9, "unknown time unit"),
    ("filter @message like /(?<x/", 1, 22, "invalid regular expression"),
    ("", 1, 1, "empty query"),
    ("fields a\n| filter b = \n| limit 5", 3, 1, "expected a value"),
    ('fields isIpv4InSubnet(x, "2001:db8::/32")', 1, 26, "needs an IPv4 subnet"),
    ('fields isIpv6InSubnet(x, "10.0.0.0/8")', 1, 26, "needs an IPv6 subnet"),
    ('fields formatDate(@timestamp, "%H", "Nowhere/Land")', 1, 37, "unknown time zone"),
    ('fields parseDate(x, y)', 1, 21, "Java date pattern as a quoted string"),
    ('fields parseDate(x, "yyyy", "Mars/Olympus")', 1, 29, "unknown time zone"),
]


@pytest.mark.parametrize(("query", "line", "column", "words"), SYNTAX, ids=[s[0] or "<empty>" for s in SYNTAX])
def test_syntax_errors(query, line, column, words):
    with pytest.raises(QuerySyntaxError) as ei:
        insights.compile(query)
    e = ei.value
    assert not isinstance(e, QueryUnsupportedError)
    assert words in str(e)
    assert (e.line, e.column) == (line, column)
    assert e.exit_code == ExitCode.USAGE
    if not query:
        return
    src_line = query.splitlines()[line - 1]
    assert e.excerpt.splitlines()[0] == "  " + src_line
    assert e.excerpt.splitlines()[1] == "  " + " " * (column - 1) + "^"


UNSUPPORTED = [
    ("anomaly", "anomaly"),
    ("pattern @message | anomaly", "machine learning"),
    ("unmask @message", "unmask"),
    ("fields @message | join x", "join"),
    ("fields @message | lookup t x", "lookup"),
    ("SOURCE lg start=-1d end=now | fields x", "SOURCE"),
    ("filter x in (SOURCE 'g' | fields x)", "subqueries"),
    ("stats rate(x, 1m)", "'rate'"),
    ("stats histogram(x, 10)", "'histogram'"),
    ("stats topk(x, 3)", "'topk'"),
    ("parse @message logfmt as x", "logfmt"),
    ("parse @message /(?<a>x)/ multi", "multi"),
    ('fields parseDate(x, "yyyy GGGG")', "'GGGG'"),
    ("fields parseDate(x, \"yyyy 'T\")", "unterminated"),
]


@pytest.mark.parametrize(("query", "name"), UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
def test_unsupported_names_the_construct(query, name):
    with pytest.raises(QueryUnsupportedError) as ei:
        insights.compile(query)
    assert name in str(ei.value)
    assert "not supported" in str(ei.value)


def test_missing_placeholder_value():
    with pytest.raises(ParameterError, match="page"):
        insights.compile("filter metadata.pageId = {{page}}")


def test_runtime_error_talks_about_the_query_not_sql():
    con = duckdb.connect()
    cols = ", ".join(f"{c.name} {c.type}" for c in COLUMNS)
    con.execute(f"CREATE TABLE events ({cols})").fetchall()
    con.execute("INSERT INTO events (event_id, event_time, message) VALUES ('x', TIMESTAMP '2026-01-01', '{not json')").fetchall()
    with pytest.raises(QueryExecutionError) as ei:
        insights.run(con, "fields custom.field")
    msg = str(ei.value)
    assert "not valid JSON" in msg
    assert "json_extract" not in msg and "SELECT" not in msg and "$p" not in msg
