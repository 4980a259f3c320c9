"""``rumq athena``: the dataset as an Amazon Athena table (a thin shell over ``rumq.athena``)."""

from __future__ import annotations

import click

from rumq.cli import data_dir_of


@click.group()
def athena() -> None:
    """Use the dataset from Amazon Athena (after copying it to S3).

    \b
    Example:
      aws s3 sync rumq-data/ s3://bucket/rumq/ && rumq athena ddl --location s3://bucket/rumq/
    """


@athena.command("ddl")
@click.option("--location", required=True, metavar="S3_URI",
              help="The dataset root on S3, the folder holding events/ (e.g. s3://bucket/rumq/).")
@click.option("--table", default="rumq_events", show_default=True, help="Table name.")
@click.option("--database", default=None, help="Glue database to create the table in (default: the session's).")
@click.option("--first-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First event_date of the partition projection (default: the local dataset's first day, "
                   "else 2020-01-01).")
@click.pass_context
def ddl(ctx: click.Context, location: str, table: str, database: str | None, first_date) -> None:
    """Print the CREATE EXTERNAL TABLE statement for the dataset.

    Generated from the canonical schema: every stored column with its Glue
    type, the session and user UUIDs as binary, and event_date as a partition
    projection, so Athena finds new days without MSCK REPAIR TABLE or a crawler.

    \b
    Examples:
      rumq athena ddl --location s3://bucket/rumq/
      rumq athena ddl --location s3://bucket/rumq/ --database rum --first-date 2026-01-01
    """
    from rumq.athena import ddl as make_ddl
    from rumq.athena import first_event_date

    first = first_date.date() if first_date else first_event_date(data_dir_of(ctx))
    click.echo(make_ddl(location, table=table, database=database, first_date=first), nl=False)
