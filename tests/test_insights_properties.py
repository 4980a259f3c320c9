"""Property tests: arbitrary input raises only the documented errors, and
well-formed queries compile to SQL that DuckDB accepts and runs."""

from __future__ import annotations

import json

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rumq import insights
from rumq.errors import ParameterError, QuerySyntaxError
from rumq.schema import COLUMNS

DOCUMENTED = (QuerySyntaxError, ParameterError)  # QueryUnsupportedError is a QuerySyntaxError


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'").fetchall()
    cols = ", ".join(f"{col.name} {col.type}" for col in COLUMNS)
    c.execute(f"CREATE TABLE events ({cols})").fetchall()
    for i, (et, dur, page) in enumerate([
        ("com.amazon.rum.page_view_event", None, "/"),
        ("com.amazon.rum.performance_navigation_event", 120.5, "/a"),
        ("custom", 7, "/b/1"),
    ]):
        md = {"pageId": page, "browserName": "Chrome", "aws:client": "arw-module"}
        ed = {"duration": dur, "items": [{"sku": f"s{i}"}], "label": f"x {i}"}
        msg = json.dumps({"event_type": et, "metadata": md, "event_details": ed,
                          "user_details": {"sessionId": "s", "userId": "u"}})
        c.execute(
            "INSERT INTO events (event_id, event_type, event_time, event_timestamp, page_id, browser_name, "
            "duration, metadata, event_details, message, log_stream) VALUES (?, ?, TIMESTAMP '2026-11-25 10:00:00' "
            "+ to_minutes(?), ?, ?, 'Chrome', ?, ?, ?, ?, '2026-11-25T10')",
            [f"e{i}", et, 7 * i, 1_795_000_000_000 + i, page, dur, json.dumps(md), json.dumps(ed), msg],
        ).fetchall()
    yield c
    c.close()


VOCAB = [
    "fields", "display", "filter", "where", "stats", "sort", "limit", "parse", "dedup", "by", "as", "asc", "desc",
    "and", "or", "not", "like", "in", "|", ",", "(", ")", "[", "]", "=", "!=", "<", ">=", "+", "-", "*", "/", "%",
    "^", "=~", "!", "@timestamp", "@message", "event_type", "metadata.pageId", "event_details.duration",
    "event_details.items.0.sku", "`metadata.aws:client`", "x", "count(*)", "count", "avg", "pct", "bin", "5m",
    "1h", "3", "2.5", '"str"', "'s'", "/re/", "/(?<g>x)/", "# c\n", "\n", "pattern", "diff", "{{p}}", "`",
    '"', "/", "ispresent", "strlen", "concat", "coalesce",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(VOCAB), min_size=0, max_size=14))
def test_random_token_sequences(con, toks):
    text = " ".join(toks)
    try:
        c = insights.compile(text)
    except DOCUMENTED:
        return
    # Whatever compiled must run.
    con.execute(c.sql, c.parameters).fetchall()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text(text):
    try:
        insights.compile(text)
    except DOCUMENTED:
        pass


# ---------------------------------------------------------------- well-formed queries
FIELDS = ["@timestamp", "@message", "@logStream", "event_type", "metadata.pageId", "metadata.browserName",
          "event_details.duration", "event_details.items.0.sku", "event_details.label", "`metadata.aws:client`",
          "user_details.sessionId", "metadata.custom", "event_details.response.status"]
REGEXES = ["a", "(?i)x", "^\\/", "[0-9]+", "a|b"]
strings = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)


def lit_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def scalar(draw, depth=0):
    choice = draw(st.integers(0, 9 if depth < 2 else 3))
    if choice == 0:
        return draw(st.sampled_from(FIELDS))
    if choice == 1:
        return str(draw(st.integers(-1000, 1000)))
    if choice == 2:
        return lit_str(draw(strings))
    if choice == 3:
        return draw(st.sampled_from(FIELDS))
    if choice == 4:
        op = draw(st.sampled_from(["+", "-", "*", "/", "%", "^"]))
        return f"({draw(scalar(depth + 1))} {op} {draw(scalar(depth + 1))})"
    if choice == 5:
        fn = draw(st.sampled_from(["strlen", "toupper", "tolower", "abs", "ceil", "floor", "isempty", "isblank",
                                   "ispresent", "sqrt", "log", "toMillis", "trim"]))
        return f"{fn}({draw(scalar(depth + 1))})"
    if choice == 6:
        fn = draw(st.sampled_from(["concat", "coalesce", "greatest", "least"]))
        return f"{fn}({draw(scalar(depth + 1))}, {draw(scalar(depth + 1))})"
    if choice == 7:
        return f"substr({draw(scalar(depth + 1))}, {draw(st.integers(0, 5))}, {draw(st.integers(0, 5))})"
    if choice == 8:
        return f"datefloor(@timestamp, {draw(st.sampled_from(['1m', '5m', '1h', '1d', '1w', '1mo', '1q', '1y']))})"
    return f"if({draw(condition(depth + 1))}, {draw(scalar(depth + 1))}, {draw(scalar(depth + 1))})"


