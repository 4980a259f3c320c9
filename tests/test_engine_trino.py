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
from test_engine_spark import RULES, _messages, assert_engines_agree

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
    # Pages qualified by their domain (the story's sessions cross subdomains).
    ("pages/drop_off", {"by_domain": "true", "include_cookieless": "true", "top": "100"}),
    ("pages/entry", {"by_domain": "true", "include_cookieless": "true"}),
    ("journeys/transitions", {"by_domain": "true", "top": "100"}),
    ("journeys/top_paths", {"by_domain": "true", "depth": "3", "include_cookieless": "true"}),
    # By page group (the events' pageTags).
    ("performance/page_load", {"by": "group"}),
    ("performance/web_vitals", {"by": "group", "sort": "p75"}),
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
    ("users/summary", {"period": "week"}),
    ("users/retention", {}),
    ("users/retention", {"period": "day"}),
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
# The funnel parameter sets of test_engine_spark (sequential, strict, windows, one across midnight,
# an export-line tie, wildcards, '%' and '_' kept literal), with sessions per step by hand: its counts
# plus U2's session of 11-03 here, one more /home start that reaches no page after it. And event
# steps (custom events in the path): /home, add_to_cart, /cart: S1 (10:00:00, 10:00:40, 10:02:00)
# and S2 (11:00:00, 11:00:20, 11:00:45); U2's session of 11-03 has /home then add_to_cart (+5 s)
# and no /cart page. Strict: only U2 goes from /home straight to the event. A 30 s window: S2
# (+20 s) and U2 (+5 s), not S1 (+40 s).
FUNNELS_HERE = [
    ({"steps": "/home,/cart,/checkout"}, [6, 3, 1]),
    ({"steps": "/home,/cart,/checkout", "mode": "strict"}, [6, 2, 1]),
    ({"steps": "/home,/cart,/checkout", "window": "30s"}, [6, 2, 1]),
    ({"steps": "/a,/b", "mode": "strict"}, [1, 1]),
    ({"steps": "/:id/*,#/orders/*,/blog/*/$c", "include_cookieless": "true"}, [1, 1, 1]),
    ({"steps": "/:id/*,#/orders/*,/blog/*/$c", "window": "20s"}, [1, 1, 0]),
    ({"steps": "/?ome,/c%,/c_rt"}, [6, 0, 0]),
]
EVENT_FUNNELS = [
    ({"steps": f"/home,event:{CART},/cart"}, [6, 3, 2]),
    ({"steps": f"/home,event:{CART},/cart", "mode": "strict"}, [6, 1, 0]),
    ({"steps": "/home,event:com.example.*", "window": "30s"}, [6, 2]),
]
CASES += [("funnels/conversion", p) for p, _ in FUNNELS_HERE + EVENT_FUNNELS]
FUNNEL_SESSIONS = {json.dumps(p, sort_keys=True): n for p, n in FUNNELS_HERE + EVENT_FUNNELS}

#: Parameter values that make a built-in query unrenderable for Trino, and the construct named.
REFUSED = [
    # DuckDB's GLOB character classes and escapes have no LIKE twin.
    ("funnels/conversion", {"steps": "/home,/c[a]rt"}, "the GLOB pattern '/c[a]rt' (a character class"),
    ("sessions/list", {"page": "/c\\art"}, "an escape \\ has no LIKE equivalent"),
    # A number in a JSON pointer indexes an array (DuckDB); a JSONPath name would not.
    ("events/custom", {"field": "items/0"}, "the JSON pointer '/items/0'"),
    ("events/custom", {"field": "a-b"}, "the JSON pointer '/a-b'"),
]

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


def test_every_builtin_is_compared():
    from rumq.library import Library

    names = {q.name for q in Library(env={}).load().queries.values() if q.kind == "sql"}
    assert names == {n for n, _ in CASES}


@pytest.mark.parametrize("name, params, construct", REFUSED, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(REFUSED)])
def test_refused_parameters_name_the_construct(data, name, params, construct):
    with pytest.raises(NotPortableError, match=re.escape(construct)) as e:
        _statement(data, name, params)
    assert e.value.exit_code == 2


