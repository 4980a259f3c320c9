"""DuckDB's scalar functions rendered for Spark (rumq.engines.spark_scalars), value by value.

Each test evaluates one DuckDB expression over many values on DuckDB and its
Spark rendering (``render_expression``) over the same values on Spark local,
in one query per engine: the edge values of the construct (zeros of both
signs, NaN, infinities, NULL, huge and tiny numbers, text with NULLs and
characters outside the BMP, bytes that are not UTF-8) and seeded random ones.
A value whose text Spark writes differently must stop the query.
"""

from __future__ import annotations

import math
import random
import struct
from typing import Any

import pytest
from test_engine_spark import _same

from rumq.engines.portable import NotPortableError, render_expression

INF, NAN = math.inf, math.nan
SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -8.0, 10.0, 1 / 3, 2.5, -2.7, 1e308, -1e308, 5e-324,
           1e-300, 4503599627370495.5, -4503599627370495.5, 4503599627370496.0, 9.3e18, INF, -INF, NAN, None]


def _rows(xs: list[Any], ys: list[Any] | None = None) -> list[tuple]:
    if ys is None:
        return [(k, x) for k, x in enumerate(xs)]
    return [(k, x, y) for k, (x, y) in enumerate((x, y) for x in xs for y in ys)]


def _random_doubles(n: int, seed: int) -> list[float]:
    rnd = random.Random(seed)
    return [rnd.choice([rnd.uniform(-1e3, 1e3), float(rnd.randint(-20, 20)), rnd.uniform(-1e18, 1e18),
                        rnd.uniform(-1, 1) * 10.0 ** rnd.randint(-300, 300)]) for _ in range(n)]


def _both(spark, exprs: dict[str, str], rows: list[tuple], schema: str) -> tuple[list[tuple], list[tuple]]:
    """``exprs`` (name -> DuckDB expression) over ``rows`` on DuckDB and, rendered, on Spark; rows by ``k``."""
    import duckdb
    import pyarrow as pa

    names = [c.split()[0] for c in schema.split(", ")]
    rows_table = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)},  # noqa: F841 (read by DuckDB)
                     schema=pa.schema([(n, {"int": pa.int64(), "double": pa.float64(), "string": pa.string()}[t])
                                       for n, t in (c.split() for c in schema.split(", "))]))
    select = ", ".join(f"{e} AS {n}" for n, e in exprs.items())
    duck = duckdb.connect().sql(f"SELECT k, {select} FROM rows_table ORDER BY k").fetchall()
    df = spark.createDataFrame(rows, schema)
    got = df.selectExpr("k", *[f"{render_expression(e)} AS {n}" for n, e in exprs.items()]).orderBy("k").collect()
    return duck, [tuple(r) for r in got]


def _bits(x: Any) -> Any:
    """A DOUBLE compared exactly, the sign of zero too (any NaN is one value)."""
    if isinstance(x, float):
        return "nan" if math.isnan(x) else struct.pack(">d", x)
    return x


def test_power_fmod_trunc_abs_agree(spark):
    xs = SPECIAL + _random_doubles(60, 1)
    ys = SPECIAL + _random_doubles(30, 2)
    rows = _rows(xs, ys)  # 86 x 56 pairs
    duck, on_spark = _both(spark, {"p": "power(x, y)", "m": "fmod(x, y)"}, rows, "k int, x double, y double")
    assert len(duck) == len(on_spark) == len(rows)
    for (_, x, y), d, s in zip(rows, duck, on_spark, strict=True):
        assert _same(d[1], s[1]), ("power", x, y, d[1], s[1])  # an ulp apart at most (libm / StrictMath)
        assert _bits(d[2]) == _bits(s[2]), ("fmod", x, y, d[2], s[2])  # exact
    one = _rows(SPECIAL + _random_doubles(500, 3))
    duck, on_spark = _both(spark, {"t": "trunc(CAST(x AS DOUBLE))", "a": "abs(CAST(x AS DOUBLE))"}, one,
                           "k int, x double")
    assert [tuple(map(_bits, r)) for r in duck] == [tuple(map(_bits, r)) for r in on_spark]
    # By hand: the cases that make the rendering what it is (DuckDB's fmod takes the divisor's sign).
    cases = [(-10.0, 3.0), (10.0, -3.0), (-0.0, 1.0), (5.5, INF), (-5.5, INF), (1.0, NAN), (-1.0, INF), (10.0, 0.0)]
    _, on_spark = _both(spark, {"m": "fmod(x, y)", "p": "power(x, y)"}, [(k, x, y) for k, (x, y) in enumerate(cases)],
                        "k int, x double, y double")
    m = {c: r[1] for c, r in zip(cases, on_spark, strict=True)}
    p = {c: r[2] for c, r in zip(cases, on_spark, strict=True)}
    assert (m[(-10.0, 3.0)], m[(10.0, -3.0)], m[(5.5, INF)], m[(-5.5, INF)]) == (2.0, -2.0, 5.5, INF)
    assert _bits(m[(-0.0, 1.0)]) == _bits(0.0) and math.isnan(m[(10.0, 0.0)])
    assert p[(1.0, NAN)] == 1.0 and p[(-1.0, INF)] == 1.0  # C's pow, not Java's NaN


