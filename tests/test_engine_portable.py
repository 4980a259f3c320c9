"""The portable rendering layer, without Spark: rewrites on the parse tree, refusals by name."""

from __future__ import annotations

import re

import pytest

from rumq.engines.portable import (
    NotPortableError,
    _matches_once,
    java_pattern,
    java_replacement,
    render,
    spark_views,
)


def test_exact_percentile_not_the_approximate_one():
    out = render("SELECT quantile_cont(x, 0.9) AS p FROM t")
    assert "PERCENTILE(x, 0.9)" in out and "APPROX" not in out.upper()
    assert "PERCENTILE(x, ARRAY(0.5, 0.9))" in render("SELECT quantile_cont(x, [0.5, 0.9]) FROM t")
    with pytest.raises(NotPortableError, match="quantile_cont"):
        render("SELECT quantile_cont(x, p) FROM t")


def test_regex_back_references_and_anchors():
    assert java_replacement(r"/:id\2") == "/:id$2"
    assert java_replacement(r"\1 costs $5 \\ ok") == r"$1 costs \$5 \\ ok"
    assert java_pattern(r"(.)/+$") == r"(.)/+\z"
    assert java_pattern(r"[$]x\$") == r"[$]x\$"  # a '$' in a class or escaped stays literal
    with pytest.raises(NotPortableError):
        java_pattern(r"[a[b]]")
    with pytest.raises(NotPortableError):
        java_replacement(r"\n")
    out = render(r"SELECT regexp_replace(p, '/([0-9]+)(/|$)', '/:id\2', 'g') FROM t")
    assert r"'/:id$2'" in out and "'g'" not in out and r"(/|\\z)" in out


def test_replace_without_g_only_when_it_can_match_once():
    assert _matches_once("(.)/+$") and _matches_once("[?#].*$") and _matches_once("^https?://")
    assert not _matches_once("a") and not _matches_once("x*$") and not _matches_once("^a|b")
    assert not _matches_once(r"\b$")
    render("SELECT regexp_replace(p, '[?#].*$', '') FROM t")
    with pytest.raises(NotPortableError, match="first match only"):
        render("SELECT regexp_replace(p, '[0-9]', 'n') FROM t")
    with pytest.raises(NotPortableError, match="options"):
        render("SELECT regexp_replace(p, 'a', 'b', 'i') FROM t")


def test_types_and_null_semantics_kept():
    assert "AVG(CAST(x AS DOUBLE))" in render("SELECT avg(x) FROM t")
    div = render("SELECT a / b FROM t")
    assert "'Infinity'" in div and "'NaN'" in div  # DuckDB 2 divides by zero the IEEE way
    assert "IF(p IS NULL, NULL," in render("SELECT arg_max(p, k) FROM t")
    # arg_min_null / arg_max_null keep a NULL value at the least / greatest key, as Spark's min_by does.
    kept = render("SELECT arg_min_null(p, k), arg_max_null(p, {'i': i}) FILTER (WHERE a) FROM t")
    assert "MIN_BY(p, k)" in kept and "MAX_BY(p, STRUCT(i AS i)) FILTER(WHERE a)" in kept and "IF(" not in kept
    assert "http_status DIV 100" in render("SELECT http_status // 100 FROM events")
    rounded = render("SELECT CAST(x AS BIGINT), CAST(count(*) AS BIGINT), CAST(interaction AS INT) FROM events")
    assert "BROUND(x)" in rounded and "CAST(COUNT(*) AS BIGINT)" in rounded and "CAST(interaction AS INT)" in rounded
    epoch = render("SELECT epoch(max(t)) FROM x")
    assert "UNIX_MICROS" in epoch and "UNIX_TIMESTAMP" not in epoch
    uuid = render("SELECT CAST(min(user_uuid) AS VARCHAR), CAST(other AS VARCHAR) FROM t")
    assert "HEX(MIN(user_uuid))" in uuid
    # A column of unknown type is written as text as it is, unless it turns out a DOUBLE or FLOAT at run
    # time, whose text the engines write alike only within 0.001..1e7 (rumq.engines.spark_scalars).
    assert "ELSE CAST(rumq_x AS STRING) END" in uuid and "TYPEOF(rumq_x) = 'double'" in uuid
    assert "RAISE_ERROR('a FLOAT is written as text differently" in uuid


def test_planner_hints_removed():
    out = render("WITH a AS NOT MATERIALIZED (SELECT 1 AS x) SELECT unnest(list(x)) AS x FROM a")
    assert "MATERIALIZED" not in out and "EXPLODE" not in out and "COLLECT_LIST" not in out
    with pytest.raises(NotPortableError, match=re.escape("list()/array_agg")):
        render("SELECT k, list(x ORDER BY y) FROM t GROUP BY k")


