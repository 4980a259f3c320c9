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

import re

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


# -- json_valid, json_type, json(), json_array_length (the Logs Insights jsonParse) --------------

#: (text, DuckDB's json_valid by hand, what Spark decides: the same, or None where it cannot tell).
VALIDITY = [
    ('{"a":1}', True, True), (' {"a":1} ', True, True), ("42", True, True), ('"s"', True, True),
    ("null", True, True), ("[]", True, True), ("\t[1]\r\n", True, True), ('[1e400]', True, True),
    ("not json", False, False), ("", False, False), (" ", False, False), ("\ufeff{}", False, False),
    # Spark's readers take these (they stop after the first value); DuckDB does not.
    ('{"a":1} x', False, False), ('{"a":1}{"b":2}', False, False), ("1]", False, False), ("[1]\x0b", False, False),
    ('{"a":"\x01"}', False, False), ('{"a":01}', False, False),
    ("{a:1}", False, False), ("[.5]", False, False), ("[1 2]", False, False),
    # DuckDB's reader takes trailing commas, NaN and duplicate keys; Spark's strict one does not: not decided.
    ("[1,]", True, None), ('{"a":NaN}', True, None), ('{"a":1,"a":2}', True, None),
    ('["a\tb"]', False, None), ('{"a":"\\ud83d"}', False, None), ('{"k":"rumq:end"}', True, None),
]


def _fuzz_texts(n: int, seed: int) -> list[str]:
    """JSON documents, some with one or two characters deleted, inserted or replaced."""
    import json
    import random

    rnd = random.Random(seed)

    def doc(d: int = 0):
        r = rnd.random()
        if d > 3 or r < 0.3:
            return rnd.choice([rnd.randint(-10**6, 10**6), round(rnd.uniform(1, 1e4), rnd.randint(0, 3)), "s\u00e9",
                               "", True, False, None, 'a"b\\c'])
        if r < 0.65:
            return [doc(d + 1) for _ in range(rnd.randint(0, 4))]
        return {rnd.choice(["a", "b", "\u00e9", ""]) + str(i): doc(d + 1) for i in range(rnd.randint(0, 4))}

    alphabet = list('{}[]",:01-.eE \t\n\r\\uabtrnlsx') + ["\x01", "\x0b", "NaN", "//", "\x00"]
    out = []
    for _ in range(n):
        t = json.dumps(doc(), ensure_ascii=rnd.random() < 0.3, separators=rnd.choice([(",", ":"), (", ", ": ")]))
        for _ in range(rnd.choice([0, 0, 1, 1, 2])):
            i, c, op = rnd.randrange(len(t) + 1), rnd.choice(alphabet), rnd.random()
            t = t[:i] + t[i + 1:] if op < 0.33 else t[:i] + c + t[i:] if op < 0.66 else t[:i] + c + t[i + 1:]
        out.append(t)
    return out


def _spark_column(spark, texts: list[str], expr) -> list:
    df = spark.createDataFrame(list(enumerate(texts)), "k int, t string")
    return [r[1] for r in df.selectExpr("k", expr.sql(dialect="spark")).orderBy("k").collect()]


def test_json_valid_agrees(spark):
    """Spark decides json_valid as DuckDB wherever it decides (edge texts and 4,000 random ones)."""
    import duckdb
    import sqlglot

    from rumq.engines import spark_json

    texts = [t for t, _, _ in VALIDITY] + _fuzz_texts(4000, 11)
    con = duckdb.connect()
    duck = [con.execute("SELECT json_valid(?)", [t]).fetchall()[0][0] for t in texts]
    assert duck[:len(VALIDITY)] == [v for _, v, _ in VALIDITY]  # by hand
    # The rendering with "not decided" as NULL instead of a stop, so that one query sees every text.
    undecided = spark_json._let(spark_json._valid_sql("CAST(NULL AS BOOLEAN)"), sqlglot.parse_one("t"))
    got = _spark_column(spark, texts, undecided)
    assert got[:len(VALIDITY)] == [s for _, _, s in VALIDITY]
    assert all(g is None or g == d for g, d in zip(got, duck, strict=True)), \
        [(t, d, g) for t, d, g in zip(texts, duck, got, strict=True) if g is not None and g != d][:5]
    assert sum(g is None for g in got) < len(texts) * 0.05  # 101 of 4,027 (2.5%), mostly with NaN put in


def test_json_text_kind_and_length_agree(spark):
    """jsonParse's compact text, json_type and json_array_length of the valid texts above."""
    import duckdb

    texts = [t for t, v, s in VALIDITY if s] + [
        t for t in _fuzz_texts(2000, 12) if duckdb.execute("SELECT json_valid(?)", [t]).fetchall()[0][0]]
    # Not the texts Spark cannot decide, nor numbers in exponent form (written differently: a stop).
    texts = [t for t in texts if "," not in t.rstrip()[-2:] and "NaN" not in t and not re.search("[0-9][eE]", t)
             and not _duplicate_keys(t)]
    t = "CAST(t AS VARCHAR)"
    exprs = {"j": f"CASE WHEN json_type({t}) IN ('OBJECT', 'ARRAY') THEN CAST(json({t}) AS VARCHAR) END",
             "a": f"json_type({t}) = 'ARRAY'", "n": f"json_array_length({t})", "v": f"json_valid({t})",
             # unnest: each element's JSON text, and the JSON string of a text.
             "e": f"CAST(json_extract({t}, '$[*]') AS VARCHAR[])", "q": f"to_json({t})"}
    from test_engine_spark_scalars import _both

    duck, on_spark = _both(spark, exprs, list(enumerate(texts)), "k int, t string")
    assert duck == on_spark
    got = {texts[r[0]]: r[1:] for r in duck}
    assert got["\t[1]\r\n"][:4] == ("[1]", True, 1, True) and got['{"a":1}'][2] == 0  # 0 elements: not an array
    assert got['"s"'][4:] == ([], '"\\"s\\""') and got["[]"][4] == []
    arrays = [r for r in duck if r[2] and r[3] > 1]
    assert len(arrays) > 100 and any('"' in x for r in arrays for x in r[5])  # strings among the elements


def _duplicate_keys(text: str) -> bool:
    import json

    def hook(pairs):
        if len({k for k, _ in pairs}) < len(pairs):
            raise ValueError
        return dict(pairs)

    try:
        json.loads(text, object_pairs_hook=hook)
    except ValueError:
        return True
    return False


def test_json_validity_rumq_cannot_tell_stops_spark(spark, data):
    from rumq.engines.spark import run_sql as on_spark
    from rumq.runner import run_sql as on_duckdb

    sql = "SELECT json_valid(CAST($t AS VARCHAR)) AS v"
    assert on_duckdb(data, sql, params={"t": "[1,]"})["v"].to_list() == [True]
    with pytest.raises(QueryExecutionError, match="is JSON as DuckDB reads it is not known on Spark"):
        on_spark(data, sql, params={"t": "[1,]"})
    duck, spark_ = _both(data, sql, {"t": '{"a":1} x'})
    assert duck["v"].to_list() == [False]
    assert_engines_agree(duck, spark_)


def test_json_functions_refused_elsewhere():
    from rumq.engines.portable import render

    for sql, why in [("SELECT json_type(j) FROM t", "json_type"), ("SELECT json_type(j) = 'VARCHAR' FROM t", "json_type"),
                     ("SELECT json(j) FROM t", "json\\(\\)"), ("SELECT json_valid(j, 1) FROM t", "json_valid")]:
        with pytest.raises(NotPortableError, match=why):
            render(sql)