def test_trunc_of_a_value_not_known_to_be_a_double_is_refused():
    with pytest.raises(NotPortableError, match="trunc"):
        render_expression("trunc(x)")


#: Doubles whose text both engines write alike (0.001 <= |x| < 1e7, zeros) and the special values.
TEXT_SAME = [0.0, -0.0, 0.001, -0.001, 9999999.999999998, 1.5, 123.0, 0.1, 1 / 3, 2.5e-3, 4.35, 9999999.0,
             INF, -INF, NAN, None]


def test_doubles_as_text_agree(spark):
    rnd = random.Random(4)
    xs = TEXT_SAME + [rnd.uniform(-1, 1) * 10.0 ** rnd.uniform(-3, 7) for _ in range(3000)]
    xs = [x for x in xs if x is None or not math.isfinite(x) or x == 0 or 1e-3 <= abs(x) < 1e7]
    rows = _rows(xs)
    # x: a DOUBLE column as the renderer sees it (typeof checked when Spark runs); CAST(x AS DOUBLE): known.
    duck, on_spark = _both(spark, {"t": "CAST(x AS VARCHAR)", "u": "CAST(CAST(x AS DOUBLE) AS VARCHAR)",
                                   "c": "concat('[', CAST(CAST(x AS DOUBLE) AS VARCHAR), ']')"},
                           rows, "k int, x double")
    assert duck == on_spark
    texts = {x if x is None or not math.isnan(x) else "nan": d[1] for x, d in zip(xs, duck, strict=True)}
    assert (texts[-0.0], texts[INF], texts["nan"], texts[123.0], texts[0.001]) == ("-0.0", "inf", "nan", "123.0", "0.001")


@pytest.mark.parametrize("x, duckdb_text", [(1e7, "10000000.0"), (1e-4, "0.0001"), (1e20, "1e+20")])
def test_doubles_written_differently_stop_spark(spark, x, duckdb_text):
    import duckdb

    assert duckdb.sql(f"SELECT CAST({x!r}::DOUBLE AS VARCHAR)").fetchall() == [(duckdb_text,)]
    df = spark.createDataFrame([(x,)], "x double")
    for expr in ("CAST(CAST(x AS DOUBLE) AS VARCHAR)", "CAST(x AS VARCHAR)"):
        with pytest.raises(Exception, match="written as text differently by DuckDB and Spark"):
            df.selectExpr(render_expression(expr)).collect()


TEXTS = [None, "", "a", "é", "\U0001F600", "a b", "xyZ", "aaa", "Zx\U0001F600yZ", " \t", "%_.*", "e\u0301"]


def test_concat_replace_trim_agree(spark):
    rnd = random.Random(5)
    rows = [(k, a, b, c) for k, (a, b, c) in enumerate(
        [(a, b, c) for a in TEXTS for b in TEXTS for c in TEXTS[:4]]
        + [tuple(rnd.choice(TEXTS) for _ in range(3)) for _ in range(200)])]
    a, b, c = (f"CAST({n} AS VARCHAR)" for n in "abc")  # text as the renderer sees it (not a column of its own)
    exprs = {"cat": f"concat({a}, {b}, {c})", "cat2": f"concat({a}, {b})", "rep": f"replace({a}, {b}, {c})",
             "tr": f"trim({a}, {b})", "lt": f"ltrim({a}, {b})", "rt": f"rtrim({a}, {b})", "tr0": f"trim({a})"}
    duck, on_spark = _both(spark, exprs, rows, "k int, a string, b string, c string")
    assert duck == on_spark
    got = {r[1:4]: d for r, d in zip(rows, duck, strict=True)}
    assert got[(None, None, None)][1] == ""  # DuckDB's concat skips NULLs (Spark's alone would be NULL)
    assert got[("aaa", "", "a")][3] == "aaa" and got[("aaa", "aaa", "a")][3] == "a"
    assert got[("Zx\U0001F600yZ", "xyZ", None)][4] == "\U0001F600"


def test_concat_of_a_number_is_refused():
    with pytest.raises(NotPortableError, match="concat"):
        render_expression("concat('a', 1.5)")


