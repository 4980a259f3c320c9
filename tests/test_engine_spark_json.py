"""DuckDB's ``->>`` / ``json_extract_string`` and ``TRY_CAST(s AS DOUBLE)`` on Spark, value by value.

rumq.engines.spark_json renders ``->>`` as ``get_json_object`` where the text is
DuckDB's and stops the query where it is not. Here both engines run the same
SQL over JSON documents chosen for the differences: number forms, escapes,
nested values, JSON null vs missing, digit segments (index or key), keys
with '.', '/' and '~', a bound pointer and one built from a parameter. What
Spark writes differently must stop the query, naming the value (DuckDB's
answer is checked by hand); what cannot be spelled as a Spark path is refused
before Spark starts.
"""

from __future__ import annotations

import pytest
from test_engine_spark import assert_engines_agree
from test_insights_golden import build

from rumq.engines.portable import NotPortableError, render_bound
from rumq.errors import QueryExecutionError

#: Documents whose extractions Spark writes as DuckDB does.
SAME = [
    '{"a": 503}', '{"a": 1.5}', '{"a": 1.0}', '{"a": 1E+2}', '{"a": 0.001}', '{"a": 9999999.0}', '{"a": -0.0}',
    '{"a": 12345678901234567890}', '{"a": 2.50}', '{"a": "\\u00e9"}', '{"a": "x\\"y\\n\\u0001"}',
    '{"a": null}', '{"a": true}', '{"a": ""}', '{"a": {"b": 1, "c": [1, 2.50, "x", null]}}', '{"a": []}',
    '{"a": {"b": "\u00e9\\"\\n\\u0001/", "z": {}}}', '{"a": [1, {"z": null}]}', '{"a": [{"z": 7}]}',
    '{"a": {"1": "k", "0": {"z": 8}}}', '{"a": ["p", "q"]}', '{"a.b": 7, "a": {"b": 8}}', '{"a": 1, "a": 2}',
    '{"x/y": 5, "01": 6, "~": 9, "a": {"b": 1e-3}}', '[1, 2]', '"str"', '42', 'null', ' null ', '{}',
    '{"a": [[1, 2], [3]]}', '{"A": 1}',
]


def _values(docs: list[str]) -> str:
    rows = ", ".join(f"({i}, '{d}')" for i, d in enumerate(docs))
    return f"(VALUES {rows}) AS t(k, j)"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build(tmp_path_factory.mktemp("spark-json"))


def _both(data, sql: str, params: dict | None = None):
    from rumq.engines.spark import run_sql as on_spark
    from rumq.runner import run_sql as on_duckdb

    return on_duckdb(data, sql, params=params), on_spark(data, sql, params=params)


def test_extractions_agree(spark, data):
    sql = ("SELECT k, json_extract_string(j, '/a') AS a, json_extract_string(j, '/a/b') AS ab, "
           "json_extract_string(j, '/a/1') AS a1, json_extract_string(j, '/a/0/z') AS a0z, "
           "json_extract_string(j, '') AS whole, j ->> '$.a' AS dollar_a, j ->> '$.a[1]' AS dollar_a1, "
           "json_extract_string(j, '/a.b') AS dotted, json_extract_string(j, '/01') AS lead0, "
           "json_extract_string(j, $p) AS bound, json_extract_string(j, '/' || $f) AS built, "
           "json_extract_string(j, '/~0') AS tilde "
           f"FROM {_values(SAME)} ORDER BY k")
    duck, spark_ = _both(data, sql, {"p": "/a/0/z", "f": "x~1y"})
    assert_engines_agree(duck, spark_)
    got = {r["k"]: r for r in duck.to_dicts()}
    # By hand, the cases that make the rendering what it is:
    assert got[SAME.index('{"a": 1.0}')]["a"] == "1.0"
    assert got[SAME.index('{"a": null}')]["a"] is None and got[SAME.index("null")]["whole"] is None
    assert got[SAME.index(' null ')]["whole"] is None
    assert got[SAME.index('{"a": ["p", "q"]}')]["a1"] == "q"  # a digit segment on an array: an index
    assert got[SAME.index('{"a": {"1": "k", "0": {"z": 8}}}')]["a1"] == "k"  # on an object: a key
    assert got[SAME.index('{"a": {"1": "k", "0": {"z": 8}}}')]["bound"] == "8"
    assert got[SAME.index('{"a": [{"z": 7}]}')]["bound"] == "7"
    assert got[SAME.index('{"a.b": 7, "a": {"b": 8}}')]["dotted"] == "7"
    row = got[SAME.index('{"x/y": 5, "01": 6, "~": 9, "a": {"b": 1e-3}}')]
    assert (row["built"], row["lead0"], row["tilde"], row["ab"]) == ("5", "6", "9", "0.001")
    assert got[SAME.index('{"a": {"b": 1, "c": [1, 2.50, "x", null]}}')]["a"] == '{"b":1,"c":[1,2.5,"x",null]}'
    assert got[SAME.index('{"a": "\\u00e9"}')]["a"] == "\u00e9"
    # A character outside the BMP as the value itself (escaped or not): the same on both.
    emoji = "SELECT json_extract_string(j, '/a') AS a FROM (VALUES ('{\"a\": \"\\ud83d\\ude00\"}'), " \
            "('{\"a\": \"\U0001F600\"}')) AS t(j)"
    duck, spark_ = _both(data, emoji)
    assert duck["a"].to_list() == ["\U0001F600"] * 2
    assert_engines_agree(duck, spark_)


