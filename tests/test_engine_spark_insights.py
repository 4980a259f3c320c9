"""Logs Insights on Spark: every golden case either agrees with DuckDB or is refused by name.

The golden corpus (tests/fixtures/insights, dataset of tests/test_insights_golden.py)
is compiled to DuckDB SQL by rumq.insights; on Spark that SQL goes through
rumq.engines.portable. A case whose SQL renders must give DuckDB's answer on
Spark local; one that does not render must be refused with NotPortableError
(exit 2), never fail inside Spark or answer differently. Also: rumq sql and
rumq insights with --engine spark from the CLI.
"""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from clirun import invoke
from test_engine_spark import assert_engines_agree
from test_insights_golden import build, fixture_files, parse_fixture
from test_insights_values import SPARK_QUERIES as VALUES_QUERIES

from rumq import insights
from rumq.engines.portable import NotPortableError, render_bound

CASES = [c for f in fixture_files() for c in parse_fixture(f)]


def _renders(query: str) -> bool:
    try:
        compiled = insights.compile(query)
        render_bound(compiled.sql, dict(compiled.parameters or {}))
    except NotPortableError:
        return False
    return True


RENDERED = [c for c in CASES if _renders(c.query)]
REFUSED = [c for c in CASES if c not in RENDERED]

#: Every case Spark refuses, and the construct its message names (the first one met; a case may
#: hold others after it). Exact: a case that starts rendering, or stops, must change this list.
REFUSED_CONSTRUCTS = {
    'functions-datetime.txt: parseDate: Java patterns, offsets, a time zone, milliseconds': 'try_strptime()',
    'functions-datetime.txt: parseDate: text that does not match and an absent field give null': 'try_strptime()',
    'functions-ip.txt: IP functions': 'list_bool_and()',
    "functions-ip.txt: IPv6 subnet tests: '::' expansion, upper case, an IPv4 tail, prefix boundaries": 'list_bool_and()',
    'functions-ip.txt: IPv6 subnet tests: an IPv4 address, invalid text and an absent field are not in the subnet': 'list_bool_and()',
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build(tmp_path_factory.mktemp("insights-spark"))


def test_the_refused_cases_are_exactly_the_listed_ones():
    assert {c.id for c in REFUSED} == set(REFUSED_CONSTRUCTS)
    assert (len(RENDERED), len(REFUSED)) == (80, 5)  # of the corpus's 85 (docs/engines.md)


@pytest.mark.parametrize("case", RENDERED, ids=lambda c: c.id)
def test_rendered_cases_agree(spark, data, case):
    from rumq.engines.spark import run_insights as on_spark
    from rumq.runner import run_insights as on_duckdb

    duck = on_duckdb(data, case.query)
    assert_engines_agree(duck, on_spark(data, case.query))


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.id)
def test_refused_cases_name_the_construct(data, case):
    from rumq.engines.spark import run_insights as on_spark

    with pytest.raises(NotPortableError, match=re.escape(REFUSED_CONSTRUCTS[case.id])) as e:
        on_spark(data, case.query)
    assert e.value.exit_code == 2


@pytest.fixture(scope="module")
def values_data(tmp_path_factory):
    from test_insights_values import build as build_values

    return build_values(tmp_path_factory.mktemp("insights-values-spark"))


@pytest.mark.parametrize("query", VALUES_QUERIES)
def test_values_at_the_edges_agree(spark, values_data, query):
    # Typed fields holding non-numbers in custom events (tests/test_insights_values.py).
    from rumq.engines.spark import run_insights as on_spark
    from rumq.runner import run_insights as on_duckdb

    assert_engines_agree(on_duckdb(values_data, query), on_spark(values_data, query))


def _cli(args: list[str]) -> tuple[int, str, str]:
    return invoke(args)


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_whole_numbers_print_alike_on_both_engines(spark, data, fmt):
    # 2 ^ 3 = 8 and a sum of counts (12 events) print as integers on Spark too (as DuckDB).
    query = "stats count(*) as n by event_type | stats sum(n) as s, sum(n) / 8 as r"
    want = {"json": '[{"s":12,"r":1.5}]\n', "csv": "s,r\n12,1.5\n", "table": " s    r\n--  ---\n12  1.5\n"}[fmt]
    for engine in ("duckdb", "spark"):
        code, out, err = _cli(["--data", str(data), "insights", "--engine", engine, "--format", fmt, query])
        assert (code, out) == (0, want), err


