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
from test_engine_spark import RULES, _messages, assert_engines_agree

from rumq.engines.portable import NotPortableError

SINCE, UNTIL = "2026-11-01", "2026-11-04"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from rumq.ingest import ingest

    tmp = tmp_path_factory.mktemp("trino")
    msgs = _messages()
    src = tmp / "export.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in msgs), encoding="utf-8")
    out = tmp / "data"
    assert ingest(out, [str(src)]).written == len(msgs)
    (out / "rumq.toml").write_text(RULES, encoding="utf-8")
    return out


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
    ("sessions/summary", {"include_cookieless": "true"}),
    ("errors/rate_per_session", {"dimension": "browser", "bucket": "hour"}),
    ("errors/rate_per_session", {"dimension": "country", "bucket": "day", "include_cookieless": "true"}),
    ("errors/top_js", {}),
    ("audience/browsers", {}),
    ("audience/countries", {"include_cookieless": "true"}),
    ("audience/devices", {"top": "2"}),
    ("data/quality", {}),
]

#: The built-in queries not rendered for Trino, and the construct each is refused for.
REFUSED = {
    "funnels/conversion": "RANGE(",
    "http/errors": "GROUP BY ALL",
    "journeys/top_paths": "array_to_string()",
    "journeys/transitions": "unnest() in a select list",
    "pages/entry": "struct literals",
    "performance/page_load": "[0.5, 0.75, 0.9]",
    "performance/web_vitals": "[0.5, 0.75, 0.9]",
}


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
    assert f"event_date >= '2026-11-01'" in sql and "event_date <= '2026-11-03'" in sql  # partitions by literal
    duck = Dataset(data, notify=lambda _: None).run(name, since=SINCE, until=UNTIL, **params)
    assert duck.height > 0  # an empty result would prove nothing
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