#: (document, pointer, DuckDB's text by hand): Spark writes these differently and must stop.
DIFFERENT = [
    ('{"a": 1e20}', "/a", "100000000000000000000.0"),
    ('{"a": 1.5e-7}', "/a", "1.5e-7"),
    ('{"a": 1e400}', "/a", "1e400"),
    ('{"a": [1e20]}', "/a", "[100000000000000000000.0]"),
    ('{"a": {"b": "\\ud83d\\ude00"}}', "/a", '{"b":"\U0001F600"}'),
    # A string that looks like Java's exponent form: the same text on both, stopped all the same.
    ('{"a": "1.0E20"}', "/a", "1.0E20"),
]


@pytest.mark.parametrize("doc, pointer, text", DIFFERENT, ids=[d for d, _, _ in DIFFERENT])
def test_different_text_stops_spark(spark, data, doc, pointer, text):
    from rumq.engines.spark import run_sql as on_spark
    from rumq.runner import run_sql as on_duckdb

    sql = f"SELECT json_extract_string(j, $p) AS v FROM {_values([doc])}"
    assert on_duckdb(data, sql, params={"p": pointer})["v"].to_list() == [text]
    with pytest.raises(QueryExecutionError, match="Spark writes differently from DuckDB"):
        on_spark(data, sql, params={"p": pointer})


@pytest.mark.parametrize("pointer, why", [
    ("/a/1/2", "more than one numeric segment"),
    ("/", "cannot spell"),
    ("/a'b", "cannot spell"),
    ("/*", "cannot spell"),
    ("/a~2", "'~' escapes"),
    ("a", "not a JSON pointer"),
])
def test_pointers_without_a_spark_path_are_refused(pointer, why):
    with pytest.raises(NotPortableError, match=why):
        render_bound("SELECT json_extract_string(j, $p) FROM t", {"p": pointer})


def test_literal_and_computed_paths_refused_by_name():
    from rumq.engines.portable import render

    for sql, why in [("SELECT json_extract_string(j, '/a/0/1') FROM t", "more than one numeric"),
                     ("SELECT j ->> '$.a[*]' FROM t", "not rendered for Spark"),
                     ("SELECT json_extract_string(j, k) FROM t", "is computed")]:
        with pytest.raises(NotPortableError, match=why):
            render(sql)


def test_built_pointer_stops_only_when_evaluated(spark, data):
    """A pointer built from a parameter ('/' || $f) is checked when Spark reads it (events/custom's field)."""
    from rumq.engines.spark import run_sql as on_spark

    doc = '{"a": 1}'
    sql = (f"SELECT CASE WHEN $f = '' THEN 'none' ELSE json_extract_string(j, '/' || $f) END AS v "
           f"FROM {_values([doc])}")
    duck, spark_ = _both(data, sql, {"f": ""})
    assert duck["v"].to_list() == ["none"]
    assert_engines_agree(duck, spark_)
    with pytest.raises(QueryExecutionError, match="more than one numeric segment"):
        on_spark(data, sql, params={"f": "a/0/1"})


def test_try_cast_to_double_agrees(spark, data):
    texts = ["1.5d", "2F", " 12 ", "inf", "-Infinity", "NaN", "1e5", "x", ".5", "5.", "", "0x10", "12abc", "1,5"]
    rows = ", ".join(f"({i}, '{t}')" for i, t in enumerate(texts))
    sql = f"SELECT k, TRY_CAST(s AS DOUBLE) AS x FROM (VALUES {rows}) AS t(k, s) ORDER BY k"
    duck, spark_ = _both(data, sql)
    assert duck["x"].to_list()[:3] == [None, None, 12.0]  # DuckDB takes no Java suffix (Spark alone would: 1.5)
    assert_engines_agree(duck, spark_)


def test_try_cast_with_underscores_stops_spark(spark, data):
    from rumq.engines.spark import run_sql as on_spark
    from rumq.runner import run_sql as on_duckdb

    sql = "SELECT TRY_CAST(s AS DOUBLE) AS x FROM (VALUES ('1_000')) AS t(s)"
    assert on_duckdb(data, sql)["x"].to_list() == [1000.0]
    with pytest.raises(QueryExecutionError, match="has _ between digits"):
        on_spark(data, sql)
