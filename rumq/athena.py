"""The dataset as an Amazon Athena (Glue/Hive) table: ``CREATE EXTERNAL TABLE`` from ``rumq.schema``.

The table covers ``<location>/events/`` (``_rumq/``, the manifest, lies beside
it and is never read as data). Every stored column gets its Glue type; the
16-byte UUID id columns are ``binary`` (Glue has no UUID type; Trino can cast
16 bytes to ``uuid``). ``event_date`` is a partition *projection*: Athena
computes the partitions from the table properties, so no ``MSCK REPAIR
TABLE`` or crawler is ever needed, and a query that filters ``event_date``
with literals reads only those days.

Nothing here imports sqlglot or boto3; the DDL is text built from allow-listed
identifiers and a checked location.
"""

from __future__ import annotations

import re
from datetime import date

from rumq.errors import UsageError
from rumq.schema import PARTITION_COLUMN, STORED_COLUMNS

#: DuckDB type of a schema column -> Glue/Hive type (Athena DDL).
GLUE_TYPES: dict[str, str] = {
    "VARCHAR": "string",
    "TIMESTAMP": "timestamp",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "VARCHAR[]": "array<string>",
    "UUID": "binary",
}

DEFAULT_TABLE = "rumq_events"
#: First day of the projection when the dataset does not say (a range starting before the
#: oldest event only costs Athena nothing: with literal event_date filters it never looks there).
DEFAULT_FIRST_DATE = date(2020, 1, 1)
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")
_LOCATION = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[A-Za-z0-9!\-_.*()/=+]*)?$")


def glue_type(duckdb_type: str, column: str) -> str:
    """The Glue/Hive type of a ``rumq.schema`` column type.

    Raises:
        UsageError: a type with no Glue mapping (a new schema column: add it to ``GLUE_TYPES``).
    """
    try:
        return GLUE_TYPES[duckdb_type.upper()]
    except KeyError:
        raise UsageError(f"column {column}: no Glue type for the DuckDB type {duckdb_type}",
                         hint="add the type to rumq.athena.GLUE_TYPES") from None


def _identifier(value: str, what: str) -> str:
    if not _IDENT.match(value):
        raise UsageError(f"{what} {value!r} is not a valid Athena name",
                         hint="lowercase letters, digits and underscores, not starting with a digit")
    return value


def _location(value: str) -> str:
    loc = value if value.endswith("/") else value + "/"
    if not _LOCATION.match(loc):
        raise UsageError(f"--location {value!r} is not an S3 prefix",
                         hint="give the dataset's root as s3://bucket/prefix/ (the folder holding events/ and _rumq/)")
    return loc


def ddl(location: str, *, table: str = DEFAULT_TABLE, database: str | None = None,
        first_date: date | None = None) -> str:
    """The ``CREATE EXTERNAL TABLE`` statement for a dataset copied to ``location``.

    Args:
        location: the dataset root on S3 (``s3://bucket/rumq/``: it holds ``events/``).
        table: the table name.
        database: a Glue database to qualify the table with, if any.
        first_date: the first ``event_date`` of the projection (default 2020-01-01).

    Raises:
        UsageError: a bad location, table or database name.
    """
    root = _location(location)
    name = _identifier(table, "table")
    if database is not None:
        name = f"{_identifier(database, 'database')}.{name}"
    first = (first_date or DEFAULT_FIRST_DATE).isoformat()
    cols = ",\n".join(f"  `{c.name}` {glue_type(c.type, c.name)}" for c in STORED_COLUMNS)
    events = f"{root}events/"
    props = {
        "projection.enabled": "true",
        f"projection.{PARTITION_COLUMN}.type": "date",
        f"projection.{PARTITION_COLUMN}.format": "yyyy-MM-dd",
        f"projection.{PARTITION_COLUMN}.range": f"{first},NOW",
        f"projection.{PARTITION_COLUMN}.interval": "1",
        f"projection.{PARTITION_COLUMN}.interval.unit": "DAYS",
        "storage.location.template": f"{events}{PARTITION_COLUMN}=${{{PARTITION_COLUMN}}}/",
        "parquet.compression": "ZSTD",
    }
    tbl = ",\n".join(f"  '{k}' = '{v}'" for k, v in props.items())
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {name} (\n{cols}\n)\n"
        f"PARTITIONED BY (`{PARTITION_COLUMN}` string)\n"
        f"STORED AS PARQUET\n"
        f"LOCATION '{events}'\n"
        f"TBLPROPERTIES (\n{tbl}\n);\n"
    )


def first_event_date(data_dir: str) -> date | None:
    """The first ``event_date`` of a local dataset, or None when there is no dataset there."""
    from rumq.store import Store

    store = Store(data_dir)
    if not store.exists():
        return None
    days = [f["date"] for f in store.load_state().files]
    return date.fromisoformat(min(days)) if days else None
