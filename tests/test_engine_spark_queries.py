"""events/custom on Spark: the field's value is a JSON pointer built from a parameter ('/' || $field).

The hand-built story of tests/test_events_custom.py (numbers and numeric text as prices, a nested
item/sku, a cookieless session, an event without a session); each parameter set gives DuckDB's
answer on Spark, and a field whose pointer has no exact Spark path stops the query by name.
"""

from __future__ import annotations

import pytest
from test_engine_spark import assert_engines_agree
from test_events_custom import CART, ds  # noqa: F401 (the module's dataset fixture)

from rumq.engines.portable import NotPortableError
from rumq.errors import QueryExecutionError

CUSTOM = [
    {},
    {"field": "sku"},
    {"field": "price"},
    {"field": "item/sku", "type": CART},
    {"field": "price", "numeric": "true", "type": "*.add_to_cart"},
    {"field": "nothing", "top": "2"},
]


@pytest.mark.parametrize("params", CUSTOM, ids=[str(p) for p in CUSTOM])
def test_events_custom_on_spark(spark, ds, params):  # noqa: F811
    from rumq.engines.spark import run_query

    duck = ds.run("events/custom", **params)
    assert duck.height > 0
    assert_engines_agree(duck, run_query(ds.path, "events/custom", params))


def test_events_custom_price_text_by_hand(spark, ds):  # noqa: F811
    from rumq.engines.spark import run_query

    got = run_query(ds.path, "events/custom", {"field": "price", "type": CART})
    # By hand: prices 10, 20, "5.5", "n/a", 100 (one event each), as DuckDB's text of the JSON value.
    assert sorted(got["value"].to_list()) == ["10", "100", "20", "5.5", "n/a"]


def test_events_custom_field_without_a_spark_path_stops(spark, ds):  # noqa: F811
    from rumq.engines.spark import run_query

    # Two numeric segments: each an index or a key depending on the value.
    assert ds.run("events/custom", field="item/0/1").height > 0
    with pytest.raises(QueryExecutionError, match="more than one numeric segment"):
        run_query(ds.path, "events/custom", {"field": "item/0/1"})


def test_sessions_list_constructs_agree(spark, ds):  # noqa: F811
    """sessions/list's string_agg(DISTINCT ... ORDER BY ...), string_split/list_contains and epoch(duration),
    on values chosen for the differences: NULLs, duplicates, '' , byte order ('B' < 'a' < 'é'), a trailing
    separator."""
    from datetime import timedelta

    from rumq.engines.spark import run_sql as on_spark
    from rumq.runner import run_sql as on_duckdb

    rows = ("(1, 'a'), (1, 'B'), (1, NULL), (1, 'a'), (1, '\u00e9'), (1, ''), (2, NULL), (3, 'x,'), (3, 'y')")
    sql = (f"WITH d AS (SELECT k, string_agg(DISTINCT domain, ',' ORDER BY domain) AS domains "
           f"FROM (VALUES {rows}) AS t(k, domain) GROUP BY k) "
           "SELECT k, domains, list_contains(string_split(domains, ','), $x) AS has_x, "
           "len(CAST(string_split(domains, ',') AS VARCHAR[])) AS parts, epoch($d) AS secs FROM d ORDER BY k")
    params = {"x": "", "d": timedelta(minutes=2, microseconds=500)}
    duck = on_duckdb(ds.path, sql, params=params)
    # By hand: bytes order 'B' (0x42) < 'a' < 'é'; '' is a value; all-NULL gives NULL; 'x,' splits in two.
    assert duck.rows() == [(1, ",B,a,\u00e9", True, 4, 120.0005), (2, None, None, None, 120.0005),
                           (3, "x,,y", True, 3, 120.0005)]
    assert_engines_agree(duck, on_spark(ds.path, sql, params=params))


def test_quantile_disc_agrees(spark, ds):  # noqa: F811
    """quantile_disc -> percentile_disc WITHIN GROUP: the same element for every fraction (NULLs skipped,
    a group of NULLs only gives NULL, NaN sorts last on both); of DOUBLE values only."""
    from rumq.engines.spark import run_sql as on_spark
    from rumq.runner import run_sql as on_duckdb

    rows = ", ".join(f"({g}, {v}, {d})" for g, v, d in [
        (1, 5, 2.5), (1, 1, 0.5), (1, 3, "'NaN'::DOUBLE"), (1, "NULL", 1.5), (1, 2, -1.0),
        (2, "NULL", "NULL"), (3, 7, 7.0), (4, 4, 0.25), (4, 4, 0.25), (4, 9, 10.0)])
    fracs = [0.0, 0.25, 0.3, 0.5, 0.75, 0.9, 1.0]
    sel = ", ".join(f"quantile_disc(CAST(v AS DOUBLE), {p}) AS v{i}, quantile_disc(CAST(d AS DOUBLE), {p}) AS d{i}"
                    for i, p in enumerate(fracs))
    sql = f"SELECT g, {sel} FROM (VALUES {rows}) AS t(g, v, d) GROUP BY g ORDER BY g"
    duck = on_duckdb(ds.path, sql)
    # By hand, group 1's values 1, 2, 3, 5: the first value whose share reaches p.
    assert [duck[f"v{i}"][0] for i in range(len(fracs))] == [1.0, 1.0, 2.0, 2.0, 3.0, 5.0, 5.0]
    assert_engines_agree(duck, on_spark(ds.path, sql))
    # Of an integer DuckDB's answer is an integer, Spark's a DOUBLE: refused by name.
    with pytest.raises(NotPortableError, match="quantile_disc is rendered for Spark only of a DOUBLE"):
        on_spark(ds.path, f"SELECT quantile_disc(v, 0.5) FROM (VALUES {rows}) AS t(g, v, d)")


def test_length_of_a_string_agrees(spark, ds):  # noqa: F811
    """len() of a provable string -> char_length: code points on both (a combining accent counts)."""
    from rumq.engines.spark import run_sql as on_spark
    from rumq.runner import run_sql as on_duckdb

    sql = ("SELECT k, len(CAST(s AS VARCHAR)) AS n, length(upper(CAST(s AS VARCHAR))) AS u FROM (VALUES "
           "(1, 'e\u0301x'), (2, '\U0001F986a'), (3, ''), (4, NULL)) AS t(k, s) ORDER BY k")
    duck = on_duckdb(ds.path, sql)
    assert duck["n"].to_list() == [3, 2, 0, None]  # by hand
    assert_engines_agree(duck, on_spark(ds.path, sql))
