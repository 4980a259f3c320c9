"""pages/groups on Spark: list_distinct (inside len() and unnest() only) and the page-group counts.

The hand-built story of tests/test_page_groups.py (a repeated tag, an untagged page view, a bounce,
an error session); each parameter set must give DuckDB's answer on Spark.
"""

from __future__ import annotations

import pytest
from test_engine_spark import assert_engines_agree
from test_page_groups import ds  # noqa: F401 (the module's dataset fixture)


@pytest.mark.parametrize("params", [{}, {"top": "2"}, {"include_cookieless": "true"}], ids=str)
def test_pages_groups_on_spark(spark, ds, params):  # noqa: F811
    from rumq.engines.spark import run_query

    duck = ds.run("pages/groups", **params)
    assert duck.height > 0
    assert_engines_agree(duck, run_query(ds.path, "pages/groups", params))


def test_list_distinct_drops_nulls_on_both(spark, ds):  # noqa: F811
    from rumq.engines.spark import run_sql as on_spark
    from rumq.runner import run_sql as on_duckdb

    sql = ("SELECT k, len(list_distinct(l)) AS n FROM (VALUES (1, ['a', NULL, 'a', 'b']), (2, CAST([] AS VARCHAR[])), "
           "(3, [NULL, NULL]), (4, CAST(NULL AS VARCHAR[]))) AS t(k, l) ORDER BY k")
    duck = on_duckdb(ds.path, sql)
    assert duck.rows() == [(1, 2), (2, 0), (3, 0), (4, None)]  # by hand: NULL elements do not count
    assert_engines_agree(duck, on_spark(ds.path, sql))
    tags = ("SELECT unnest(list_distinct(l)) AS tag FROM (VALUES (['b', NULL, 'a', 'b'])) AS t(l) ORDER BY tag")
    duck = on_duckdb(ds.path, tags)
    assert duck["tag"].to_list() == ["a", "b"]
    assert_engines_agree(duck, on_spark(ds.path, tags))
