"""Athena/Trino SQL: each built-in query that renders is checked three ways; the others are refused by name.

1. The statement parses in sqlglot's Trino dialect;
2. it holds none of the constructs Trino rejects (``rumq.engines.trino_check``);
3. its DuckDB twin (the Trino statement transpiled back with sqlglot trino -> duckdb)
   run over a DuckDB table shaped like the Athena table of ``rumq athena ddl``
   (ids as 16-byte BLOBs, ``event_date`` a string) gives the native DuckDB answer.

The dataset is test_engine_spark's (analyses_data's story plus the cases that break
engines: NULL dimensions, a non-UUID session id, a page rule with a back-reference,
a session across midnight, ...). Athena itself is not reachable here.
"""

from __future__ import annotations

import json
import re

import pytest
from clirun import invoke
from polars_data import ingest_messages
from test_engine_spark import FUNNELS, RULES, _messages, assert_engines_agree

from rumq.engines.portable import NotPortableError

SINCE, UNTIL = "2026-11-01", "2026-11-04"
CART = "com.example.shop.add_to_cart"


def _trino_messages() -> list[dict]:
    """test_engine_spark's messages plus what the users/*, events/custom, pages/groups and event-step
    funnels read: page tags (a repeated tag, a NULL tag), custom events (a nested field, numeric text,
    one without a session id), U1 seen before the window (so not new in it) and U2 again the next day."""
    import analyses_data as A

    out = _messages()
    tags = {"/home": ["home"], "/products/12": ["product", "sale", "product"], "/cart/": ["sale", None]}
    for m in out:
        if m["user_details"]["sessionId"] == A.S1 and m["metadata"]["pageId"] in tags:
            m["metadata"]["pageTags"] = tags[m["metadata"]["pageId"]]

    def add(at, session, user, page, i=None, kind="page_view", days=0, **details):
        m = A.msg("lcp" if kind != "page_view" else kind, at, session=session, user=user, page=page,
                  interaction=i, ctx=A.CHROME_US)
        if kind != "page_view":
            m["event_type"], m["event_details"] = kind, {"version": "1.0.0", **details}
        m["event_timestamp"] += days * 86_400_000
        out.append(m)

    add("10:00:40", A.S1, A.U1, "/products/12", 1, CART, price=10, item={"sku": "n1"})
    add("11:00:20", A.S2, A.U1, "/cart", 1, CART, price="5.5", sku="x2")
    add("11:00:21", A.S2, A.U1, "/cart", 1, CART, price="n/a")
    add("14:10:00", None, None, "/search", None, "com.example.shop.search", q="shoes")
    u1_before = "5e55aaaa-0000-4000-8000-000000000000"
    add("09:00:00", u1_before, A.U1, "/home", 0, days=-2)  # 2026-10-31: before the window
    u2_again = "5e55bbbb-0000-4000-8000-000000000000"
    add("09:00:00", u2_again, A.U2, "/home", 0, days=1)
    add("09:00:05", u2_again, A.U2, "/cart", 1, CART, days=1, price=7)
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return ingest_messages(tmp_path_factory.mktemp("trino"), _trino_messages(), RULES)


@pytest.fixture(scope="module")
def athena_like(data):
    """A DuckDB connection holding the table ``rumq_events`` as Athena sees the dataset (Glue types)."""
    import duckdb

    from rumq.schema import PARTITION_COLUMN, STORED_COLUMNS
    from rumq.store import Store

    files = Store(data).event_files(None, None)
    cols = []
    for c in STORED_COLUMNS:
        if c.type == "UUID":  # Glue binary: the 16 bytes
            cols.append(f"unhex(replace(CAST({c.name} AS VARCHAR), '-', '')) AS {c.name}")
        else:
            cols.append(c.name)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE rumq_events AS SELECT {', '.join(cols)}, CAST({PARTITION_COLUMN} AS VARCHAR) "
                f"AS {PARTITION_COLUMN} FROM read_parquet(?, hive_partitioning = true)", [files])
    return con