@pytest.mark.parametrize("sql, construct", [
    ("SELECT * FROM t WHERE p GLOB '/a[bc]*'", "GLOB pattern '/a[bc]*'"),
    ("SELECT * FROM t WHERE p GLOB '/a\\*'", "GLOB pattern"),
    ("SELECT len(p) FROM t", "len()"),
    ("CREATE MACRO m(x) AS x + 1", "CREATE"),
    ("SELECT * FROM rumq_audience('no_such_column', false)", "no_such_column"),
    ("WITH s AS (SELECT 1) SELECT * FROM rumq_audience('browser_name', false), s", "clash"),
    ("SELECT COLUMNS(lambda c: c = 'a') FROM t", "COLUMNS"),
    ("SELECT * FROM read_parquet(getvariable('f'))", "read_parquet"),
    ("SELECT k FROM range(1, 9, 2) AS r(k)", "range()"),
    ("SELECT range(1, 3) AS k", "range()"),
    ("SELECT date_trunc('millisecond', t) FROM x", "MILLISECOND"),
    ("SELECT duration // 2 FROM events", "'//'"),
])
def test_refused_by_name(sql, construct):
    with pytest.raises(NotPortableError, match=re.escape(construct)) as e:
        render(sql, what="q")
    assert e.value.exit_code == 2 and str(e.value).startswith("q")


def test_every_view_renders():
    from rumq.views import VIEW_NAMES

    assert list(spark_views()) == list(VIEW_NAMES)


def test_sorted_struct_list_keeps_duckdbs_order():
    out = render("SELECT list_sort(list({'s': s, 'p': p})) FROM t GROUP BY k")
    assert "ARRAY_SORT(COLLECT_LIST(" in out and "(l, r) ->" in out
    with pytest.raises(NotPortableError, match="list_sort"):
        render("SELECT list_sort(list(p)) FROM t GROUP BY k")  # NULL elements: kept by DuckDB only


def test_audience_macro_inlined():
    out = render("SELECT k FROM rumq_audience('country_code', $inc)")
    assert "country_code AS k" in out and ":inc" in out and "COLUMNS" not in out.upper()


def test_glob_as_like_with_its_wildcards_and_literals():
    """GLOB's * and ? are LIKE's % and _; GLOB reads % and _ as themselves, so they are escaped."""
    out = render("SELECT p GLOB '/a*_%?' FROM t")
    assert r"p LIKE REPLACE(REPLACE(REPLACE(REPLACE('/a*_%?', '%', '\\%'), '_', '\\_'), '*', '%'), '?', '_')" in out
    bound = render("SELECT p GLOB $pattern FROM t")
    assert "RAISE_ERROR(" in bound and "INSTR(:pattern, '[') > 0" in bound


def test_range_table_and_list_length():
    assert "FROM RANGE(1, 4) AS r(k)" in render("SELECT k FROM range(1, 4) AS r(k)")
    assert "FROM RANGE(1, (4) + 1) AS r(k)" in render("SELECT k FROM generate_series(1, 4) AS r(k)")
    n = render("SELECT len($l::VARCHAR[]) FROM t")
    assert "IF(CAST(:l AS ARRAY<STRING>) IS NULL, NULL, SIZE(CAST(:l AS ARRAY<STRING>)))" in n


def test_logs_insights_functions_rendered_by_type():
    """epoch_ms goes the way its argument's type says; strftime only in the compiler's formats."""
    assert "UNIX_MILLIS(CAST(event_time AS TIMESTAMP))" in render("SELECT epoch_ms(event_time) FROM events")
    binned = render("SELECT epoch_ms(epoch_ms(event_time) // 60000 * 60000) FROM events")
    assert "CAST(TIMESTAMP_MILLIS(" in binned and "AS TIMESTAMP_NTZ)" in binned and "DIV 60000" in binned
    with pytest.raises(NotPortableError, match="epoch_ms of an argument whose type"):
        render("SELECT epoch_ms(x) FROM t")
    assert "DATE_FORMAT(t, 'yyyy-MM-dd HH:mm:ss.SSS')" in render("SELECT strftime(t, '%Y-%m-%d %H:%M:%S.%g') FROM x")
    with pytest.raises(NotPortableError, match="strftime with the format"):
        render("SELECT strftime(t, '%d/%m') FROM x")
    with pytest.raises(NotPortableError, match="left"):
        render("SELECT left(s, -1) FROM x")


def test_bound_regex_values_translated_to_java():
    from rumq.engines.portable import render_bound

    sql, values = render_bound("SELECT s RLIKE 'x' AS a, regexp_matches(s, $p) AS b FROM t", {"p": "a$", "q": "b$"})
    assert ":p" in sql and values == {"p": "a\\z", "q": "b$"}  # only the pattern parameter changes
    with pytest.raises(NotPortableError, match=r"\$p is both"):
        render_bound("SELECT regexp_matches(s, $p), $p AS shown FROM t", {"p": "a"})


def test_multiline_patterns_end_lines_at_newline_only():
    """RE2's (?m) ends lines at \\n only: Java gets the UNIX_LINES flag and keeps its '$'."""
    from rumq.engines.portable import spark_pattern

    assert spark_pattern(r"(?m)^\s*(at \S.*)\s*$") == r"(?md)^\s*(at \S.*)\s*$"
    assert spark_pattern(r"a$") == r"a\z"
    assert r"'(?md)^x$'" in render(r"SELECT regexp_extract(s, '(?m)^x$', 0) FROM t")
