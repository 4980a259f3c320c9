"""Logs Insights, round two (issue 20): SOURCE against recorded log groups, diff over a time
range, notices on stderr and in --explain, and messages that name the construct.

Expected values are worked out by hand from the datasets built here and from ``messages()``
of tests/test_insights_golden.py (its table is in that function's docstring).
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from click.testing import CliRunner
from rumdata import event
from test_insights_golden import build

from rumq import catalog, insights
from rumq.cli import cli
from rumq.errors import QuerySyntaxError, QueryUnsupportedError
from rumq.runner import run_insights

APP_A = "aaaaaaaa-0000-4000-8000-000000000001"
APP_B = "bbbbbbbb-0000-4000-8000-000000000002"
GROUP_A = "/aws/vendedlogs/RUMService_shopaaaaaaaa"


@pytest.fixture(scope="module")
def two_apps(tmp_path_factory):
    """App A: 3 events, ingested with its log group recorded. App B: 2 events, no log group."""
    from rumq.ingest import ingest

    tmp = tmp_path_factory.mktemp("two_apps")
    a = tmp / "a.jsonl"
    b = tmp / "b.jsonl"
    a.write_text("".join(json.dumps(event(app=APP_A, event_id=f"a{i}", at=f"2026-11-25T10:0{i}:00")) + "\n"
                         for i in range(3)))
    b.write_text("".join(json.dumps(event(app=APP_B, event_id=f"b{i}", at=f"2026-11-25T11:0{i}:00")) + "\n"
                         for i in range(2)))
    data = tmp / "data"
    assert ingest(data, [str(a)], log_group=GROUP_A).written == 3
    assert ingest(data, [str(b)]).written == 2
    con = catalog.connect(data)
    yield con
    con.close()


def ids(con, query: str) -> list[str]:
    return sorted(insights.run(con, query + " | fields event_id")["event_id"].to_list())


def test_source_recorded_log_group(two_apps):
    assert ids(two_apps, f"SOURCE '{GROUP_A}'") == ["a0", "a1", "a2"]


def test_source_log_group_from_the_app_id_when_none_recorded(two_apps):
    # B has no recorded group and no app monitor name: the id suffix bbbbbbbb identifies it.
    assert ids(two_apps, "SOURCE '/aws/vendedlogs/RUMService_shopbbbbbbbb'") == ["b0", "b1"]
    assert ids(two_apps, f"SOURCE '{GROUP_A}', '/aws/vendedlogs/RUMService_xbbbbbbbb'") == [
        "a0", "a1", "a2", "b0", "b1"]


def test_source_not_a_rum_group_matches_nothing_and_says_so(two_apps):
    c = insights.compile("SOURCE '/aws/lambda/checkout' | fields event_id")
    assert insights.execute(two_apps, c).height == 0
    assert c.notices == ["notice: SOURCE '/aws/lambda/checkout' is not a RUM app monitor's log group; "
                         "only events recorded with that log group match"]


def test_source_name_prefix(two_apps):
    # A's recorded group starts with the prefix; B's group cannot be told (no name): left out, said.
    q = "SOURCE logGroups(namePrefix: ['/aws/vendedlogs/RUMService_shopa']) | fields event_id"
    c = insights.compile(q)
    assert sorted(insights.execute(two_apps, c)["event_id"].to_list()) == ["a0", "a1", "a2"]
    assert len(c.notices) == 1 and "cannot be matched" in c.notices[0]
    # The common RUM prefix takes every RUM event.
    assert ids(two_apps, "SOURCE logGroups(namePrefix: ['/aws/vendedlogs/RUMService_'])") == [
        "a0", "a1", "a2", "b0", "b1"]


def test_source_parts_rumq_cannot_map_are_notices():
    c = insights.compile("SOURCE logGroups(namePrefix: ['/aws/'], class: ['STANDARD'], "
                         "accountIdentifiers: ['111122223333']) | stats count(*)")
    assert c.notices == [
        "notice: SOURCE class: ['STANDARD'] has no meaning for a rumq dataset and is ignored",
        "notice: SOURCE accountIdentifiers: ['111122223333'] has no meaning for a rumq dataset and is ignored",
    ]
    c = insights.compile("SOURCE dataSource(['rum']) | stats count(*)")
    assert c.notices == ["notice: SOURCE dataSource(['rum']) has no meaning for a rumq dataset and is ignored "
                         "(every event is queried)"]


@pytest.fixture(scope="module")
def golden_data(tmp_path_factory):
    return build(tmp_path_factory.mktemp("round2"))


def test_diff_compares_with_the_range_before(golden_data):
    # Window 11:00-12:00 holds e07 page_view, e08 navigation, e09 http, e10 lcp; the hour
    # before holds e01 e03 page_view, e02 e04 navigation, e05 js_error, e06 http.
    df = run_insights(golden_data, "pattern event_type | diff",
                      since="2026-11-25T11:00:00", until="2026-11-25T12:00:00")
    got = [(r["@pattern"].removeprefix("com.amazon.rum."), r["@sampleCount"], r["@previousSampleCount"],
            r["@changeInSampleCount"], r["@ratio"]) for r in df.iter_rows(named=True)]
    assert got == [
        ("http_event", 1, 1, 0, 0.25),
        ("largest_contentful_paint_event", 1, 0, 1, 0.25),
        ("page_view_event", 1, 2, -1, 0.25),
        ("performance_navigation_event", 1, 2, -1, 0.25),
        ("js_error_event", 0, 1, -1, 0.0),
    ]


def test_diff_previous_day_finds_nothing_before(golden_data):
    df = run_insights(golden_data, "filter event_type = 'com.amazon.rum.http_event' | pattern event_type | diff previousDay",
                      since="2026-11-25T10:00:00", until="2026-11-25T12:00:00")
    assert df.select("@sampleCount", "@previousSampleCount").rows() == [(2, 0)]


def test_diff_needs_a_range_and_a_pattern():
    with pytest.raises(QuerySyntaxError, match="needs one"):
        insights.compile("pattern @message | diff")
    with pytest.raises(QuerySyntaxError, match="must follow the pattern command"):
        insights.compile("fields @message | diff", since=datetime(2026, 11, 25))


def test_runner_sends_notices(golden_data):
    said: list[str] = []
    df = run_insights(golden_data, "stats count(*) as n | sort @timestamp desc", notify=said.append)
    assert df["n"].to_list() == [12]
    assert said == ["notice: 'sort @timestamp' comes after stats, whose output has no field '@timestamp'; "
                    "the key orders nothing and is ignored"]


def test_explain_shows_notices(golden_data):
    r = CliRunner().invoke(cli, ["--data", str(golden_data), "insights", "--explain",
                                 "SOURCE dataSource(['rum']) | stats count(*)"], catch_exceptions=False)
    assert r.exit_code == 0
    line = "notice: SOURCE dataSource(['rum']) has no meaning for a rumq dataset and is ignored (every event is queried)"
    assert "-- " + line in r.stdout
    assert line in r.stderr


# Section 3: every rejection names the construct and, where one exists, the spelling that works.
MESSAGES = [
    ("stats count by event_type", QuerySyntaxError, "'count' without parentheses", "count(*)"),
    ("filter x in (SOURCE 'g' | fields x)", QueryUnsupportedError, "subqueries", 'in ["a", "b"]'),
    ("anomaly", QueryUnsupportedError, "machine learning", "pattern @message | diff"),
    ("fields a | tail 5", QueryUnsupportedError, "'tail' command", "sort @timestamp asc | limit N"),
    ("fields a | join b", QueryUnsupportedError, "'join' command", "two queries"),
    ("fields a | sort", QuerySyntaxError, "'sort' needs", ""),
    ("order event_id", QuerySyntaxError, "'order' must be followed by 'by'", "order by FIELD"),
    ("fields a | source 'x'", QuerySyntaxError, "SOURCE must be the first command", "SOURCE '...'"),
    ("fields a | diff", QuerySyntaxError, "must follow the pattern command", "pattern @message | diff"),
    ("unnest a b", QuerySyntaxError, "expected 'into'", "unnest FIELD into NAME"),
    ("fields a[x]", QuerySyntaxError, "list index must be a whole number", "list[0]"),
    ("stats rate(x, 1m)", QueryUnsupportedError, "'rate' is not supported", "latest(x) - earliest(x)"),
    ("stats count(*) by histogram(x, 50)", QueryUnsupportedError, "'histogram' is not supported",
     "floor(x / w) * w"),
    ("stats topk(x, 3)", QueryUnsupportedError, "'topk' is not supported", "sort n desc | limit k"),
    ("stats count(*) by bin(5m) offset 1h", QueryUnsupportedError, "'bin(...) offset' is not supported",
     "--since/--until"),
    ("stats countt(*)", QuerySyntaxError, "unknown function 'countt'", "did you mean 'count'"),
    ("fields a | diff previousYear", QuerySyntaxError, "unknown diff period", "previousMonth"),
    ("fields by", QuerySyntaxError, "found the keyword 'by'", "`by`"),
]


@pytest.mark.parametrize(("query", "cls", "what", "fix"), MESSAGES, ids=[m[0] for m in MESSAGES])
def test_rejections_name_the_construct_and_the_fix(query, cls, what, fix):
    with pytest.raises(cls) as ei:
        insights.compile(query)
    text = str(ei.value) + " " + (getattr(ei.value, "hint", "") or "")
    assert what in text
    assert fix in text


def test_cli_notices_go_to_stderr_data_to_stdout(golden_data):
    r = CliRunner().invoke(cli, ["--data", str(golden_data), "insights", "--format", "csv",
                                 "SOURCE logGroups(namePrefix: ['/aws/vendedlogs/'], class: STANDARD) | stats count(*) as n"],
                           catch_exceptions=False)
    assert r.exit_code == 0
    assert r.stdout.splitlines() == ["n", "12"]
    assert "notice: SOURCE class: STANDARD has no meaning for a rumq dataset and is ignored" in r.stderr


def test_bare_source_clause_shows_its_events(two_apps):
    c = insights.compile(f"SOURCE '{GROUP_A}'")
    assert c.columns == ["@timestamp", "@message"]
    assert insights.execute(two_apps, c).height == 3
    with pytest.raises(QuerySyntaxError, match=r"missing '\)' closing logGroups\("):
        insights.compile("SOURCE logGroups(namePrefix: ['a']")


def test_the_recipes_offered_instead_of_unsupported_functions_run(golden_data):
    """Each 'label: stats ...' recipe in an unsupported function's hint runs as written, with x,
    w and k filled in. Durations: 1200 (10:00:01), 800 (10:05:01), 2500 (11:30:02), 42 (12:00:00);
    pages: / 7 events, /cart 4, /about 1."""
    from rumq.insights.functions import UNSUPPORTED_FUNCTIONS

    con = catalog.connect(golden_data)
    fill = {"x": "event_details.duration", "w": "1000", "k": "2"}
    ran = {}
    for name, (_why, instead) in UNSUPPORTED_FUNCTIONS.items():
        for recipe in instead.split("; "):
            if "stats " not in recipe:
                continue
            query = recipe[recipe.index("stats "):]
            names = {**fill, "x": "metadata.pageId"} if name == "topk" else fill
            query = re.sub(r"\b[xwk]\b", lambda m, names=names: names[m.group(0)], query)
            ran[query] = insights.run(con, query.replace("bin(5m)", "bin(1h)")).rows()
    con.close()
    d = "event_details.duration"
    assert ran == {
        f"stats latest({d}) - earliest({d}) by bin(5m)": [
            ("2026-11-25 10:00:00.000", -400.0), ("2026-11-25 11:00:00.000", 0.0), ("2026-11-25 12:00:00.000", 0.0)],
        "stats count(*) by bin(1m)": [
            ("2026-11-25 10:00:00.000", 2), ("2026-11-25 10:05:00.000", 2), ("2026-11-25 10:06:00.000", 1),
            ("2026-11-25 10:07:00.000", 1), ("2026-11-25 11:30:00.000", 2), ("2026-11-25 11:31:00.000", 2),
            ("2026-11-25 12:00:00.000", 2)],
        f"stats sum({d}) by bin(1m)": [
            ("2026-11-25 10:00:00.000", 1200.0), ("2026-11-25 10:05:00.000", 800.0),
            ("2026-11-25 10:06:00.000", None), ("2026-11-25 10:07:00.000", None),
            ("2026-11-25 11:30:00.000", 2500.0), ("2026-11-25 11:31:00.000", None),
            ("2026-11-25 12:00:00.000", 42.0)],
        f"stats count(*) by floor({d} / 1000) * 1000 as bucket": [(0.0, 2), (1000.0, 1), (2000.0, 1), (None, 8)],
        "stats count(*) as n by metadata.pageId | sort n desc | limit 2": [("/", 7), ("/cart", 4)],
    }