def twin(trino_sql: str) -> str:
    from rumq.engines.trino import duckdb_twin

    return duckdb_twin(trino_sql)


CASES = [
    ("pages/drop_off", {}),
    ("pages/drop_off", {"include_cookieless": "true", "top": "100"}),
    ("sessions/summary", {}),
    ("pages/entry", {}),
    ("pages/entry", {"include_cookieless": "true"}),
    ("journeys/transitions", {}),
    ("journeys/transitions", {"steps": "2", "include_cookieless": "true"}),
    ("journeys/top_paths", {}),
    ("journeys/top_paths", {"depth": "2", "include_cookieless": "true"}),
    ("sessions/summary", {"include_cookieless": "true"}),
    ("errors/rate_per_session", {"dimension": "browser", "bucket": "hour"}),
    ("errors/rate_per_session", {"dimension": "country", "bucket": "day", "include_cookieless": "true"}),
    ("errors/top_js", {}),
    ("audience/browsers", {}),
    ("audience/countries", {"include_cookieless": "true"}),
    ("audience/devices", {"top": "2"}),
    ("data/quality", {}),
    ("http/errors", {}),
    ("performance/page_load", {}),
    ("performance/page_load", {"by": "none", "initiator": "navigation"}),
    ("performance/web_vitals", {}),
    ("performance/web_vitals", {"by": "none", "metric": "LCP", "sort": "poor"}),
    ("users/summary", {}),
    ("users/summary", {"period": "day"}),
    ("users/summary", {"period": "hour"}),
    ("users/summary", {"period": "week"}),
    ("users/retention", {}),
    ("users/retention", {"period": "day"}),
    ("users/retention", {"period": "hour"}),
    ("sessions/list", {}),
    ("sessions/list", {"include_cookieless": "true", "top": "3"}),
    ("sessions/list", {"page": "/c?rt", "js_error": "false", "min_duration": "10s"}),
    ("sessions/list", {"domain": "SHOP.example.com", "browser": "chrome", "max_duration": "100s"}),
    ("sessions/list", {"http_error": "true", "include_cookieless": "true", "min_pages": "2"}),
    ("events/custom", {}),
    ("events/custom", {"field": "price"}),
    ("events/custom", {"field": "item/sku", "type": "com.example.*"}),
    ("events/custom", {"field": "price", "numeric": "true"}),
    ("pages/groups", {}),
    ("pages/groups", {"include_cookieless": "true", "top": "2"}),
]
# The funnels of test_engine_spark (sequential, strict, windows, an export-line tie, wildcards, '%'
# and '_' kept literal), with sessions per step by hand: its counts, plus U2's session of 11-03,
# one more /home start that reaches no page after it. And event steps (custom events in the path):
# /home, add_to_cart, /cart: S1 (10:00:00, 10:00:40, 10:02:00) and S2 (11:00:00, 11:00:20, 11:00:45);
# U2's session of 11-03 has /home then add_to_cart (+5 s) and no /cart page. Strict: only U2 goes from
# /home straight to the event. A 30 s window: S2 (+20 s) and U2 (+5 s), not S1 (+40 s).
FUNNELS_HERE = [(p, [n[0] + 1, *n[1:]] if p["steps"].startswith(("/home", "/?ome")) else n) for p, n in FUNNELS]
EVENT_FUNNELS = [
    ({"steps": f"/home,event:{CART},/cart"}, [6, 3, 2]),
    ({"steps": f"/home,event:{CART},/cart", "mode": "strict"}, [6, 1, 0]),
    ({"steps": "/home,event:com.example.*", "window": "30s"}, [6, 2]),
]
CASES += [("funnels/conversion", p) for p, _ in FUNNELS_HERE + EVENT_FUNNELS]
FUNNEL_SESSIONS = {json.dumps(p, sort_keys=True): n for p, n in FUNNELS_HERE + EVENT_FUNNELS}

#: The built-in queries not rendered for Trino, and the construct each is refused for.
REFUSED: dict[str, str] = {}