#: Logs Insights queries (compiled by rumq.insights, then rendered like the named queries).
INSIGHTS = [
    "stats count(*) as n, count_distinct(metadata.pageId) as pages",
    # (event_type, not rumq's event_name: a Logs Insights query sees only the message's fields.)
    'filter event_type = "com.amazon.rum.js_error_event" | stats count(*) as n, min(@timestamp) as first, '
    "max(@timestamp) as last",
    'filter event_type = "com.amazon.rum.largest_contentful_paint_event" | stats count(*) as n, '
    "max(event_details.value) as worst, avg(event_details.value) as v",
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
    assert duck.height > 0 and duck["n"][0] > 0  # rows matched: not two empty answers agreeing
    got = athena_like.sql(twin(sql)).pl()
    assert got.columns == duck.columns  # the Logs Insights names, as rumq insights prints them
    # rumq insights formats timestamps as text after the query: compare the query's values.
    got = got.with_columns(pl.col(c).cast(duck.schema[c]) for c in got.columns
                           if duck.schema[c] == pl.String and got.schema[c] != pl.String)
    assert_engines_agree(duck, got)


def test_an_unpinned_typed_field_in_min_or_max_is_refused_by_name():
    # Without an event-type filter event_details.value may be any JSON value (a custom event's
    # "abc"), ordered by the natural sort, which Trino cannot render exactly.
    from rumq.engines.trino import insights_statement

    with pytest.raises(NotPortableError, match="struct literals") as e:
        insights_statement("stats max(event_details.value) as m", since=SINCE, until=UNTIL)
    assert e.value.exit_code == 2


def test_parameters_are_literals_never_sql_text(data, athena_like):
    """A value made to break out of its quotes stays one string literal (and matches nothing)."""
    from rumq.engines.trino import literal, statement

    evil = "Chrome' OR '1'='1"
    sql = statement("SELECT count(*) AS n FROM events WHERE browser_name = $b OR browser_name = $c",
                    {"b": evil, "c": "Chrome"}, since=None, until=None)
    assert "'Chrome'' OR ''1''=''1'" in sql and "$b" not in sql and "$c" not in sql
    chrome = sum(1 for m in _trino_messages() if m["metadata"].get("browserName") == "Chrome")
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
    code, out, err = invoke(["--data", str(data), "run", "funnels/conversion", "--engine", "athena", "--print-sql",
                             "-p", "steps=/home,event:com.example.*", "-p", "window=1h"])
    assert code == 0, err
    assert len(sqlglot.parse(out, read="trino")) == 1 and "WITH RECURSIVE rumq_rec_walk(" in out
    assert "INTERVAL '3600' SECOND" in out and "ESCAPE '\\'" in out


@pytest.mark.parametrize("args, message", [
    (["run", "pages/drop_off", "--engine", "athena"], "add --print-sql"),
    (["run", "pages/drop_off", "--print-sql"], "add --engine athena"),
    (["sql", "SELECT 1", "--engine", "athena", "--print-sql", "--athena-table", "Bad-Name"], "not a valid name"),
    (["run", "funnels/conversion", "-p", "steps=/a,/b[c]", "--engine", "athena", "--print-sql"],
     "the GLOB pattern '/b[c]'"),
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
    # A field of no known type: the ordered list's first value instead (test_arg_min_with_a_key_...).
    computed = rewrite(sqlglot.parse_one("SELECT arg_min(p, {'x': a + b}) FROM t", read="duckdb"), "q")
    assert "ELEMENT_AT(ARRAY_AGG(p ORDER BY a + b" in computed.sql(dialect="trino")
    with pytest.raises(NotPortableError, match="struct literals"):  # with a FILTER of its own: not rendered
        rewrite(sqlglot.parse_one("SELECT arg_min(p, {'x': a + b}) FILTER (WHERE a > 0) FROM t", read="duckdb"), "q")


def _trino(sql: str) -> str:
    import sqlglot

    from rumq.engines.trino import rewrite

    return rewrite(sqlglot.parse_one(sql, read="duckdb"), "test").sql(dialect="trino")


def _twin_of(sql: str) -> str:
    """A DuckDB statement through the Trino rewrites and back (the DuckDB twin of its Trino text)."""
    import sqlglot

    from rumq.engines.trino import rewrite
    from rumq.engines.trino_check import rejected_constructs

    trino_sql = rewrite(sqlglot.parse_one(sql, read="duckdb"), "test").sql(dialect="trino")
    assert rejected_constructs(trino_sql) == [], trino_sql
    return twin(trino_sql)


def test_range_as_a_filtered_sequence_gives_duckdbs_values():
    """range() is end-exclusive and empty when the step points away; Trino's sequence is neither."""
    import duckdb

    con = duckdb.connect()
    cases = [
        "SELECT k FROM range(1, 4) AS r(k) ORDER BY k",  # 1, 2, 3
        "SELECT k FROM range(3, 3) AS r(k)",  # none
        "SELECT k FROM range(5, 1) AS r(k)",  # none (sequence(5, 1) would count down)
        "SELECT k FROM range(5, 1, -2) AS r(k) ORDER BY k",  # 3, 5
        "SELECT a, unnest(range(TIMESTAMP '2026-11-02 10:00', TIMESTAMP '2026-11-02 10:50', INTERVAL 20 MINUTE)) "
        "AS t FROM (SELECT 1 AS a) ORDER BY t",  # 10:00, 10:20, 10:40: not 10:50, not past it
    ]
    for sql in cases:
        assert con.sql(_twin_of(sql)).fetchall() == con.sql(sql).fetchall(), sql
    assert len(con.sql(cases[-1]).fetchall()) == 3


def test_string_agg_distinct_ordered_as_array_join():
    import duckdb

    sql = ("SELECT g, string_agg(DISTINCT d, ',' ORDER BY d) AS s FROM (VALUES (1, 'b'), (1, 'a'), (1, 'b'), "
           "(1, NULL), (2, NULL)) t(g, d) GROUP BY g ORDER BY g")
    con = duckdb.connect()
    # By hand: group 1 'a,b' (NULL skipped, 'b' once); group 2 only NULL: NULL, not ''.
    assert con.sql(sql).fetchall() == [(1, "a,b"), (2, None)]
    assert con.sql(_twin_of(sql)).fetchall() == [(1, "a,b"), (2, None)]


def test_arg_min_with_a_key_of_unknown_type_keeps_duckdbs_order():
    """{'r': -reached, 's': start} (a computed field): element_at(array_agg(... ORDER BY ...), 1)."""
    import duckdb

    sql = ("SELECT g, arg_min(v, {'r': -n, 's': s}) AS lo, arg_max(v, {'r': -n, 's': s}) AS hi FROM (VALUES "
           "(1, 'a', 2, 1), (1, 'b', 3, 2), (1, 'c', NULL, 0), (1, NULL, 9, 9), (2, NULL, 1, 1)) t(g, v, n, s) "
           "GROUP BY g ORDER BY g")
    con = duckdb.connect()
    # By hand, group 1 without the NULL value: keys (-2, 1), (-3, 2), (NULL, 0); least (-3, 2) -> 'b',
    # greatest (NULL, 0) (a NULL field sorts last) -> 'c'. Group 2: only a NULL value -> NULL.
    assert con.sql(sql).fetchall() == [(1, "b", "c"), (2, None, None)]
    assert con.sql(_twin_of(sql)).fetchall() == [(1, "b", "c"), (2, None, None)]


def test_arg_min_null_keeps_a_null_value_on_trino():
    """arg_min_null / arg_max_null (the views' entry and exit pages) -> min_by / max_by without the
    guard that skips a NULL value, with a ROW key and with the ordered list of a computed key."""
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, NULL, 0, 1), (1, 'b', 1, 2), (1, 'c', NULL, 3), "
                "(2, 'd', 5, NULL), (2, NULL, 5, 7)) AS v(g, page_id, interaction, source_line)")
    sql = ("SELECT g, arg_min_null(page_id, {'i': interaction, 'l': source_line}) AS lo, "
           "arg_max_null(page_id, {'i': interaction, 'l': source_line}) AS hi FROM t GROUP BY g ORDER BY g")
    # By hand: group 1 keys (0, 1), (1, 2), (NULL, 3): least (0, 1), whose value is NULL (arg_min would
    # give 'b'); greatest (NULL, 3) -> 'c'. Group 2 (5, NULL), (5, 7): least (5, 7) -> NULL, greatest 'd'.
    assert con.sql(sql).fetchall() == [(1, None, "c"), (2, None, "d")]
    assert con.sql(_twin_of(sql)).fetchall() == [(1, None, "c"), (2, None, "d")]
    # A computed field (no type known here): the first of the ordered list, NULL values kept.
    computed = sql.replace("'i': interaction", "'i': interaction + 0")
    assert "ELEMENT_AT(ARRAY_AGG(page_id ORDER BY" in _trino(computed)
    assert con.sql(_twin_of(computed)).fetchall() == [(1, None, "c"), (2, None, "d")]


def test_try_cast_to_double_reads_text_as_duckdb_or_stops():
    """DuckDB's number syntax (underscores, inf/nan, blanks) reproduced; a text Java would read
    differently stops the query instead of answering (Trino: its CAST error; the twin: DuckDB's)."""
    import duckdb

    values = ["1_000", " 2.5\t", "+.5", "1.e5", "-Infinity", "iNf", "NaN", "n/a", "", None, "1e400", "7"]
    rows = ", ".join("(NULL)" if v is None else "('" + v + "')" for v in values)
    sql = f"SELECT TRY_CAST(v AS DOUBLE) AS x FROM (VALUES {rows}) t(v)"
    con = duckdb.connect()
    want = con.sql(sql).fetchall()
    got = con.sql(_twin_of(sql)).fetchall()
    assert [str(r) for r in got] == [str(r) for r in want]  # str: NaN equals NaN
    assert want[0] == (1000.0,) and want[7] == (None,)
    with pytest.raises(duckdb.ConversionException, match="not read as DuckDB reads it: 5px"):
        con.sql(_twin_of("SELECT TRY_CAST(v AS DOUBLE) FROM (VALUES ('5px')) t(v)")).fetchall()
    assert con.sql("SELECT TRY_CAST('5px' AS DOUBLE)").fetchall() == [(None,)]


def test_recursive_cte_is_nested_with_its_column_list():
    """Trino wants column aliases on every query of a WITH RECURSIVE list: the recursive one is nested alone."""
    import duckdb
    import sqlglot

    from rumq.engines.trino import rewrite

    sql = ("WITH RECURSIVE a AS (SELECT 3 AS m), t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t, a WHERE n < a.m) "
           "SELECT sum(n) AS s FROM t")
    trino_sql = rewrite(sqlglot.parse_one(sql, read="duckdb"), "test").sql(dialect="trino")
    assert trino_sql.startswith("WITH a AS") and "t(n) AS (WITH RECURSIVE rumq_rec_t(n) AS" in trino_sql
    assert duckdb.sql(twin(trino_sql)).fetchall() == [(6,)] == duckdb.sql(sql).fetchall()
    with pytest.raises(NotPortableError, match="needs UNION ALL and a column list"):
        rewrite(sqlglot.parse_one("WITH RECURSIVE t AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM t WHERE n < 3) "
                                  "SELECT * FROM t", read="duckdb"), "test")


def test_users_history_reads_before_the_window(data):
    """rumq_user_first_seen() reads the whole history up to the window's end, as on DuckDB: U1's session
    of 10-31 is outside the window, so U1 is not new in it (users/summary compared above)."""
    from rumq.api import Dataset

    sql = _statement(data, "users/summary", {})
    history = sql[sql.index("rumq_history AS ("):sql.index("rumq_user_first_seen AS (")]
    assert "event_date <= '2026-11-03'" in history and "event_date >=" not in history
    [row] = Dataset(data, notify=lambda _: None).run("users/summary", since=SINCE, until=UNTIL).rows(named=True)
    # By hand: U1, U2, U3, U9 and legacy-user have cookie sessions in the window; all but U1 are new.
    assert (row["users"], row["new_users"], row["returning_users"]) == (5, 4, 1)


def test_a_json_pointer_is_skipped_only_in_a_branch_never_taken():
    """events/custom without a field never extracts '/': that branch is not rendered; a live one is refused."""
    import sqlglot

    from rumq.engines.trino import rewrite

    def render(sql):
        return rewrite(sqlglot.parse_one(sql, read="duckdb"), "q").sql(dialect="trino")

    dead = render("SELECT CASE WHEN '' = '' THEN NULL ELSE json_extract_string(j, '/' || '') END FROM t")
    assert "JSON_EXTRACT" not in dead.upper()
    for live in ("SELECT CASE WHEN 'a' = '' THEN NULL ELSE json_extract_string(j, '/' || '0') END FROM t",
                 "SELECT CASE x WHEN true THEN NULL ELSE json_extract_string(j, '/0') END FROM t"):
        with pytest.raises(NotPortableError, match="the JSON pointer '/0'"):
            render(live)
    assert "$.item.sku" in render("SELECT json_extract_string(j, '/' || 'item/sku') FROM t")
