"""Spark reads the dataset: explicit schema from rumq.schema, the window's partitions only.

Expected counts are from the story of tests/analyses_data.py (its messages on
2026-11-02: sessions S1-S4 and C1 plus one page view without a session id),
plus one event written here on 2026-11-03 with a non-UUID session id.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

import analyses_data as A
import pytest
from click.testing import CliRunner

from rumq.schema import PARTITION_COLUMN, STORED_COLUMNS

LEGACY_SESSION = "legacy-session-1"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from rumq.ingest import ingest

    tmp = tmp_path_factory.mktemp("spark-read")
    msgs = A.messages()  # resets the fixture's event-id counter: the extra event comes after
    extra = A.msg("page_view", "09:00:00", session=None, user=None, page="/next-day", ctx=A.CHROME_US)
    extra["event_timestamp"] += 86_400_000  # 2026-11-03
    extra["user_details"] = {"sessionId": LEGACY_SESSION, "userId": "legacy-user"}
    msgs.append(extra)
    src = tmp / "export.jsonl"
    src.write_text("".join(json.dumps(m) + "\n" for m in msgs), encoding="utf-8")
    out = tmp / "data"
    assert ingest(out, [str(src)]).written == len(msgs)
    return out


def test_schema_is_generated_from_rumq_schema():
    from rumq.engines.spark import schema_ddl

    ddl = schema_ddl()
    for c in STORED_COLUMNS:
        assert f"`{c.name}` " in ddl
    assert "`session_uuid` binary" in ddl and "`user_uuid` binary" in ddl
    assert "`event_time` timestamp_ntz" in ddl
    assert ddl.endswith(f"`{PARTITION_COLUMN}` date")


def test_counts_and_sessions_match_duckdb(spark, data):
    from rumq.catalog import connect
    from rumq.engines.spark import read_events

    df = read_events(spark, data)
    row = df.selectExpr("count(*) AS n", "count(DISTINCT session_id) AS s").collect()[0]
    n_messages = len(A.messages())
    # By hand: every message plus the next-day one; S1-S4, C1 and the legacy text id.
    assert (row.n, row.s) == (n_messages + 1, 6)
    con = connect(data, views=False)
    assert con.execute("SELECT count(*), count(DISTINCT session_id) FROM events").fetchone() == (row.n, row.s)
    con.close()


def test_ids_read_as_their_canonical_text(spark, data):
    from rumq.engines.spark import read_events

    ids = {r.session_id for r in read_events(spark, data).select("session_id").distinct().collect()}
    assert ids == {A.S1, A.S2, A.S3, A.S4, A.C1, LEGACY_SESSION, None}


def test_window_reads_only_its_partitions(spark, data):
    from rumq.engines.spark import read_events

    df = read_events(spark, data, since=datetime(2026, 11, 2), until=datetime(2026, 11, 3))
    assert df.count() == len(A.messages())
    files = df.inputFiles()
    assert files and all("event_date=2026-11-02" in f for f in files)
    nxt = read_events(spark, data, since=datetime(2026, 11, 3))
    assert [r.session_id for r in nxt.select("session_id").collect()] == [LEGACY_SESSION]
    # Bounds inside a day: [10:00:30, 11:00) holds S1's events from its second page view on:
    # page views at 10:00:30, 10:01:00, 10:02:00, two http, one js_error, one cls, and the two
    # custom add_to_cart events at 10:00:40 and 10:01:20.
    part = read_events(spark, data, since=datetime(2026, 11, 2, 10, 0, 30), until=datetime(2026, 11, 2, 11))
    assert part.count() == 9 and {r.session_id for r in part.select("session_id").collect()} == {A.S1}


def test_settings_come_from_option_env_and_rumq_toml(tmp_path, monkeypatch):
    from rumq.engines.spark import settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUMQ_SPARK_MASTER", raising=False)
    monkeypatch.delenv("RUMQ_CONFIG", raising=False)
    assert settings()["spark.master"] == "local[*]"
    assert settings()["spark.sql.session.timeZone"] == "UTC"
    (tmp_path / "rumq.toml").write_text('[spark]\nmaster = "local[3]"\n"spark.driver.memory" = "2g"\n'
                                        "spark.sql.shuffle.partitions = 7\n")
    conf = settings()
    assert (conf["spark.master"], conf["spark.driver.memory"], conf["spark.sql.shuffle.partitions"]) == (
        "local[3]", "2g", "7")
    monkeypatch.setenv("RUMQ_SPARK_MASTER", "local[5]")
    assert settings()["spark.master"] == "local[5]"
    assert settings(master="spark://h:7077")["spark.master"] == "spark://h:7077"
    (tmp_path / "rumq.toml").write_text('[spark]\nfoo = 1\n')
    from rumq.errors import UsageError

    with pytest.raises(UsageError, match="foo: not a Spark setting"):
        settings()


def test_active_session_is_used(spark):
    from rumq.engines.spark import session

    assert session(master="local[1]") is spark


def test_engine_spark_without_pyspark_exits_2(data, monkeypatch):
    from rumq.cli import main

    for mod in ("pyspark", "pyspark.sql"):
        monkeypatch.setitem(sys.modules, mod, None)
    runner = CliRunner()
    with runner.isolation(env={"RUMQ_QUERIES": ""}) as (out, err, _):
        with pytest.raises(SystemExit) as exit_:
            main(["--data", str(data), "run", "pages/drop_off", "--engine", "spark"])
    assert exit_.value.code == 2
    assert out.getvalue() == b""
    message = err.getvalue().decode()
    assert "needs pyspark" in message and "pip install 'rumq[spark]'" in message
