"""``rumq insights``: run a CloudWatch Logs Insights query over the dataset."""

from __future__ import annotations

import sys

import click

from rumq.cli import data_dir_of
from rumq.cli.engine_opts import engine_options, print_athena_sql
from rumq.cli.options import (
    emit,
    notice,
    output_options,
    query_bytes,
    query_text,
    read_query_stdin,
    text_output,
    time_window_options,
)
from rumq.formats import MAX_LIMIT


@click.command()
@click.argument("query", required=False)
@click.option(
    "--file",
    "query_file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
    default=None,
    help="Read the query from FILE ('-' for stdin).",
)
@time_window_options
@output_options(legacy_file="query_file")
@click.option("--max-rows", type=click.IntRange(min=0, max=MAX_LIMIT), default=None, hidden=True,
              help="Deprecated spelling of --limit.")
@click.option("--explain", is_flag=True, help="Print the generated DuckDB SQL and its parameters; do not run.")
@engine_options
@click.pass_context
def insights(
    ctx: click.Context,
    query: str | None,
    query_file: str | None,
    since: str | None,
    until: str | None,
    app: str | None,
    fmt: str,
    output: str | None,
    limit: int | None,
    max_rows: int | None,
    explain: bool,
    engine: str,
    spark_master: str | None,
    print_sql: bool,
    athena_table: str,
) -> None:
    """Run a Logs Insights QUERY (or --file FILE, or stdin) over the dataset.

    The query runs unchanged: fields, display, filter/where, stats, sort,
    limit, parse, dedup, pattern, diff, unnest and a leading SOURCE (notices
    about what rumq cannot map go to stderr), with Logs Insights field names
    (metadata.browserName, event_details.duration, @timestamp, ...).
    --since/--until set the query's time range, like the console's time
    picker. Timestamps print as YYYY-MM-DD HH:MM:SS.mmm (UTC). --limit caps
    the printed rows (a 'limit' in the query also applies). A malformed
    query prints its line and column and exits 2.

    \b
    Examples:
      rumq insights 'stats count(*) by bin(1h)' --since 1d
      rumq insights --file slow_pages.insights -o slow.csv
      echo 'filter event_type like /error/ | limit 20' | rumq insights
      rumq insights --explain 'stats avg(event_details.duration) by metadata.pageId'
    """
    if max_rows is not None:
        if limit is not None and limit != max_rows:
            raise click.UsageError("give the row cap once, with --limit N")
        limit = max_rows  # the old spelling, kept silently so scripts keep working
    text = _query_text(query, query_file)
    if print_athena_sql(engine, print_sql, "insights_statement", text, data_dir=data_dir_of(ctx), since=since,
                        until=until, app=app, table=athena_table):
        return
    if explain:
        from rumq import insights as lib
        from rumq.runner import window

        w = window(since, until)
        c = lib.compile(text, since=w.since, until=w.until)
        out = [c.sql + ";", "", "-- parameters:"]
        out += [f"--   ${k} = {v!r}" for k, v in c.parameters.items()] or ["--   (none)"]
        out += ["-- result columns (in order): " + ", ".join(c.columns)]
        out += [f"-- {line}" for line in c.notices]
        for line in c.notices:
            notice(line)
        click.echo("\n".join(out))
        return
    if engine == "polars":
        raise click.UsageError("--engine polars runs named queries (rumq run): Logs Insights runs on DuckDB or Spark")
    if engine == "spark":
        from rumq.engines.spark import run_insights as run_on_spark

        emit(run_on_spark(data_dir_of(ctx), text, since=since, until=until, app=app, limit=limit,
                          master=spark_master, notify=notice, rows=text_output(fmt, output)), fmt, output)
        return
    from rumq.runner import run_insights

    df = run_insights(data_dir_of(ctx), text, since=since, until=until, app=app, limit=limit, notify=notice,
                      rows=text_output(fmt, output))
    emit(df, fmt, output)


def _query_text(query: str | None, query_file: str | None) -> str:
    if query is not None and query_file is not None:
        raise click.UsageError("give the query as an argument or with --file FILE, not both")
    if query_file is not None:
        if query_file == "-":
            return read_query_stdin("the query")
        with open(query_file, "rb") as fh:
            text = query_bytes(fh.read(), f"query file {query_file}")
        return _strip_front_matter(text, query_file)
    if query is None or query == "-":
        if query is None and sys.stdin.isatty():
            raise click.UsageError("no query: give it as an argument, with --file FILE, or on stdin")
        return read_query_stdin("the query")
    return query_text(query, "the query")


def _strip_front_matter(text: str, path: str) -> str:
    """Drop a ``# ---`` front matter block (as in .insights library files)."""
    from rumq.library import FrontMatterError, split_front_matter

    try:
        header = split_front_matter(text, "#")
    except FrontMatterError as e:
        raise click.UsageError(f"{path}:{e.line}: {e}") from None
    return text if header is None else header.body
