"""rumq athena ddl: the CREATE EXTERNAL TABLE follows rumq.schema and parses as Athena DDL."""

from __future__ import annotations

from datetime import date

import pytest
import sqlglot
from click.testing import CliRunner
from sqlglot import exp

from rumq.athena import ddl
from rumq.errors import UsageError
from rumq.schema import PARTITION_COLUMN, STORED_COLUMNS

LOCATION = "s3://my-bucket/rumq/"
# The Glue type each DuckDB type of rumq.schema must get, written out by hand.
EXPECTED_TYPE = {"VARCHAR": "STRING", "TIMESTAMP": "TIMESTAMP", "BIGINT": "BIGINT", "INTEGER": "INT",
                 "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN", "VARCHAR[]": "ARRAY<STRING>", "UUID": "BINARY"}


def _parsed(text: str, dialect: str = "athena") -> exp.Create:
    tree = sqlglot.parse_one(text.strip().rstrip(";"), read=dialect)
    assert isinstance(tree, exp.Create) and tree.kind == "TABLE"
    return tree


def _properties(tree: exp.Create) -> dict[str, str]:
    return {p.name: p.text("value") for p in tree.find(exp.Properties).expressions if type(p) is exp.Property}


@pytest.mark.parametrize("dialect", ["athena", "hive"])
def test_every_stored_column_with_its_glue_type(dialect):
    tree = _parsed(ddl(LOCATION), dialect)
    table_cols = tree.this.expressions  # the schema in parentheses (not the partition column)
    got = {c.name: c.args["kind"].sql(dialect="hive") for c in table_cols}
    assert list(got) == [c.name for c in STORED_COLUMNS]
    assert got == {c.name: EXPECTED_TYPE[c.type] for c in STORED_COLUMNS}
    assert got["session_uuid"] == got["user_uuid"] == "BINARY"
    part = tree.find(exp.PartitionedByProperty)
    assert [c.name for c in part.find_all(exp.ColumnDef)] == [PARTITION_COLUMN]


def test_partition_projection_and_location():
    text = ddl(LOCATION, first_date=date(2026, 11, 1))
    tree = _parsed(text)
    assert tree.find(exp.LocationProperty).this.name == "s3://my-bucket/rumq/events/"
    assert tree.find(exp.FileFormatProperty).this.name.upper() == "PARQUET"
    props = _properties(tree)
    assert props["projection.enabled"] == "true"
    assert props["projection.event_date.type"] == "date"
    assert props["projection.event_date.format"] == "yyyy-MM-dd"
    assert props["projection.event_date.range"] == "2026-11-01,NOW"
    assert props["storage.location.template"] == "s3://my-bucket/rumq/events/event_date=${event_date}/"
    assert "MSCK" not in text


def test_names_and_location_are_checked():
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS rum.web_events (" in ddl(
        "s3://my-bucket/x", table="web_events", database="rum")
    for bad in ({"location": "/local/path"}, {"location": "s3://my-bucket/a'b/"},
                {"location": LOCATION, "table": "events; DROP TABLE x"},
                {"location": LOCATION, "database": "Rum-DB"}):
        with pytest.raises(UsageError):
            ddl(**bad)


def test_cli_prints_the_ddl_and_takes_the_first_date_from_the_dataset(tmp_path):
    from _query_data import build_dataset

    from rumq.cli import cli

    data = build_dataset(tmp_path)
    from rumq.store import Store

    first = min(f["date"] for f in Store(data).load_state().files)
    r = CliRunner().invoke(cli, ["--data", str(data), "athena", "ddl", "--location", LOCATION])
    assert r.exit_code == 0, r.output
    assert r.output == ddl(LOCATION, first_date=date.fromisoformat(first))
    r = CliRunner().invoke(cli, ["--data", str(tmp_path / "none"), "athena", "ddl", "--location", LOCATION,
                                 "--first-date", "2025-01-31"])
    assert r.exit_code == 0 and "'projection.event_date.range' = '2025-01-31,NOW'" in r.output


def test_cli_bad_location_exits_2(tmp_path):
    from rumq.cli import main

    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        with pytest.raises(SystemExit) as e:
            main(["--data", str(tmp_path), "athena", "ddl", "--location", "rumq-data"])
    assert e.value.code == 2 and out.getvalue() == b""
    assert "is not an S3 prefix" in err.getvalue().decode()