@st.composite
def condition(draw, depth=0):
    choice = draw(st.integers(0, 6 if depth < 2 else 3))
    a = draw(scalar(depth + 1))
    if choice == 0:
        return f"{a} {draw(st.sampled_from(['=', '!=', '<', '<=', '>', '>=']))} {draw(scalar(depth + 1))}"
    if choice == 1:
        neg = draw(st.sampled_from(["", "not "]))
        return f"{a} {neg}like {lit_str(draw(strings))}"
    if choice == 2:
        rx = draw(st.sampled_from(REGEXES))
        return f"{a} =~ /{rx}/"
    if choice == 3:
        items = ", ".join(draw(st.lists(st.one_of(st.integers(-5, 5).map(str), strings.map(lit_str)), min_size=1, max_size=3)))
        return f"{a} {draw(st.sampled_from(['in', 'not in']))} [{items}]"
    if choice == 4:
        return f"({draw(condition(depth + 1))}) {draw(st.sampled_from(['and', 'or']))} {draw(condition(depth + 1))}"
    if choice == 5:
        return f"not {draw(condition(depth + 1))}"
    return f"ispresent({draw(st.sampled_from(FIELDS))})"


@st.composite
def query(draw):
    cmds = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["fields", "filter", "parse", "sort", "display"]))
        if kind == "fields":
            cmds.append(f"fields {draw(scalar())} as f{len(cmds)}, {draw(st.sampled_from(FIELDS))}")
        elif kind == "filter":
            cmds.append(f"filter {draw(condition())}")
        elif kind == "parse":
            cmds.append(f"parse @message '\"*\":' as p{len(cmds)}")
        elif kind == "display":
            cmds.append(f"display {draw(scalar())}")
        else:
            cmds.append(f"sort {draw(st.sampled_from(FIELDS))} {draw(st.sampled_from(['', 'asc', 'desc']))}")
    if draw(st.booleans()):
        agg = draw(st.sampled_from(["count(*)", "count({f})", "count_distinct({f})", "sum({f})", "avg({f})",
                                    "min({f})", "max({f})", "pct({f}, 90)", "stddev({f})", "earliest({f})",
                                    "latest({f})", "sortsFirst({f})", "sortsLast({f})"]))
        agg = agg.format(f=draw(st.sampled_from(FIELDS)))
        by = draw(st.sampled_from(["", " by bin(5m)", " by metadata.pageId", " by event_type, bin(1h) as t",
                                   " by coalesce(event_details.label, \"none\") as k"]))
        cmds.append(f"stats {agg} as a, count(*) as n{by}")
        if draw(st.booleans()):
            cmds.append("filter n > 0")
        if draw(st.booleans()):
            cmds.append("sort a desc")
    elif draw(st.booleans()):
        cmds.append(f"dedup {draw(st.sampled_from(FIELDS))}")
    if draw(st.booleans()):
        cmds.append(f"limit {draw(st.integers(1, 50))}")
    return " | ".join(cmds) if cmds else "fields @timestamp"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query())
def test_well_formed_queries_compile_and_run(con, q):
    c = insights.compile(q)
    result = con.execute(c.sql, c.parameters).fetchall()
    assert all(len(r) == len(c.columns) for r in result)


@settings(max_examples=200, deadline=None)
@given(strings)
def test_substituted_strings_round_trip(value):
    from rumq.insights import ast, parse

    q = parse(insights.substitute_params("filter x = {{v}}", {"v": value}))
    cond = q.commands[0].condition
    assert isinstance(cond, ast.Binary) and isinstance(cond.right, ast.String)
    assert cond.right.value == value