def _hexes() -> list[str | None]:
    rnd = random.Random(6)
    out: list[str | None] = [f"{i:02x}" for i in range(256)] + [f"{i:04X}" for i in range(65536)]
    out += ["".join(rnd.choice("0123456789abcdef") for _ in range(rnd.choice([6, 8]))) for _ in range(20000)]
    # Near the edges of UTF-8: 3- and 4-byte forms, surrogates, past U+10FFFF, overlong.
    out += [f"{a:02x}{b:02x}{c:02x}" for a in (0xE0, 0xED, 0xEF) for b in (0x80, 0x9F, 0xA0, 0xBF) for c in (0x80, 0xBF)]
    out += [f"{a:02x}{b:02x}8080" for a in (0xF0, 0xF4, 0xF5) for b in (0x80, 0x8F, 0x90, 0xBF)]
    out += ["", "4", "abc", "zz", "4g", " 48", "48 ", "0x48", "48656c6c6f", "c3a9", "F09F9880", "00", None]
    return out


def test_hex_to_text_agrees(spark):
    """DuckDB's try(decode(unhex(h))) (hexToAscii) on every 1- and 2-byte sequence and 20,000 longer ones."""
    hexes = _hexes()
    duck, on_spark = _both(spark, {"t": "try(decode(unhex(h)))"}, _rows(hexes), "k int, h string")
    assert duck == on_spark
    got = {h: d[1] for h, d in zip(hexes, duck, strict=True)}
    assert (got["48656c6c6f"], got["abc"], got["zz"], got["ff"], got["eda080"], got["C0AF"]) == \
        ("Hello", None, None, None, None, None)
    assert got["4"] == "\x04" and got["c3a9"] == "é" and got[None] is None


def test_other_try_is_refused():
    with pytest.raises(NotPortableError, match="try"):
        render_expression("try(CAST(x AS INTEGER))")


def test_sample_lists_agree(spark):
    """The Logs Insights pattern's samples: the first 3 distinct values, sorted, as JSON text."""
    import duckdb
    import pyarrow as pa
    from pyspark.sql import functions as F

    chars = [chr(i) for i in range(128)] + ["é", "\u0080", "\u2028", "\u2029", "\ufeff", "\U0001F600", "a/b", '"q"']
    rows = [(i, c) for i, c in enumerate(chars)]
    rows += [(1000, v) for v in ["b", None, "a", "é", "a", "B", "ab", None]] + [(1001, None), (1002, "")]
    rows += [(1003, v) for v in ["x1", "x10", "x2", "x2"]]
    expr = "CAST(to_json(list_sort(list_distinct(list(CAST(s AS VARCHAR))))[1:3]) AS VARCHAR)"
    t = pa.table({"g": [r[0] for r in rows], "s": [r[1] for r in rows]})  # noqa: F841 (read by DuckDB)
    duck = duckdb.connect().sql(f"SELECT g, {expr} AS j FROM t GROUP BY g ORDER BY g").fetchall()
    df = spark.createDataFrame(rows, "g int, s string")
    got = [tuple(r) for r in df.groupBy("g").agg(F.expr(render_expression(expr)).alias("j")).orderBy("g").collect()]
    assert duck == got
    by = dict(duck)
    assert (by[1000], by[1001], by[1002], by[1003]) == ('["B","a","ab"]', "[]", '[""]', '["x1","x10","x2"]')


@pytest.mark.parametrize("pattern", ["a$", "[0-9]+(\\.[0-9]+)?", "(?i)A"])
def test_regexp_replace_with_a_bound_pattern_agrees(spark, pattern):
    """A bound RE2 pattern (the pattern command's) is translated to Java in its value (render_bound)."""
    import duckdb
    import pyarrow as pa

    from rumq.engines.portable import render_bound

    texts = ["a\na", "ba", "a\n", "v1.25 and 7", "", None, "\u00e9a", "AAa"]
    sql = "SELECT k, regexp_replace(CAST(s AS VARCHAR), $p, '<*>', 'g') AS r FROM t ORDER BY k"
    t = pa.table({"k": list(range(len(texts))), "s": texts})  # noqa: F841 (read by DuckDB)
    duck = duckdb.connect().execute(sql.replace("$p", "?"), [pattern]).fetchall()
    rendered, bound = render_bound(sql, {"p": pattern})
    spark.createDataFrame(list(enumerate(texts)), "k int, s string").createOrReplaceTempView("t")
    assert duck == [tuple(r) for r in spark.sql(rendered, args=bound).collect()]
    if pattern == "a$":
        assert duck[0][1] == "a\n<*>" and duck[2][1] == "a\n"  # RE2's $ is the very end only
