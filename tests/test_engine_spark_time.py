"""formatDate on Spark (rumq.engines.spark_time): wall-clock time in a zone and a bound strftime format.

DuckDB reads zones from ICU's copy of the time-zone database, Spark from the
JDK's: every zone rumq renders is compared here on both engines every day at noon
from 2010 to 2030, so a database update that changes one fails this test
instead of answering differently.
"""

from __future__ import annotations

import datetime as dt

import pytest

from rumq.engines.portable import NotPortableError, render_bound
from rumq.engines.spark_time import ZONES, spark_format


def test_formats_translate_and_others_are_refused():
    assert spark_format("%Y-%m-%d %H:%M:%S.%g") == "yyyy'-'MM'-'dd' 'HH':'mm':'ss'.'SSS"
    assert spark_format("T%Hh 100%% it's") == "'T'HH'h 100% it''s'"
    sql = "SELECT strftime(timezone($z, timezone('UTC', event_time)), CAST($f AS VARCHAR)) FROM events"
    with pytest.raises(NotPortableError, match="%j"):
        render_bound(sql, {"z": "Europe/Paris", "f": "%j"})
    with pytest.raises(NotPortableError, match="'Mars/Olympus' is not rendered"):
        render_bound(sql, {"z": "Mars/Olympus", "f": "%H"})
    with pytest.raises(NotPortableError, match="'EST'"):  # an abbreviation: ICU and Java read them differently
        render_bound(sql, {"z": "EST", "f": "%H"})


def test_zones_agree(spark):
    """Every rendered zone's UTC offset, every day at noon UTC from 2010 to 2030, the same on both engines.

    Daily is enough to see a rule change (a transition moved by a day or more, a zone that stops
    changing) and keeps the Spark side to about 384,000 rows (50 zones)."""
    import duckdb

    zones = ", ".join(f"('{z}')" for z in ZONES)
    grid = "TIMESTAMP '2010-01-01 12:00:00', TIMESTAMP '2031-01-01 00:00:00', INTERVAL 24 HOUR"
    # The instants where a zone's offset changes (and its first one): equal lists, equal offsets everywhere.
    changes = ("SELECT z, t, off FROM (SELECT z, t, off, lag(off) OVER (PARTITION BY z ORDER BY t) AS prev FROM {o}) "
               "WHERE prev IS NULL OR prev <> off ORDER BY z, t")
    duck = duckdb.connect().sql(changes.format(o=(
        f"(SELECT z, t, epoch(timezone(z, timezone('UTC', t))) - epoch(t) AS off "
        f"FROM (VALUES {zones}) AS zs(z), (SELECT unnest(range({grid})) AS t))"))).fetchall()
    on_spark = spark.sql(changes.format(o=(
        "(SELECT z, t, (unix_micros(CAST(convert_timezone('UTC', z, t) AS TIMESTAMP)) "
        "- unix_micros(CAST(t AS TIMESTAMP))) / 1000000 AS off "
        f"FROM (VALUES {zones}) AS zs(z), (SELECT explode(sequence(TIMESTAMP_NTZ '2010-01-01 12:00:00', "
        "TIMESTAMP_NTZ '2030-12-31 12:00:00', INTERVAL 24 HOUR)) AS t))"))).collect()
    assert [(z, t, float(o)) for z, t, o in duck] == [(r[0], r[1], float(r[2])) for r in on_spark]
    by_zone = {z for z, _, _ in duck}
    assert by_zone == set(ZONES) and len(duck) > 1000  # DST zones change twice a year
    ny = [(t, o) for z, t, o in duck if z == "America/New_York" and t.year == 2026]
    assert ny == [(dt.datetime(2026, 3, 8, 12), -14400.0), (dt.datetime(2026, 11, 1, 12), -18000.0)]  # by hand


@pytest.mark.parametrize("fmt", ["%H:%M:%S", "%Y-%m-%d %H:%M", "%H", "T%Hh%%", "%d'%m %g"])
def test_format_date_agrees(spark, fmt):
    import duckdb
    import pyarrow as pa

    times = [dt.datetime(2026, 11, 25, 10, 0, 1, 250999), dt.datetime(2026, 3, 8, 6, 59, 59),
             dt.datetime(2026, 3, 8, 7, 0, 0), dt.datetime(2026, 12, 31, 23, 30), None]
    sql = ("SELECT k, strftime(timezone($z, timezone('UTC', t)), CAST($f AS VARCHAR)) AS a, "
           "strftime(t, CAST($f AS VARCHAR)) AS b FROM t ORDER BY k")
    rows = list(enumerate(times))
    t = pa.table({"k": [k for k, _ in rows], "t": pa.array([v for _, v in rows], pa.timestamp("us"))})  # noqa: F841
    for zone in ("America/New_York", "Asia/Kolkata", "UTC"):
        duck = duckdb.connect().execute(sql.replace("$z", "?", 1).replace("$f", "?"), [zone, fmt, fmt]).fetchall()
        rendered, bound = render_bound(sql, {"z": zone, "f": fmt})
        spark.createDataFrame(rows, "k int, t timestamp_ntz").createOrReplaceTempView("t")
        assert duck == [tuple(r) for r in spark.sql(rendered, args=bound).collect()], zone
    if fmt == "%H:%M:%S":
        assert duck[0][1] == "10:00:01"  # UTC, by hand