def test_cli_sql_and_insights_on_spark(spark, data):
    # By hand from messages(): 12 events, 4 page views (e01, e03, e07, e12).
    sql = "SELECT event_name, count(*) AS n FROM events WHERE event_name = 'page_view' GROUP BY ALL"
    code, out, _ = _cli(["--data", str(data), "sql", "--engine", "spark", "--format", "json", sql])
    assert code == 0 and json.loads(out) == [{"event_name": "page_view", "n": 4}]
    code, out, _ = _cli(["--data", str(data), "insights", "--engine", "spark", "--format", "csv",
                         "stats count(*) as n"])
    assert code == 0 and pl.read_csv(out.encode()).to_dicts() == [{"n": 12}]
    code, out, err = _cli(["--data", str(data), "sql", "--engine", "spark", "SELECT 1 WHERE 'a' GLOB 'a[bc]'"])
    assert code == 2 and out == "" and "GLOB" in err


def test_named_insights_query_runs_on_spark(spark, data, tmp_path):
    from _query_data import write_library

    from rumq.engines.spark import run_query
    from rumq.library import Library

    text = ("# ---\n# name: logs/by_type\n# description: Events per type\n# params:\n"
            "#   - {name: n, type: int, default: 2}\n# ---\n"
            "stats count(*) as events by event_type | sort events desc | limit {{n}}\n")
    lib = Library([str(write_library(tmp_path, {"logs/by_type.insights": text}))], env={})
    got = run_query(data, "logs/by_type", {"n": "3"}, library=lib)
    from rumq.runner import run_query as on_duckdb

    assert_engines_agree(on_duckdb(data, "logs/by_type", {"n": "3"}, library=lib), got)
    # By hand from the table in tests/test_insights_golden.py: 4 page views, 3 navigations, 2 http.
    assert got.rows() == [("com.amazon.rum.page_view_event", 4),
                          ("com.amazon.rum.performance_navigation_event", 3), ("com.amazon.rum.http_event", 2)]


def test_casts_to_integer_round_as_duckdb(spark, data):
    """DuckDB rounds DOUBLE half to even and DECIMAL half away from zero when casting to an integer."""
    from rumq.engines.spark import run_sql as on_spark
    from rumq.runner import run_sql as on_duckdb

    sql = ("SELECT CAST(2.5::DOUBLE AS BIGINT) AS d1, CAST(3.5::DOUBLE AS BIGINT) AS d2, "
           "CAST(-2.5::DOUBLE AS BIGINT) AS d3, CAST(2.5 AS INTEGER) AS m1, CAST(-2.5 AS INTEGER) AS m2, "
           "CAST('12' AS BIGINT) AS s, 7 / 2 AS q, 1 / 0 AS inf, 0 / 0 AS nan")
    duck = on_duckdb(data, sql)
    assert duck.rows()[0][:6] == (2, 4, -2, 3, -3, 12)  # by hand, DuckDB's documented rounding
    assert_engines_agree(duck, on_spark(data, sql))



def test_compiler_notices_reach_the_user_on_spark_too(spark, data):
    # What the compiler decides for the user (here: a filter after stats applied before it) is
    # said on stderr on every engine, never dropped on one (issue 20).
    query = "stats count(*) as n by event_type | filter metadata.browserName = 'Chrome'"
    _, on_duckdb_out, on_duckdb = _cli(["--data", str(data), "insights", "--format", "csv", query])
    code, on_spark_out, on_spark = _cli(["--data", str(data), "insights", "--engine", "spark", "--format", "csv",
                                         query])
    assert code == 0 and on_spark_out == on_duckdb_out
    notices = [line for line in on_duckdb.splitlines() if "comes after stats" in line]
    assert len(notices) == 1 and notices[0] in on_spark.splitlines()
    # A SOURCE clause (ends_with, left) answers as on DuckDB; isValidIp (list_bool_and) is refused by
    # name, exit 2.
    source = ["insights", "--format", "csv", "SOURCE 'x' | stats count(*) as n"]
    duck = _cli(["--data", str(data), *source])
    assert duck[0] == 0 and _cli(["--data", str(data), *source, "--engine", "spark"])[1] == duck[1]
    code, _, err = _cli(["--data", str(data), "insights", "--engine", "spark", 'fields isValidIp("10.1.2.3") as n'])
    assert code == 2 and "list_bool_and() cannot be rendered exactly for Spark" in err