def _statement(data, name, params):
    from rumq.engines.trino import query_statement

    return query_statement(name, params, data_dir=data, since=SINCE, until=UNTIL)


@pytest.mark.parametrize("name, params", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trino_statement_answers_as_duckdb(data, athena_like, name, params):
    import sqlglot

    from rumq.api import Dataset
    from rumq.engines.trino_check import rejected_constructs

    sql = _statement(data, name, params)
    sqlglot.parse_one(sql, read="trino")  # raises if Trino's dialect cannot read it
    assert rejected_constructs(sql) == []
    assert "event_date >= '2026-11-01'" in sql and "event_date <= '2026-11-03'" in sql  # partitions by literal
    duck = Dataset(data, notify=lambda _: None).run(name, since=SINCE, until=UNTIL, **params)
    assert duck.height > 0  # an empty result would prove nothing
    if name == "funnels/conversion":  # and a funnel that stops at step 1 would prove little
        assert duck["sessions"].to_list() == FUNNEL_SESSIONS[json.dumps(params, sort_keys=True)]
    assert_engines_agree(duck, athena_like.sql(twin(sql)).pl())


def test_every_builtin_is_compared_or_refused_by_name():
    from rumq.library import Library

    names = {q.name for q in Library(env={}).load().queries.values() if q.kind == "sql"}
    assert names == {n for n, _ in CASES} | set(REFUSED)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_queries_name_the_construct(data, name):
    with pytest.raises(NotPortableError, match=re.escape(REFUSED[name])) as e:
        _statement(data, name, {"steps": "/home,/cart"} if name == "funnels/conversion" else {})
    assert e.value.exit_code == 2


#: Logs Insights queries (compiled by rumq.insights, then rendered like the named queries).
INSIGHTS = [
    "stats count(*) as n, count_distinct(metadata.pageId) as pages",
    "filter event_name = 'js_error' | stats count(*) as n, min(@timestamp) as first, max(@timestamp) as last",
    "filter event_name = 'lcp' | stats count(*) as n, max(event_details.value) as worst, avg(event_details.value) as v",
    "filter event_type like /error/ | stats count(*) as n, count_distinct(metadata.browserName) as browsers",
]


@pytest.mark.parametrize("text", INSIGHTS)
def test_insights_statement_answers_as_duckdb(data, athena_like, text):
    import polars as pl
    import sqlglot

    from rumq.engines.trino import insights_statement
    from rumq.engines.trino_check import rejected_constructs
    from rumq.runner import run_insights

    sql = insights_statement(text, since=SINCE, until=UNTIL)
    sqlglot.parse_one(sql, read="trino")
    assert rejected_constructs(sql) == []
    duck = run_insights(data, text, since=SINCE, until=UNTIL)
    assert duck.height > 0
    got = athena_like.sql(twin(sql)).pl()
    assert got.columns == duck.columns  # the Logs Insights names, as rumq insights prints them
    # rumq insights formats timestamps as text after the query: compare the query's values.
    got = got.with_columns(pl.col(c).cast(duck.schema[c]) for c in got.columns
                           if duck.schema[c] == pl.String and got.schema[c] != pl.String)
    assert_engines_agree(duck, got)


def test_parameters_are_literals_never_sql_text(data, athena_like):
    """A value made to break out of its quotes stays one string literal (and matches nothing)."""
    from rumq.engines.trino import literal, statement

    evil = "Chrome' OR '1'='1"
    sql = statement("SELECT count(*) AS n FROM events WHERE browser_name = $b OR browser_name = $c",
                    {"b": evil, "c": "Chrome"}, since=None, until=None)
    assert "'Chrome'' OR ''1''=''1'" in sql and "$b" not in sql and "$c" not in sql
    chrome = sum(1 for m in _messages() if m["metadata"].get("browserName") == "Chrome")
    assert chrome > 0
    assert athena_like.sql(twin(sql)).fetchall() == [(chrome,)]
    assert literal([1, "a"]).sql(dialect="trino") == "ARRAY[1, 'a']"
    assert literal(None).sql(dialect="trino") == "NULL"


def test_exact_quantile_emulation_matches_quantile_cont(athena_like):
    """quantile_cont's interpolation, exact, with NULLs skipped and an empty group NULL (no approx_percentile)."""
    from rumq.engines.portable import parse
    from rumq.engines.trino import rewrite

    sql = ("SELECT g, quantile_cont(x, 0.9) AS p90, quantile_cont(x, 0.5) AS p50, quantile_cont(x, 0) AS p0 "
           "FROM (VALUES (1, 1), (1, 2), (1, 10), (1, NULL), (2, 7), (3, NULL)) t(g, x) GROUP BY g ORDER BY g")
    trino = rewrite(parse(sql), "test").sql(dialect="trino")
    assert "approx" not in trino.lower() and "quantile" not in trino.lower()
    # By hand: group 1 sorted [1, 2, 10]: p90 at h = 1 + 0.9 * 2 = 2.8 -> 2 + 0.8 * 8 = 8.4; p50 = 2; p0 = 1.
    assert athena_like.sql(twin(trino)).fetchall() == [(1, pytest.approx(8.4), 2.0, 1.0), (2, 7.0, 7.0, 7.0),
                                                       (3, None, None, None)]


def test_least_skips_nulls_and_division_is_ieee(athena_like):
    from rumq.engines.portable import parse
    from rumq.engines.trino import rewrite

    trino = rewrite(parse("SELECT least(a, b) AS l, greatest(a, b) AS g, a / b AS d FROM "
                          "(VALUES (1, NULL), (NULL, NULL), (7, 2), (1, 0)) t(a, b)"), "test").sql(dialect="trino")
    rows = athena_like.sql(twin(trino)).fetchall()
    assert rows == [(1, 1, None), (None, None, None), (2, 7, 3.5), (0, 1, float("inf"))]


def test_insights_natural_string_sort_is_refused_by_name():
    from rumq.engines.trino import insights_statement

    with pytest.raises(NotPortableError, match="struct literals"):
        insights_statement("stats count(*) as n by metadata.browserName | sort metadata.browserName")


def test_cli_print_sql_prints_one_statement(data):
    import sqlglot

    code, out, _ = invoke(["--data", str(data), "run", "pages/drop_off", "--engine", "athena", "--print-sql",
                           "--since", SINCE, "--until", UNTIL, "--athena-table", "rum.rumq_events", "-p", "top=3"])
    assert code == 0
    assert len(sqlglot.parse(out, read="trino")) == 1 and out.rstrip().endswith(";")
    assert "FROM rum.rumq_events" in out and "LIMIT 3" in out
    app = _messages()[0]["application_id"]
    code, out, _ = invoke(["--data", str(data), "run", "sessions/summary", "--engine", "athena", "--print-sql",
                           "--app", app])
    assert code == 0 and f"application_id = '{app}'" in out
    code, out, _ = invoke(["--data", str(data), "insights", "stats count(*)", "--engine", "athena", "--print-sql"])
    assert code == 0 and '"count(*)"' in out


@pytest.mark.parametrize("args, message", [
    (["run", "pages/drop_off", "--engine", "athena"], "add --print-sql"),
    (["run", "pages/drop_off", "--print-sql"], "add --engine athena"),
    (["sql", "SELECT 1", "--engine", "athena", "--print-sql", "--athena-table", "Bad-Name"], "not a valid name"),
    (["run", "funnels/conversion", "-p", "steps=/a,/b", "--engine", "athena", "--print-sql"], "RANGE("),
    (["run", "pages/drop_off", "--engine", "athena", "--print-sql", "--app", "no-such-app"], "no-such-app"),
])
def test_cli_athena_errors_exit_2(data, args, message):
    code, out, err = invoke(["--data", str(data), *args])
    assert code == 2 and message in err and out == "", err


def test_group_by_all_spelled_out(athena_like):
    from rumq.engines.portable import parse
    from rumq.engines.trino import rewrite

    keyed = rewrite(parse("SELECT a % 2 AS k, count(*) AS n FROM (VALUES (1), (2), (3)) t(a) GROUP BY ALL ORDER BY k"),
                    "test").sql(dialect="trino")
    assert "GROUP BY a % 2" in keyed and "ALL" not in keyed
    assert athena_like.sql(twin(keyed)).fetchall() == [(0, 1), (1, 2)]
    # Only constants and aggregates: one row even over no rows, as DuckDB's GROUP BY ALL gives.
    alone = rewrite(parse("SELECT 'x' AS k, count(*) AS n FROM (SELECT 1 AS a WHERE false) GROUP BY ALL"),
                    "test").sql(dialect="trino")
    assert "GROUP BY" not in alone
    assert athena_like.sql(twin(alone)).fetchall() == [("x", 0)]


@pytest.mark.parametrize("sql, found", [
    ("SELECT * FROM t WHERE a = $x", "a $ parameter"),
    ("SELECT a::INT FROM t", "a :: cast"),
    ("SELECT * FROM t WHERE a GLOB 'x*'", "GLOB"),
    ("SELECT a FROM t QUALIFY row_number() OVER () = 1", "QUALIFY"),
    ("SELECT quantile_cont(a, 0.5) FROM t", "quantile functions"),
    ("SELECT approx_percentile(a, 0.5) FROM t", "an approximate percentile"),
    ("SELECT regexp_replace(a, 'x', 'y', 'g') FROM t", "regexp_replace flags"),
    ("SELECT a IN [1, 2] FROM t", "a list literal"),
    ("SELECT list_sort(a) FROM t", "list functions"),
    ("SELECT a, count(*) FROM t GROUP BY ALL", "GROUP BY ALL"),
])
def test_rejected_constructs_are_found(sql, found):
    from rumq.engines.trino_check import rejected_constructs

    assert any(f.startswith(found) for f in rejected_constructs(sql)), rejected_constructs(sql)


def test_rejected_constructs_ignore_string_literals_and_subscripts():
    from rumq.engines.trino_check import rejected_constructs

    assert rejected_constructs("SELECT json_extract(m, '$.a[0]'), ARRAY[1, 2][1], x[2] FROM t WHERE s = '::'") == []


def test_insights_notices_are_kept_in_the_printed_statement(data):
    # What the compiler decided for the user travels with the statement, as on DuckDB's stderr.
    code, out, _ = invoke(["--data", str(data), "insights", "--engine", "athena", "--print-sql",
                           "stats count(*) as n by event_type | filter metadata.browserName = 'Chrome'"])
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("-- notice: 'filter metadata.browserName = 'Chrome'' comes after stats")


def test_struct_keys_become_rows_without_null_fields_in_duckdbs_order():
    """DuckDB orders a NULL struct field after every value; the ROW key says so with a flag.

    By hand: keys {NULL, 1}, {1, NULL}, {1, 5}: the least is {1, 5} (NULL after 5 in the second
    field), the greatest {NULL, 1} (NULL after 1 in the first).
    """
    import duckdb
    import sqlglot

    from rumq.engines.trino import rewrite

    sql = ("SELECT arg_min(page_id, {'i': interaction, 'l': source_line}) AS lo, "
           "arg_max(page_id, {'i': interaction, 'l': source_line}) AS hi FROM t")
    trino_sql = rewrite(sqlglot.parse_one(sql, read="duckdb"), "q").sql(dialect="trino")
    assert "source_line IS NULL" in trino_sql and "{" not in trino_sql
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a', NULL, 1), ('b', 1, NULL), ('c', 1, 5)) "
                "AS v(page_id, interaction, source_line)")
    assert con.sql(sql).fetchall() == [("c", "a")]
    assert con.sql(twin(trino_sql)).fetchall() == [("c", "a")]
    with pytest.raises(NotPortableError, match="struct literals"):
        rewrite(sqlglot.parse_one("SELECT arg_min(p, {'x': a + b}) FROM t", read="duckdb"), "q")
